"""The ``landmarks`` stage's contract."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from facegan_video.ibug import mirror_points
from facegan_video.testing.common import _check_landmarks, _check_layout, _frozen, _iod, _require, _unchanged
from facegan_video.testing.fixture import RealFace
from facegan_video.types import Capabilities, Landmarker


def check_landmarker(landmarker: Any, face: RealFace, *, fresh: Callable[[], Any] | None = None,
                     capabilities: Capabilities = Capabilities()) -> list[str]:
    """Stage ``landmarks``: ``landmarks(image, boxes) -> (len(boxes), 68, 2) float32``.

    On the astronaut's and the clip's face boxes the points are finite, in iBUG order and within
    0.25 outer-eye-corner distances (mean) of the reference; on the mirrored image they are the
    mirrored points (catches a left/right swap); two boxes in one call give the two single-box
    results; the same call twice gives the same points; no boxes gives (0, 68, 2).
    """
    _require(isinstance(landmarker, Landmarker), f"{type(landmarker).__name__} lacks landmarks(image, boxes)")
    inputs = _frozen(face.image, face.box)
    iod = _iod(face.landmarks)

    def agree(pts: np.ndarray, ref: np.ndarray, what: str, tol: float = 0.25) -> None:
        err = float(np.linalg.norm(pts - ref, axis=1).mean()) / _iod(ref)
        _require(err < tol,
                 f"{what}: mean distance to the reference landmarks is {err:.2f} eye-corner distances (limit {tol})")

    one = _check_landmarks(landmarker.landmarks(face.image, [face.box.copy()]), (1, 68, 2),
                           "landmarks(astronaut, [box])")
    _check_layout(one[0], "astronaut")
    agree(one[0], face.landmarks, "astronaut")
    flipped = np.ascontiguousarray(face.image[:, ::-1])
    w = face.image.shape[1]
    fbox = np.array([w - 1 - face.box[2], face.box[1], w - 1 - face.box[0], face.box[3]], np.float32)
    mirror = _check_landmarks(landmarker.landmarks(flipped, [fbox]), (1, 68, 2), "landmarks(mirrored astronaut)")
    agree(mirror[0], mirror_points(one[0], w), "mirrored image vs mirrored points", tol=0.15)
    small = _check_landmarks(landmarker.landmarks(face.frames[0], [face.frame_boxes[0].copy()]), (1, 68, 2),
                             "landmarks(carphone frame 0)")
    _check_layout(small[0], "carphone frame 0")
    agree(small[0], face.frame_landmarks[0], "carphone frame 0 (a 50-pixel face)")
    shifted = face.box + np.float32(0.05 * iod)
    both = _check_landmarks(landmarker.landmarks(face.image, [face.box.copy(), shifted]), (2, 68, 2),
                            "landmarks(astronaut, [box, shifted box])")
    second = landmarker.landmarks(face.image, [shifted])
    for k, ref in enumerate((one[0], second[0])):
        _require(np.allclose(both[k], ref, atol=1e-3),
                 f"batch vs single: box {k} of two gives other landmarks than alone "
                 f"(max {np.abs(both[k] - ref).max():.3f} px)")
    again = landmarker.landmarks(face.image, [face.box.copy()])
    _require(np.array_equal(again, one), "the same call twice gave different landmarks")
    none = landmarker.landmarks(face.image, [])
    _require(isinstance(none, np.ndarray) and none.shape == (0, 68, 2),
             f"landmarks(image, []) must have shape (0, 68, 2), got {getattr(none, 'shape', none)}")
    _unchanged(inputs, [face.image, face.box], "landmarks()")
    return []
