"""Video/image I/O on real media: reading, rotation, writing, audio muxing, atomic output and error messages."""

from __future__ import annotations

import os
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from facegan_video.errors import MediaError, OutputError
from facegan_video.video import (
    RandomAccessReader,
    VideoWriter,
    atomic_path,
    is_image_path,
    open_video,
    read_image,
)
from facegan_video.video.ahead import ReadAhead

AUDIO_CLIP = "lia_vox_driving2.mp4"  # 25 fps, mono AAC 16 kHz


def _frames(path: Path, n: int | None = None) -> list[np.ndarray]:
    with open_video(path, max_frames=n) as source:
        return [frame.image for frame in source]


def _probe(path: Path) -> tuple[tuple[int, Fraction, int, int], list[tuple[str, float]]]:
    """Frame count, rate and audio streams as PyAV sees them, independent of our reader."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        count = sum(1 for _ in container.decode(video))
        audio = [(s.codec_context.name, float(s.duration * s.time_base)) for s in container.streams.audio]
        return (count, video.average_rate, video.width, video.height), audio


def _make_rotated(path: Path, degrees: int) -> np.ndarray:
    """A 64x32 clip whose display matrix says: turn `degrees` clockwise. Returns the stored (unrotated) image."""
    image = np.zeros((32, 64, 3), np.uint8)
    image[:4, :4] = 255  # marker in the stored top-left corner
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        stream.set_display_rotation(-degrees)  # PyAV takes counter-clockwise degrees
        for _ in range(3):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
    return image


def _make_wav(path: Path, seconds: float, rate: int = 22050) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=rate, layout="stereo")
        samples = (np.random.default_rng(0).standard_normal((1, int(seconds * rate) * 2)) * 3000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="stereo")
        frame.rate, frame.pts = rate, 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


# --- reading -----------------------------------------------------------------------------------


def test_carphone_info_and_frames(carphone_path: Path) -> None:
    with open_video(carphone_path) as source:
        info = source.info
        frames = list(source)
    assert (info.width, info.height) == (176, 144)
    assert info.fps == pytest.approx(29.97, abs=0.01)
    assert not info.is_image and info.rotation == 0 and not info.has_audio
    assert info.frame_count == len(frames) == 120
    assert info.duration == pytest.approx(4.0, abs=0.05)
    assert [f.index for f in frames] == list(range(120))
    stamps = np.array([f.timestamp for f in frames])
    assert stamps[0] == 0.0 and np.all(np.diff(stamps) > 0)
    image = frames[0].image
    assert image.shape == (144, 176, 3) and image.dtype == np.uint8 and image.flags.c_contiguous


def test_image_is_one_frame_source(astronaut_png: Path) -> None:
    from skimage import data

    assert is_image_path(astronaut_png) and is_image_path("x.JPEG") and not is_image_path("x.mp4")
    with open_video(astronaut_png) as source:
        frames = list(source)
    info = source.info
    assert info.is_image and info.frame_count == 1 and (info.width, info.height) == (512, 512)
    assert len(frames) == 1 and frames[0].timestamp == 0.0
    np.testing.assert_array_equal(frames[0].image, data.astronaut())
    np.testing.assert_array_equal(read_image(astronaut_png), data.astronaut())


def test_batches_are_bounded_and_max_frames_stops(carphone_path: Path) -> None:
    with open_video(carphone_path) as source:
        sizes = [len(batch) for batch in source.batches(32)]
    assert sizes == [32, 32, 32, 24]
    with open_video(carphone_path, max_frames=10) as source:
        assert len(list(source)) == 10  # stopping early is not "truncated"


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_rotation_metadata_is_applied(tmp_path: Path, degrees: int) -> None:
    path = tmp_path / f"rot{degrees}.mp4"
    stored = _make_rotated(path, degrees)
    expected = np.rot90(stored, k=-degrees // 90)  # clockwise
    with open_video(path) as source:
        info, image = source.info, next(iter(source)).image
    assert info.rotation == degrees
    assert (info.height, info.width) == image.shape[:2] == expected.shape[:2]
    assert image.flags.c_contiguous
    assert np.abs(image.astype(int) - expected).mean() < 3
    for backend in ("auto", "pyav"):
        with RandomAccessReader(path, backend=backend) as reader:
            assert np.abs(reader.get([1])[0].astype(int) - expected).mean() < 3


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_random_access_matches_sequential(carphone_path: Path, backend: str) -> None:
    if backend == "decord":
        pytest.importorskip("decord")
    sequential = _frames(carphone_path)
    indices = [5, 100, 3, 3, 119, 0, 60, 61]
    with RandomAccessReader(carphone_path, backend=backend) as reader:
        assert len(reader) == 120 and reader.fps == pytest.approx(29.97, abs=0.01)
        batch = reader.get(indices)
        with pytest.raises(IndexError):
            reader.get([120])
    assert batch.shape == (len(indices), 144, 176, 3) and batch.dtype == np.uint8
    for got, i in zip(batch, indices):
        assert np.abs(got.astype(int) - sequential[i]).mean() < 2


# --- writing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fps", [25.0, 29.97, 30000 / 1001])
def test_writer_round_trip_keeps_count_and_fps(tmp_path: Path, carphone_path: Path, fps: float) -> None:
    frames = _frames(carphone_path, 30)
    out = tmp_path / "out.mp4"
    with VideoWriter(out, fps) as writer:
        writer.write_batch(frames)
    assert writer.frames_written == 30
    (count, rate, width, height), audio = _probe(out)
    assert count == 30 and (width, height) == (176, 144) and audio == []
    assert float(rate) == pytest.approx(fps, abs=1e-4)
    with open_video(out) as source:
        back = list(source)
    assert source.info.frame_count == 30 and source.info.fps == pytest.approx(fps, abs=1e-4)
    assert back[-1].timestamp == pytest.approx(29 / fps, abs=1e-3)
    assert np.abs(back[10].image.astype(int) - frames[10]).mean() < 5
    assert sorted(os.listdir(tmp_path)) == ["out.mp4"]


def test_writer_pads_odd_size_by_replicating_edges(tmp_path: Path) -> None:
    image = np.zeros((33, 47, 3), np.uint8)
    image[:, -1] = 200  # last column bright: the padded column must copy it
    image[-1, :] = 100
    out = tmp_path / "odd.mp4"
    with VideoWriter(out, 25) as writer:
        for _ in range(3):
            writer.write(image)
    back = _frames(out)
    assert len(back) == 3 and back[0].shape == (34, 48, 3)
    assert abs(int(back[0][5, 47, 0]) - 200) < 10 and abs(int(back[0][33, 20, 0]) - 100) < 10


def test_writer_rejects_bad_frames_and_empty_close(tmp_path: Path) -> None:
    out = tmp_path / "bad.mp4"
    writer = VideoWriter(out, 25)
    with pytest.raises(ValueError, match="uint8"):
        writer.write(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(OutputError, match="no frames"):
        writer.close()
    with pytest.raises(ValueError, match="but the video is"), VideoWriter(out, 25) as writer:
        writer.write(np.zeros((8, 8, 3), np.uint8))
        writer.write(np.zeros((8, 10, 3), np.uint8))
    assert os.listdir(tmp_path) == []


def test_writer_muxes_audio_from_driving_clip(tmp_path: Path, shared_clips: Path) -> None:
    clip = shared_clips / AUDIO_CLIP
    out = tmp_path / "with_audio.mp4"
    with open_video(clip, max_frames=40) as source, VideoWriter(out, source.info.fps, audio_from=clip) as writer:
        assert source.info.has_audio
        for frame in source:
            writer.write(frame.image)
    (count, rate, _, _), audio = _probe(out)
    assert count == 40 and float(rate) == 25
    assert len(audio) == 1 and audio[0][0] == "aac"  # copied, not re-encoded
    assert audio[0][1] == pytest.approx(40 / 25, abs=0.1)
    with open_video(out) as source:
        assert source.info.has_audio


def test_writer_transcodes_wav_and_ignores_silent_source(tmp_path: Path, carphone_path: Path) -> None:
    wav = tmp_path / "tone.wav"
    _make_wav(wav, seconds=3.0)
    frames = _frames(carphone_path, 25)
    for source, expected in [(wav, ["aac"]), (carphone_path, [])]:
        out = tmp_path / "out.mp4"
        with VideoWriter(out, 25, audio_from=source, audio_offset=0.5) as writer:
            writer.write_batch(frames)
        _, audio = _probe(out)
        assert [name for name, _ in audio] == expected
        if audio:
            assert audio[0][1] == pytest.approx(1.0, abs=0.15)


# --- atomic output -----------------------------------------------------------------------------


def test_failed_write_leaves_existing_destination_untouched(tmp_path: Path, carphone_path: Path) -> None:
    out = tmp_path / "result.mp4"
    out.write_bytes(b"previous good result")
    with pytest.raises(RuntimeError, match="boom"), VideoWriter(out, 25) as writer:
        writer.write_batch(_frames(carphone_path, 5))
        raise RuntimeError("boom")
    assert out.read_bytes() == b"previous good result"
    assert os.listdir(tmp_path) == ["result.mp4"]


def test_atomic_path_commits_or_cleans_up(tmp_path: Path) -> None:
    dest = tmp_path / "data.txt"
    with atomic_path(dest) as temp:
        assert temp.parent == tmp_path and temp != dest and temp.suffix == ".txt"
        temp.write_text("new")
    assert dest.read_text() == "new"
    with pytest.raises(KeyError), atomic_path(dest) as temp:
        temp.write_text("half")
        raise KeyError("stop")
    assert dest.read_text() == "new" and os.listdir(tmp_path) == ["data.txt"]


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("missing", "no such file"),
        ("directory", "is a directory"),
        ("empty", "is empty"),
        ("random", "cannot read"),
        ("audio_only", "no video stream"),
    ],
)
def test_unreadable_inputs_raise_media_error(tmp_path: Path, kind: str, expected: str) -> None:
    path = tmp_path / f"{kind}.mp4"
    if kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.touch()
    elif kind == "random":
        path.write_bytes(np.random.default_rng(1).bytes(20_000))
    elif kind == "audio_only":
        path = tmp_path / "audio_only.wav"
        _make_wav(path, seconds=0.2)
    with pytest.raises(MediaError, match=expected) as err:
        with open_video(path) as source:
            list(source)
    message = str(err.value)
    assert str(path) in message and "\n" not in message


def test_corrupt_image_raises_media_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(MediaError, match="cannot read") as err:
        read_image(path)
    assert str(path) in str(err.value)


def _truncated_copy(src: Path, dest: Path) -> Path:
    data = src.read_bytes()
    dest.write_bytes(data[: len(data) // 2])
    return dest


def test_truncated_mp4_raises_media_error(tmp_path: Path, carphone_path: Path) -> None:
    # carphone keeps its index (moov) at the end: cutting it makes the file unopenable.
    cut = _truncated_copy(carphone_path, tmp_path / "cut.mp4")
    with pytest.raises(MediaError) as err:
        with open_video(cut) as source:
            list(source)
    assert str(cut) in str(err.value)
    # Our writer puts the index first (faststart): the file opens, and the shortfall shows at the end.
    whole = tmp_path / "whole.mp4"
    with VideoWriter(whole, 25) as writer:
        writer.write_batch(_frames(carphone_path))
    cut = _truncated_copy(whole, tmp_path / "cut_faststart.mp4")
    with open_video(cut) as source:
        assert source.info.frame_count == 120
        with pytest.raises(MediaError, match="truncated") as err:
            for _ in source:
                pass
    assert str(cut) in str(err.value)


def test_unwritable_outputs_raise_output_error(tmp_path: Path) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    for bad in [tmp_path / "missing" / "out.mp4", a_file / "out.mp4", tmp_path]:
        with pytest.raises(OutputError) as err:
            VideoWriter(bad, 25)
        assert str(bad) in str(err.value) and "\n" not in str(err.value)


def test_unwritable_directory_raises_output_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    target = locked / "out.mp4"
    if os.access(locked, os.W_OK):  # root ignores permission bits, but sysfs refuses new files even to root
        if not Path("/sys/kernel").is_dir():
            pytest.skip("running as root without /sys: no directory is unwritable")
        target = Path("/sys/facegan-test-out.mp4")
    try:
        with pytest.raises(OutputError, match="not writable") as err:
            VideoWriter(target, 25)
        assert str(target) in str(err.value)
    finally:
        locked.chmod(0o755)


def test_frames_decoded_ahead_equal_a_plain_decode_in_order(carphone_path: Path) -> None:
    with av.open(str(carphone_path)) as container:
        plain = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    with open_video(carphone_path) as source:
        got = [f for f in source]
    assert [f.index for f in got] == list(range(len(plain)))
    for frame, want in zip(got, plain):
        np.testing.assert_array_equal(frame.image, want)


def test_read_ahead_hands_over_the_failure_where_it_happened() -> None:
    def items():
        yield from range(5)
        raise MediaError("damaged after five frames")

    ahead = ReadAhead(items(), depth=2)
    assert [next(ahead) for _ in range(5)] == list(range(5))
    with pytest.raises(MediaError, match="after five"):
        next(ahead)
    with pytest.raises(StopIteration):
        next(ahead)
    ahead.close()


def test_closing_a_read_ahead_stops_its_thread_at_the_depth_bound() -> None:
    made = []

    def endless():
        while True:
            made.append(len(made))
            yield made[-1]

    ahead = ReadAhead(endless(), depth=3)
    assert next(ahead) == 0
    deadline = time.monotonic() + 5
    while len(made) < 5 and time.monotonic() < deadline:  # 1 taken + 3 queued + 1 waiting to be queued
        time.sleep(0.01)
    time.sleep(0.2)
    assert len(made) == 5
    ahead.close()
    assert not ahead._thread.is_alive()
    with pytest.raises(StopIteration):
        next(ahead)
