"""The face crop every network is trained in: scale and translation only, eyes at a fixed place.

A crop maps image pixels ``p`` to unit crop coordinates ``u = s * p + t`` (0..1 across the crop;
multiply by the crop side for pixels). ``s`` makes the face scale ``FACE_SCALE`` of the side and ``t``
puts the mid-point of the two eye centres at ``EYE_CENTRE``. There is no rotation, so head roll
stays in the image as motion (the motion code's roll), as in the paper (Section 4).

Face scale is the inter-ocular distance (between the means of points 36-41 and 42-47) for a frontal
face. Under yaw that distance shrinks while the face does not, so the scale is the larger of it and
``EYE_MOUTH_RATIO`` times the eye-to-mouth distance (as FFHQ's alignment does): turned faces are not
zoomed in. With these values a crop holds the whole head with its hair and a little of the neck: the
chin sits at about 0.82 of the side, the jaw spans about 0.26-0.74 and the top of the head at about 0.05-0.15.
"""

from __future__ import annotations

import cv2
import numpy as np

from facegan_video.ibug import MOUTH_CORNERS, eye_centres

#: Eye mid-point in unit crop coordinates (x, y).
EYE_CENTRE = (0.5, 0.45)
#: Inter-ocular distance of a frontal face as a fraction of the crop side.
FACE_SCALE = 0.21
#: Inter-ocular over eye-to-mouth distance of the 3D mean face (63.1 / 67.7 mm; mean_face_68.npy).
EYE_MOUTH_RATIO = 0.93


def face_scale(landmarks: np.ndarray) -> np.ndarray:
    """(...,) the face's size in the units of ``landmarks``: inter-ocular distance, or the eye-mouth
    distance scaled to it where that is larger (turned faces)."""
    right, left = eye_centres(landmarks)
    mouth = landmarks[..., list(MOUTH_CORNERS), :].mean(-2)
    iod = np.linalg.norm(left - right, axis=-1)
    eye_mouth = np.linalg.norm(mouth - (left + right) / 2, axis=-1)
    return np.maximum(iod, EYE_MOUTH_RATIO * eye_mouth)


def crop_transform(landmarks: np.ndarray) -> np.ndarray:
    """(..., 3) ``(s, tx, ty)`` of the crop of each (..., 68, 2) face, image pixels -> unit coordinates."""
    lm = np.asarray(landmarks, np.float64)
    right, left = eye_centres(lm)
    s = FACE_SCALE / np.maximum(face_scale(lm), 1e-6)
    mid = (left + right) / 2
    return np.concatenate([s[..., None], np.asarray(EYE_CENTRE) - s[..., None] * mid], -1)


def apply_transform(points: np.ndarray, transform: np.ndarray) -> np.ndarray:
    """(..., N, 2) points moved by (..., 3) ``(s, tx, ty)``: ``s * p + t``."""
    t = np.asarray(transform)
    return points * t[..., None, :1] + t[..., None, 1:]


def invert_transform(transform: np.ndarray) -> np.ndarray:
    """The ``(s, tx, ty)`` that undoes ``transform``."""
    t = np.asarray(transform, np.float64)
    return np.concatenate([1 / t[..., :1], -t[..., 1:] / t[..., :1]], -1)


def crop_region(transform: np.ndarray, size: int, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """The rectangle of a frame of ``shape`` that ``crop_image`` reads for this crop (x0, y0, x1, y1, end
    exclusive): what the crop covers and, when it shrinks, two shrunk pixels around it."""
    s, tx, ty = (float(v) for v in transform)
    h, w = shape[:2]
    pad = 2 / s if s < 1 else 1.0
    x0 = int(np.clip(np.floor(-tx / s - pad), 0, w - 1))
    y0 = int(np.clip(np.floor(-ty / s - pad), 0, h - 1))
    x1 = int(np.clip(np.ceil((size - tx) / s + pad), x0 + 1, w))
    y1 = int(np.clip(np.ceil((size - ty) / s + pad), y0 + 1, h))
    return x0, y0, x1, y1


def crop_image(image: np.ndarray, transform: np.ndarray, size: int) -> np.ndarray:
    """The (size, size, 3) crop ``crop = s * p + t`` of a frame; shrinking goes through an area filter
    first so it does not alias; outside the frame the border pixels are repeated.

    Only ``crop_region`` is shrunk: a 256-pixel crop of a 2048x2048 portrait costs its face's pixels,
    not the whole frame's.
    """
    s, tx, ty = (float(v) for v in transform)
    if s >= 1:
        m = np.array([[s, 0, tx], [0, s, ty]])
        return cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    x0, y0, x1, y1 = crop_region(transform, size, image.shape)
    nw, nh = max(1, round((x1 - x0) * s)), max(1, round((y1 - y0) * s))
    small = cv2.resize(image[y0:y1, x0:x1], (nw, nh), interpolation=cv2.INTER_AREA)
    sx, sy = nw / (x1 - x0), nh / (y1 - y0)  # pixel centres: p = x0 + (q + 0.5) / sx - 0.5
    m = np.array([[s / sx, 0, tx + s * (x0 + 0.5 / sx - 0.5)], [0, s / sy, ty + s * (y0 + 0.5 / sy - 0.5)]])
    return cv2.warpAffine(small, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
