"""Observer hooks of the pipelines: timing, progress and anything else that watches a run.

Pipelines (``FaceAnalyzer``, ``extract``, ``reenact``, ``edit``) take a list of observers and
report to them; nothing watches a run by patching the pipeline. Subclass :class:`Observer` and
override what you need (as detectron2's ``HookBase``)::

    class Count(Observer):
        def on_stage(self, stage, seconds, items):
            print(stage, items, seconds)

    reenact(src, drv, out, observers=[Count()])

Stage names: ``decode`` (reading frames), ``detect``, ``track``, ``landmarks``, ``au``, ``smooth``
(analysis, per call), ``transform``, ``reenact``, ``mix`` (generation, per batch), ``encode``
(what writing costs the caller: converting each frame and queueing it for the writer's encoder
thread, opening the output, and at the end the encoding still queued). Setup names: ``analyzer`` (building an
analyzer's stage objects: loading their models), ``renderer``, ``source`` (analysing the source).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

T = TypeVar("T")


class Observer:
    """Does nothing; override the events you want."""

    def on_start(self, label: str, total: int | None) -> None:
        """A run over ``total`` frames (None: unknown) begins."""

    def on_setup(self, part: str, seconds: float) -> None:
        """One-off work before the frames: loading models, analysing the source."""

    def on_stage(self, stage: str, seconds: float, items: int) -> None:
        """One call of a stage took ``seconds`` for ``items`` frames or faces."""

    def on_frames(self, count: int) -> None:
        """``count`` more frames are finished."""

    def on_end(self) -> None:
        """The run is over (successfully or not)."""


class Observers(Observer):
    """Several observers as one; what pipelines hold."""

    def __init__(self, observers: Iterable[Observer] = ()) -> None:
        self._all = [o for o in observers if o is not None]

    def __iter__(self) -> Iterator[Observer]:
        return iter(self._all)

    def __bool__(self) -> bool:
        return bool(self._all)

    def with_(self, *more: Observer | None) -> Observers:
        return Observers([*self._all, *more])

    def on_start(self, label: str, total: int | None) -> None:
        for o in self._all:
            o.on_start(label, total)

    def on_setup(self, part: str, seconds: float) -> None:
        for o in self._all:
            o.on_setup(part, seconds)

    def on_stage(self, stage: str, seconds: float, items: int) -> None:
        for o in self._all:
            o.on_stage(stage, seconds, items)

    def on_frames(self, count: int) -> None:
        for o in self._all:
            o.on_frames(count)

    def on_end(self) -> None:
        for o in self._all:
            o.on_end()

    @contextmanager
    def stage(self, name: str, items: int) -> Iterator[None]:
        """Times the block as one call of stage ``name``; free when nobody watches."""
        if not self._all:
            yield
            return
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.on_stage(name, time.perf_counter() - t0, items)

    @contextmanager
    def setup(self, part: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            if self._all:
                self.on_setup(part, time.perf_counter() - t0)

    def timed(self, items: Iterable[T], stage: str) -> Iterator[T]:
        """``items`` with the time of producing each one reported as a call of ``stage``."""
        it = iter(items)
        while True:
            t0 = time.perf_counter()
            try:
                item = next(it)
            except StopIteration:  # finding the end costs time too, but yields no item
                if self._all:
                    self.on_stage(stage, time.perf_counter() - t0, 0)
                return
            if self._all:
                self.on_stage(stage, time.perf_counter() - t0, 1)
            yield item

    @contextmanager
    def run(self, label: str, total: int | None) -> Iterator[Observers]:
        """``on_start`` ... ``on_end`` around the block."""
        self.on_start(label, total)
        try:
            yield self
        finally:
            self.on_end()


class ProgressBar(Observer):
    """A rich progress bar on stderr (frames done, total, frames/s, time left); silent when stderr is
    not a terminal."""

    def __init__(self) -> None:
        self._console = Console(stderr=True)
        self._progress: Progress | None = None
        self._task = None

    def on_start(self, label: str, total: int | None) -> None:
        if not self._console.is_terminal or self._progress is not None:
            return
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[fps]:.0f} fps"), TimeRemainingColumn())
        self._progress = Progress(*columns, console=self._console, transient=True)
        self._progress.start()
        self._task = self._progress.add_task(label, total=total, fps=0.0)

    def on_frames(self, count: int) -> None:
        if self._progress is None:
            return
        self._progress.advance(self._task, count)
        task = self._progress.tasks[0]
        if task.elapsed:
            self._progress.update(self._task, fps=task.completed / task.elapsed)

    def on_end(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def progress_observers(quiet: bool, observers: Iterable[Observer] = ()) -> Observers:
    """The caller's observers, plus a progress bar unless ``quiet``."""
    return Observers([*observers, *([] if quiet else [ProgressBar()])])
