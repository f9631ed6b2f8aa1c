"""Face crops of full frames for the image networks, and pasting their results back.

Each target face gets the crop ``prepare`` trains the networks in (``nets.crop``: eye mid-point at
a fixed place, fixed face scale, no rotation), at ``size`` pixels. Results come back into the frame
only over the crop's rectangle, through a window that fades to zero across the crop's outer
``FEATHER`` of its side, so no crop edge shows and everything farther away is left as it was.
"""

from __future__ import annotations

import cv2
import numpy as np

from facegan_video.nets.crop import apply_transform, crop_image, crop_region, crop_transform
from facegan_video.types import Rect

#: Share of the crop side over which pasted results fade out towards the crop's edges.
FEATHER = 0.08


def window(size: int) -> np.ndarray:
    """(size, size) float32 weights: 1 inside, falling linearly to 0 across the outer ``FEATHER``."""
    ramp = np.clip((np.minimum(np.arange(size), size - 1 - np.arange(size)) + 0.5) / (FEATHER * size), 0, 1)
    return np.outer(ramp, ramp).astype(np.float32)


class Crops:
    """The crops of N target faces (N, 68, 2) of one frame size, at ``size`` pixels."""

    def __init__(self, targets: np.ndarray, size: int, shape: tuple[int, ...]) -> None:
        self.unit = crop_transform(np.asarray(targets, np.float64).reshape(-1, 68, 2))  # (N, 3)
        self.size, self.shape = size, shape[:2]
        self.window = window(size)

    def __len__(self) -> int:
        return len(self.unit)

    def landmarks(self, points: np.ndarray) -> np.ndarray:
        """(N, 68, 2) frame points -> unit crop coordinates of each crop."""
        return apply_transform(np.asarray(points, np.float64), self.unit).astype(np.float32)

    def crop(self, image: np.ndarray, k: int) -> np.ndarray:
        """Crop ``k`` of a frame (H, W) or (H, W, C)."""
        return crop_image(image, self.unit[k] * self.size, self.size)

    def region(self) -> Rect:
        """The rectangle of the frame that the crops read (``crop_region`` of each, joined)."""
        boxes = np.array([crop_region(u * self.size, self.size, self.shape) for u in self.unit]).reshape(-1, 4)
        if not len(boxes):
            return (0, 0, 0, 0)
        return (int(boxes[:, 0].min()), int(boxes[:, 1].min()), int(boxes[:, 2].max()), int(boxes[:, 3].max()))

    def _box(self, k: int) -> tuple[int, int, int, int] | None:
        s, tx, ty = self.unit[k] * self.size
        h, w = self.shape
        x0, y0 = max(int(np.floor(-tx / s)), 0), max(int(np.floor(-ty / s)), 0)
        x1, y1 = min(int(np.ceil((self.size - tx) / s)) + 1, w), min(int(np.ceil((self.size - ty) / s)) + 1, h)
        return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None

    def uncrop(self, k: int, *values: np.ndarray) -> tuple[tuple[slice, slice], np.ndarray, list[np.ndarray]] | None:
        """Each of ``values`` (S, S, C) of crop ``k`` resampled into the frame rectangle it covers, in its own
        dtype: the rectangle's (rows, cols) slices, the fading window there (h, w) float32, and the resampled
        (h, w, C) arrays; None when the crop lies outside the frame."""
        box = self._box(k)
        if box is None:
            return None
        x0, y0, x1, y1 = box
        s, tx, ty = self.unit[k] * self.size
        m = np.array([[s, 0, s * x0 + tx], [0, s, s * y0 + ty]])  # frame rectangle pixel -> crop pixel

        def resample(a: np.ndarray) -> np.ndarray:
            out = cv2.warpAffine(a, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                 borderMode=cv2.BORDER_CONSTANT)
            return out.reshape(y1 - y0, x1 - x0, *a.shape[2:])

        return (slice(y0, y1), slice(x0, x1)), resample(self.window), [resample(a) for a in values]
