"""OpenFace 2.x FeatureExtraction CSVs, read by column name.

Handles every header variant seen in the wild: OpenFace 2.0.x (no ``face_id`` column), 2.1/2.2
(``", "`` separators) and files re-saved without spaces; extra columns (gaze, AU presence ``_c``,
3D landmarks, shape parameters) are ignored. Rows with ``success == 0`` are dropped.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facegan_video.errors import MediaError
from facegan_video.types import AU_NAMES

AU_COLUMNS = tuple(f"{name}_r" for name in AU_NAMES)
POSE_R_COLUMNS = ("pose_Rx", "pose_Ry", "pose_Rz")  # radians: pitch, yaw, roll
POSE_T_COLUMNS = ("pose_Tx", "pose_Ty", "pose_Tz")  # mm
LANDMARK_X = tuple(f"x_{i}" for i in range(68))
LANDMARK_Y = tuple(f"y_{i}" for i in range(68))
REQUIRED = ("frame", "success")


@dataclass
class OpenFaceRow:
    """One successfully tracked face in one frame of an OpenFace CSV."""

    frame: int  # as in the CSV: 1-based
    face_id: int  # 0 where the CSV has no face_id column (OpenFace 2.0.x)
    timestamp: float
    confidence: float
    landmarks: np.ndarray  # (68, 2) float32 pixels; NaN without -2Dfp
    aus: np.ndarray  # (17,) float32 in AU_NAMES order; NaN without -aus
    pose_r: np.ndarray  # (3,) float32 pitch, yaw, roll (rad); NaN without -pose
    pose_t: np.ndarray  # (3,) float32 mm; NaN without -pose

    @property
    def motion(self) -> np.ndarray:
        """facegan-video's 20-vector: 17 AU intensities then pitch, yaw, roll."""
        return np.concatenate([self.aus, self.pose_r]).astype(np.float32)


def parse_openface_text(text: str, source: str = "the CSV") -> list[OpenFaceRow]:
    """Rows of an OpenFace CSV given as text; see the module docstring."""
    lines = [row for row in csv.reader(io.StringIO(text), skipinitialspace=True) if any(f.strip() for f in row)]
    if not lines:
        raise MediaError(f"{source} is empty; expected an OpenFace CSV with a header line")
    names = [name.strip() for name in lines[0]]
    index = {name: i for i, name in enumerate(names)}
    missing = [name for name in REQUIRED if name not in index]
    if missing:
        raise MediaError(f"{source} is not an OpenFace CSV: no {', '.join(missing)} column")
    if any(len(row) != len(names) for row in lines[1:]):
        raise MediaError(f"{source} is not an OpenFace CSV: rows are not {len(names)} numbers each")
    try:
        data = np.array([[float(f.strip()) for f in row] for row in lines[1:]], np.float64)
    except ValueError:
        raise MediaError(f"{source} is not an OpenFace CSV: a row holds a non-number") from None
    data = data.reshape(len(lines) - 1, len(names))
    data = data[data[:, index["success"]] != 0]
    n = len(data)

    def cols(wanted: tuple[str, ...]) -> np.ndarray:
        out = np.full((n, len(wanted)), np.nan, np.float64)
        for j, name in enumerate(wanted):
            if name in index:
                out[:, j] = data[:, index[name]]
        return out.astype(np.float32)

    def col(name: str, default: float) -> np.ndarray:
        return data[:, index[name]] if name in index else np.full(n, default)

    frames, face_ids = col("frame", 0), col("face_id", 0)
    timestamps, confidences = col("timestamp", np.nan), col("confidence", 1.0)
    landmarks = np.stack([cols(LANDMARK_X), cols(LANDMARK_Y)], -1)
    aus, pose_r, pose_t = cols(AU_COLUMNS), cols(POSE_R_COLUMNS), cols(POSE_T_COLUMNS)
    return [OpenFaceRow(int(frames[i]), int(face_ids[i]), float(timestamps[i]), float(confidences[i]),
                        landmarks[i], aus[i], pose_r[i], pose_t[i]) for i in range(n)]


def parse_openface_csv(path: str | os.PathLike) -> list[OpenFaceRow]:
    """Rows of the OpenFace CSV at ``path`` with ``success == 1``, in file order."""
    p = Path(path)
    try:
        text = p.read_text(errors="replace")
    except OSError as exc:
        raise MediaError(f"cannot read {p}: {exc.strerror}; check the path") from None
    return parse_openface_text(text, str(p))
