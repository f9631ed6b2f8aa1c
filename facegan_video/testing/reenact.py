"""The ``reenact`` stage's contract."""

from __future__ import annotations

from typing import Any, Callable

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
from facegan_video.types import Capabilities


def check_reenactor(reenactor: Any, face: RealFace, *, fresh: Callable[[], Any] | None = None,
                    capabilities: Capabilities = Capabilities()) -> list[str]:
    """Stage ``reenact``: ``reenact(source, source_landmarks (68, 2), targets (N, 68, 2)) -> (N, H, W, 3) uint8``.

    The source's own landmarks as target leave the face region as it was (mean difference under 12
    levels); a target moved by 0.2 eye-corner distances changes it; the clip-driven targets give
    (N, 512, 512, 3) uint8 frames; the 176x144 clip frame works too; rows of a batch equal single
    calls and the same call twice gives the same frames (within 0.1 level mean, 8 max, for GPU
    reenactors); a 2-D (grey) source raises ``ValueError``, ``TypeError`` or a ``FaceganError``.
    """
    _require(callable(getattr(reenactor, "reenact", None)), f"{type(reenactor).__name__} lacks reenact()")
    image, lms = face.image, face.landmarks
    h, w = image.shape[:2]
    iod = _iod(lms)
    targets = np.concatenate([lms[None], face.targets[:2], (lms + np.float32([0.2 * iod, 0]))[None]]).astype(np.float32)
    inputs = _frozen(image, lms, targets)
    out = _check_frames(reenactor.reenact(image, lms, targets), (len(targets), h, w, 3), "reenact(astronaut)")
    region = _face_region(lms, image.shape)
    ident = _frame_diff(out[0], image, region)
    _require(ident < 12,
             f"the source's own landmarks as target changed the face region by {ident:.1f} levels on average")
    moved = _frame_diff(out[-1], image, region)
    _require(moved > 1, f"a target moved by {0.2 * iod:.0f} px left the face region as it was ({moved:.2f} levels)")
    for i in range(len(targets)):
        row = _check_frames(reenactor.reenact(image, lms, targets[i:i + 1].copy()), (1, h, w, 3),
                            f"reenact(target {i})")
        _same_frames(row[0], out[i], f"batch vs single (target {i})")
    _same_frames(reenactor.reenact(image, lms, targets), out, "same input twice")
    small, slms = face.frames[0], face.frame_landmarks[0]
    sh, sw = small.shape[:2]
    _check_frames(reenactor.reenact(small, slms, np.stack([slms, slms + np.float32([2, 0])])), (2, sh, sw, 3),
                  "reenact(carphone frame 0)")
    grey = np.ascontiguousarray(image[..., 0])
    _raises(INPUT_ERRORS, lambda: reenactor.reenact(grey, lms, targets[:1]), "reenact() of a 2-D (grey) source")
    _unchanged(inputs, [image, lms, targets], "reenact()")
    return []
