"""The ``transform`` stage's contract."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from facegan_video.errors import FaceganError
from facegan_video.testing.common import _check_landmarks, _check_layout, _frozen, _iod, _raises, _require, _unchanged
from facegan_video.testing.fixture import RealFace
from facegan_video.types import Capabilities


def check_transformer(transformer: Any, face: RealFace, capabilities: Capabilities = Capabilities(), *,
                      fresh: Callable[[], Any] | None = None) -> list[str]:
    """Stage ``transform``:
    ``transform(source, target_motion (N, 20), driving_landmarks (N, 68, 2) | None) -> (N, 68, 2) float32``.

    The clip's motion (and landmarks, if needed) move the astronaut's landmarks to finite points in
    iBUG order within one face size of the source face; the source's own motion (and landmarks) give
    back the source landmarks (within 0.02 eye-corner distances); rows of a batch equal single calls;
    the same call twice gives the same points; a transformer that needs driving landmarks raises a
    ``FaceganError`` (a user error the CLI reports) without them (``capabilities.driving_landmarks``:
    what the backend declares).
    """
    needs = capabilities.driving_landmarks
    _require(callable(getattr(transformer, "transform", None)), f"{type(transformer).__name__} lacks transform()")
    source = face.source
    motion = face.frame_motion
    driving = face.frame_landmarks.copy() if needs else None
    n = len(motion)
    inputs = _frozen(source.landmarks, source.motion, motion, face.frame_landmarks)
    out = _check_landmarks(transformer.transform(source, motion, driving), (n, 68, 2), "transform(carphone motion)")
    iod = _iod(face.landmarks)
    centre = face.landmarks.mean(0)
    size = float((face.landmarks.max(0) - face.landmarks.min(0)).max())
    for i, pts in enumerate(out):
        _check_layout(pts, f"target {i}")
        dist = float(np.linalg.norm(pts.mean(0) - centre))
        _require(dist <= size, f"target {i}: moved {dist:.0f} px away from the source face ({size:.0f} px)")
    same = transformer.transform(source, source.motion[None].copy(), source.landmarks[None].copy() if needs else None)
    same = _check_landmarks(same, (1, 68, 2), "transform(source motion)")
    err = float(np.linalg.norm(same[0] - face.landmarks, axis=1).max())
    _require(err <= 0.02 * iod, f"an unchanged motion must give back the source landmarks; off by {err:.2f} px")
    for i in range(n):
        row = transformer.transform(source, motion[i:i + 1].copy(),
                                    None if driving is None else driving[i:i + 1].copy())
        _require(np.allclose(row, out[i:i + 1], atol=1e-3),
                 f"batch vs single: row {i} differs by {np.abs(np.asarray(row) - out[i:i + 1]).max():.4f} px")
    again = transformer.transform(source, motion.copy(), None if driving is None else driving.copy())
    _require(np.array_equal(again, out), "the same call twice gave different target landmarks")
    if needs:
        _raises((FaceganError,), lambda: transformer.transform(source, motion, None),
                "transform() without the driving landmarks it needs")
    _unchanged(inputs, [source.landmarks, source.motion, motion, face.frame_landmarks], "transform()")
    return []
