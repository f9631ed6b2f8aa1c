"""Face / hair / background pseudo-labels of a face crop, from its landmarks and GrabCut.

The paper trains its reenactor's segmentation head on a pretrained face parser's labels; none ships
offline, so the labels are derived here:

* face (1): the convex hull of the jaw outline and of the brows raised by ``FOREHEAD`` face scales
  (a forehead estimate), drawn at full resolution: eyes, mouth and forehead are face.
* hair (2): GrabCut (OpenCV, one iteration) at ``SEG_SIZE`` px, on the part of the crop that shows
  the source frame, initialised with: the face interior and a thin strip just above the forehead
  estimate (between the brow ends) as sure foreground; the band next to the face (``NEAR``) as
  probable foreground; the rest of a head band around and above the face (``BAND_SIDE``,
  ``BAND_UP``) as probable background; everything else, including the neck and body below the chin,
  as sure background. The foreground it finds outside the face hull and connected to it is hair,
  upsampled and smoothed to the crop size.
* background (0): the rest, including neck, ears, shoulders, clothes, and any part of the crop
  outside the source frame (filled by repeating its border pixels, so it is no real content).

Limits: fringes over the forehead count as face; where hair and background have similar colours
(dark hair on a dark background) GrabCut keeps little more than the seed strip; a bald head gets a
strip of skin labelled hair; hats and hands near the head may be labelled hair; long hair below the
chin line is background; hair is only as sharp as ``SEG_SIZE``. Cost: about 10 ms per frame on one
core, almost all GrabCut.
"""

from __future__ import annotations

import cv2
import numpy as np

from facegan_video.ibug import BROWS, JAW
from facegan_video.nets.crop import face_scale
from facegan_video_training.dataset import SEG_FACE, SEG_HAIR

#: GrabCut resolution (px); labels are upsampled from it.
SEG_SIZE = 128
#: Forehead height above the brows, in face scales (inter-ocular distances).
FOREHEAD = 0.6
#: Head band around the face hull (face scales): sideways and down, and upwards.
BAND_SIDE, BAND_UP = 0.55, 1.1
#: The part of the band next to the face that starts as probable hair (the rest as probable background).
NEAR = 0.25
#: Height (face scales) of the strip above the forehead estimate taken as sure hair.
SEED = 0.12
GRABCUT_ITERATIONS = 1


def face_hull(landmarks: np.ndarray) -> np.ndarray:
    """(K, 2) float32 convex hull of the jaw and the forehead estimate, in the landmarks' pixels."""
    scale = float(face_scale(landmarks))
    up = landmarks[JAW[0]] - landmarks[JAW[-1]]  # ear to ear, image right to left
    up = np.array([up[1], -up[0]]) / max(np.linalg.norm(up), 1e-6)  # perpendicular, towards the forehead
    if up[1] > 0:
        up = -up
    forehead = landmarks[BROWS] + FOREHEAD * scale * up
    return cv2.convexHull(np.concatenate([landmarks[JAW], forehead]).astype(np.float32))[:, 0]


def _fill(shape: tuple[int, int], polygon: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(polygon * 16).astype(np.int32), 1, lineType=cv2.LINE_8, shift=4)
    return mask


def _disk(radius: float) -> np.ndarray:
    r = max(int(round(radius)), 1)
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


def _inside_mask(size: int, inside: tuple[float, float, float, float]) -> np.ndarray:
    x0, y0, x1, y1 = inside
    ys, xs = np.mgrid[:size, :size]
    return (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)


def segment(image: np.ndarray, landmarks: np.ndarray, inside: tuple[float, float, float, float] | None = None
            ) -> np.ndarray:
    """(S, S) uint8 labels of an (S, S, 3) RGB crop with its (68, 2) landmarks in crop pixels;
    ``inside`` is the (x0, y0, x1, y1) crop-pixel box that shows the source frame (None: all of it)."""
    size = image.shape[0]
    hull = face_hull(landmarks)
    labels = np.zeros((size, size), np.uint8)
    k = SEG_SIZE / size
    small_inside = None if inside is None else _inside_mask(SEG_SIZE, tuple(v * k for v in inside))
    hair = _hair(cv2.resize(image, (SEG_SIZE, SEG_SIZE), interpolation=cv2.INTER_AREA), landmarks * k, hull * k,
                 small_inside)
    if hair is not None:
        up = cv2.resize(hair.astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR)
        labels[cv2.GaussianBlur(up, (0, 0), 1 / k) > 0.5] = SEG_HAIR
    labels[_fill((size, size), hull) > 0] = SEG_FACE
    if inside is not None:
        labels[~_inside_mask(size, inside)] = 0
    return labels


def _hair(small: np.ndarray, landmarks: np.ndarray, hull: np.ndarray, inside: np.ndarray | None
          ) -> np.ndarray | None:
    """Boolean hair mask at SEG_SIZE, or None where GrabCut has nothing to separate."""
    shape = small.shape[:2]
    scale = float(face_scale(landmarks))
    face = _fill(shape, hull)
    band = _raised(cv2.dilate(face, _disk(BAND_SIDE * scale)), (BAND_UP - BAND_SIDE) * scale)
    near = _raised(cv2.dilate(face, _disk(NEAR * scale)), NEAR * scale)
    # sure hair: a strip just above the forehead estimate, between the outer ends of the brows
    seed = _raised(face, SEED * scale) & ~face.astype(bool)
    seed[:, : int(landmarks[BROWS[0], 0])] = 0
    seed[:, int(np.ceil(landmarks[BROWS[-1], 0])):] = 0
    below_chin = np.zeros_like(face)
    chin_line = landmarks[JAW[3:14]]
    neck = np.concatenate([chin_line, [[chin_line[-1, 0], shape[0]], [chin_line[0, 0], shape[0]]]])
    cv2.fillPoly(below_chin, [np.round(neck).astype(np.int32)], 1)
    band[below_chin > 0] = 0
    mask = np.full(shape, cv2.GC_BGD, np.uint8)
    mask[band > 0] = cv2.GC_PR_BGD
    mask[(near > 0) & (band > 0)] = cv2.GC_PR_FGD
    mask[cv2.erode(face, _disk(0.15 * scale)) > 0] = cv2.GC_FGD
    mask[seed > 0] = cv2.GC_FGD
    # GrabCut only sees the part of the crop that shows the source frame: repeated border pixels
    # would teach its colour models hair-coloured background
    ys, xs = np.nonzero(inside) if inside is not None else (np.array([0, shape[0] - 1]), np.array([0, shape[1] - 1]))
    roi = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    sub = np.ascontiguousarray(mask[roi])
    if not ((sub == cv2.GC_BGD).any() and (sub == cv2.GC_FGD).any()):
        return None
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(np.ascontiguousarray(cv2.cvtColor(small, cv2.COLOR_RGB2BGR)[roi]), sub, None, bgd, fgd,
                GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
    fg = np.zeros(shape, np.uint8)
    fg[roi] = (sub == cv2.GC_FGD) | (sub == cv2.GC_PR_FGD)
    fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, _disk(1))
    # keep the foreground connected to the face: specks in the band are not hair
    _, comp = cv2.connectedComponents(fg | face)
    touching = np.unique(comp[face > 0])
    keep = np.isin(comp, touching[touching > 0])
    return keep & (fg > 0) & (face == 0)


def _raised(mask: np.ndarray, lift: float) -> np.ndarray:
    """``mask`` joined with itself shifted up by ``lift`` pixels."""
    shift = int(round(lift))
    out = mask.copy()
    if 0 < shift < len(mask):
        out[:-shift] |= mask[shift:]
    return out
