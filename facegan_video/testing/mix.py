"""The ``mix`` stage's contract."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from facegan_video.testing.common import (
    INPUT_ERRORS,
    _check_frames,
    _face_region,
    _frame_diff,
    _frozen,
    _raises,
    _require,
    _same_frames,
    _unchanged,
)
from facegan_video.testing.fixture import RealFace
from facegan_video.types import Capabilities, Segmentation


def check_mixer(mixer: Any, face: RealFace, *, fresh: Callable[[], Any] | None = None,
                capabilities: Capabilities = Capabilities()) -> list[str]:
    """Stage ``mix``: ``mix(source, reenacted (N, H, W, 3), targets (N, 68, 2), background=None,
    source_landmarks=...) -> (N, H, W, 3) uint8`` (called as ``facegan_video.reenactment.Renderer`` does).

    Pixels farther than one face size from the source and target faces stay the source's (mean
    difference under 1 level); inside the face the output follows the reenacted frame (mean
    difference under 15 levels); the source itself as reenacted frame gives back the source; another
    background changes the output; rows of a batch equal single calls; the same call twice gives the
    same frames; a reenacted batch of another size than the source raises ``ValueError``,
    ``TypeError`` or a ``FaceganError``. A mixer declaring ``Capabilities.segmentation`` is given a
    ``Segmentation`` every time: face inside each face's landmark hull (raised to the forehead),
    background elsewhere. A mixer declaring ``Capabilities.region`` has ``region(shape, targets, *,
    source_landmarks)``, a rectangle inside the frame, and mixes reenacted frames blanked outside it
    exactly as the whole ones.
    """
    _require(callable(getattr(mixer, "mix", None)), f"{type(mixer).__name__} lacks mix()")
    image, lms = face.image, face.landmarks
    h, w = image.shape[:2]
    targets, reenacted = face.targets[:3].copy(), face.reenacted[:3].copy()
    n = len(targets)
    inputs = _frozen(image, lms, targets, reenacted)

    def mix(frames: np.ndarray, landmarks: np.ndarray, background: np.ndarray | None = None) -> np.ndarray:
        extra = {}
        if capabilities.segmentation:
            extra["segmentation"] = Segmentation(np.stack([hull_segmentation(frames.shape[1:], p) for p in landmarks]),
                                                 hull_segmentation(image.shape, lms))
        return mixer.mix(image, frames, landmarks, background, source_landmarks=lms, **extra)

    out = _check_frames(mix(reenacted, targets), (n, h, w, 3), "mix(astronaut)")
    every = np.concatenate([lms[None], targets]).reshape(-1, 2)
    near = np.zeros((h, w), bool)
    near[_face_region(every, image.shape, grow=1.0)] = True
    for i in range(n):
        far = float(np.abs(out[i].astype(np.float32) - image)[~near].mean())
        _require(far < 1, f"frame {i}: pixels far from the face changed by {far:.2f} levels on average")
        inside = _frame_diff(out[i], reenacted[i], _face_region(targets[i], image.shape, grow=-0.15))
        _require(inside < 15, f"frame {i}: the face region differs from the reenacted face by {inside:.1f} levels")
    ident = _check_frames(mix(image[None].copy(), lms[None].copy()), (1, h, w, 3), "mix(source as reenacted)")
    diff = _frame_diff(ident[0], image)
    _require(diff < 2, f"the source itself as reenacted frame changed the output by {diff:.2f} levels on average")
    import cv2

    background = np.ascontiguousarray(cv2.resize(face.frames[0], (w, h), interpolation=cv2.INTER_LINEAR))
    other = _check_frames(mix(reenacted[:1], targets[:1], background), (1, h, w, 3), "mix(..., background)")
    _require(_frame_diff(other[0], out[0]) > 1, "another background left the output as it was on the source frame")
    for i in range(n):
        row = _check_frames(mix(reenacted[i:i + 1].copy(), targets[i:i + 1].copy()), (1, h, w, 3), f"mix(frame {i})")
        _same_frames(row[0], out[i], f"batch vs single (frame {i})")
    _same_frames(mix(reenacted, targets), out, "same input twice")
    if capabilities.region:
        _require(callable(getattr(mixer, "region", None)), f"{type(mixer).__name__} declares region but lacks region()")
        box = mixer.region(image.shape, targets, source_landmarks=lms)
        _require(len(box) == 4 and 0 <= box[0] <= box[2] <= w and 0 <= box[1] <= box[3] <= h,
                 f"region() must be x0, y0, x1, y1 inside the {w}x{h} frame, got {box}")
        blanked = np.zeros_like(reenacted)
        blanked[:, box[1]:box[3], box[0]:box[2]] = reenacted[:, box[1]:box[3], box[0]:box[2]]
        _same_frames(mix(blanked, targets), out, f"reenacted frames blanked outside region() {box}")
    half = np.ascontiguousarray(reenacted[:, ::2, ::2])
    _raises(INPUT_ERRORS, lambda: mix(half, targets), "mix() of reenacted frames of another size than the source")
    _unchanged(inputs, [image, lms, targets, reenacted], "mix()")
    return []


def hull_segmentation(shape: tuple[int, ...], landmarks: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 class probabilities (``SEGMENT_CLASSES``): face inside the hull of the jaw and of
    the brows raised by half the brow-to-chin height, background elsewhere; what the check gives
    mixers that need a segmentation."""
    import cv2

    lm = np.asarray(landmarks, np.float64)
    lift = 0.5 * (lm[8] - lm[17:27].mean(0))
    hull = cv2.convexHull(np.concatenate([lm[:17], lm[17:27] - lift]).astype(np.float32)).astype(np.int32)
    face = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(face, hull, 255)
    out = np.zeros(shape[:2] + (3,), np.uint8)
    out[..., 0], out[..., 1] = 255 - face, face
    return out
