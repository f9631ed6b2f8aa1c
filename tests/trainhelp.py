"""The three-clip face dataset the training tests share, prepared once per test session.

Prepared through the installed command line, as a user does, with an unreadable file among the
inputs; the first run's wall time is kept so a test can compare a resumed run with it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from clihelp import cli

CLIPS = ("dt_mead_M030_happy_level3.mp4", "dt_mead_W009_sad_level3.mp4", "lia_vox_driving2.mp4")
#: Puts mead_W009_woman (hash position 0.17) in validation and the other two people in training.
VAL_FRACTION = 0.2


@dataclass(frozen=True)
class Prepared:
    root: Path
    inputs: tuple[Path, ...]  # the three clips
    broken: Path
    seconds: float  # wall time of the first run
    stderr: str
    returncode: int


_CACHE: dict[str, Prepared] = {}


def three_clip_dataset(shared_clips: Path, tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    """Prepare (once) the three clips plus a corrupt file into one dataset."""
    pytest.importorskip("facegan_video_training")
    if "faces" not in _CACHE:
        inputs = tuple(shared_clips / name for name in CLIPS)
        for p in inputs:
            if not p.is_file():
                pytest.skip(f"{p} is missing")
        base = tmp_path_factory.mktemp("faces3")
        broken = base / "broken.mp4"
        broken.write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video" * 40)
        root = base / "dataset"
        t0 = time.perf_counter()
        proc = cli("prepare", *inputs, broken, "-o", root, "--val-fraction", VAL_FRACTION, timeout=600)
        _CACHE["faces"] = Prepared(root, inputs, broken, time.perf_counter() - t0, proc.stderr, proc.returncode)
    return _CACHE["faces"]


def three_clip_root(shared_clips: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The prepared dataset's folder, for the training tests (which need the preparation to have worked)."""
    prepared = three_clip_dataset(shared_clips, tmp_path_factory)
    assert prepared.returncode == 0, prepared.stderr
    return prepared.root


def run_metrics(run: Path) -> list[dict]:
    """Every record of a training run's metrics log, in order."""
    from facegan_video_training.runlog import METRICS_FILE

    return [json.loads(line) for line in (run / METRICS_FILE).read_text().splitlines()]
