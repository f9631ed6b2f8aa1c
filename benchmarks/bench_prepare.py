"""Speed of ``facegan-video prepare``: frames/s with 1 and 2 worker processes, and their ratio.

Run from the repository root (needs facegan-video-training: ``pip install -e ./training``)::

    python -m benchmarks.bench_prepare                       # 6 shared 256x256 clips, workers 1 and 2
    python -m benchmarks.bench_prepare --workers 1 2 4 --json out/bench_prepare.json --markdown out/p.md
    python -m benchmarks.bench_prepare some/clips/*.mp4

Each setting prepares the same clips into a fresh temporary dataset with
``facegan_video_training.prepare.prepare_dataset`` (what the command runs): both passes over every
video (analysis: detection, tracking, landmarks, AUs + pose, smoothing; then decode, crop, GrabCut
labels, memory-mapped writes), including the workers' start-up and model loading, best of
``--repeats`` runs. Frames/s counts source video frames. The 1-worker run loads the models once in
the benchmark process; N workers each load them in their own spawned process.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_extract import peak_rss_mb, report, run_header

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_CLIPS = REPO_ROOT.parent / "shared" / "data" / "talking_heads" / "clips"
#: 256x256 clips of six people, 2-9 s (about 900 frames in all).
DEFAULT_CLIPS = ("dt_mead_M030_happy_level3.mp4", "dt_mead_W009_sad_level3.mp4", "dt_mead_W011_angry_level3.mp4",
                 "lia_vox_driving2.mp4", "sty_furious_talk2_clip1.mp4", "sty_sadgirl_clip1.mp4")


def bench_workers(clips: list[Path], workers: int, repeats: int, log) -> dict[str, Any]:
    from facegan_video_training.prepare import prepare_dataset

    runs = []
    frames = kept = 0
    for i in range(repeats):
        with tempfile.TemporaryDirectory(prefix="bench-prepare-") as tmp:
            t0 = time.perf_counter()
            summary = prepare_dataset(clips, Path(tmp) / "ds", workers=workers, quiet=True)
            runs.append(time.perf_counter() - t0)
        frames = sum(o.video_frames for o in summary.outcomes)
        kept = sum(o.kept_frames for o in summary.outcomes)
        log(f"  {workers} worker(s), run {i + 1}: {frames / runs[-1]:.1f} frames/s")
    best = min(runs)
    return {"workers": workers, "clips": len(clips), "frames": frames, "kept_frames": kept, "wall_s": best,
            "fps": frames / best, "runs_fps": [frames / r for r in runs]}


def print_report(results: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=120)
    table = Table(title=f"prepare: {results['rows'][0]['clips']} clips, {results['rows'][0]['frames']} frames")
    for col in ("workers", "wall s (best)", "frames/s", "runs (frames/s)", "speed-up vs 1"):
        table.add_column(col, justify="right")
    for row in results["rows"]:
        table.add_row(str(row["workers"]), f"{row['wall_s']:.1f}", f"{row['fps']:.1f}",
                      " ".join(f"{f:.1f}" for f in row["runs_fps"]), _ratio(row))
    console.print(table)
    m = results["machine"]
    console.print(f"machine: {m['cpu_model']}, {m['cpus_usable']} usable of {m['cpu_count']} CPUs, "
                  f"load average {m['loadavg_at_start']} at start; peak RSS {results['peak_rss_mb']:.0f} MB")


def _ratio(row: dict[str, Any]) -> str:
    return "n/a" if row.get("speedup") is None else f"{row['speedup']:.2f}x"


def markdown(results: dict[str, Any]) -> str:
    lines = [f"Clips: {', '.join(results['settings']['clips'])} ({results['rows'][0]['frames']} frames).", "",
             f"| workers | wall s (best of {results['settings']['repeats']}) | frames/s | speed-up vs 1 worker |",
             "|---:|---:|---:|---:|"]
    for row in results["rows"]:
        lines.append(f"| {row['workers']} | {row['wall_s']:.1f} | **{row['fps']:.1f}** | {_ratio(row)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_prepare", description=__doc__.split("\n")[0])
    parser.add_argument("clips", nargs="*", type=Path, metavar="CLIP", help="videos (default: six shared clips)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], metavar="N",
                        help="worker counts to compare (default 1 2)")
    parser.add_argument("--repeats", type=int, default=1, metavar="R", help="runs per setting (default 1)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the results as JSON to OUT")
    parser.add_argument("--markdown", type=Path, metavar="OUT", help="write the table as markdown to OUT")
    parser.add_argument("--quiet", action="store_true", help="no progress lines and no table")
    args = parser.parse_args(argv)
    if args.repeats < 1 or min(args.workers) < 1:
        parser.error("--repeats and --workers must be >= 1")
    clips = args.clips or [SHARED_CLIPS / c for c in DEFAULT_CLIPS]
    missing = [str(c) for c in clips if not c.is_file()]
    if missing:
        parser.error(f"missing clips: {', '.join(missing)}")

    def log(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    results: dict[str, Any] = {**run_header("prepare"),
                               "settings": {"clips": [c.name for c in clips], "repeats": args.repeats}, "rows": []}
    for n in args.workers:
        log(f"prepare with {n} worker(s) ...")
        results["rows"].append(bench_workers(clips, n, args.repeats, log))
    one = next((r for r in results["rows"] if r["workers"] == 1), None)
    for row in results["rows"]:
        row["speedup"] = row["fps"] / one["fps"] if one else None
    results["peak_rss_mb"] = peak_rss_mb()
    report(results, args, print_report, markdown)
    return results


if __name__ == "__main__":
    main()
