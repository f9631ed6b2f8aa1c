"""``facegan-video prepare`` on real clips: the dataset it writes, resumption, shards, workers, merging,
bad inputs, and a reader that needs neither dlib nor PyAV."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from clihelp import assert_clean_error, cli
from trainhelp import CLIPS, three_clip_dataset

pytest.importorskip("facegan_video_training")

from facegan_video.nets.crop import EYE_CENTRE, FACE_SCALE, crop_transform, eye_centres, face_scale  # noqa: E402
from facegan_video_training.clip import smooth_crops  # noqa: E402
from facegan_video_training.dataset import SEG_BACKGROUND, SEG_FACE, SEG_HAIR, FaceDataset  # noqa: E402
from facegan_video_training.prepare import parse_shard, plan  # noqa: E402
from facegan_video_training.settings import PrepareSettings  # noqa: E402


@pytest.fixture(scope="module")
def prepared(shared_clips, tmp_path_factory):
    return three_clip_dataset(shared_clips, tmp_path_factory)


def test_crop_smoothing_on_short_tracks_with_gaps() -> None:
    face = np.zeros((68, 2))
    face[36:42], face[42:48], face[48], face[54] = [100, 100], [160, 100], [120, 150], [140, 150]
    index = np.array([0, 1, 2, 3, 10, 11, 12, 13])  # shorter than the smoothing kernel, with a gap
    still = smooth_crops(index, np.repeat(face[None], len(index), 0), fps=25.0, size=256)
    assert still.shape == (8, 3)
    np.testing.assert_allclose(still, np.repeat(crop_transform(face[None]) * 256, 8, 0), rtol=1e-5)
    jitter = np.random.default_rng(0).normal(0, 1.0, (8, 1, 2))
    moving = smooth_crops(index, face + jitter, fps=25.0, size=256)
    raw = crop_transform(face + jitter) * 256
    assert np.std(moving[:, 1:], 0).max() < np.std(raw[:, 1:], 0).max()  # steadier than frame by frame


def test_unreadable_file_is_reported_and_the_others_prepared(prepared) -> None:
    assert prepared.returncode == 0, prepared.stderr
    assert "Traceback" not in prepared.stderr
    assert f"unreadable: {prepared.broken}" in prepared.stderr
    assert "3 prepared" in prepared.stderr
    assert len(FaceDataset(prepared.root).tracks) == 3


def test_dataset_layout_and_contents(prepared) -> None:
    ds = FaceDataset(prepared.root)
    assert ds.size == 256
    by_clip = {t.clip.rsplit("-", 1)[0]: t for t in ds.tracks}
    assert set(by_clip) == {Path(c).stem for c in CLIPS}
    # persons from the shared MANIFEST.tsv; the split is by person
    assert by_clip["dt_mead_W009_sad_level3"].person == "mead_W009_woman"
    assert {t.person: t.split for t in ds.tracks} == {"mead_M030_man": "train", "mead_W009_woman": "val",
                                                      "lia_vox_d2_man_grey_shirt": "train"}
    for info in ds.tracks:
        track = ds.track(info)
        n = info.length
        assert n >= 80  # the clips show one face throughout
        assert track.frames.shape == (n, 256, 256, 3) and track.frames.dtype == np.uint8
        assert track.seg.shape == (n, 256, 256) and track.landmarks.shape == (n, 68, 2)
        assert track.motion.shape == (n, 20) and np.isfinite(track.motion).all()
        index = np.load(info.path / "index.npy")
        assert (np.diff(index) > 0).all()
        # the crop puts the eye mid-point at EYE_CENTRE and the face scale at FACE_SCALE, up to the
        # temporal smoothing of the crop window
        right, left = eye_centres(np.asarray(track.landmarks))
        mid = (right + left) / 2 / 256
        assert np.abs(np.median(mid, 0) - EYE_CENTRE).max() < 0.01
        assert np.median(face_scale(np.asarray(track.landmarks))) / 256 == pytest.approx(FACE_SCALE, abs=0.005)
        # face inside the landmark hull, hair above it, background at the borders
        seg = np.asarray(track.seg[n // 2])
        lm = np.asarray(track.landmarks[n // 2]).round().astype(int)
        assert (seg[lm[27:36, 1], lm[27:36, 0]] == SEG_FACE).all()  # the nose
        assert seg[-1, 0] == SEG_BACKGROUND and seg[-1, -1] == SEG_BACKGROUND
        hair_rows = np.nonzero(seg == SEG_HAIR)[0]
        assert len(hair_rows) > 0.005 * seg.size and np.median(hair_rows) < lm[36:48, 1].min()  # above the eyes
        assert (seg == SEG_FACE).mean() > 0.1


def test_second_run_skips_every_clip_fast(prepared) -> None:
    t0 = time.perf_counter()
    proc = cli("prepare", *prepared.inputs, "-o", prepared.root, "--val-fraction", 0.2)
    seconds = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr
    assert "0 prepared" in proc.stderr and "3 skipped" in proc.stderr
    assert seconds < prepared.seconds / 10, (seconds, prepared.seconds)


def test_other_settings_into_the_same_dataset_are_refused(prepared) -> None:
    proc = cli("prepare", prepared.inputs[0], "-o", prepared.root, "--size", 128)
    assert_clean_error(proc, str(prepared.root), "size")


def test_reader_needs_neither_dlib_nor_pyav(prepared) -> None:
    code = f"""
import sys
sys.modules["dlib"] = None
sys.modules["av"] = None
from facegan_video_training.dataset import FaceDataset
ds = FaceDataset({str(prepared.root)!r})
t = ds.select("train")[0]
s = ds.track(t).sample(5, size=64)
assert s.image.shape == (64, 64, 3) and s.seg.shape == (64, 64), s.image.shape
full = ds.track(t).sample(5)
assert abs(s.landmarks - full.landmarks / 4).max() < 1e-4
lm, motion, owner = ds.landmarks_and_motion("train")
assert lm.shape[1:] == (68, 2) and 0 < lm.min() and lm.max() < 1 and len(motion) == len(owner)
assert "torch" not in sys.modules
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_shards_partition_the_clips(prepared, tmp_path: Path) -> None:
    videos = list(prepared.inputs)
    settings = PrepareSettings()
    whole, _ = plan(videos, tmp_path, settings, None, (0, 1))
    parts = [plan(videos, tmp_path, settings, None, parse_shard(f"{k}/3"))[0] for k in range(3)]
    keys = [job.key for part in parts for job in part]
    assert sorted(keys) == sorted(job.key for job in whole) and len(set(keys)) == len(whole)
    # the same file gets the same clip folder whatever path it is reached by
    assert [j.key for j in plan([Path(str(v)) for v in videos], tmp_path, settings, None, (0, 1))[0]] == \
        [j.key for j in whole]


@pytest.mark.parametrize("spec", ["3/3", "1", "a/b"])
def test_bad_shard_is_a_clean_error(spec: str, tmp_path: Path, prepared) -> None:
    proc = cli("prepare", prepared.inputs[0], "-o", tmp_path / "d", "--shard", spec)
    assert_clean_error(proc, "--shard")


def test_no_readable_video_is_a_clean_error(tmp_path: Path, prepared) -> None:
    proc = cli("prepare", prepared.broken, tmp_path / "missing.mp4", "-o", tmp_path / "d")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "none of the 2 videos could be prepared" in proc.stderr
    assert f"unreadable: {prepared.broken}" in proc.stderr


def test_output_that_is_a_file_is_a_clean_error(tmp_path: Path, prepared) -> None:
    (tmp_path / "a_file").write_text("")
    assert_clean_error(cli("prepare", prepared.inputs[0], "-o", tmp_path / "a_file"), "a_file", "-o")


def test_merge_copies_missing_clip_folders(prepared, tmp_path: Path) -> None:
    out = tmp_path / "merged"
    proc = cli("prepare", "--merge", prepared.root, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert "3 clip folders copied" in proc.stderr
    again = cli("prepare", "--merge", prepared.root, "-o", out)
    assert "0 clip folders copied, 3 already" in again.stderr
    merged = FaceDataset(out)
    assert [t.clip for t in merged.tracks] == [t.clip for t in FaceDataset(prepared.root).tracks]
    assert json.loads((out / "dataset.json").read_text()) == json.loads((prepared.root / "dataset.json").read_text())


def test_two_workers_prepare_every_clip(shared_clips: Path, tmp_path: Path, prepared) -> None:
    clips = [shared_clips / f"sty_furious_talk2_clip{i}.mp4" for i in (1, 2, 3)]
    for c in clips:
        if not c.is_file():
            pytest.skip(f"{c} is missing")
    proc = cli("prepare", *clips, "-o", tmp_path / "d", "--workers", 2)
    assert proc.returncode == 0, proc.stderr
    assert "3 prepared" in proc.stderr
    ds = FaceDataset(tmp_path / "d")
    assert len(ds.tracks) == 3
    # one person (MANIFEST.tsv), so one split for all three clips
    assert {t.person for t in ds.tracks} == {"sty_furious_man"} and len({t.split for t in ds.tracks}) == 1
