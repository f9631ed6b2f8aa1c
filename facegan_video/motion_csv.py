"""Recorded motion as a driver: an OpenFace-format CSV (``extract``'s or OpenFace FeatureExtraction's,
possibly edited) read as one face's records, frame by frame, for ``reenact SOURCE MOTION.csv``.

One output frame per frame number in the file; a frame where the chosen face has ``success = 0`` (or
no row) gives None, and ``reenact`` holds the previous motion there. The frame rate comes from the
timestamps unless given.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from facegan_video.analysis.pipeline import FaceSelector
from facegan_video.errors import MediaError, NoFaceError
from facegan_video.openface_csv import OpenFaceRow, parse_openface_csv
from facegan_video.types import Analysis, FaceRecord

#: Frame rates a rate measured from rounded timestamps is snapped to when it is within 0.5 % of one.
STANDARD_RATES = (24000 / 1001, 24.0, 25.0, 30000 / 1001, 30.0, 48.0, 50.0, 60000 / 1001, 60.0)
#: Frame rate of a CSV with a single frame (any rate shows it the same).
SINGLE_FRAME_FPS = 25.0


def is_motion_csv(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() == ".csv"


def _box(row: OpenFaceRow) -> np.ndarray:
    """The landmarks' bounding box (zeros without landmarks), for choosing a face by size or position."""
    if not np.isfinite(row.landmarks).all():
        return np.zeros(4, np.float32)
    return np.concatenate([row.landmarks.min(0), row.landmarks.max(0)]).astype(np.float32)


def _record(index: int, row: OpenFaceRow) -> FaceRecord:
    analysis = Analysis(aus=row.aus, pose_t=row.pose_t, pose_r=row.pose_r, confidence=row.confidence)
    return FaceRecord(index, row.timestamp, row.face_id, _box(row), row.landmarks, analysis)


def _fps(frames: np.ndarray, stamps: np.ndarray, path: Path) -> float:
    """Frames per second from frame numbers and their timestamps, snapped to a standard rate."""
    ok = np.isfinite(stamps)
    frames, stamps = frames[ok], stamps[ok]
    if len(frames) < 2 or stamps[-1] <= stamps[0] or frames[-1] <= frames[0]:
        raise MediaError(f"cannot tell the frame rate of {path}: its timestamps do not increase from frame to "
                         "frame; pass --fps")
    rate = float(frames[-1] - frames[0]) / float(stamps[-1] - stamps[0])
    near = min(STANDARD_RATES, key=lambda r: abs(r - rate))
    return near if abs(near - rate) <= 0.005 * near else rate


class MotionCsv:
    """One face's motion in an OpenFace CSV: ``records`` (a FaceRecord, or None where the face has no
    successful row) for each frame number in the file, in order, and ``fps``.

    ``face``: ``largest`` (the biggest face at its first appearance), ``index:N`` (N-th from the left
    there) or ``id:N`` (the CSV's ``face_id``). ``fps`` overrides the rate from the timestamps.
    """

    def __init__(self, path: str | os.PathLike, face: str = "largest", fps: float | None = None,
                 max_frames: int | None = None) -> None:
        self.path = Path(path)
        rows = parse_openface_csv(self.path, keep_failed=True)
        by_frame: dict[int, list[OpenFaceRow]] = {}
        for row in rows:
            by_frame.setdefault(row.frame, []).append(row)
        if not by_frame:
            raise MediaError(f"{self.path} has a header but no rows; write it with `facegan-video extract`")
        self.face_id = self._choose(by_frame, face)
        numbers = sorted(by_frame)[:max_frames]
        chosen = {n: next((r for r in by_frame[n] if r.face_id == self.face_id and r.success), None) for n in numbers}
        self.records = [None if chosen[n] is None else _record(i, chosen[n]) for i, n in enumerate(numbers)]
        found = [r for r in chosen.values() if r is not None]
        if not np.isfinite(np.stack([r.motion for r in found])).any(0).any():
            raise MediaError(f"{self.path} has no AU or head-pose values (AU01_r ... AU45_r, pose_Rx ... pose_Rz); "
                             "write it with `facegan-video extract` or OpenFace's -aus -pose")
        self.has_landmarks = bool(np.isfinite(np.stack([r.landmarks for r in found])).all())
        if fps is not None:
            self.fps = fps
        elif len(numbers) == 1:
            self.fps = SINGLE_FRAME_FPS
        else:
            self.fps = _fps(np.array(numbers), np.array([by_frame[n][0].timestamp for n in numbers]), self.path)

    def _choose(self, by_frame: dict[int, list[OpenFaceRow]], face: str) -> int:
        """The face_id to follow, chosen at the first frame with a successful face."""
        select = FaceSelector(face)
        ids = sorted({r.face_id for rows in by_frame.values() for r in rows if r.success})
        if not ids:
            raise NoFaceError(f"no face in the motion CSV {self.path}: every row has success = 0")
        if select.kind == "id":
            if select.arg not in ids:
                raise NoFaceError(f"--driving-face id:{select.arg} is not in {self.path}: its faces have face_id "
                                  f"{', '.join(map(str, ids))}")
            return select.arg
        for number in sorted(by_frame):
            seen = [(r.face_id, _box(r)) for r in by_frame[number] if r.success]
            if chosen := select(seen):
                return chosen[0][0]
        raise NoFaceError(f"--driving-face {face} matches no face in {self.path}: its faces have face_id "
                          f"{', '.join(map(str, ids))}")
