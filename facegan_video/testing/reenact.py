"""The ``reenact`` stage's contract."""

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
    _iod,
    _raises,
    _require,
    _same_frames,
    _unchanged,
)
from facegan_video.testing.fixture import RealFace
from facegan_video.types import Capabilities, Segmentation


def check_reenactor(reenactor: Any, face: RealFace, *, fresh: Callable[[], Any] | None = None,
                    capabilities: Capabilities = Capabilities()) -> list[str]:
    """Stage ``reenact``: ``reenact(source, source_landmarks (68, 2), targets (N, 68, 2)) -> (N, H, W, 3) uint8``.

    The source's own landmarks as target leave the face region as it was (mean difference under 12
    levels); a target moved by 0.2 eye-corner distances changes it; the clip-driven targets give
    (N, 512, 512, 3) uint8 frames; the 176x144 clip frame works too; rows of a batch equal single
    calls and the same call twice gives the same frames (within 0.1 level mean, 8 max, for GPU
    reenactors); a 2-D (grey) source raises ``ValueError``, ``TypeError`` or a ``FaceganError``. A
    reenactor declaring ``Capabilities.segmentation`` returns ``(frames, Segmentation)`` whose class
    probabilities are uint8 of the frames' and the source's sizes, sum to 255 (within 3) and mark
    the face centre as face, and whose rows also equal single calls. A reenactor declaring
    ``Capabilities.region`` gives, with ``region=`` a rectangle across the face, the same pixels inside it.
    """
    _require(callable(getattr(reenactor, "reenact", None)), f"{type(reenactor).__name__} lacks reenact()")
    image, lms = face.image, face.landmarks
    h, w = image.shape[:2]
    iod = _iod(lms)
    targets = np.concatenate([lms[None], face.targets[:2], (lms + np.float32([0.2 * iod, 0]))[None]]).astype(np.float32)
    inputs = _frozen(image, lms, targets)

    def reenact(source: np.ndarray, landmarks: np.ndarray, goals: np.ndarray, what: str,
                **region: Any) -> tuple[np.ndarray, Any]:
        out = reenactor.reenact(source, landmarks, goals, **region)
        if not capabilities.segmentation:
            return _check_frames(out, (len(goals),) + source.shape, what), None
        _require(isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], Segmentation),
                 f"{what}: a reenactor declaring segmentation must return (frames, Segmentation)")
        frames, seg = _check_frames(out[0], (len(goals),) + source.shape, what), out[1]
        for probs, shape in ((seg.frames, frames.shape), (seg.source, source.shape)):
            _require(isinstance(probs, np.ndarray) and probs.dtype == np.uint8 and probs.shape == shape,
                     f"{what}: segmentation must be uint8 {shape}, got {getattr(probs, 'shape', None)}")
            total = probs.astype(np.int16).sum(-1)
            _require(np.abs(total - 255).max() <= 3, f"{what}: class probabilities do not sum to 255")
        return frames, seg

    out, seg = reenact(image, lms, targets, "reenact(astronaut)")
    region = _face_region(lms, image.shape)
    ident = _frame_diff(out[0], image, region)
    _require(ident < 12,
             f"the source's own landmarks as target changed the face region by {ident:.1f} levels on average")
    moved = _frame_diff(out[-1], image, region)
    _require(moved > 1, f"a target moved by {0.2 * iod:.0f} px left the face region as it was ({moved:.2f} levels)")
    if seg is not None:
        x, y = np.round(lms[[30, 33, 51]].mean(0)).astype(int)  # below the nose: face in every pose
        _require(int(seg.source[y, x].argmax()) == 1, "the source's face centre is not labelled face")
    for i in range(len(targets)):
        row, row_seg = reenact(image, lms, targets[i:i + 1].copy(), f"reenact(target {i})")
        _same_frames(row[0], out[i], f"batch vs single (target {i})")
        if seg is not None:
            _same_frames(row_seg.frames[0], seg.frames[i], f"segmentation batch vs single (target {i})")
    _same_frames(reenact(image, lms, targets, "reenact twice")[0], out, "same input twice")
    if capabilities.region:
        rows, cols = _face_region(lms, image.shape, grow=0.1)
        box = (cols.start, rows.start + (rows.stop - rows.start) // 3, cols.stop, rows.stop)  # cuts through the face
        part, _ = reenact(image, lms, targets, f"reenact(region={box})", region=box)
        inside = (slice(None), slice(box[1], box[3]), slice(box[0], box[2]))
        _same_frames(part[inside], out[inside], f"inside region={box} vs the whole frame")
    small, slms = face.frames[0], face.frame_landmarks[0]
    reenact(small, slms, np.stack([slms, slms + np.float32([2, 0])]), "reenact(carphone frame 0)")
    grey = np.ascontiguousarray(image[..., 0])
    _raises(INPUT_ERRORS, lambda: reenactor.reenact(grey, lms, targets[:1]), "reenact() of a 2-D (grey) source")
    _unchanged(inputs, [image, lms, targets], "reenact()")
    return []
