"""What every stage's check shares: the error it raises, input-error kinds, and face-geometry and array helpers."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from facegan_video.errors import FaceganError
from facegan_video.ibug import eye_corner_distance

#: Errors a backend may raise for malformed input (wrong shapes or dtypes).
INPUT_ERRORS = (ValueError, TypeError, FaceganError)


class ContractError(AssertionError):
    """A backend broke its stage's contract."""


def _require(condition: Any, message: str) -> None:
    if not condition:
        raise ContractError(message)


def _iod(landmarks: np.ndarray) -> float:
    """Outer-eye-corner distance: the face's scale."""
    return float(eye_corner_distance(landmarks))


def _check_landmarks(pts: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    _require(isinstance(pts, np.ndarray), f"{what}: expected a numpy array, got {type(pts).__name__}")
    _require(pts.shape == shape, f"{what}: expected shape {shape}, got {pts.shape}")
    _require(pts.dtype == np.float32, f"{what}: expected float32, got {pts.dtype}")
    _require(np.isfinite(pts).all(), f"{what}: landmarks are not all finite")
    return pts


def _check_layout(pts: np.ndarray, what: str) -> None:
    """The iBUG 300-W order of an upright face: jaw 0 on the image left, eyes above nose above mouth above chin."""
    eye_l, eye_r = pts[36:42].mean(0), pts[42:48].mean(0)
    mouth = pts[48:68].mean(0)
    _require(pts[0, 0] < pts[16, 0] and eye_l[0] < eye_r[0],
             f"{what}: points are not in iBUG order (jaw 0 / left eye must be on the image's left)")
    _require(max(eye_l[1], eye_r[1]) < pts[30, 1] < mouth[1] < pts[8, 1],
             f"{what}: points are not in iBUG order (eyes, nose tip 30, mouth, chin 8 from top to bottom)")


def _frozen(*arrays: np.ndarray) -> list[np.ndarray]:
    return [np.array(a, copy=True) for a in arrays]


def _unchanged(before: list[np.ndarray], after: Sequence[np.ndarray], what: str) -> None:
    for b, a in zip(before, after):
        _require(np.array_equal(b, np.asarray(a), equal_nan=True), f"{what} modified its input arrays")


def _raises(kinds: tuple[type[BaseException], ...], call: Callable[[], Any], what: str) -> None:
    try:
        call()
    except kinds:
        return
    except Exception as exc:  # noqa: BLE001 - reported as a contract failure
        raise ContractError(f"{what}: raised {type(exc).__name__} ({exc}); expected one of "
                            f"{', '.join(k.__name__ for k in kinds)}") from exc
    raise ContractError(f"{what}: did not raise (expected one of {', '.join(k.__name__ for k in kinds)})")


def _frame_diff(a: np.ndarray, b: np.ndarray, region: tuple[slice, slice] | None = None) -> float:
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    if region is not None:
        a, b = a[region], b[region]
    return float(np.abs(a - b).mean())


def _face_region(landmarks: np.ndarray, shape: tuple[int, ...], grow: float = 0.0) -> tuple[slice, slice]:
    """Slices of the landmarks' bounding box, grown by ``grow`` face sizes on each side."""
    lo, hi = landmarks.min(0), landmarks.max(0)
    pad = grow * float((hi - lo).max())
    x0, y0 = (int(max(0, np.floor(v - pad))) for v in lo)
    x1, y1 = int(min(shape[1], np.ceil(hi[0] + pad))), int(min(shape[0], np.ceil(hi[1] + pad)))
    return slice(y0, y1), slice(x0, x1)


def _fresh_maker(instance: Any, fresh: Callable[[], Any] | None) -> Callable[[], Any] | None:
    """A factory of instances in ``instance``'s present state: ``fresh`` or deep copies of a snapshot."""
    if fresh is not None:
        return fresh
    try:
        snapshot = copy.deepcopy(instance)
    except Exception:  # noqa: BLE001 - native handles (models) often cannot be copied
        return None
    return lambda: copy.deepcopy(snapshot)


def _check_frames(frames: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    _require(isinstance(frames, np.ndarray), f"{what}: expected a numpy array, got {type(frames).__name__}")
    _require(frames.shape == shape and frames.dtype == np.uint8,
             f"{what}: expected {shape} uint8, got {frames.shape} {frames.dtype}")
    return frames


def _same_frames(a: np.ndarray, b: np.ndarray, what: str) -> None:
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
    _require(diff.mean() <= 0.1 and diff.max() <= 8,
             f"{what}: frames differ (mean {diff.mean():.3f}, max {diff.max()})")
