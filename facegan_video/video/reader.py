"""Reading videos and still images as upright RGB frames, streamed so memory does not grow with length."""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Literal

import av
import cv2
import numpy as np

from facegan_video.errors import MediaError
from facegan_video.video.ahead import ReadAhead
from facegan_video.video.formats import IMAGE_EXTENSIONS

#: Nominal rate reported for stills, so code that converts frames to seconds needs no special case.
IMAGE_FPS = 25.0
#: Decoding forward is cheaper than seeking when the next wanted frame is this close.
_SEEK_GAP = 32
#: Decoded frames a video holds ahead of its reader (``ahead.ReadAhead``): at most 16, at most this many bytes.
_AHEAD_FRAMES, _AHEAD_BYTES = 16, 64 * 2**20


@dataclass(frozen=True)
class VideoInfo:
    path: str
    width: int  # after applying rotation metadata
    height: int
    fps: float  # average frame rate (images: 25.0 nominal)
    frame_count: int | None  # from the header when known (images: 1)
    duration: float | None  # seconds
    rotation: int  # clockwise degrees applied to decoded frames to display them upright (0/90/180/270)
    has_audio: bool
    is_image: bool


@dataclass
class Frame:
    index: int  # 0-based decode order index
    timestamp: float  # seconds from the stream start, from the pts (fallback index/fps)
    image: np.ndarray  # HxWx3 uint8 RGB, C-contiguous, upright


def is_image_path(path: str | os.PathLike) -> bool:
    """Stills are told apart by extension: decoding to find out would cost a full open."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def _check_file(path: str | os.PathLike) -> Path:
    """Turn the common path mistakes into specific messages before a decoder gives a vague one."""
    p = Path(path).expanduser()
    if not p.exists():
        raise MediaError(f"no such file: {p}; check the path and try again")
    if p.is_dir():
        raise MediaError(f"{p} is a directory, not a video or image; pass a file inside it")
    if p.stat().st_size == 0:
        raise MediaError(f"{p} is empty (0 bytes); copy or export the file again")
    return p


def _reason(exc: Exception) -> str:
    """FFmpeg's message without the path and call name PyAV appends."""
    return str(getattr(exc, "strerror", None) or exc).rstrip(".")


def _open_input(p: Path, what: str, hint: str) -> av.container.InputContainer:
    """``p`` opened by FFmpeg; one it cannot read is a ``MediaError`` saying what it was read as and ``hint``."""
    try:
        return av.open(str(p))
    except av.FFmpegError as exc:
        raise MediaError(f"cannot read {p} as {what}: {_reason(exc)}; {hint}") from None


def read_image(path: str | os.PathLike) -> np.ndarray:
    """RGB uint8 of a still image; cv2.imread applies the EXIF orientation, so the result is upright."""
    p = _check_file(path)
    bgr = cv2.imread(str(p), cv2.IMREAD_COLOR)
    if bgr is None:
        raise MediaError(f"cannot read {p} as video or image: not a decodable image; check the file is not corrupt")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """Rotate clockwise by `rotation` degrees (np.rot90 turns counter-clockwise, hence the minus)."""
    if rotation:
        image = np.rot90(image, k=-(rotation // 90))
    return np.ascontiguousarray(image)


def _rotation_of(frame: av.VideoFrame) -> int:
    """Clockwise display rotation from the frame's display matrix (PyAV reports it counter-clockwise)."""
    return (-round(frame.rotation / 90) * 90) % 360


class _Losses:
    """What decoding a damaged file lost: packets the decoder rejected, frames of another size, and
    at the end the warning that counts them."""

    def __init__(self) -> None:
        self.rejected = 0
        self.resized = 0
        self.reason: str | None = None
        self.warning: str | None = None

    def note(self, exc: Exception) -> None:
        self.reason = self.reason or _reason(exc)


def _frames_of(container: av.container.InputContainer, stream: av.VideoStream, losses: _Losses
               ) -> Iterator[av.VideoFrame]:
    """Decoded frames, packet by packet: a packet the decoder rejects is counted and skipped, so a
    damaged stretch loses its own frames rather than the rest of the file. The loop is bounded by
    the file: the demuxer reads each byte once and ends at its end or at its first error."""
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.FFmpegError as exc:
            losses.note(exc)
            return
        try:
            decoded = packet.decode()
        except av.FFmpegError as exc:
            losses.note(exc)
            losses.rejected += 1
            continue
        yield from decoded


def _decode(info: VideoInfo, stream: av.VideoStream, first: av.VideoFrame, rest: Iterator[av.VideoFrame],
            losses: _Losses, max_frames: int | None) -> Iterator[Frame]:
    """Convert frames one at a time; at the end, a file that lost most of its frames is a MediaError and
    one that lost a few gets a warning."""
    start = stream.start_time or 0
    size = (first.width, first.height)
    count = 0
    for av_frame in chain([first], rest):
        if (av_frame.width, av_frame.height) != size:  # a damaged header mid-stream; the output keeps one size
            losses.resized += 1
            continue
        image = _upright(av_frame.to_ndarray(format="rgb24"), info.rotation)
        if av_frame.pts is None:
            timestamp = count / info.fps
        else:
            timestamp = float((av_frame.pts - start) * stream.time_base)
        yield Frame(count, timestamp, image)
        count += 1
        if count == max_frames:
            return
    expected = info.frame_count
    reason = f" ({losses.reason})" if losses.reason else ""
    if expected and count < 0.9 * expected and expected - count >= 2:
        raise MediaError(
            f"{info.path} is truncated or damaged: decoded {count} of the {expected} frames its header "
            f"lists{reason}; export or download it again"
        )
    lost = max(expected - count, 0) if expected else losses.rejected + losses.resized
    if lost or losses.rejected or losses.resized:
        losses.warning = (f"warning: {info.path} is damaged: {lost or 'some'} of its "
                          f"{expected or count + lost} frames could not be decoded{reason}; the other {count} "
                          "were used")


class FrameSource:
    """Iterable of Frames; one pass, like a file: iterating again continues where the last loop stopped.

    A video's frames are decoded ahead in a background thread from the first iteration on
    (``ahead.ReadAhead``, a few frames deep); ``close()`` stops it.
    """

    def __init__(
        self,
        info: VideoInfo,
        frames: Generator[Frame, None, None],
        container: av.container.InputContainer | None = None,
        losses: _Losses | None = None,
    ) -> None:
        self.info = info
        self._source = frames
        self._ahead: ReadAhead[Frame] | None = None
        self._container = container
        self._losses = losses

    @property
    def _frames(self) -> Iterator[Frame]:
        if self._container is None:  # a still: nothing to decode ahead
            return self._source
        if self._ahead is None:
            depth = max(2, min(_AHEAD_FRAMES, _AHEAD_BYTES // max(3 * self.info.width * self.info.height, 1)))
            self._ahead = ReadAhead(self._source, depth)
        return self._ahead

    @property
    def warning(self) -> str | None:
        """Once the frames are exhausted: one line counting the frames of a damaged file that could not
        be decoded (None when nothing was lost)."""
        return None if self._losses is None else self._losses.warning

    def __iter__(self) -> Iterator[Frame]:
        return self._frames

    def batches(self, size: int) -> Iterator[list[Frame]]:
        """Lists of at most `size` frames, so batched models get bounded memory; the last may be shorter."""
        if size < 1:
            raise ValueError(f"batch size must be >= 1, got {size}")
        while batch := list(islice(self._frames, size)):
            yield batch

    def close(self) -> None:
        if self._ahead is not None:
            self._ahead.close()  # before the file its thread reads is closed
        self._source.close()
        if self._container is not None:
            self._container.close()
            self._container = None

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_video(path: str | os.PathLike, *, max_frames: int | None = None) -> FrameSource:
    """Open a video (or a still, as a 1-frame video); the first frame is decoded now so bad files fail here."""
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"max_frames must be >= 1, got {max_frames}")
    p = _check_file(path)
    if is_image_path(p):
        image = read_image(p)
        h, w = image.shape[:2]
        info = VideoInfo(str(p), w, h, IMAGE_FPS, 1, None, 0, has_audio=False, is_image=True)
        return FrameSource(info, (frame for frame in [Frame(0, 0.0, image)]))
    container = _open_input(p, "video or image", "check it is a complete video file")
    try:
        losses = _Losses()
        info, stream, first, rest = _probe(p, container, losses)
        return FrameSource(info, _decode(info, stream, first, rest, losses, max_frames), container, losses)
    except BaseException:
        container.close()
        raise


def _probe(
    p: Path, container: av.container.InputContainer, losses: _Losses
) -> tuple[VideoInfo, av.VideoStream, av.VideoFrame, Iterator[av.VideoFrame]]:
    """Header facts plus the first frame, which is where rotation and the true size are known."""
    if not container.streams.video:
        raise MediaError(f"{p} has no video stream; pass a video or image file")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    rest = _frames_of(container, stream, losses)
    first = next(rest, None)
    if first is None:
        reason = f": {losses.reason}" if losses.reason else ""
        raise MediaError(f"{p} has no decodable video frames{reason}; export or download it again")
    rotation = _rotation_of(first)
    w, h = (first.height, first.width) if rotation in (90, 270) else (first.width, first.height)
    fps = float(stream.average_rate or stream.guessed_rate or IMAGE_FPS)
    if stream.duration is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    else:
        duration = None
    info = VideoInfo(
        path=str(p),
        width=w,
        height=h,
        fps=fps,
        frame_count=stream.frames or None,
        duration=duration,
        rotation=rotation,
        has_audio=bool(container.streams.audio),
        is_image=False,
    )
    return info, stream, first, rest


class _PyAVSeeker:
    """Index access by seeking to the keyframe before the target; frame index is derived from pts,
    which is exact for constant-frame-rate video (all we write and nearly all cameras produce)."""

    def __init__(self, info: VideoInfo) -> None:
        self._info = info
        self._container = av.open(info.path)
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        self._start = self._stream.start_time or 0
        self._frames: Iterator[av.VideoFrame] = iter(())
        self._next: int | None = None  # index of the frame the decoder will produce next, None after a seek
        try:
            self.length = info.frame_count or sum(1 for pkt in self._container.demux(self._stream) if pkt.size)
        except av.FFmpegError as exc:
            self._container.close()
            raise MediaError(f"{info.path} is corrupt: {_reason(exc)}; export or download it again") from None

    def _index(self, frame: av.VideoFrame) -> int:
        return round(float((frame.pts - self._start) * self._stream.time_base) * self._info.fps)

    def _seek(self, index: int) -> None:
        offset = self._start + int(index / self._info.fps / self._stream.time_base)
        self._container.seek(offset, backward=True, any_frame=False, stream=self._stream)
        self._frames = self._container.decode(self._stream)
        self._next = None

    def read(self, index: int) -> np.ndarray:
        if self._next is None or not 0 <= index - self._next <= _SEEK_GAP:
            self._seek(index)
        for frame in self._frames:
            self._next = self._index(frame) + 1
            if self._next > index:
                return _upright(frame.to_ndarray(format="rgb24"), self._info.rotation)
        raise MediaError(f"{self._info.path}: frame {index} could not be decoded; the file may be truncated")

    def close(self) -> None:
        self._container.close()


class _DecordReader:
    """decord decodes and seeks in C++ with its own index, which is much faster for scattered indices."""

    def __init__(self, info: VideoInfo, first: np.ndarray) -> None:
        import decord

        self._error = decord.DECORDError
        try:
            self._reader = decord.VideoReader(info.path, ctx=decord.cpu(0))
        except decord.DECORDError as exc:
            raise MediaError(f"cannot read {info.path} with decord: {_first_line(exc)}") from None
        self._info = info
        self.length = len(self._reader)
        # Some decord builds apply the display matrix and some do not: compare with PyAV's upright frame.
        self._rotation = 0
        if info.rotation and not _close_to(self._reader[0].asnumpy(), first):
            self._rotation = info.rotation

    def read_many(self, indices: list[int]) -> np.ndarray:
        try:
            batch = self._reader.get_batch(indices).asnumpy()
        except self._error as exc:
            raise MediaError(f"{self._info.path} is corrupt: {_first_line(exc)}; export or download it again") from None
        return np.stack([_upright(image, self._rotation) for image in batch]) if self._rotation else batch


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _close_to(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and float(np.abs(a.astype(np.int16) - b).mean()) < 8


class RandomAccessReader:
    """Frames by index (for samplers and training); decord when importable, else PyAV seeking."""

    def __init__(self, path: str | os.PathLike, *, backend: Literal["auto", "decord", "pyav"] = "auto") -> None:
        with open_video(path, max_frames=1) as source:
            self.info = source.info
            first = next(iter(source)).image
        self.fps = self.info.fps
        self._still = first if self.info.is_image else None
        self._decord: _DecordReader | None = None
        self._pyav: _PyAVSeeker | None = None
        if self._still is not None:
            self._length = 1
            return
        if backend == "decord" or (backend == "auto" and _has_decord()):
            try:
                self._decord = _DecordReader(self.info, first)
            except MediaError:
                if backend == "decord":
                    raise  # decord's bundled FFmpeg is older than PyAV's; in "auto" PyAV may still cope
        if self._decord is None:
            self._pyav = _PyAVSeeker(self.info)
        self._length = self._decord.length if self._decord is not None else self._pyav.length

    def __len__(self) -> int:
        return self._length

    def get(self, indices: Sequence[int]) -> np.ndarray:
        """(N,H,W,3) uint8 RGB frames in the order asked; indices may repeat and come in any order."""
        wanted = [int(i) for i in indices]
        for i in wanted:
            if not 0 <= i < self._length:
                raise IndexError(f"frame {i} out of range for {self.info.path} ({self._length} frames)")
        if not wanted:
            return np.empty((0, self.info.height, self.info.width, 3), np.uint8)
        if self._still is not None:
            return np.stack([self._still] * len(wanted))
        if self._decord is not None:
            return self._decord.read_many(wanted)
        assert self._pyav is not None
        try:
            decoded = {i: self._pyav.read(i) for i in sorted(set(wanted))}
        except av.FFmpegError as exc:
            raise MediaError(f"{self.info.path} is corrupt: {_reason(exc)}; export or download it again") from None
        return np.stack([decoded[i] for i in wanted])

    def close(self) -> None:
        if self._pyav is not None:
            self._pyav.close()
        self._decord = self._pyav = None

    def __enter__(self) -> RandomAccessReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _has_decord() -> bool:
    try:
        import decord  # noqa: F401
    except ImportError:
        return False
    return True
