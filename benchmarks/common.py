"""What every benchmark shares: timing through the pipelines' observer events, the command line, the
results header (machine, versions, git commit) and the report writer.

Timing works only through :mod:`facegan_video.observe`: a benchmark passes a :class:`StageTimes` in
``observers=[...]`` of the public pipeline call it measures (``extract()``, ``reenact()``,
``edit()``), and the pipeline reports each stage call, each setup part and each finished frame to
it. Nothing is patched or wrapped; the observer only adds ``perf_counter`` deltas the pipeline
measured anyway, microseconds per call against stages of milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from facegan_video.observe import Observer
from facegan_video.provenance import git_commit

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The talking-head clips checked out beside the repository.
SHARED_CLIPS = REPO_ROOT.parent / "shared" / "data" / "talking_heads" / "clips"


# --------------------------------------------------------------------------- timing


class StageTimes(Observer):
    """Sums one run's observer events: seconds, calls and items per stage, seconds per setup part,
    frames finished, and the process CPU time when the frame loop started (``on_start``)."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.calls: defaultdict[str, int] = defaultdict(int)
        self.items: defaultdict[str, int] = defaultdict(int)
        self.setup: defaultdict[str, float] = defaultdict(float)
        self.frames = 0
        self.cpu_at_start: float | None = None

    def on_start(self, label: str, total: int | None) -> None:
        if self.cpu_at_start is None:
            self.cpu_at_start = time.process_time()

    def on_setup(self, part: str, seconds: float) -> None:
        self.setup[part] += seconds

    def on_stage(self, stage: str, seconds: float, items: int) -> None:
        self.seconds[stage] += seconds
        self.calls[stage] += 1
        self.items[stage] += items

    def on_frames(self, count: int) -> None:
        self.frames += count


@dataclass
class Run:
    """One observed pipeline call: what it returned, its events, wall and process CPU seconds."""

    result: Any
    times: StageTimes
    wall: float
    cpu: float
    loop_cpu: float  # from the start of the frame loop (models loaded) to the end of the call

    @property
    def frames(self) -> int:
        return self.times.frames

    @property
    def setup_s(self) -> float:
        return sum(self.times.setup.values())

    @property
    def loop_wall(self) -> float:
        """Wall time without the setup (model loading, source analysis)."""
        return self.wall - self.setup_s


def observe(call: Callable[[list[Observer]], Any]) -> Run:
    """``call(observers)``, a public pipeline function, timed with a fresh :class:`StageTimes` among its observers."""
    times = StageTimes()
    cpu0, t0 = time.process_time(), time.perf_counter()
    result = call([times])
    wall, cpu_end = time.perf_counter() - t0, time.process_time()
    loop_start = cpu0 if times.cpu_at_start is None else times.cpu_at_start
    return Run(result, times, wall, cpu_end - cpu0, cpu_end - loop_start)


def median_call(call: Callable[[], Any], seconds: float, repeats: int, warmup: int = 1) -> tuple[float, list[float]]:
    """Seconds per ``call()``: ``warmup`` untimed calls (first-call allocations, oneDNN primitives),
    then ``repeats`` runs of as many calls as fill ``seconds`` (at least one); the median run and all."""
    for _ in range(warmup):
        call()
    runs = []
    for _ in range(repeats):
        n, t0 = 0, time.perf_counter()
        while n == 0 or time.perf_counter() - t0 < seconds:
            call()
            n += 1
        runs.append((time.perf_counter() - t0) / n)
    return statistics.median(runs), runs


def best_of(run_once: Callable[[], Run], repeats: int, label: str, log: Callable[[str], None],
            key: Callable[[Run], float] = lambda r: r.wall) -> tuple[list[Run], Run]:
    """One warm-up, then ``repeats`` timed runs; returns those and the best (lowest ``key``)."""
    runs: list[Run] = []
    for i in range(repeats + 1):
        run = run_once()
        log(f"  {label}: {'warm-up' if i == 0 else f'run {i}'} {run.frames / run.wall:.1f} frames/s "
            f"({run.wall:.2f} s, setup {run.setup_s:.2f} s)")
        if i:
            runs.append(run)
    return runs, min(runs, key=key)


def stage_entries(times: StageTimes, stages: Iterable[tuple[str, str, str]], frames: int,
                  wall: float) -> dict[str, dict[str, Any]]:
    """The JSON of each ``(key, observer stage, label)``: ms/frame amortised over ``frames``, total seconds,
    calls and share of ``wall``; detection also gets the frames it ran on and its cost per run."""
    entries = {key: {"label": label.strip(), "ms_per_frame": 1e3 * times.seconds[stage] / frames,
                     "total_s": times.seconds[stage], "calls": times.calls[stage],
                     "share": times.seconds[stage] / wall}
               for key, stage, label in stages}
    if "detect" in entries:
        runs = times.items["detect"]
        entries["detect"]["frames_run"] = runs
        entries["detect"]["ms_per_detected_frame"] = 1e3 * times.seconds["detect"] / max(runs, 1)
    return entries


def stage_cell(entry: dict[str, Any], key: str, sep: str) -> str:
    """``ms (share%)``, and for detection how often it ran at what cost."""
    cell = f"{entry['ms_per_frame']:.3f} ({100 * entry['share']:.0f}%)"
    if key == "detect":
        cell += f"{sep}{entry['frames_run']} fr x {entry['ms_per_detected_frame']:.1f} ms"
    return cell


def peak_rss_mb() -> float:
    """The process's high-water mark so far (every case benchmarked before included)."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 2**20  # bytes on macOS


# --------------------------------------------------------------------------- environment


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def versions() -> dict[str, str | None]:
    """Without importing torch (not on the extract path): its version comes from the package metadata."""
    import av
    import cv2
    import dlib
    import numpy as np

    return {
        "python": platform.python_version(),
        "facegan-video": _version("facegan-video"),
        "torch": _version("torch"),
        "dlib": getattr(dlib, "__version__", None) or _version("dlib-bin") or _version("dlib"),
        "av": av.__version__,
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "scikit-image": _version("scikit-image"),
    }


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return platform.processor() or "unknown"


def loadavg() -> list[float] | None:
    """Other processes competing for the cores make the numbers slower; record how busy it was."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine() -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    return {"cpu_model": cpu_model(), "cpu_count": os.cpu_count(), "cpus_usable": usable,
            "platform": platform.platform(), "loadavg_at_start": loadavg()}


def run_header(name: str) -> dict[str, Any]:
    """What every benchmark's JSON starts with: name, UTC date, commit, machine and versions."""
    return {
        "benchmark": name,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git": git_commit(),
        "machine": machine(),
        "versions": versions(),
    }


def machine_line(results: dict[str, Any]) -> str:
    """The line under the tables: machine, load, commit and versions."""
    m, g = results["machine"], results["git"]
    end = f", {results['loadavg_at_end']} at end" if "loadavg_at_end" in results else ""
    return (f"machine: {m['cpu_model']}, {m['cpus_usable']} usable of {m['cpu_count']} CPUs, "
            f"load average {m['loadavg_at_start']} at start{end}; "
            f"commit {g['commit']}{' (dirty)' if g['dirty'] else ''}; "
            + ", ".join(f"{k} {v}" for k, v in results["versions"].items()))


# --------------------------------------------------------------------------- command line and reports


def argument_parser(module: str, doc: str, *, frames_help: str | None = None, frames_default: int | None = None,
                    repeats_default: int | None = 3,
                    repeats_help: str = "timed runs per measurement after the warm-up (default 3)"
                    ) -> argparse.ArgumentParser:
    """``python -m benchmarks.MODULE`` with the options all share; --frames only with ``frames_help``."""
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{module}", description=doc.split("\n")[0])
    if frames_help:
        parser.add_argument("--frames", type=int, default=frames_default, metavar="N", help=frames_help)
    parser.add_argument("--repeats", type=int, default=repeats_default, metavar="K", help=repeats_help)
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the results as JSON to OUT")
    parser.add_argument("--markdown", type=Path, metavar="OUT", help="write the tables as markdown to OUT")
    parser.add_argument("--quiet", action="store_true", help="no progress lines and no tables")
    return parser


def parse_args(parser: argparse.ArgumentParser, argv: list[str] | None, min_frames: int = 1) -> argparse.Namespace:
    args = parser.parse_args(argv)
    if getattr(args, "frames", None) is not None and args.frames < min_frames:
        parser.error(f"--frames must be >= {min_frames}")
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be >= 1")
    return args


def logger(quiet: bool) -> Callable[[str], None]:
    """Progress lines on stderr, none with --quiet."""
    def log(msg: str) -> None:
        if not quiet:
            print(msg, file=sys.stderr, flush=True)

    return log


def console(width: int) -> Any:
    """A rich console; piped or redirected, it is ``width`` wide instead of squeezing tables into 80 columns."""
    from rich.console import Console

    out = Console()
    return out if out.is_terminal else Console(width=width)


def rich_table(title: str, columns: Iterable[str], rows: Iterable[list[str]], left: Iterable[str] = ()) -> Any:
    """A rich table; the ``left`` columns are left-justified, the others (numbers) right-justified."""
    from rich.table import Table

    left = set(left)
    table = Table(title=title)
    for col in columns:
        table.add_column(col, justify="left" if col in left else "right", overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def md_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def report(results: dict[str, Any], args: argparse.Namespace, printer: Callable[[dict[str, Any]], None],
           to_markdown: Callable[[dict[str, Any]], str]) -> None:
    """Print the tables unless --quiet, and write --json / --markdown files when asked."""
    if not args.quiet:
        printer(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(to_markdown(results))


def finish(results: dict[str, Any], args: argparse.Namespace, printer: Callable[[dict[str, Any]], None],
           to_markdown: Callable[[dict[str, Any]], str]) -> dict[str, Any]:
    """The whole run's peak memory and the load at its end into ``results``, then ``report``; returns
    ``results`` (benchmarks that record memory per case end with ``report`` instead)."""
    results["peak_rss_mb"] = peak_rss_mb()
    results["loadavg_at_end"] = loadavg()
    report(results, args, printer, to_markdown)
    return results
