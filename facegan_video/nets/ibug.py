"""Facts about the iBUG 300-W 68-point landmark scheme: its contours and its left-right mirror."""

from __future__ import annotations

import numpy as np

#: (first, last, closed) point ranges of the drawn contours: jaw, brows, nose bridge, lower nose,
#: eyes, outer and inner lips.
CONTOURS: tuple[tuple[int, int, bool], ...] = (
    (0, 16, False), (17, 21, False), (22, 26, False), (27, 30, False), (31, 35, False),
    (36, 41, True), (42, 47, True), (48, 59, True), (60, 67, True),
)


def _edges() -> np.ndarray:
    pairs = []
    for first, last, closed in CONTOURS:
        pairs += [(i, i + 1) for i in range(first, last)]
        if closed:
            pairs.append((last, first))
    return np.array(pairs, np.int64)


#: (63, 2) connected point pairs along the contours: the graph of the paper's connectivity loss (eq. 3).
EDGES = _edges()

#: Point i of a face mirrored left-right is point MIRROR[i] of the mirrored face.
MIRROR = np.array(
    list(range(16, -1, -1))  # jaw
    + list(range(26, 16, -1))  # brows swap
    + [27, 28, 29, 30]  # nose bridge
    + [35, 34, 33, 32, 31]  # lower nose
    + [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40]  # eyes swap
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55]  # outer lips
    + [64, 63, 62, 61, 60, 67, 66, 65],  # inner lips
    np.int64,
)
assert sorted(MIRROR) == list(range(68)) and (MIRROR[MIRROR] == np.arange(68)).all()

#: Jaw outline, left ear to right ear through the chin.
JAW = np.arange(0, 17)
BROWS = np.arange(17, 27)
EYES = (np.arange(36, 42), np.arange(42, 48))
MOUTH_CORNERS = (48, 54)
