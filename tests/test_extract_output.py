"""Extract outputs: OpenFace-compatible CSV round trips, the time-course plot and the overlay video."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from facegan_video.assets import DATA_DIR
from facegan_video.errors import NoFaceError
from facegan_video.extract_output import (
    AU_DESCRIPTIONS,
    OPENFACE_COLUMNS,
    CsvWriter,
    OverlayWriter,
    draw_overlay,
    plot_time_courses,
    read_openface_csv,
)
from facegan_video.types import AU_NAMES, Analysis, FaceRecord
from facegan_video.video import open_video

FPS = 29.97


def _face(center: tuple[float, float], size: float) -> np.ndarray:
    """The real mean face's x, y scaled to `size` px around `center`."""
    pts = np.load(DATA_DIR / "mean_face_68.npy")[:, :2].astype(np.float64)
    pts -= pts.mean(0)
    return (pts / np.ptp(pts[:, 0]) * size + center).astype(np.float32)


def _record(frame: int, face_id: int = 0, *, success: bool = True, with_analysis: bool = True,
            center: tuple[float, float] = (88.0, 70.0), size: float = 60.0) -> FaceRecord:
    """A face nodding and smiling over time, so every column carries a distinct value."""
    t = frame / FPS
    landmarks = _face((center[0] + 3 * np.sin(t), center[1]), size)
    aus = np.linspace(0.1, 4.9, 17).astype(np.float32) * (0.5 + 0.5 * np.sin(2 * t + np.arange(17))).astype(np.float32)
    aus[3] = np.nan  # an AU the backend does not provide
    analysis = Analysis(
        aus=aus,
        pose_t=np.array([12.34, -5.67, 612.89], np.float32),
        pose_r=np.array([0.2 * np.sin(t), -0.3 * np.cos(t), 0.05], np.float32),
        confidence=0.976,
    )
    lo, hi = landmarks.min(0), landmarks.max(0)
    return FaceRecord(frame, t, face_id, np.concatenate([lo, hi]), landmarks,
                      analysis if with_analysis else None, success)


def _write(path: Path, records: list[FaceRecord]) -> None:
    with CsvWriter(path) as writer:
        for record in records:
            writer.write(record)


def test_columns_are_openface_names_in_openface_order() -> None:
    assert OPENFACE_COLUMNS[:11] == ["frame", "face_id", "timestamp", "confidence", "success", "pose_Tx", "pose_Ty",
                                     "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz"]
    assert OPENFACE_COLUMNS[11:13] == ["x_0", "x_1"] and OPENFACE_COLUMNS[78:80] == ["x_67", "y_0"]
    assert OPENFACE_COLUMNS[146] == "y_67"
    au_numbers = (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 45)
    assert OPENFACE_COLUMNS[147:] == [f"AU{n:02d}_r" for n in au_numbers]
    assert len(OPENFACE_COLUMNS) == len(set(OPENFACE_COLUMNS)) == 164
    assert list(AU_DESCRIPTIONS) == list(AU_NAMES)


def test_csv_text_follows_openface_2_2_layout(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    _write(path, [_record(0)])
    header, row = path.read_text().splitlines()
    assert header.startswith("frame, face_id, timestamp, confidence, success, pose_Tx, ")
    assert header == ", ".join(OPENFACE_COLUMNS)
    fields = row.split(", ")
    assert fields[:5] == ["1", "0", "0.000", "0.98", "1"]
    assert fields[5:8] == ["12.3", "-5.7", "612.9"]
    assert all(len(v.split(".")[1]) == 3 for v in fields[8:11])  # pose R: 3 decimals
    assert all(len(v.split(".")[1]) == 1 for v in fields[11:147])  # landmarks: 1 decimal
    assert all(len(v.split(".")[1]) == 2 for v in fields[147:])  # AUs: 2 decimals


def test_csv_round_trip_by_column_name(tmp_path: Path) -> None:
    records = [_record(i, face_id=i % 2, center=(88.0 + 40 * (i % 2), 70.0)) for i in range(20)]
    records[7] = _record(7, face_id=1, success=False)
    records[9] = _record(9, face_id=1, with_analysis=False)
    path = tmp_path / "faces.csv"
    _write(path, records)
    cols = read_openface_csv(path)
    assert list(cols) == OPENFACE_COLUMNS
    np.testing.assert_array_equal(cols["frame"], [r.frame + 1 for r in records])
    np.testing.assert_array_equal(cols["face_id"], [r.face_id for r in records])
    np.testing.assert_allclose(cols["timestamp"], [r.timestamp for r in records], atol=5e-4)
    for i, r in enumerate(records):
        xs = np.array([cols[f"x_{k}"][i] for k in range(68)])
        ys = np.array([cols[f"y_{k}"][i] for k in range(68)])
        aus = np.array([cols[f"{n}_r"][i] for n in AU_NAMES])
        pose_r = np.array([cols[n][i] for n in ("pose_Rx", "pose_Ry", "pose_Rz")])
        pose_t = np.array([cols[n][i] for n in ("pose_Tx", "pose_Ty", "pose_Tz")])
        if not r.success:  # OpenFace writes zeros for a frame without a face
            assert cols["success"][i] == 0 and cols["confidence"][i] == 0
            assert not xs.any() and not ys.any() and not aus.any() and not pose_r.any() and not pose_t.any()
            continue
        assert cols["success"][i] == 1
        np.testing.assert_allclose(xs, r.landmarks[:, 0], atol=0.05 + 1e-4)
        np.testing.assert_allclose(ys, r.landmarks[:, 1], atol=0.05 + 1e-4)
        if r.analysis is None:  # landmarks only: confidence from the face fit, no pose or AUs
            assert cols["confidence"][i] > 0.9 and not aus.any() and not pose_r.any()
            continue
        assert cols["confidence"][i] == pytest.approx(0.98)
        np.testing.assert_allclose(aus, np.nan_to_num(r.analysis.aus), atol=0.005 + 1e-6)
        np.testing.assert_allclose(pose_r, r.analysis.pose_r, atol=0.0005 + 1e-6)
        np.testing.assert_allclose(pose_t, r.analysis.pose_t, atol=0.05 + 1e-4)
        assert aus[3] == 0  # not provided -> 0


def test_reads_openface_files_without_spaces_and_with_extra_columns(tmp_path: Path) -> None:
    names = ["frame", "face_id", "timestamp", "confidence", "success", "gaze_0_x", "pose_Rx", "AU12_r", "AU12_c"]
    path = tmp_path / "openface.csv"
    rows = "1,0,0.000,0.98,1,0.1,0.25,2.50,1.00\n2,0,0.033,0.97,1,0.1,0.26,2.70,1.00\n"
    path.write_text(",".join(names) + "\n" + rows)
    cols = read_openface_csv(path)
    assert cols["frame"].tolist() == [1, 2] and cols["frame"].dtype == np.int64
    np.testing.assert_allclose(cols["AU12_r"], [2.5, 2.7])
    np.testing.assert_allclose(cols["pose_Rx"], [0.25, 0.26])


def test_failed_write_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    path.write_text("previous run\n")
    with pytest.raises(RuntimeError):
        with CsvWriter(path) as writer:
            writer.write(_record(0))
            raise RuntimeError("stage failed")
    assert path.read_text() == "previous run\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def _check_png(path: Path) -> np.ndarray:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = cv2.imread(str(path))
    assert image is not None
    h, w = image.shape[:2]
    assert 800 <= w <= 2000 and 600 <= h <= 1500
    assert image.std() > 20  # lines and a heat-map, not a blank canvas
    return image


def test_plot_from_csv_and_from_columns(tmp_path: Path) -> None:
    records = [_record(i) for i in range(90)] + [_record(i, face_id=1, center=(130.0, 70.0)) for i in range(90)]
    records[40] = _record(40, success=False)
    csv_path = tmp_path / "faces.csv"
    _write(csv_path, records)
    png = tmp_path / "plot.png"
    assert plot_time_courses(csv_path, png) == png
    _check_png(png)
    other = tmp_path / "face1.png"
    plot_time_courses(read_openface_csv(csv_path), other, title="speaker 2", face_id=1)
    _check_png(other)
    with pytest.raises(NoFaceError):
        plot_time_courses(csv_path, tmp_path / "none.png", face_id=5)
    assert not (tmp_path / "none.png").exists()


def test_overlay_video_has_one_frame_per_write(tmp_path: Path, carphone_path: Path) -> None:
    with open_video(carphone_path, max_frames=12) as source:
        frames = [frame.image for frame in source]
    out = tmp_path / "overlay.mp4"
    with OverlayWriter(out, fps=FPS) as writer:
        for i, image in enumerate(frames):
            records = [_record(i)] if i % 4 else [_record(i, success=False)]
            writer.write(image, records)
        assert writer.frames_written == len(frames)
    with open_video(out) as video:
        assert sum(1 for _ in video) == len(frames)
        assert video.info.width == 176 and video.info.height == 144


def test_overlay_draws_on_a_copy(carphone_path: Path) -> None:
    with open_video(carphone_path, max_frames=1) as source:
        image = next(iter(source)).image
    before = image.copy()
    record = _record(1)
    drawn = draw_overlay(image, [record])
    np.testing.assert_array_equal(image, before)
    changed = np.abs(drawn.astype(int) - image).sum(2) > 0
    x0, y0, x1, y1 = record.box.astype(int)
    assert changed[y0:y1 + 1, x0:x1 + 1].mean() > 0.05  # contours and dots inside the face
    assert changed.any(1)[y1 + 2:].any()  # the pose/AU text line under the box
    np.testing.assert_array_equal(draw_overlay(image, [_record(1, success=False)]), image)
