"""Speed of ``facegan-video edit --sweep``: per-stage cost and end-to-end frames/s of a sweep animation.

Run from the repository root::

    python -m benchmarks.bench_edit                      # astronaut 512x512 and 256x256, AU26=0:4, 60 frames
    python -m benchmarks.bench_edit --frames 120 --sweep AU12=0:5 --json out/bench_edit.json

``facegan_video.reenactment.edit()`` renders the still through ``Renderer`` (transform -> reenact ->
mix) in chunks of ``AnalysisConfig.batch_size`` and writes H.264 with the project's ``VideoWriter``.
The same timing proxies as ``bench_reenact`` are used (its ``patches()``: ``Renderer``,
``FaceAnalyzer``, ``source_face`` and ``VideoWriter`` of ``facegan_video.reenactment`` swapped for
timing subclasses in this process only). End to end: one warm-up, then the best of ``--repeats``
plain runs (setup = building the ``Renderer`` and analysing the source still, timed by constructor
wrappers only). Stages: the instrumented run with the shortest wall time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from unittest import mock

from benchmarks.bench_extract import (
    _version,
    machine,
    peak_rss_mb,
    report,
    run_header,
    StageTimes,
)
from benchmarks.bench_reenact import astronaut_png, patches
from facegan_video import reenactment
from facegan_video.config import AnalysisConfig
from facegan_video.motion import parse_sweep
from facegan_video.video import read_image

DEFAULT_SWEEP = "AU26=0:4"
DEFAULT_FRAMES = 60
#: (key in the JSON, label in the table); they add up (with setup and glue) to the wall time.
STAGES: tuple[tuple[str, str], ...] = (
    ("transform", "transform (motion -> landmarks)"),
    ("reenact", "reenact (warp)"),
    ("mix", "mix (blend)"),
    ("encode", "encode (H.264)"),
)
SETUP_KEYS = ("renderer", "source_analysis")


@dataclass
class EditRun:
    wall: float
    cpu: float
    setup: dict[str, float]


def edit_once(source: Path, output: Path, sweep: tuple[int, float, float], frames: int,
              times: StageTimes | None = None, config: AnalysisConfig | None = None) -> EditRun:
    """One ``edit(source, output, [], sweep=..., frames=...)`` call (what ``facegan-video edit --sweep`` runs)."""
    setup: dict[str, float] = defaultdict(float)
    with mock.patch.multiple(reenactment, **patches(setup, times)):
        cpu0, t0 = time.process_time(), time.perf_counter()
        reenactment.edit(source, output, [], config=config, sweep=sweep, frames=frames, quiet=True)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return EditRun(wall, cpu, dict(setup))


def bench_edit_case(name: str, source: Path, label: str, folder: Path, *, frames: int = DEFAULT_FRAMES,
                    sweep: str = DEFAULT_SWEEP, repeats: int = 3, config: AnalysisConfig | None = None,
                    log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    spec = parse_sweep(sweep)
    output = folder / f"edit_{name}.mp4"
    h, w = read_image(source).shape[:2]

    runs: list[EditRun] = []
    for i in range(repeats + 1):
        run = edit_once(source, output, spec, frames, config=config)
        log(f"  edit {name}: {'warm-up' if i == 0 else f'run {i}'} {frames / run.wall:.1f} frames/s "
            f"({run.wall:.2f} s, setup {sum(run.setup.values()):.2f} s)")
        if i:
            runs.append(run)
    best = min(runs, key=lambda r: r.wall)

    staged: tuple[EditRun, StageTimes] | None = None
    for _ in range(repeats):
        times = StageTimes()
        run = edit_once(source, output, spec, frames, times, config=config)
        if staged is None or run.wall < staged[0].wall:
            staged = (run, times)
    assert staged is not None
    srun, times = staged
    stages = {key: {"label": label_, "ms_per_frame": 1e3 * times.seconds.get(key, 0.0) / frames,
                    "total_s": times.seconds.get(key, 0.0), "calls": times.calls.get(key, 0),
                    "share": times.seconds.get(key, 0.0) / srun.wall}
              for key, label_ in STAGES}
    s_setup = sum(srun.setup.values())
    glue = srun.wall - s_setup - sum(times.seconds.get(k, 0.0) for k, _ in STAGES)
    setup = {k: best.setup.get(k, 0.0) for k in SETUP_KEYS}
    setup_s = sum(setup.values())
    return {
        "case": name,
        "source": label,
        "source_size": [w, h],
        "sweep": sweep,
        "frames": frames,
        "batch_size": (config or AnalysisConfig()).batch_size,
        "output_bytes": output.stat().st_size,
        "stages": stages,
        "overhead_ms_per_frame": 1e3 * glue / frames,
        "instrumented_ms_per_frame_excl_setup": 1e3 * (srun.wall - s_setup) / frames,
        "setup_s": setup,
        "end_to_end": {
            "fps": frames / best.wall,
            "ms_per_frame": 1e3 * best.wall / frames,
            "wall_s": best.wall,
            "runs_fps": [frames / r.wall for r in runs],
            "cpu_ms_per_frame": 1e3 * best.cpu / frames,
            "setup_s": setup_s,
            "fps_excl_setup": frames / (best.wall - setup_s),
            "warmup_runs": 1,
        },
        "peak_rss_mb": peak_rss_mb(),
    }


def default_cases(folder: Path) -> list[tuple[str, Path, str]]:
    return [("512", astronaut_png(folder, 512), "astronaut 512x512"),
            ("256", astronaut_png(folder, 256), "astronaut 256x256")]


# --------------------------------------------------------------------------- reporting


def _rows(cases: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    rows = [(label, [f"{c['stages'][k]['ms_per_frame']:.3f} ({100 * c['stages'][k]['share']:.0f}%)" for c in cases])
            for k, label in STAGES]
    rows.append(("edit() glue", [f"{c['overhead_ms_per_frame']:.3f}" for c in cases]))
    rows.append(("total per frame (instrumented, excl. setup)",
                 [f"{c['instrumented_ms_per_frame_excl_setup']:.3f}" for c in cases]))
    rows.append(("setup s (renderer + source analysis)",
                 [" + ".join(f"{c['setup_s'][k]:.2f}" for k in SETUP_KEYS) for c in cases]))
    rows.append(("frames/s end to end (best)", [f"{c['end_to_end']['fps']:.1f}" for c in cases]))
    rows.append(("frames/s excl. setup", [f"{c['end_to_end']['fps_excl_setup']:.1f}" for c in cases]))
    rows.append(("CPU ms/frame", [f"{c['end_to_end']['cpu_ms_per_frame']:.2f}" for c in cases]))
    return rows


def _col(c: dict[str, Any]) -> str:
    return f"{c['case']}: {c['source']}, --sweep {c['sweep']}, {c['frames']} frames"


def print_report(results: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=140)
    table = Table(title="edit --sweep: per-stage cost (ms/frame) and end to end")
    table.add_column("stage")
    for c in results["cases"]:
        table.add_column(_col(c), justify="right")
    for label, cells in _rows(results["cases"]):
        table.add_row(label, *cells)
    console.print(table)
    m = results["machine"]
    console.print(f"machine: {m['cpu_model']}, {m['cpus_usable']} usable CPUs, load average {m['loadavg_at_start']}")


def markdown_tables(results: dict[str, Any]) -> str:
    cases = results["cases"]
    lines = ["| stage | " + " | ".join(_col(c) for c in cases) + " |", "|---|" + "---:|" * len(cases)]
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in _rows(cases)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_edit", description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, metavar="PNG", help="source still (default: the astronaut, 512 and 256)")
    parser.add_argument("--sweep", default=DEFAULT_SWEEP, help=f"sweep to render (default {DEFAULT_SWEEP})")
    parser.add_argument("--frames", type=int, default=DEFAULT_FRAMES, metavar="N",
                        help=f"frames of the animation (default {DEFAULT_FRAMES})")
    parser.add_argument("--repeats", type=int, default=3, metavar="K", help="timed runs after the warm-up (default 3)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the results as JSON to OUT")
    parser.add_argument("--markdown", type=Path, metavar="OUT", help="write the table as markdown to OUT")
    parser.add_argument("--quiet", action="store_true", help="no progress lines and no tables")
    args = parser.parse_args(argv)
    if args.frames < 2:
        parser.error("--frames must be >= 2")
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")

    def log(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    results: dict[str, Any] = {
        **run_header("edit", {"scikit-image": _version("scikit-image")}),
        "settings": {"frames": args.frames, "sweep": args.sweep, "repeats": args.repeats, "config": "defaults"},
        "cases": [],
    }
    with tempfile.TemporaryDirectory(prefix="bench-edit-") as tmp:
        folder = Path(tmp)
        cases = ([("custom", args.source.resolve(), args.source.name)] if args.source else default_cases(folder))
        for name, path, label in cases:
            results["cases"].append(bench_edit_case(name, path, label, folder, frames=args.frames, sweep=args.sweep,
                                                    repeats=args.repeats, log=log))
    results["loadavg_at_end"] = machine()["loadavg_at_start"]
    report(results, args, print_report, markdown_tables)
    return results


if __name__ == "__main__":
    main()
