"""Video and image I/O: streamed upright RGB frames in, atomic H.264 files out."""

from facegan_video.video.atomic import AtomicTarget, atomic_path, check_output, check_writable
from facegan_video.video.reader import (
    Frame,
    FrameSource,
    RandomAccessReader,
    VideoInfo,
    is_image_path,
    open_video,
    read_image,
)
from facegan_video.video.writer import VideoWriter

__all__ = [
    "AtomicTarget",
    "Frame",
    "FrameSource",
    "RandomAccessReader",
    "VideoInfo",
    "VideoWriter",
    "atomic_path",
    "check_output",
    "check_writable",
    "is_image_path",
    "open_video",
    "read_image",
]
