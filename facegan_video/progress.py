"""Rich progress bars on stderr for frame loops, silent when asked or when stderr is not a terminal."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


@contextmanager
def frame_progress(label: str, total: int | None, quiet: bool = False) -> Iterator[Callable[[int], None]]:
    """Yields ``advance(n)``; shows frames done, total and time left."""
    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        yield lambda n: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[fps]:.0f} fps"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(label, total=total, fps=0.0)

        def advance(n: int) -> None:
            progress.advance(task, n)
            elapsed = progress.tasks[0].elapsed or 0.0
            if elapsed > 0:
                progress.update(task, fps=progress.tasks[0].completed / elapsed)

        yield advance
