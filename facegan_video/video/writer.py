"""Writing RGB frames to H.264 video, optionally with a clip's sound, without ever leaving a half-written file."""

from __future__ import annotations

import os
import queue
import threading
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from functools import cache

import av
import cv2
import numpy as np

from facegan_video.errors import OutputError
from facegan_video.observe import Observers
from facegan_video.video.atomic import AtomicTarget, CommitOnExit, check_output
from facegan_video.video.formats import VIDEO_CONTAINERS
from facegan_video.video.reader import _check_file, _open_input, _reason

#: Preferred first; "h264" picks whatever H.264 encoder the FFmpeg build has.
_VIDEO_CODECS = ("libx264", "h264", "mpeg4")
#: Audio codecs MP4 can carry as they are, so they are copied bit-exact instead of re-encoded.
_COPYABLE_AUDIO = frozenset({"aac", "mp3", "opus"})
#: Frames waiting for the encoder thread; ``write`` blocks while this many are queued.
_QUEUED_FRAMES = 4


@cache
def _video_codec() -> str:
    for name in _VIDEO_CODECS:
        try:
            av.Codec(name, "w")
        except ValueError:
            continue
        if name != _VIDEO_CODECS[0]:
            warnings.warn(f"libx264 is not in this PyAV build; encoding with {name} instead", stacklevel=3)
        return name
    raise OutputError("this PyAV build has no H.264 or MPEG-4 encoder; install the PyAV wheel from PyPI")


class _AudioTrack:
    """The first audio stream of a file, fed to the output in step with the video and cut to its length.

    Window: source time [offset, offset + video duration) becomes output time [0, video duration).
    """

    def __init__(self, container: av.container.InputContainer, offset: float) -> None:
        self._input = container
        self._source = container.streams.audio[0]
        self._copy = self._source.codec_context.name in _COPYABLE_AUDIO
        self._offset = offset
        self._packets = (p for p in container.demux(self._source) if p.pts is not None)
        self._pending: av.Packet | None = None
        self._output: av.container.OutputContainer | None = None
        self._stream: av.AudioStream | None = None

    @classmethod
    def open(cls, path: str | os.PathLike, offset: float) -> _AudioTrack | None:
        """None when the file has no audio: a silent driving clip just gives a silent result."""
        container = _open_input(_check_file(path), "an audio source", "pass a video or audio file")
        if not container.streams.audio:
            container.close()
            return None
        return cls(container, offset)

    def attach(self, output: av.container.OutputContainer) -> None:
        """Add the output stream; must happen before the first packet is muxed."""
        self._output = output
        if self._copy:
            self._stream = output.add_stream_from_template(self._source)
        else:
            self._stream = output.add_stream("aac", rate=self._source.rate)
            # WAV often declares an unordered "2 channels" layout, which the AAC encoder rejects.
            self._stream.layout = f"{self._source.channels}c"

    def feed(self, until: float) -> None:
        """Mux the packets that start before output time `until` (seconds)."""
        assert self._output is not None and self._stream is not None
        time_base = self._source.time_base
        while (packet := self._pending or next(self._packets, None)) is not None:
            start = float(packet.pts * time_base) - self._offset
            if start >= until:
                self._pending = packet
                return
            self._pending = None
            if start + float((packet.duration or 0) * time_base) <= 0:
                continue
            if self._copy:
                shift = round(self._offset / time_base)
                packet.pts -= shift
                packet.dts = None if packet.dts is None else packet.dts - shift
                packet.stream = self._stream
                self._output.mux(packet)
            else:
                self._transcode(self._source.codec_context.decode(packet))

    def _transcode(self, frames: Iterable[av.AudioFrame]) -> None:
        assert self._output is not None and self._stream is not None
        for frame in frames:
            frame.pts = round((frame.time - self._offset) * self._stream.rate)
            frame.time_base = Fraction(1, self._stream.rate)
            self._output.mux(self._stream.encode(frame))

    def finish(self, duration: float) -> None:
        self.feed(duration)
        if not self._copy:
            assert self._output is not None and self._stream is not None
            self._output.mux(self._stream.encode(None))

    def close(self) -> None:
        self._input.close()


class VideoWriter(CommitOnExit):
    """H.264/yuv420p writer; frames go to a temp file that replaces `path` only when close() succeeds.

    ``write`` converts the frame to yuv420p with OpenCV (BT.601, what FFmpeg's swscale gives to
    within one level, in a seventh of the time: 1 ms instead of 6 at 2048x2048) and queues it; a
    worker thread encodes and muxes (libx264 runs without the GIL), so the caller computes the next
    frames meanwhile. ``write`` waits only while ``_QUEUED_FRAMES`` frames are queued, and the
    caller's array is free again when it returns.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: float,
        *,
        crf: int = 18,
        preset: str = "veryfast",
        audio_from: str | os.PathLike | None = None,
        audio_offset: float = 0.0,
        observers: Observers | None = None,
    ) -> None:
        """``observers`` hear the time spent encoding as stage ``encode`` (opening and closing included)."""
        self._observers = observers or Observers()
        with self._observers.stage("encode", 0):
            self._open(path, fps, crf, preset, audio_from, audio_offset)

    def _open(self, path: str | os.PathLike, fps: float, crf: int, preset: str,
              audio_from: str | os.PathLike | None, audio_offset: float) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        if not 0 <= crf <= 51:
            raise ValueError(f"crf must be in 0..51 (lower is better quality), got {crf}")
        self._target = AtomicTarget(check_output(path, "video"))
        self.path = self._target.path
        # limit_denominator keeps NTSC rates exact: 29.97 -> 2997/100, 30000/1001 stays 30000/1001.
        self._rate = Fraction(fps).limit_denominator(1001)
        self._options = {"crf": str(crf), "preset": preset}
        self._audio = None if audio_from is None else _AudioTrack.open(audio_from, audio_offset)
        self._container: av.container.OutputContainer | None = None
        self._stream: av.VideoStream | None = None
        self._size: tuple[int, int] | None = None
        self._done = False
        self.frames_written = 0
        self._queue: queue.Queue[tuple[np.ndarray, int] | None] = queue.Queue(maxsize=_QUEUED_FRAMES)
        self._worker: threading.Thread | None = None
        self._failure: BaseException | None = None  # what stopped the worker
        self._discard = False  # abort: the worker drops what is still queued

    def _start(self, height: int, width: int) -> None:
        """Open the container once the first frame fixes the size; yuv420p needs even dimensions."""
        fmt = VIDEO_CONTAINERS[self.path.suffix.lower()]
        options = {} if fmt == "matroska" else {"movflags": "+faststart"}
        self._container = av.open(str(self._target.temp), "w", format=fmt, options=options)
        codec = _video_codec()
        stream = self._container.add_stream(codec, rate=self._rate, options=self._options if codec == "libx264" else {})
        stream.width, stream.height = width + width % 2, height + height % 2
        stream.pix_fmt = "yuv420p"
        if self._audio is not None:
            self._audio.attach(self._container)
        self._size = (height, width)
        self._stream = stream
        self._worker = threading.Thread(target=self._encode_queued, name=f"encode {self.path.name}", daemon=True)
        self._worker.start()

    def _encode_queued(self) -> None:
        """The worker: encode and mux each queued frame (and the audio up to it) until ``None`` comes."""
        done = 0
        try:
            while (item := self._queue.get()) is not None:
                if self._discard:
                    continue
                frame = av.VideoFrame.from_ndarray(item[0], format="yuv420p")
                frame.pts, frame.time_base = item[1], 1 / self._rate
                self._container.mux(self._stream.encode(frame))
                done += 1
                if self._audio is not None:
                    self._audio.feed(done / self._rate)
        except BaseException as exc:  # handed to the caller at its next write or close
            self._failure = exc

    def _raise_failure(self) -> None:
        if self._failure is not None:
            with self._writing():  # the encoder thread's failure, reported as any write failure is
                raise self._failure

    def _put(self, item: tuple[np.ndarray, int] | None) -> None:
        """Queue ``item`` for the worker, noticing a worker that stopped on an error."""
        while self._worker is not None and self._worker.is_alive():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        self._raise_failure()

    def _join(self) -> None:
        """Let the worker finish what is queued and stop."""
        if self._worker is not None:
            self._put(None)
            self._worker.join()
            self._worker = None

    def write(self, image: np.ndarray) -> None:
        """Append one HxWx3 uint8 RGB frame; every frame must have the first frame's size."""
        with self._observers.stage("encode", 1):
            self._write(image)

    def _write(self, image: np.ndarray) -> None:
        if self._done:
            raise ValueError(f"VideoWriter for {self.path} is already closed")
        if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3):
            got = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
            raise ValueError(f"frames must be HxWx3 uint8 RGB arrays, got {got}")
        h, w = image.shape[:2]
        if self._stream is None:
            with self._writing():
                self._start(h, w)
        if (h, w) != self._size:
            raise ValueError(f"frame {self.frames_written} is {w}x{h} but the video is {self._size[1]}x{self._size[0]}")
        if h % 2 or w % 2:
            image = np.pad(image, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        self._put((cv2.cvtColor(image, cv2.COLOR_RGB2YUV_I420), self.frames_written))
        self.frames_written += 1

    def write_batch(self, images: Iterable[np.ndarray]) -> None:
        """Write frames one by one, so a generator of frames is never held in memory at once."""
        for image in images:
            self.write(image)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Report encoder and disk failures (disk full, file removed) as OutputError."""
        try:
            yield
        except (av.FFmpegError, OSError) as exc:
            raise OutputError(
                f"cannot write {self.path}: {_reason(exc)}; check free disk space and that the inputs are intact"
            ) from None

    def close(self) -> None:
        """Flush the encoder, finish the audio and move the file into place."""
        with self._observers.stage("encode", 0):
            self._close()

    def _close(self) -> None:
        if self._done:
            return
        if self._stream is None:
            self.abort()
            raise OutputError(f"no frames were written to {self.path}; the destination was left untouched")
        try:
            self._join()
            self._raise_failure()
            with self._writing():
                self._container.mux(self._stream.encode(None))
                if self._audio is not None:
                    self._audio.finish(self.frames_written / self._rate)
                self._release()
        except BaseException:
            self.abort()
            raise
        self._done = True
        self._target.commit()

    def abort(self) -> None:
        """Drop everything written so far; an existing destination file is not touched."""
        self._discard = True
        try:
            self._join()
        except BaseException:
            pass  # the worker's failure is why we abort, or does not matter now
        try:
            self._release()
        except (av.FFmpegError, OSError):
            pass  # the temp file is being thrown away anyway
        self._done = True
        self._target.discard()

    def _release(self) -> None:
        if self._container is not None:
            container, self._container = self._container, None
            container.close()
        if self._audio is not None:
            audio, self._audio = self._audio, None
            audio.close()

