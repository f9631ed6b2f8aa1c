"""Real-world inputs (issue 13): faceless footage, damaged videos, large portraits, model loading, and
OpenFace-format CSVs as driving motion. Speed is measured in benchmarks/bench_inputs.py, not here."""

from __future__ import annotations

import platform
import time
from pathlib import Path

import av
import cv2
import dlib
import numpy as np
import pytest
from clihelp import assert_clean_error, cli

from facegan_video import assets, sample_media
from facegan_video.analysis.detect import HogDetector
from facegan_video.analysis.track import IouTracker
from facegan_video.config import AnalysisConfig
from facegan_video.errors import MediaError
from facegan_video.extract import extract
from facegan_video.memory import reuse_large_buffers
from facegan_video.motion_csv import MotionCsv
from facegan_video.observe import Observer
from facegan_video.openface_csv import parse_openface_csv, read_openface_csv
from facegan_video.reenactment import Renderer, SourceAnalyzer
from facegan_video.types import Detection
from facegan_video.video import open_video, read_image


class Calls(Observer):
    """How many times each stage ran, and on how many items."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.items: dict[str, int] = {}

    def on_stage(self, stage: str, seconds: float, items: int) -> None:
        self.calls[stage] = self.calls.get(stage, 0) + 1
        self.items[stage] = self.items.get(stage, 0) + items


@pytest.fixture(scope="module")
def faceless(tmp_path_factory) -> Path:
    return sample_media.faceless_clip(tmp_path_factory.mktemp("faceless"), frames=150, size=512)


@pytest.fixture(scope="module")
def carphone_csv(tmp_path_factory, carphone_path) -> Path:
    out = tmp_path_factory.mktemp("csv") / "carphone.csv"
    assert cli("extract", carphone_path, "-o", out, "-q").returncode == 0
    return out


def _mouth_gap(columns: dict[str, np.ndarray]) -> np.ndarray:
    return (columns["y_66"] + columns["y_67"] + columns["y_65"]) - (columns["y_62"] + columns["y_61"] + columns["y_63"])


# ----------------------------------------------------------------------------- faceless frames


def test_faceless_clip_gives_a_failed_row_per_frame_and_a_warning(faceless, tmp_path):
    out = tmp_path / "faceless.csv"
    proc = cli("extract", faceless, "-o", out)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning")]
    assert len(warnings) == 1 and "no face" in warnings[0], proc.stderr
    cols = read_openface_csv(out)
    assert len(cols["frame"]) == 150 and (cols["success"] == 0).all()
    assert cols["frame"].tolist() == list(range(1, 151))


def test_detection_backs_off_on_faceless_frames(faceless, tmp_path):
    """Detection runs on a few faceless frames, not all 150; the shape predictor is never needed."""
    calls = Calls()
    summary = extract(faceless, tmp_path / "f.csv", quiet=True, observers=[calls])
    assert summary.frames == summary.rows == 150 and summary.frames_with_face == 0 and summary.warnings
    assert calls.items["detect"] <= 20, calls.items
    assert "landmarks" not in calls.calls


def test_tracker_backoff_grows_to_detect_every_and_resets_when_a_face_appears():
    tracker = IouTracker(detect_every=10)
    asked = []
    for i in range(60):
        if tracker.needs_detection(i):
            asked.append(i)
            tracker.update(i, [])
        else:
            tracker.update(i, None)
    assert asked == [0, 2, 6, 14, 24, 34, 44, 54]
    every = IouTracker(detect_every=10, backoff=1.0)
    for i in range(20):
        assert every.needs_detection(i)
        every.update(i, [])
    # a face turns up: tracked, and re-detected every detect_every frames again
    landmarks = np.stack(np.meshgrid(np.linspace(20, 80, 17), np.linspace(20, 80, 4)), -1).reshape(68, 2)
    (track_id, _), = tracker.update(60, [Detection(np.array([10, 10, 90, 90], np.float32), 1.0)])
    tracker.observe(track_id, landmarks.astype(np.float32), 1.0)
    assert next(i for i in range(61, 100) if tracker.needs_detection(i)) == 70


def test_upsampling_is_bounded_by_the_working_size(carphone_path):
    """carphone's 176x144 face needs upsampling; with the bound at the frame's own size none is done."""
    with open_video(carphone_path, max_frames=1) as src:
        frame = next(iter(src)).image
    assert HogDetector().detect([frame])[0]
    assert not HogDetector(max_upsampled=176).detect([frame])[0]


def test_saved_hog_detector_is_dlibs_own(astronaut_png, carphone_path):
    ours, dlibs = assets.hog_detector(), dlib.get_frontal_face_detector()
    with open_video(carphone_path, max_frames=1) as src:
        small = cv2.resize(next(iter(src)).image, None, fx=4, fy=4)
    for image in (read_image(astronaut_png), small):
        a, b = ours.run(image, 0, -0.5), dlibs.run(image, 0, -0.5)
        assert [str(r) for r in a[0]] == [str(r) for r in b[0]] and a[1] == b[1] and a[2] == b[2]


def test_models_are_loaded_once_and_shared():
    assert HogDetector()._detector is HogDetector()._detector
    assert assets.shape_predictor(assets.SHAPE_68) is assets.shape_predictor(assets.SHAPE_68)


# ----------------------------------------------------------------------------- damaged videos


def _faststart(src: Path, dest: Path) -> bytes:
    """A copy of ``src`` with its index first, so a cut-off or spliced copy still opens."""
    with av.open(str(src)) as inp, av.open(str(dest), "w", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    return dest.read_bytes()


def damaged_videos(clips: Path, folder: Path) -> list[Path]:
    """60 damaged copies of lp_d0.mp4: 15 each of byte flips, truncations, zeroed ranges and spliced
    halves (half of the last two kinds from a copy with its index first, so they still open)."""
    rng = np.random.default_rng(13)
    plain = (clips / "lp_d0.mp4").read_bytes()
    first = _faststart(clips / "lp_d0.mp4", folder / "lp_d0_faststart.mp4")
    other = _faststart(clips / "lp_d3.mp4", folder / "lp_d3_faststart.mp4")
    made: dict[str, bytes] = {}
    for i in range(15):
        data = bytearray(plain if i % 2 else first)
        for at in rng.integers(0, len(data), size=int(rng.integers(1, 200))):
            data[at] ^= int(rng.integers(1, 256))
        made[f"flip{i}"] = bytes(data)
        base = first if i % 2 else plain
        made[f"cut{i}"] = base[:int(len(base) * (0.03 + 0.065 * i))]
        data = bytearray(base)
        size = int(rng.integers(256, 1 << 16))
        at = int(rng.integers(0, len(data) - size))
        data[at:at + size] = bytes(size)
        made[f"zero{i}"] = bytes(data)
        part = 0.1 + 0.055 * i
        made[f"splice{i}"] = base[:int(part * len(base))] + other[int(part * len(other)):]
    paths = []
    for name, data in made.items():
        path = folder / f"{name}.mp4"
        path.write_bytes(data)
        paths.append(path)
    return paths


def test_damaged_packets_lose_only_their_frames_with_a_warning(shared_clips, tmp_path):
    """Two packets whose starts are zeroed: the decoder rejects them, the other 76 frames are used."""
    clip = shared_clips / "lp_d0.mp4"
    with av.open(str(clip)) as container:
        packets = [p.pos for p in container.demux(container.streams.video[0]) if p.size]
    data = bytearray(clip.read_bytes())
    for k in (30, 50):
        data[packets[k]:packets[k] + 16] = bytes(16)
    path = tmp_path / "zeroed.mp4"
    path.write_bytes(bytes(data))
    with open_video(path) as src:
        frames = sum(1 for _ in src)
        assert src.info.frame_count == 78 and frames == 76
        assert src.warning and "2 of its 78 frames" in src.warning and str(path) in src.warning
    out = tmp_path / "zeroed.csv"
    proc = cli("extract", path, "-o", out)
    assert proc.returncode == 0 and "damaged" in proc.stderr, proc.stderr
    assert len(read_openface_csv(out)["frame"]) == frames


@pytest.mark.slow
def test_sixty_damaged_videos_finish_cleanly(shared_clips, tmp_path):
    """Byte flips, truncations, zeroed ranges and spliced halves of lp_d0.mp4 through extract: each run
    finishes within 30 s, none crashes, and a failed one leaves nothing behind."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    videos = damaged_videos(shared_clips, inputs)
    assert len(videos) == 60
    outcomes = {"ok": 0, "warned": 0, "refused": 0}
    for video in videos:
        out_dir = tmp_path / video.stem
        out_dir.mkdir()
        out = out_dir / "out.csv"
        start = time.perf_counter()
        proc = cli("extract", video, "-o", out, "--overlay", out_dir / "out.mp4", timeout=60)
        took = time.perf_counter() - start
        assert took < 30, f"{video.name} took {took:.1f} s"
        assert "Traceback" not in proc.stderr, f"{video.name}: {proc.stderr}"
        if proc.returncode == 0:
            assert len(read_openface_csv(out)["frame"]) > 0
            assert sorted(p.name for p in out_dir.iterdir()) == ["out.csv", "out.mp4"]
            outcomes["warned" if "warning" in proc.stderr else "ok"] += 1
        else:
            assert_clean_error(proc, video.name)
            assert list(out_dir.iterdir()) == [], f"{video.name} left {list(out_dir.iterdir())}"
            outcomes["refused"] += 1
    assert min(outcomes.values()) > 0, outcomes


# ----------------------------------------------------------------------------- large portraits


def _laplacian_variance(image: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


def test_large_portrait_keeps_its_sharpness(shared_clips):
    """The face region of a 2048x2048 reenactment is as sharp as with the warp map at full resolution
    (variance of the Laplacian within 10 %), and the mouth still opens."""
    image = read_image(shared_clips.parent / "portraits" / "lp_s2.jpg")
    assert image.shape[:2] == (2048, 2048)
    config = AnalysisConfig()
    face = SourceAnalyzer(config, "auto")(image, "lp_s2")
    motion = np.repeat(face.motion[None], 3, 0)
    motion[:, 15] += [0.0, 1.5, 3.0]  # AU26 jaw drop
    motion[:, 18] += 0.1  # a little yaw
    full = AnalysisConfig()
    full.set_option("reenact.work_size=4096")
    lo, hi = face.landmarks.min(0).astype(int), face.landmarks.max(0).astype(int)
    region = np.s_[:, lo[1]:hi[1], lo[0]:hi[0]]
    ours = Renderer(config).render(image, face, motion)[region]
    reference = Renderer(full).render(image, face, motion)[region]
    for a, b in zip(ours, reference):
        assert abs(_laplacian_variance(a) - _laplacian_variance(b)) <= 0.1 * _laplacian_variance(b)
        assert np.abs(a.astype(int) - b).mean() < 2
    assert np.abs(ours[2].astype(int) - ours[0]).mean() > 1  # the face moved


def test_frame_buffers_are_kept_for_reuse_where_glibc_allows():
    assert reuse_large_buffers() is (platform.libc_ver()[0] == "glibc")


def test_max_size_writes_a_smaller_output(astronaut_png, carphone_path, tmp_path):
    out = tmp_path / "small.mp4"
    proc = cli("reenact", astronaut_png, carphone_path, "-o", out, "--max-size", 256, "--max-frames", 5, "-q")
    assert proc.returncode == 0, proc.stderr
    with open_video(out) as video:
        assert (video.info.width, video.info.height) == (256, 256) and video.info.frame_count == 5
    still = tmp_path / "small.png"
    assert cli("edit", astronaut_png, "--au", "AU12=+2", "--max-size", 200, "-o", still, "-q").returncode == 0
    assert read_image(still).shape == (200, 200, 3)
    assert_clean_error(cli("edit", astronaut_png, "--au", "AU12=+2", "--max-size", 4, "-o", still), "--max-size")


# ----------------------------------------------------------------------------- motion CSVs


def test_extracted_csv_drives_reenact_and_follows_the_mouth(carphone_csv, astronaut_png, tmp_path):
    out = tmp_path / "astronaut_carphone.mp4"
    proc = cli("reenact", astronaut_png, carphone_csv, "-o", out, "-q")
    assert proc.returncode == 0, proc.stderr
    with open_video(out) as video:
        assert video.info.frame_count == 120 and not video.info.has_audio
        assert video.info.fps == pytest.approx(29.97, abs=0.01)  # from the CSV's timestamps
    back = tmp_path / "back.csv"
    assert cli("extract", out, "-o", back, "-q").returncode == 0
    driving, reenacted = read_openface_csv(carphone_csv), read_openface_csv(back)
    assert len(reenacted["frame"]) == 120
    assert np.corrcoef(_mouth_gap(driving), _mouth_gap(reenacted))[0, 1] >= 0.6


def _variant(text: str, variant: str) -> str:
    """The same CSV under another OpenFace header variant."""
    rows = [[f.strip() for f in line.split(",")] for line in text.splitlines() if line.strip()]
    if variant == "2.2":
        return text
    if variant == "nospace":  # what pandas' to_csv and spreadsheets write
        return "\n".join(",".join(r) for r in rows) + "\n"
    header = rows[0]
    fid = header.index("face_id")
    out = []
    for k, r in enumerate(rows):  # OpenFace 2.0: no face_id; gaze and AU presence columns
        r = r[:fid] + r[fid + 1:]
        out.append(r[:4] + (["gaze_0_x", "gaze_0_y"] if k == 0 else ["0.1", "-0.2"]) + r[4:]
                   + (["AU01_c", "AU45_c"] if k == 0 else ["1", "0"]))
    return "\n".join(", ".join(r) for r in out) + "\n"


@pytest.mark.parametrize("variant", ["2.0", "2.2", "nospace"])
def test_every_openface_header_variant_drives_reenact(carphone_csv, astronaut_png, tmp_path, variant):
    head = "\n".join(carphone_csv.read_text().splitlines()[:13]) + "\n"  # header and 12 frames
    path = tmp_path / f"{variant}.csv"
    path.write_text(_variant(head, variant))
    rows = parse_openface_csv(path)
    assert [r.frame for r in rows] == list(range(1, 13)) and {r.face_id for r in rows} == {0}
    np.testing.assert_allclose([r.motion for r in rows], [r.motion for r in parse_openface_csv(carphone_csv)[:12]])
    out = tmp_path / f"{variant}.mp4"
    proc = cli("reenact", astronaut_png, path, "-o", out, "-q")
    assert proc.returncode == 0, proc.stderr
    with open_video(out) as video:
        assert video.info.frame_count == 12


def _edited(csv_path: Path, dest: Path, edit) -> Path:
    """``csv_path`` with ``edit(names, rows)`` applied to its rows (lists of strings)."""
    lines = csv_path.read_text().splitlines()
    names = [n.strip() for n in lines[0].split(",")]
    rows = [[f.strip() for f in line.split(",")] for line in lines[1:]]
    rows = edit(names, rows)
    dest.write_text("\n".join(", ".join(r) for r in [names, *rows]) + "\n")
    return dest


def test_failed_rows_hold_the_previous_motion(carphone_csv, astronaut_png, tmp_path):
    def fail_some(names, rows):
        for row in rows[10:20]:
            row[names.index("success")] = "0"
        return rows[:30]

    path = _edited(carphone_csv, tmp_path / "gaps.csv", fail_some)
    motion = MotionCsv(path)
    assert len(motion.records) == 30 and [i for i, r in enumerate(motion.records) if r is None] == list(range(10, 20))
    out = tmp_path / "gaps.mp4"
    assert cli("reenact", astronaut_png, path, "-o", out, "-q").returncode == 0
    with open_video(out) as video:
        frames = [f.image.astype(np.int16) for f in video]
    face = (np.abs(np.stack(frames) - frames[0]).max(axis=(0, 3)) > 12)  # pixels the motion moves
    held = [np.abs(frames[i] - frames[9])[face].mean() for i in range(10, 20)]  # encoding noise only
    moving = [np.abs(frames[i] - frames[9])[face].mean() for i in range(21, 30)]
    assert len(frames) == 30 and face.sum() > 500 and min(moving) > 4 * max(held)


def test_fps_and_face_choice(carphone_csv, astronaut_png, tmp_path):
    def two_faces(names, rows):
        second = []
        for row in rows[:20]:
            other = list(row)
            other[names.index("face_id")] = "3"
            for name in names:
                if name.startswith("x_"):
                    other[names.index(name)] = f"{0.8 * float(other[names.index(name)]) + 60:.1f}"
            second.append(other)
        return [r for pair in zip(rows[:20], second) for r in pair]

    path = _edited(carphone_csv, tmp_path / "two.csv", two_faces)
    assert MotionCsv(path).face_id == 0 and MotionCsv(path, "index:1").face_id == 3
    picked = MotionCsv(path, "id:3", fps=12.5)
    assert picked.face_id == 3 and len(picked.records) == 20 and picked.fps == 12.5
    out = tmp_path / "id3.mp4"
    proc = cli("reenact", astronaut_png, path, "-o", out, "--driving-face", "id:3", "--fps", 12.5, "-q")
    assert proc.returncode == 0, proc.stderr
    with open_video(out) as video:
        assert video.info.frame_count == 20 and video.info.fps == pytest.approx(12.5)
    assert_clean_error(cli("reenact", astronaut_png, path, "-o", out, "--driving-face", "id:7"), "id:7", "0, 3")


def test_motion_csv_errors_are_one_line(carphone_csv, carphone_path, astronaut_png, tmp_path):
    out = tmp_path / "o.mp4"
    failed = _edited(carphone_csv, tmp_path / "failed.csv",
                     lambda names, rows: [r[:names.index("success")] + ["0"] + r[names.index("success") + 1:]
                                          for r in rows[:5]])
    assert_clean_error(cli("reenact", astronaut_png, failed, "-o", out), "no face", "failed.csv")
    no_motion = tmp_path / "no_motion.csv"
    no_motion.write_text("frame, face_id, timestamp, confidence, success\n1, 0, 0.0, 0.9, 1\n2, 0, 0.04, 0.9, 1\n")
    assert_clean_error(cli("reenact", astronaut_png, no_motion, "-o", out), "no AU or head-pose")
    garbage = tmp_path / "garbage.csv"
    garbage.write_text("frame, success\n1, yes\n")
    assert_clean_error(cli("reenact", astronaut_png, garbage, "-o", out), "garbage.csv", "non-number")
    assert_clean_error(cli("reenact", astronaut_png, carphone_path, "-o", out, "--fps", 10), "--fps")
    assert_clean_error(cli("reenact", astronaut_png, tmp_path / "missing.csv", "-o", out), "missing.csv")
    no_landmarks = _edited(carphone_csv, tmp_path / "no_landmarks.csv", lambda names, rows: _drop(
        names, rows[:5], lambda n: n[:2] in ("x_", "y_")))
    assert_clean_error(cli("reenact", astronaut_png, no_landmarks, "-o", out, "--transform", "direct"),
                       "driving landmarks", "no_landmarks.csv")
    assert not out.exists()


def _drop(names: list[str], rows: list[list[str]], dropped) -> list[list[str]]:
    """Rows without the columns whose names ``dropped`` picks (``names`` is updated too)."""
    keep = [i for i, n in enumerate(names) if not dropped(n)]
    names[:] = [names[i] for i in keep]
    return [[r[i] for i in keep] for r in rows]


def test_pose_only_csv_keeps_the_source_expression(carphone_csv, astronaut_png, tmp_path):
    """A CSV without AU columns drives only the head; the AUs stay the source's."""
    path = _edited(carphone_csv, tmp_path / "pose.csv", lambda names, rows: _drop(
        names, rows[:10], lambda n: n.endswith("_r")))
    assert np.isnan(MotionCsv(path).records[0].analysis.aus).all()
    out = tmp_path / "pose.mp4"
    proc = cli("reenact", astronaut_png, path, "-o", out, "-q")
    assert proc.returncode == 0, proc.stderr


def test_openface_plugin_reads_with_the_core_parser(tmp_path):
    runner = pytest.importorskip("facegan_video_openface.runner")
    assert runner.parse_openface_csv is parse_openface_csv
    blank = tmp_path / "blank.csv"
    blank.write_text("\n\n")
    with pytest.raises(MediaError, match="empty"):
        parse_openface_csv(blank)
