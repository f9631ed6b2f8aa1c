"""Speed of ``facegan-video prepare``: frames/s with 1 and 2 worker processes, and their ratio.

Run from the repository root (needs facegan-video-training: ``pip install -e ./training``)::

    python -m benchmarks.bench_prepare                       # 6 shared 256x256 clips, workers 1 and 2
    python -m benchmarks.bench_prepare --workers 1 2 4 --json out/bench_prepare.json --markdown out/p.md
    python -m benchmarks.bench_prepare some/clips/*.mp4

Each setting prepares the same clips into a fresh temporary dataset with
``facegan_video_training.prepare.prepare_dataset`` (what the command runs): both passes over every
video (analysis: detection, tracking, landmarks, AUs + pose, smoothing; then decode, crop, GrabCut
labels, memory-mapped writes), including the workers' start-up and model loading; best of
``--repeats`` runs. Frames/s counts source video frames. The 1-worker run loads the models once in
the benchmark process; N workers each load them in their own spawned process, so short inputs
understate the speed-up. CPU seconds (this process and its workers) over wall seconds tells how
many cores were kept busy, and so whether other load on the machine held the workers back.
"""

from __future__ import annotations

import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import common

#: 256x256 clips of six people, 2-9 s (about 700 frames in all).
DEFAULT_CLIPS = ("dt_mead_M030_happy_level3.mp4", "dt_mead_W009_sad_level3.mp4", "dt_mead_W011_angry_level3.mp4",
                 "lia_vox_driving2.mp4", "sty_furious_talk2_clip1.mp4", "sty_sadgirl_clip1.mp4")


def bench_workers(clips: list[Path], workers: int, repeats: int, log: Callable[[str], None]) -> dict[str, Any]:
    from facegan_video_training.prepare import prepare_dataset

    runs: list[tuple[float, float]] = []  # (wall, CPU seconds of this process and its finished workers)
    frames = kept = 0
    for i in range(repeats):
        with tempfile.TemporaryDirectory(prefix="bench-prepare-") as tmp:
            cpu0, t0 = _cpu_seconds(), time.perf_counter()
            summary = prepare_dataset(clips, Path(tmp) / "ds", workers=workers, quiet=True)
            runs.append((time.perf_counter() - t0, _cpu_seconds() - cpu0))
        frames = sum(o.video_frames for o in summary.outcomes)
        kept = sum(o.kept_frames for o in summary.outcomes)
        log(f"  {workers} worker(s), run {i + 1}: {frames / runs[-1][0]:.1f} frames/s ({runs[-1][0]:.1f} s)")
    wall, cpu = min(runs)
    return {"workers": workers, "clips": len(clips), "frames": frames, "kept_frames": kept, "wall_s": wall,
            "fps": frames / wall, "cpu_s": cpu, "cores_busy": cpu / wall, "runs_fps": [frames / w for w, _ in runs]}


def _cpu_seconds() -> float:
    """User + system time of this process and of its children that have finished (the workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _cells(row: dict[str, Any], bold: str) -> list[str]:
    speedup = "n/a" if row["speedup"] is None else f"{row['speedup']:.2f}x"
    return [str(row["workers"]), f"{row['wall_s']:.1f}", bold.format(f"{row['fps']:.1f}"),
            " ".join(f"{f:.1f}" for f in row["runs_fps"]), f"{row['cpu_s']:.1f} ({row['cores_busy']:.2f})", speedup]


def print_report(results: dict[str, Any]) -> None:
    rows = results["rows"]
    out = common.console(120)
    out.print(common.rich_table(f"prepare: {rows[0]['clips']} clips, {rows[0]['frames']} frames",
                                ["workers", "wall s\n(best)", "frames/s", "runs\n(frames/s)", "CPU s\n(cores busy)",
                                 "speed-up\nvs 1"],
                                [_cells(r, "[bold]{}") for r in rows]))
    out.print(common.machine_line(results) + f"; peak RSS {results['peak_rss_mb']:.0f} MB")


def markdown(results: dict[str, Any]) -> str:
    rows = results["rows"]
    lines = [f"Clips: {', '.join(results['settings']['clips'])} ({rows[0]['frames']} frames).", "",
             common.md_row(["workers", f"wall s (best of {results['settings']['repeats']})", "frames/s",
                            "runs (frames/s)", "CPU s (cores busy)", "speed-up vs 1 worker"]),
             "|---:|---:|---:|---|---:|---:|"]
    lines += [common.md_row(_cells(r, "**{}**")) for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.argument_parser("bench_prepare", __doc__, repeats_default=1,
                                    repeats_help="timed runs per worker count (default 1)")
    parser.add_argument("clips", nargs="*", type=Path, metavar="CLIP", help="videos (default: six shared clips)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], metavar="N",
                        help="worker counts to compare (default 1 2)")
    args = common.parse_args(parser, argv)
    if min(args.workers) < 1:
        parser.error("--workers must be >= 1")
    clips = args.clips or [common.SHARED_CLIPS / c for c in DEFAULT_CLIPS]
    missing = [str(c) for c in clips if not c.is_file()]
    if missing:
        parser.error(f"missing clips: {', '.join(missing)}")
    log = common.logger(args.quiet)
    results: dict[str, Any] = {**common.run_header("prepare"),
                               "settings": {"clips": [c.name for c in clips], "repeats": args.repeats}, "rows": []}
    for n in args.workers:
        log(f"prepare with {n} worker(s) ...")
        results["rows"].append(bench_workers(clips, n, args.repeats, log))
    one = next((r for r in results["rows"] if r["workers"] == 1), None)
    for row in results["rows"]:
        row["speedup"] = row["fps"] / one["fps"] if one else None
    return common.finish(results, args, print_report, markdown)


if __name__ == "__main__":
    main()
