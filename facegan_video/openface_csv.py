"""OpenFace 2.x FeatureExtraction CSVs (and ``extract``'s, which keep OpenFace's columns), read by column name.

The one parser for these files: ``extract --plot``, ``reenact SOURCE MOTION.csv`` and the OpenFace
plugin all read through it. Every header variant seen in the wild reads the same: OpenFace 2.0.x
(no ``face_id`` column), 2.1/2.2 (``", "`` separators) and files re-saved without spaces (pandas,
spreadsheets); extra columns (gaze, AU presence ``_c``, 3D landmarks, shape parameters) are ignored.
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
#: Columns read back as integers.
INT_COLUMNS = frozenset({"frame", "face_id", "success"})


@dataclass
class OpenFaceRow:
    """One face in one frame of an OpenFace CSV."""

    frame: int  # as in the CSV: 1-based
    face_id: int  # 0 where the CSV has no face_id column (OpenFace 2.0.x)
    timestamp: float  # seconds; NaN without a timestamp column
    confidence: float
    landmarks: np.ndarray  # (68, 2) float32 pixels; NaN without -2Dfp
    aus: np.ndarray  # (17,) float32 in AU_NAMES order; NaN without -aus
    pose_r: np.ndarray  # (3,) float32 pitch, yaw, roll (rad); NaN without -pose
    pose_t: np.ndarray  # (3,) float32 mm; NaN without -pose
    success: bool = True

    @property
    def motion(self) -> np.ndarray:
        """facegan-video's 20-vector: 17 AU intensities then pitch, yaw, roll."""
        return np.concatenate([self.aus, self.pose_r]).astype(np.float32)


def _read_text(path: str | os.PathLike) -> str:
    p = Path(path)
    try:
        return p.read_text(errors="replace")
    except OSError as exc:
        raise MediaError(f"cannot read {p}: {exc.strerror}; check the path") from None


def parse_columns(text: str, source: str = "the CSV") -> dict[str, np.ndarray]:
    """Every column by its (stripped) header name, as float64 (``frame``, ``face_id``, ``success`` as
    int64); blank lines are skipped."""
    rows = [row for row in csv.reader(io.StringIO(text), skipinitialspace=True) if any(f.strip() for f in row)]
    if not rows:
        raise MediaError(f"{source} is empty; expected an OpenFace CSV with a header line")
    names = [name.strip() for name in rows[0]]
    if any(len(row) != len(names) for row in rows[1:]):
        raise MediaError(f"{source} is not an OpenFace CSV: rows are not {len(names)} numbers each")
    try:
        data = np.array(rows[1:], np.float64).reshape(len(rows) - 1, len(names))
    except ValueError:
        raise MediaError(f"{source} is not an OpenFace CSV: a row holds a non-number") from None
    return {name: data[:, i].astype(np.int64) if name in INT_COLUMNS else data[:, i] for i, name in enumerate(names)}


def read_openface_csv(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The columns of the OpenFace CSV at ``path`` (see :func:`parse_columns`)."""
    return parse_columns(_read_text(path), str(path))


def parse_openface_text(text: str, source: str = "the CSV", *, keep_failed: bool = False) -> list[OpenFaceRow]:
    """Rows of an OpenFace CSV given as text, in file order; those with ``success == 0`` only with
    ``keep_failed``."""
    columns = parse_columns(text, source)
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise MediaError(f"{source} is not an OpenFace CSV: no {', '.join(missing)} column")
    n = len(columns["frame"])

    def cols(wanted: tuple[str, ...]) -> np.ndarray:
        out = np.full((n, len(wanted)), np.nan, np.float32)
        for j, name in enumerate(wanted):
            if name in columns:
                out[:, j] = columns[name]
        return out

    def col(name: str, default: float) -> np.ndarray:
        return columns[name] if name in columns else np.full(n, default)

    frames, face_ids, success = columns["frame"], col("face_id", 0), columns["success"] != 0
    timestamps, confidences = col("timestamp", np.nan), col("confidence", 1.0)
    landmarks = np.stack([cols(LANDMARK_X), cols(LANDMARK_Y)], -1)
    aus, pose_r, pose_t = cols(AU_COLUMNS), cols(POSE_R_COLUMNS), cols(POSE_T_COLUMNS)
    return [OpenFaceRow(int(frames[i]), int(face_ids[i]), float(timestamps[i]), float(confidences[i]),
                        landmarks[i], aus[i], pose_r[i], pose_t[i], bool(success[i]))
            for i in range(n) if keep_failed or success[i]]


def parse_openface_csv(path: str | os.PathLike, *, keep_failed: bool = False) -> list[OpenFaceRow]:
    """Rows of the OpenFace CSV at ``path``, in file order (see :func:`parse_openface_text`)."""
    return parse_openface_text(_read_text(path), str(path), keep_failed=keep_failed)
