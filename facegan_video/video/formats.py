"""What each kind of output file may be called: the extensions this project really writes.

Every command checks its output names against this table before any work starts, so
``reenact ... -o out.png`` fails at once instead of writing an H.264 stream into a ``.png``.
"""

from __future__ import annotations

#: Video file extension -> FFmpeg container. All hold H.264 (yuv420p) and AAC or copied audio.
VIDEO_CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
#: Still images OpenCV encodes (and reads back).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
#: Figures matplotlib renders.
PLOT_EXTENSIONS = (".png", ".svg", ".pdf")

#: kind -> (what is written, allowed extensions)
OUTPUT_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "video": ("an H.264 video", tuple(VIDEO_CONTAINERS)),
    "image": ("an image", IMAGE_EXTENSIONS),
    "plot": ("a figure", PLOT_EXTENSIONS),
    "csv": ("a CSV table", (".csv",)),
}
