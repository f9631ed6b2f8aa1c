"""`facegan-video extract` and `plugins` end to end, through the installed console script."""

from __future__ import annotations

import numpy as np
import pytest
from clihelp import assert_clean_error, cli

from facegan_video.extract_output import OPENFACE_COLUMNS, read_openface_csv


def test_extract_carphone(carphone_path, tmp_path):
    out, png, ov = tmp_path / "cp.csv", tmp_path / "cp.png", tmp_path / "cp.mp4"
    proc = cli("extract", carphone_path, "-o", out, "--plot", png, "--overlay", ov)
    assert proc.returncode == 0, proc.stderr
    cols = read_openface_csv(out)
    assert list(cols) == OPENFACE_COLUMNS
    assert len(cols["frame"]) >= 118
    assert cols["success"].mean() >= 0.95
    assert (np.diff(cols["timestamp"]) > 0).all()
    aus = np.stack([cols[c] for c in OPENFACE_COLUMNS if c.startswith("AU")], 1)
    assert aus.min() >= 0 and aus.max() <= 5 and aus.std(0).max() > 0.1
    # the mouth opens and closes while he talks: lips-part varies and follows the landmark gap
    gap = cols["y_66"] - cols["y_62"]
    assert np.corrcoef(gap, cols["AU25_r"])[0, 1] > 0.6
    assert png.stat().st_size > 20_000 and png.read_bytes()[:4] == b"\x89PNG"
    from facegan_video.video import open_video

    with open_video(ov) as src:
        assert sum(1 for _ in src) == len(cols["frame"])


def test_extract_astronaut_image(astronaut_png, tmp_path):
    out = tmp_path / "a.csv"
    proc = cli("extract", astronaut_png, "-o", out)
    assert proc.returncode == 0, proc.stderr
    cols = read_openface_csv(out)
    assert len(cols["frame"]) == 1 and cols["success"][0] == 1
    assert cols["confidence"][0] > 0.5
    assert abs(cols["pose_Ry"][0]) < 0.6 and abs(cols["pose_Rx"][0]) < 0.6


def test_extract_options_and_config(carphone_path, tmp_path):
    cfg = tmp_path / "fv.toml"
    cfg.write_text('[backends]\nsmooth = "none"\n[options.track]\ndetect_every = 5\n[analysis]\nfaces = "largest"\n')
    out = tmp_path / "o.csv"
    proc = cli("extract", carphone_path, "-o", out, "--config", cfg, "--max-frames", 20,
               "--opt", "au.calibration=video", "-q")
    assert proc.returncode == 0, proc.stderr
    assert len(read_openface_csv(out)["frame"]) == 20


def test_no_face_gives_a_failed_row_and_a_warning(tmp_path):
    """As OpenFace does: a success = 0 row per frame, a one-line warning, exit 0 (issue 13)."""
    import cv2

    img = tmp_path / "wall.png"
    cv2.imwrite(str(img), np.full((200, 300, 3), 128, np.uint8))
    out = tmp_path / "wall.csv"
    proc = cli("extract", img, "-o", out)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning")]
    assert len(warnings) == 1 and "no face" in warnings[0] and "wall.png" in warnings[0], proc.stderr
    cols = read_openface_csv(out)
    assert cols["success"].tolist() == [0] and cols["frame"].tolist() == [1]
    assert sorted(tmp_path.iterdir()) == sorted([img, out])


@pytest.mark.parametrize("case", ["missing", "corrupt", "truncated", "directory"])
def test_bad_input_is_one_line(case, tmp_path, shared_clips):
    src = tmp_path / "in.mp4"
    if case == "corrupt":
        src.write_bytes(np.random.default_rng(0).bytes(5000))
    elif case == "truncated":
        data = (shared_clips / "lp_d3.mp4").read_bytes()
        src.write_bytes(data[: len(data) // 3])
    elif case == "directory":
        src.mkdir()
    out = tmp_path / "out.csv"
    out.write_text("keep me")
    proc = cli("extract", src, "-o", out)
    assert_clean_error(proc, "in.mp4")
    assert out.read_text() == "keep me"


def test_bad_options_are_one_line(carphone_path, tmp_path):
    assert_clean_error(cli("extract", carphone_path, "-o", tmp_path / "x.csv", "--detector", "nope"),
                       "nope", "hog", "mmod")
    assert_clean_error(cli("extract", carphone_path, "-o", tmp_path / "x.csv", "--opt", "track.bogus=1"),
                       "bogus", "detect_every")
    assert_clean_error(cli("extract", carphone_path, "-o", tmp_path / "x.csv", "--faces", "biggest"), "biggest")
    assert_clean_error(cli("extract", carphone_path, "-o", tmp_path / "x.csv", "--smoothing", "max"), "max")
    assert_clean_error(cli("extract", carphone_path, "-o", tmp_path / "nodir" / "x.csv"), "nodir")
    assert not (tmp_path / "x.csv").exists()


def test_plugins_lists_every_stage_and_backend():
    proc = cli("plugins")
    assert proc.returncode == 0, proc.stderr
    for word in ("detect", "track", "landmarks", "au", "smooth", "transform", "reenact", "mix",
                 "hog", "mmod", "iou", "dlib68", "geometric", "one-euro", "none", "facegan-video"):
        assert word in proc.stdout, word


def test_help_and_version():
    assert "OpenFace" in cli("extract", "--help").stdout
    assert cli("--version").stdout.startswith("facegan-video ")
