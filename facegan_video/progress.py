"""Progress bars for loops that are not pipelines (evaluation, dataset preparation, training)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from facegan_video.observe import progress_observers


@contextmanager
def frame_progress(label: str, total: int | None, quiet: bool = False) -> Iterator[Callable[[int], None]]:
    """Yields ``advance(n)``; shows items done, total, rate and time left unless ``quiet``."""
    with progress_observers(quiet).run(label, total) as observers:
        yield observers.on_frames
