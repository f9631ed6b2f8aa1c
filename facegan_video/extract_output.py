"""Outputs of ``facegan-video extract``: an OpenFace-compatible CSV, a time-course plot, an overlay video.

The CSV keeps OpenFace 2.2 FeatureExtraction's column names, order, ", " separators and number
formats, so scripts written for OpenFace output read it unchanged. All files are written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import cv2
import numpy as np

from facegan_video.analysis.geometry import landmark_confidence
from facegan_video.errors import NoFaceError, OutputError
from facegan_video.openface_csv import (
    AU_COLUMNS,
    LANDMARK_X,
    LANDMARK_Y,
    POSE_R_COLUMNS,
    POSE_T_COLUMNS,
    read_openface_csv,
)
from facegan_video.types import AU_NAMES, FaceRecord
from facegan_video.video import AtomicTarget, VideoWriter, atomic_path, check_output
from facegan_video.video.atomic import CommitOnExit

#: FACS names of the 17 intensity AUs, for plot and overlay labels.
AU_DESCRIPTIONS: dict[str, str] = {
    "AU01": "inner brow raiser",
    "AU02": "outer brow raiser",
    "AU04": "brow lowerer",
    "AU05": "upper lid raiser",
    "AU06": "cheek raiser",
    "AU07": "lid tightener",
    "AU09": "nose wrinkler",
    "AU10": "upper lip raiser",
    "AU12": "lip corner puller",
    "AU14": "dimpler",
    "AU15": "lip corner depressor",
    "AU17": "chin raiser",
    "AU20": "lip stretcher",
    "AU23": "lip tightener",
    "AU25": "lips part",
    "AU26": "jaw drop",
    "AU45": "blink",
}


#: OpenFace 2.x FeatureExtraction columns we write, in OpenFace's order (gaze, 3D and shape
#: parameters, and AU presence columns are left out).
OPENFACE_COLUMNS: list[str] = (
    ["frame", "face_id", "timestamp", "confidence", "success"]
    + [*POSE_T_COLUMNS, *POSE_R_COLUMNS, *LANDMARK_X, *LANDMARK_Y, *AU_COLUMNS]
)


def _fmt(values: np.ndarray, decimals: int) -> list[str]:
    """Fixed-point like OpenFace's std::fixed; NaN (e.g. an AU the backend does not give) is written 0."""
    return [f"{v:.{decimals}f}" for v in np.nan_to_num(np.asarray(values, np.float64).ravel())]


def _row(record: FaceRecord) -> list[str]:
    """One CSV row; a failed frame has zeros everywhere but frame, face id and timestamp, as in OpenFace."""
    head = [str(record.frame + 1), str(record.face_id), f"{record.timestamp:.3f}"]
    if not record.success:
        return head + ["0.00", "0"] + ["0.0"] * 3 + ["0.000"] * 3 + ["0.0"] * 136 + ["0.00"] * 17
    landmarks = np.asarray(record.landmarks, np.float64)
    analysis = record.analysis
    if analysis is None:  # landmarks only: confidence from the fit to a face, no pose or AUs
        confidence = float(landmark_confidence(landmarks[None])[0])
        pose_t, pose_r, aus = np.zeros(3), np.zeros(3), np.zeros(17)
    else:
        confidence, pose_t, pose_r, aus = analysis.confidence, analysis.pose_t, analysis.pose_r, analysis.aus
    return (
        head
        + [f"{confidence:.2f}", "1"]
        + _fmt(pose_t, 1)
        + _fmt(pose_r, 3)
        + _fmt(landmarks[:, 0], 1)
        + _fmt(landmarks[:, 1], 1)
        + _fmt(aus, 2)
    )


class CsvWriter(CommitOnExit):
    """OpenFace-style CSV of face records; the file appears at `path` only when close() succeeds.

    ``frame`` is 1-based as in OpenFace (``FaceRecord.frame`` is 0-based).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self._target = AtomicTarget(path)
        self.path = self._target.path
        with self._writing():
            self._file: IO[str] | None = open(self._target.temp, "w", newline="")
        self._write_line(OPENFACE_COLUMNS)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Disk full, file removed and the like become a one-line OutputError."""
        try:
            yield
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror}; check free disk space") from None

    def _write_line(self, fields: list[str]) -> None:
        if self._file is None:
            raise ValueError(f"CsvWriter for {self.path} is already closed")
        with self._writing():
            self._file.write(", ".join(fields) + "\n")

    def write(self, record: FaceRecord) -> None:
        self._write_line(_row(record))

    def close(self) -> None:
        """Flush and move the file into place; on failure the destination is left as it was."""
        if self._file is None:
            return
        file, self._file = self._file, None
        try:
            with self._writing():
                file.close()
        except BaseException:
            self._target.discard()
            raise
        self._target.commit()

    def abort(self) -> None:
        """Drop what was written; an existing destination file is not touched."""
        if self._file is not None:
            file, self._file = self._file, None
            try:
                file.close()
            except OSError:
                pass  # the temp file is being thrown away anyway
        self._target.discard()



def _edges(t: np.ndarray) -> np.ndarray:
    """Cell edges halfway between timestamps, so frames of a face with gaps keep their true times."""
    if len(t) == 1:
        return np.array([t[0] - 0.5 / 30, t[0] + 0.5 / 30])
    mid = (t[1:] + t[:-1]) / 2
    return np.concatenate([[2 * t[0] - mid[0]], mid, [2 * t[-1] - mid[-1]]])


def plot_time_courses(
    csv_or_columns: str | os.PathLike | Mapping[str, np.ndarray],
    out_png: str | os.PathLike,
    title: str | None = None,
    face_id: int = 0,
) -> Path:
    """PNG of one face's head pose (degrees) over an AU intensity heat-map, both against time.

    Frames where the face was not tracked show as gaps. Returns the written path.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    is_path = isinstance(csv_or_columns, (str, os.PathLike))
    columns = read_openface_csv(csv_or_columns) if is_path else csv_or_columns
    rows = np.asarray(columns["face_id"]) == face_id
    if not rows.any():
        raise NoFaceError(f"no rows for face {face_id} to plot; pass a face id present in the CSV's face_id column")
    t = np.asarray(columns["timestamp"], np.float64)[rows]
    order = np.argsort(t, kind="stable")
    t = t[order]
    failed = (np.asarray(columns["success"])[rows] == 0)[order]

    def series(names: tuple[str, ...]) -> np.ndarray:
        values = np.stack([np.asarray(columns[n], np.float64)[rows][order] for n in names], 1)
        values[failed] = np.nan
        return values

    fig = Figure(figsize=(11, 8.5), dpi=120, layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 2, width_ratios=[60, 1], height_ratios=[1, 2.4])
    ax_pose = fig.add_subplot(grid[0, 0])
    ax_au = fig.add_subplot(grid[1, 0], sharex=ax_pose)
    ax_bar = fig.add_subplot(grid[1, 1])
    pose = np.degrees(series(POSE_R_COLUMNS))
    for values, label in zip(pose.T, ("pitch (Rx)", "yaw (Ry)", "roll (Rz)")):
        ax_pose.plot(t, values, label=label, linewidth=1.2)
    ax_pose.set_ylabel("head rotation (degrees)")
    ax_pose.legend(loc="upper right", ncol=3, fontsize="small")
    ax_pose.grid(alpha=0.3)
    ax_pose.set_title(title or (f"{Path(csv_or_columns).name}, face {face_id}" if is_path else f"face {face_id}"))

    aus = np.ma.masked_invalid(series(AU_COLUMNS))
    mesh = ax_au.pcolormesh(_edges(t), np.arange(len(AU_NAMES) + 1), aus.T, cmap="magma", vmin=0, vmax=5)
    ax_au.set_yticks(np.arange(len(AU_NAMES)) + 0.5, [f"{n} {AU_DESCRIPTIONS[n]}" for n in AU_NAMES], fontsize=8)
    ax_au.invert_yaxis()
    ax_au.set_xlabel("time (s)")
    fig.colorbar(mesh, cax=ax_bar, label="AU intensity (0-5)")
    path = check_output(out_png, "plot", "plot")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix[1:].lower())
    return path


#: iBUG 68-point contours: (first, last, closed).
_CONTOURS = (
    (0, 16, False), (17, 21, False), (22, 26, False), (27, 30, False), (31, 35, False),
    (36, 41, True), (42, 47, True), (48, 59, True), (60, 67, True),
)
_SHIFT = 4  # cv2 fixed-point bits: draw at 1/16 px so small faces are not snapped to whole pixels
_GREEN, _YELLOW, _WHITE, _BLACK = (0, 220, 0), (255, 220, 0), (255, 255, 255), (0, 0, 0)


def _fixed(points: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(points, np.float64) * (1 << _SHIFT)).astype(np.int32)


def _text_block(image: np.ndarray, lines: list[str], x: int, y: int, scale: float) -> None:
    """Lines of outlined text with the first baseline at y, moved and shrunk to stay inside the image."""
    h, w = image.shape[:2]
    font = cv2.FONT_HERSHEY_SIMPLEX

    def widest(s: float) -> int:
        return max(cv2.getTextSize(line, font, s, max(1, round(s * 2)) + 2)[0][0] for line in lines)

    if widest(scale) > w - 4:
        scale *= (w - 4) / widest(scale)
    thick = max(1, round(scale * 2))
    step = round(cv2.getTextSize("Ag", font, scale, thick)[0][1] * 1.7) + 1
    x = max(2, min(x, w - 2 - widest(scale)))
    y = max(step, min(y, h - 3 - step * (len(lines) - 1)))
    for i, line in enumerate(lines):
        org = (x, y + i * step)
        cv2.putText(image, line, org, font, scale, _BLACK, thick + 2, cv2.LINE_AA)  # outline: readable anywhere
        cv2.putText(image, line, org, font, scale, _WHITE, thick, cv2.LINE_AA)


def _labels(record: FaceRecord) -> list[str]:
    """Yaw and pitch in degrees, then the 3 strongest AUs, for the lines under the box."""
    a = record.analysis
    if a is None:
        return []
    pitch, yaw = np.degrees(a.pose_r[:2])
    aus = np.nan_to_num(np.asarray(a.aus, np.float64), nan=-np.inf)
    top = [i for i in np.argsort(-aus, kind="stable")[:3] if np.isfinite(aus[i])]
    return [f"yaw {yaw:+.0f} pitch {pitch:+.0f}", " ".join(f"{AU_NAMES[i]} {aus[i]:.1f}" for i in top)]


def draw_overlay(image: np.ndarray, records: list[FaceRecord]) -> np.ndarray:
    """A copy of the RGB image with each tracked face's box, landmark contours, id and pose/AU lines."""
    out = image.copy()
    scale = max(0.3, out.shape[0] / 1400)
    for record in records:
        box = np.asarray(record.box, np.float64)
        pts = np.asarray(record.landmarks, np.float64)
        if not record.success or not (np.isfinite(box).all() and np.isfinite(pts).all()):
            continue
        size = np.sqrt(max((box[2] - box[0]) * (box[3] - box[1]), 1.0))
        thick = max(1, round(size / 200))
        cv2.rectangle(out, _fixed(box[:2]), _fixed(box[2:]), _GREEN, thick, cv2.LINE_AA, _SHIFT)
        for first, last, closed in _CONTOURS:
            cv2.polylines(out, [_fixed(pts[first:last + 1])], closed, _YELLOW, thick, cv2.LINE_AA, _SHIFT)
        radius = round(max(0.7, size / 150) * (1 << _SHIFT))
        for p in _fixed(pts):
            cv2.circle(out, p, radius, _GREEN, -1, cv2.LINE_AA, _SHIFT)
        x0, y0, y1 = int(box[0]), int(box[1]), int(box[3])
        _text_block(out, [f"id {record.face_id}"], x0, y0 - 4, scale)
        if labels := _labels(record):
            _text_block(out, labels, x0, y1 + 4 + round(25 * scale), scale)
    return out


class OverlayWriter(CommitOnExit):
    """Video of the analysed frames with faces drawn on; atomic like VideoWriter (extra options go to it)."""

    def __init__(self, path: str | os.PathLike, fps: float, **video_options: object) -> None:
        self._video = VideoWriter(path, fps, **video_options)
        self.path = self._video.path

    @property
    def frames_written(self) -> int:
        return self._video.frames_written

    def write(self, image: np.ndarray, records: list[FaceRecord]) -> None:
        self._video.write(draw_overlay(image, records))

    def close(self) -> None:
        self._video.close()

    def abort(self) -> None:
        self._video.abort()

