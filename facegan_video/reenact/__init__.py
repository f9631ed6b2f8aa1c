"""Reenactment backends (landmark transformers, reenactors, mixers) and what they share."""

from __future__ import annotations

import cv2
import numpy as np


def check_source(source: np.ndarray) -> None:
    """The source frame every reenactor and mixer takes: HxWx3 uint8 RGB."""
    if source.ndim != 3 or source.shape[2] != 3 or source.dtype != np.uint8:
        raise ValueError(f"source must be HxWx3 uint8, got {source.shape} {source.dtype}")


def same_image(a: np.ndarray, b: np.ndarray) -> bool:
    """Exact equality of two images in one pass: the per-source caches compare, on every call, the part
    of the source they depend on with the cached one, and ``np.array_equal`` (a full-size boolean
    temporary) is 4x slower on a 2048x2048 frame."""
    return a.shape == b.shape and a.dtype == b.dtype and (a.size == 0 or cv2.norm(a, b, cv2.NORM_INF) == 0)
