"""What a training run reports: a progress bar, a line per validation, ``metrics.jsonl`` and
TensorBoard event files (when ``tensorboard`` is installed), all from rank 0 only."""

from __future__ import annotations

import json
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

METRICS_FILE = "metrics.jsonl"
TENSORBOARD_DIR = "tensorboard"


def _summary_writer(folder: Path) -> Any | None:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is an optional extra
        return None
    return SummaryWriter(str(folder))


class RunLog(AbstractContextManager):
    """Rank 0 of a run: ``RunLog(out, total_steps, quiet)``; other ranks pass ``enabled=False``."""

    def __init__(self, out: Path, label: str, total: int, start: int, *, quiet: bool, enabled: bool) -> None:
        self.enabled, self.quiet = enabled, quiet
        self.console = Console(stderr=True)
        self._progress: Progress | None = None
        self._writer = None
        self._file = None
        if not enabled:
            return
        self._file = open(out / METRICS_FILE, "a", encoding="utf-8")
        self._writer = _summary_writer(out / TENSORBOARD_DIR)
        if not quiet and self.console.is_terminal:
            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("{task.fields[info]}"), TimeRemainingColumn(),
                                      console=self.console, transient=True)
            self._progress.start()
            self._task = self._progress.add_task(label, total=total, completed=start, info="")

    def scalars(self, split: str, step: int, epoch: int, values: dict[str, float]) -> None:
        if not self.enabled:
            return
        self._file.write(json.dumps({"split": split, "step": step, "epoch": epoch, "time": round(time.time(), 3),
                                     **values}) + "\n")
        self._file.flush()
        if self._writer is not None:
            for name, value in values.items():
                self._writer.add_scalar(f"{split}/{name}", value, step)

    def advance(self, step: int, info: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=step, info=info)

    def say(self, text: str) -> None:
        """A line above the bar (rank 0, not quiet)."""
        if self.enabled and not self.quiet:
            self.console.print(text, highlight=False)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
        if self._writer is not None:
            self._writer.close()
        if self._file is not None:
            self._file.close()
