"""What the web-app tests share: a short real clip, independent face landmarks and a running app."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facegan_video.analysis.detect import HogDetector
from facegan_video.analysis.landmarks import Dlib68
from facegan_video.video import VideoWriter, open_video

#: Frames of the carphone clip a test reenacts or analyses (keeps each test to seconds).
FRAMES = 30


def first_frames(source: Path, target: Path, frames: int = FRAMES) -> Path:
    """The first ``frames`` frames of ``source`` written as an H.264 clip at ``target``."""
    with open_video(source, max_frames=frames) as src, VideoWriter(target, src.info.fps) as out:
        for frame in src:
            out.write(frame.image)
    return target


class Landmarks:
    """68 landmarks found afresh (dlib HOG + 68 points), independent of the app under test."""

    def __init__(self) -> None:
        self.detector, self.landmarker = HogDetector(), Dlib68()

    def __call__(self, image: np.ndarray) -> np.ndarray:
        detections = self.detector.detect([image])[0]
        assert detections, "no face found in the image"
        box = max(detections, key=lambda d: d.score).box
        return self.landmarker.landmarks(image, [box])[0]


def lip_gap(lm: np.ndarray) -> float:
    """Inner-lip opening over the eye-corner distance."""
    return float((lm[[65, 66, 67], 1].mean() - lm[[61, 62, 63], 1].mean()) / np.linalg.norm(lm[45] - lm[36]))


def require(module: str) -> None:
    """Skip (with the reason) when the ``ui`` extra's ``module`` is not installed."""
    pytest.importorskip(module, reason=f"{module} is not installed: pip install 'facegan-video[ui]'")
