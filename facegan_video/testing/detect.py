"""The ``detect`` stage's contract."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from facegan_video.analysis.track import iou
from facegan_video.testing.common import _frozen, _require, _unchanged
from facegan_video.testing.fixture import RealFace
from facegan_video.types import Capabilities, Detection, Detector


def _check_detections(result: Any, n: int, what: str) -> list[list[Detection]]:
    _require(isinstance(result, list) and len(result) == n,
             f"{what}: expected a list of {n} lists of Detection, got {type(result).__name__} "
             f"of length {len(result) if hasattr(result, '__len__') else '?'}")
    for i, dets in enumerate(result):
        _require(isinstance(dets, list), f"{what}[{i}]: expected a list of Detection, got {type(dets).__name__}")
        for d in dets:
            _require(isinstance(d, Detection), f"{what}[{i}]: expected Detection, got {type(d).__name__}")
            box = np.asarray(d.box)
            _require(box.shape == (4,) and np.isfinite(box).all(),
                     f"{what}[{i}]: box must be 4 finite numbers, got {box}")
            _require(box[2] > box[0] and box[3] > box[1],
                     f"{what}[{i}]: box {box} is not (x0, y0, x1, y1) with x1 > x0, y1 > y0")
            _require(isinstance(d.score, (float, int, np.floating)) and np.isfinite(d.score),
                     f"{what}[{i}]: score must be a finite float, got {d.score!r}")
    return result


def _find_face(dets: list[Detection], landmarks: np.ndarray, what: str) -> Detection:
    """The detection on the reference face: its box holds the nose tip and has about the face's size."""
    width = float(landmarks[:, 0].max() - landmarks[:, 0].min())
    hits = [d for d in dets
            if d.box[0] <= landmarks[30, 0] <= d.box[2] and d.box[1] <= landmarks[30, 1] <= d.box[3]
            and 0.4 * width <= d.box[2] - d.box[0] <= 2.5 * width]
    _require(hits, f"{what}: no detection covers the face (nose tip at {landmarks[30].round(1)}, face "
                   f"{width:.0f} px wide); got {[d.box.round(1).tolist() for d in dets]}")
    return max(hits, key=lambda d: d.score)


def _same_detections(a: list[Detection], b: list[Detection], what: str, min_iou: float | None) -> None:
    _require(len(a) == len(b), f"{what}: {len(a)} vs {len(b)} detections")
    for da in a:
        best = max((iou(da.box, db.box) for db in b), default=0.0)
        if min_iou is None:
            _require(any(np.allclose(da.box, db.box, atol=1e-3) and abs(da.score - db.score) < 1e-4 for db in b),
                     f"{what}: detection {da.box.round(2).tolist()} ({da.score:.4f}) differs")
        else:
            _require(best >= min_iou,
                     f"{what}: detection {da.box.round(1).tolist()} has no match (best IoU {best:.2f})")


def check_detector(detector: Any, face: RealFace, *, fresh: Callable[[], Any] | None = None,
                   capabilities: Capabilities = Capabilities()) -> list[str]:
    """Stage ``detect``: ``detect(images) -> list[list[Detection]]``.

    Finds the astronaut's face and the clip's small face; a batch gives the per-image results (boxes
    matched by IoU >= 0.5: detectors may keep scale hints between calls, as the built-in ones do);
    repeating a call gives the same boxes and scores exactly; no face in a flat grey image; an empty
    batch gives an empty list.
    """
    _require(isinstance(detector, Detector), f"{type(detector).__name__} lacks detect(images)")
    small = face.frames[0]
    inputs = _frozen(face.image, small)
    single = _check_detections(detector.detect([face.image]), 1, "detect([astronaut])")[0]
    _find_face(single, face.landmarks, "detect([astronaut])")
    single_small = _check_detections(detector.detect([small]), 1, "detect([carphone frame 0])")[0]
    _find_face(single_small, face.frame_landmarks[0], "detect([carphone frame 0]) (a 176x144 frame)")
    batch = _check_detections(detector.detect([face.image, small]), 2, "detect([astronaut, carphone])")
    _same_detections(batch[0], single, "batch vs single (astronaut)", min_iou=0.5)
    _same_detections(batch[1], single_small, "batch vs single (carphone)", min_iou=0.5)
    again = _check_detections(detector.detect([face.image, small]), 2, "detect() repeated")
    for i in range(2):
        _same_detections(again[i], batch[i], f"same input twice (image {i})", min_iou=None)
    _unchanged(inputs, [face.image, small], "detect()")
    grey = np.full((96, 96, 3), 128, np.uint8)
    none = _check_detections(detector.detect([grey]), 1, "detect([flat grey image])")
    _require(not none[0], f"detect() found {len(none[0])} face(s) in a flat grey image")
    empty = detector.detect([])
    _require(isinstance(empty, list) and len(empty) == 0, f"detect([]) must be [], got {empty!r}")
    return []
