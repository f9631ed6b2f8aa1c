"""Process-level memory settings for the commands that stream frames (``extract``, ``reenact``, ``edit``)."""

from __future__ import annotations

import ctypes

#: glibc ``mallopt`` parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: The largest mmap threshold glibc accepts on 64-bit systems; freed heap tops up to this stay.
_MMAP_THRESHOLD, _TRIM_THRESHOLD = 32 << 20, 512 << 20


def reuse_large_buffers() -> bool:
    """Have glibc keep freed frame-sized buffers for reuse instead of handing them back to the kernel.

    A video pipeline allocates and frees arrays of the same large size every frame (a 2048x2048 RGB
    frame is 12 MB). glibc serves an allocation at or above its mmap threshold, which it only raises
    to the size last freed, with fresh pages, so an equal-sized one gets fresh pages again; and it
    unmaps a free heap top above twice that. Each frame then faults its buffers in anew, with
    huge-page compaction where numpy asks for huge pages: 3 of 20 CPU seconds went to the kernel
    reenacting a 2048x2048 portrait, 1 with these settings. Freed memory stays with the process until
    it exits, so only the frame-streaming commands call this, not the library. False where the C
    library has no ``mallopt`` (not glibc).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
