"""Decoding ahead of the consumer in a background thread, a bounded number of frames at a time.

FFmpeg's decoder and its colour conversion release the GIL, so while the analysis works on one
frame (dlib's landmarks hold the GIL for most of each call) the next frames are decoded on the core
the analysis leaves idle: ``extract`` of a 512x512 clip runs about a fifth faster. The generator's
items, and the exception that ended it, come out in order, where they happened; ``close()`` stops
the thread before the caller closes the file the generator reads.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

#: How long a blocked put waits before looking again whether the reader was closed (seconds).
_POLL = 0.05


class _End:
    """What the thread queues after the generator's last item."""


class ReadAhead(Generic[T]):
    """Iterates ``items`` in a daemon thread, at most ``depth`` items ahead of ``__next__``."""

    def __init__(self, items: Generator[T, None, None], depth: int) -> None:
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self._items = items
        self._queue: queue.Queue[T | BaseException | _End] = queue.Queue(depth)
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._run, name="decode ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for item in self._items:
                if not self._put(item):
                    return
        except BaseException as exc:  # handed to the consumer at this point of the sequence
            self._put(exc)
            return
        self._put(_End())

    def _put(self, item: T | BaseException | _End) -> bool:
        """Queue ``item`` unless the reader is closed first; whether it was queued."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        item = self._queue.get()
        if isinstance(item, _End):
            self._done = True
            raise StopIteration
        if isinstance(item, BaseException):
            self._done = True
            raise item
        return item

    def close(self) -> None:
        """Stop the thread (it finishes the item it is decoding) and close the generator."""
        self._stop.set()
        self._thread.join()
        self._done = True
        self._items.close()
