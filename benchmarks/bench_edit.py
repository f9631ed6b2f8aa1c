"""Speed of ``facegan-video edit --sweep``: per-stage cost and end-to-end frames/s of a sweep animation.

Run from the repository root::

    python -m benchmarks.bench_edit                      # astronaut 512x512 and 256x256, AU26=0:4, 60 frames
    python -m benchmarks.bench_edit --frames 120 --sweep AU12=0:5 --json out/bench_edit.json

``facegan_video.reenactment.edit()`` renders the still through ``Renderer`` (transform -> reenact ->
mix) in chunks of ``AnalysisConfig.batch_size`` and writes H.264 with the project's ``VideoWriter``.
It runs with a :class:`~benchmarks.common.StageTimes` among its observers, as in ``bench_reenact``:
one warm-up, then the best of ``--repeats`` runs, whose events give the stages (``transform``,
``reenact``, ``mix`` per chunk, ``encode`` per write plus opening and closing) and the setup
(``renderer``, and ``source``: analysing the still, its analyzer's model loading included). Earlier
versions timed plain and instrumented runs apart; one set of observed runs now gives both.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import bench_reenact, common
from facegan_video.config import AnalysisConfig
from facegan_video.motion import parse_sweep
from facegan_video.reenactment import edit
from facegan_video.sample_media import astronaut_png
from facegan_video.video import read_image

DEFAULT_SWEEP = "AU26=0:4"
DEFAULT_FRAMES = 60
#: (key in the JSON, observer stage, label in the table): reenact's render stages, encoding without audio. They
#: add up (with setup and glue) to the wall time.
STAGES: tuple[tuple[str, str, str], ...] = (
    *(s for s in bench_reenact.STAGES if s[0] in ("transform", "reenact", "mix")),
    ("encode", "encode", "encode (H.264)"),
)
#: reenact()'s setup less the driving analyzer: (key in the JSON, observer setup part, label).
EDIT_SETUP = tuple(s for s in bench_reenact.SETUP if s[0] != "driving_analyzer")


def edit_once(source: Path, output: Path, sweep: tuple[int, float, float], frames: int,
              device: str = "auto") -> common.Run:
    """One observed ``edit(source, output, [], sweep=..., frames=...)`` (what ``facegan-video edit --sweep`` runs)."""
    return common.observe(lambda obs: edit(source, output, [], sweep=sweep, frames=frames, quiet=True, device=device,
                                           observers=obs))


def bench_edit_case(name: str, source: Path, label: str, folder: Path, *, frames: int = DEFAULT_FRAMES,
                    sweep: str = DEFAULT_SWEEP, repeats: int = 3, device: str = "auto",
                    log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    spec = parse_sweep(sweep)
    output = folder / f"edit_{name}.mp4"
    h, w = read_image(source).shape[:2]
    runs, best = common.best_of(lambda: edit_once(source, output, spec, frames, device), repeats, f"edit {name}", log)
    times = best.times
    glue = best.loop_wall - sum(times.seconds[stage] for _, stage, _ in STAGES)
    return {
        "case": name,
        "source": label,
        "source_size": [w, h],
        "sweep": sweep,
        "frames": frames,
        "batch_size": AnalysisConfig().batch_size,
        "output_bytes": output.stat().st_size,
        "stages": common.stage_entries(times, STAGES, frames, best.wall),
        "overhead_ms_per_frame": 1e3 * glue / frames,
        "instrumented_ms_per_frame_excl_setup": 1e3 * best.loop_wall / frames,
        "setup_s": {key: times.setup[part] for key, part, _ in EDIT_SETUP},
        "end_to_end": {
            "fps": frames / best.wall,
            "ms_per_frame": 1e3 * best.wall / frames,
            "wall_s": best.wall,
            "runs_fps": [frames / r.wall for r in runs],
            "cpu_ms_per_frame": 1e3 * best.cpu / frames,
            "setup_s": best.setup_s,
            "fps_excl_setup": frames / best.loop_wall,
            "warmup_runs": 1,
        },
        "peak_rss_mb": common.peak_rss_mb(),
    }


def default_cases(folder: Path) -> list[tuple[str, Path, str]]:
    return [("512", astronaut_png(folder, 512), "astronaut 512x512"),
            ("256", astronaut_png(folder, 256), "astronaut 256x256")]


# --------------------------------------------------------------------------- reporting


def _rows(cases: list[dict[str, Any]]) -> list[list[str]]:
    rows = [[label, *(common.stage_cell(c["stages"][k], k, "") for c in cases)] for k, _, label in STAGES]
    rows.append(["edit() glue", *(f"{c['overhead_ms_per_frame']:.3f}" for c in cases)])
    rows.append(["total per frame (excl. setup)", *(f"{c['instrumented_ms_per_frame_excl_setup']:.3f}" for c in cases)])
    rows.append(["setup s (renderer + source analysis)",
                 *(" + ".join(f"{c['setup_s'][k]:.2f}" for k, _, _ in EDIT_SETUP) for c in cases)])
    rows.append(["frames/s end to end (best)", *(f"{c['end_to_end']['fps']:.1f}" for c in cases)])
    rows.append(["frames/s excl. setup", *(f"{c['end_to_end']['fps_excl_setup']:.1f}" for c in cases)])
    rows.append(["CPU ms/frame", *(f"{c['end_to_end']['cpu_ms_per_frame']:.2f}" for c in cases)])
    return rows


def _col(c: dict[str, Any]) -> str:
    return f"{c['case']}: {c['source']}, --sweep {c['sweep']}, {c['frames']} frames"


def print_report(results: dict[str, Any]) -> None:
    cases = results["cases"]
    out = common.console(140)
    out.print(common.rich_table("edit --sweep: per-stage cost (ms/frame) and end to end",
                                ["stage", *(_col(c) for c in cases)], _rows(cases), left=["stage"]))
    out.print(common.machine_line(results))


def markdown_tables(results: dict[str, Any]) -> str:
    cases = results["cases"]
    lines = [common.md_row(["stage", *(_col(c) for c in cases)]), "|---|" + "---:|" * len(cases)]
    lines += [common.md_row(row) for row in _rows(cases)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.argument_parser("bench_edit", __doc__, frames_default=DEFAULT_FRAMES,
                                    frames_help=f"frames of the animation (default {DEFAULT_FRAMES})",
                                    repeats_help="timed runs after the warm-up (default 3)")
    parser.add_argument("--source", type=Path, metavar="PNG", help="source still (default: the astronaut, 512 and 256)")
    parser.add_argument("--sweep", default=DEFAULT_SWEEP, help=f"sweep to render (default {DEFAULT_SWEEP})")
    args = common.parse_args(parser, argv, min_frames=2)
    log = common.logger(args.quiet)
    results: dict[str, Any] = {
        **common.run_header("edit"),
        "settings": {"frames": args.frames, "sweep": args.sweep, "repeats": args.repeats, "config": "defaults"},
        "cases": [],
    }
    with tempfile.TemporaryDirectory(prefix="bench-edit-") as tmp:
        folder = Path(tmp)
        cases = ([("custom", args.source.resolve(), args.source.name)] if args.source else default_cases(folder))
        for name, path, label in cases:
            results["cases"].append(bench_edit_case(name, path, label, folder, frames=args.frames, sweep=args.sweep,
                                                    repeats=args.repeats, log=log))
    results["loadavg_at_end"] = common.loadavg()
    common.report(results, args, print_report, markdown_tables)
    return results


if __name__ == "__main__":
    main()
