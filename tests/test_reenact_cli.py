"""`reenact` and `edit` through the console script: options, sweeps, video sources, clear errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from clihelp import assert_clean_error, cli

from facegan_video.video import open_video, read_image


@pytest.fixture(scope="module")
def two_faces(tmp_path_factory, astronaut_png):
    img = read_image(astronaut_png)
    path = tmp_path_factory.mktemp("two") / "two.png"
    cv2.imwrite(str(path), cv2.cvtColor(np.concatenate([img, img], 1), cv2.COLOR_RGB2BGR))
    return path


def test_reenact_cli_side_by_side(astronaut_png, carphone_path, tmp_path):
    out = tmp_path / "o.mp4"
    proc = cli("reenact", astronaut_png, carphone_path, "-o", out, "--side-by-side", "--max-frames", 15,
               "--motion", "absolute", "--channels", "expression", "--aus", "AU25,AU26")
    assert proc.returncode == 0, proc.stderr
    with open_video(out) as o:
        assert o.info.frame_count == 15 and o.info.width > 2 * o.info.height


def test_many_faces_need_a_choice(two_faces, carphone_path, tmp_path):
    out = tmp_path / "o.mp4"
    assert_clean_error(cli("reenact", two_faces, carphone_path, "-o", out, "--max-frames", 3),
                       "2 faces", "--source-face")
    assert not out.exists()
    proc = cli("reenact", two_faces, carphone_path, "-o", out, "--max-frames", 3, "--source-face", "index:1")
    assert proc.returncode == 0, proc.stderr


def test_sweep_animation(astronaut_png, tmp_path):
    out = tmp_path / "sweep.mp4"
    proc = cli("edit", astronaut_png, "--sweep", "AU45=0:5", "--frames", 12, "-o", out)
    assert proc.returncode == 0, proc.stderr
    with open_video(out) as o:
        frames = [f.image for f in o]
    assert len(frames) == 12
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 0.2  # eyes closed at the end


def test_edit_video_and_video_source(carphone_path, astronaut_png, tmp_path):
    clip = tmp_path / "short.mp4"
    assert cli("reenact", astronaut_png, carphone_path, "-o", clip, "--max-frames", 10).returncode == 0
    out = tmp_path / "edited.mp4"
    proc = cli("edit", clip, "--au", "AU12=+1", "--pose", "yaw=+0.1", "-o", out)
    assert proc.returncode == 0, proc.stderr
    with open_video(out) as o:
        assert o.info.frame_count == 10
    out2 = tmp_path / "vsrc.mp4"
    proc = cli("reenact", clip, carphone_path, "-o", out2, "--max-frames", 12)
    assert proc.returncode == 0, proc.stderr
    with open_video(out2) as o:
        assert o.info.frame_count == 12


@pytest.mark.parametrize("args,words", [
    (["--au", "AU99=+1"], ["AU99", "AU12"]),
    (["--au", "AU12=7"], ["out of range", "0 to 5"]),
    (["--au", "smile"], ["AU12=+2"]),
    (["--pose", "yaw=+2"], ["out of range"]),
    (["--sweep", "AU12=0:9"], ["out of range"]),
    ([], ["nothing to edit"]),
])
def test_edit_errors(astronaut_png, tmp_path, args, words):
    out = tmp_path / "e.png"
    out.write_bytes(b"old")
    assert_clean_error(cli("edit", astronaut_png, *args, "-o", out), *words)
    assert out.read_bytes() == b"old"


def test_reenact_errors(astronaut_png, carphone_path, tmp_path):
    import cv2 as _cv2

    blank = tmp_path / "blank.png"
    _cv2.imwrite(str(blank), np.full((240, 320, 3), 90, np.uint8))
    out = tmp_path / "o.mp4"
    out.write_bytes(b"previous result")
    assert_clean_error(cli("reenact", blank, carphone_path, "-o", out), "no face", "blank.png")
    assert_clean_error(cli("reenact", astronaut_png, tmp_path / "nope.mp4", "-o", out), "nope.mp4")
    assert_clean_error(cli("reenact", astronaut_png, carphone_path, "-o", out, "--motion", "sideways"), "sideways")
    assert_clean_error(cli("reenact", astronaut_png, carphone_path, "-o", out, "--transform", "magic"),
                       "magic", "analytic")
    assert_clean_error(cli("reenact", astronaut_png, carphone_path, "-o", out, "--device", "tpu"), "tpu")
    assert_clean_error(cli("reenact", astronaut_png, carphone_path, "-o", tmp_path / "no" / "o.mp4"), "no")
    assert out.read_bytes() == b"previous result"
