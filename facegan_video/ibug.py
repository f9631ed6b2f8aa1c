"""The iBUG 300-W 68-point layout: named point sets and the measurements every module takes of a face.

One definition of each: backends, the evaluation, the contract kit and the networks import them
from here. Landmarks are (..., 68, 2) pixel coordinates, x right, y down; "left" is the image's left.
"""

from __future__ import annotations

import numpy as np

JAW = np.arange(0, 17)  # left ear to right ear through the chin (8)
BROWS = np.arange(17, 27)
NOSE_BRIDGE = np.arange(27, 31)
NOSE_LOWER = np.arange(31, 36)
EYE_LEFT = np.arange(36, 42)  # the eye on the image's left, clockwise from its outer corner
EYE_RIGHT = np.arange(42, 48)
LIPS_OUTER = np.arange(48, 60)
INNER_MOUTH = np.arange(60, 68)
INNER_UPPER = np.array([61, 62, 63])
INNER_LOWER = np.array([67, 66, 65])  # vertically below INNER_UPPER, pair by pair
OUTER_UPPER = np.array([50, 51, 52])
OUTER_LOWER = np.array([58, 57, 56])
#: Points that keep their place under expressions, for aligning faces rigidly: eye corners,
#: nose bridge and tip, nostrils.
ALIGN = np.array([27, 28, 29, 30, 31, 33, 35, 36, 39, 42, 45])
#: Outer eye corners (left, right).
OUTER_EYE_CORNERS = (36, 45)
MOUTH_CORNERS = (48, 54)

#: (first, last, closed) point ranges of the drawn contours: jaw, brows, nose bridge, lower nose,
#: eyes, outer and inner lips.
CONTOURS: tuple[tuple[int, int, bool], ...] = (
    (0, 16, False), (17, 21, False), (22, 26, False), (27, 30, False), (31, 35, False),
    (36, 41, True), (42, 47, True), (48, 59, True), (60, 67, True),
)
#: (63, 2) connected point pairs along the contours (the graph of the paper's connectivity loss, eq. 3).
EDGES = np.array([(i, i + 1) for first, last, _ in CONTOURS for i in range(first, last)]
                 + [(last, first) for first, last, closed in CONTOURS if closed], np.int64)
#: Point i of a face mirrored left-right is point MIRROR[i] of the mirrored face.
MIRROR = np.array(
    list(range(16, -1, -1))  # jaw
    + list(range(26, 16, -1))  # brows
    + [27, 28, 29, 30, 35, 34, 33, 32, 31]  # nose
    + [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40]  # eyes
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55]  # outer lips
    + [64, 63, 62, 61, 60, 67, 66, 65]  # inner lips
)


def mirror_points(landmarks: np.ndarray, width: float) -> np.ndarray:
    """Landmarks of the left-right flipped image of ``width`` pixels, in iBUG order again."""
    out = landmarks[..., MIRROR, :].copy()
    out[..., 0] = width - 1 - out[..., 0]
    return out


def eye_centres(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(left, right) eye centres: the means of each eye's six points."""
    lm = np.asarray(landmarks)
    return lm[..., EYE_LEFT, :].mean(-2), lm[..., EYE_RIGHT, :].mean(-2)


def eye_centre_distance(landmarks: np.ndarray) -> np.ndarray | float:
    """Inter-ocular distance between the eye centres: the face scale of the evaluation and of crops."""
    left, right = eye_centres(landmarks)
    return np.linalg.norm(right - left, axis=-1)


def eye_corner_distance(landmarks: np.ndarray) -> np.ndarray | float:
    """Distance between the outer eye corners (36, 45): a larger face scale, the contract kit's unit."""
    lm = np.asarray(landmarks)
    return np.linalg.norm(lm[..., OUTER_EYE_CORNERS[1], :] - lm[..., OUTER_EYE_CORNERS[0], :], axis=-1)


def mouth_opening(landmarks: np.ndarray) -> float:
    """Mean inner-lip gap (points 61-63 to 67-65) divided by the eye-centre distance."""
    lm = np.asarray(landmarks)
    gap = np.linalg.norm(lm[INNER_UPPER] - lm[INNER_LOWER], axis=1).mean()
    return float(gap / max(float(eye_centre_distance(lm)), 1e-6))
