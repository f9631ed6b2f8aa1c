"""Speed of the landmark transformer L_T at inference: microseconds per frame at batch 1 and 32.

Run from the repository root::

    python -m benchmarks.bench_lt
    python -m benchmarks.bench_lt --batch 1 8 32 128 --json out/bench_lt.json --markdown out/bench_lt.md

What is timed: ``facegan_video.nets.landmark.transform_landmarks`` (normalise the source landmarks
and the driving motion, L_T's MLP, add the displacement, denormalise) on random inputs of the
default ``LTConfig`` size, under ``torch.inference_mode()``, on the CPU with torch's default thread
count (reported). After a warm-up, calls are repeated for about ``--seconds`` per batch size; the
median of ``--repeats`` such runs is reported. Weights are untrained (speed does not depend on them).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_extract import peak_rss_mb, report, run_header


def bench_batch(lt, batch: int, seconds: float, repeats: int) -> dict[str, Any]:
    import torch

    from facegan_video.nets.landmark import transform_landmarks

    g = torch.Generator().manual_seed(batch)
    source = torch.rand(batch, 68, 2, generator=g) * 0.5 + 0.25
    motion = torch.cat([torch.rand(batch, 17, generator=g) * 5, torch.rand(batch, 3, generator=g) - 0.5], 1)
    with torch.inference_mode():
        for _ in range(50):
            transform_landmarks(lt, source, motion)
        t0, calls = time.perf_counter(), 0
        while time.perf_counter() - t0 < seconds / 10:
            transform_landmarks(lt, source, motion)
            calls += 1
        per_run = max(int(calls * 10 / repeats), 10)
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in range(per_run):
                transform_landmarks(lt, source, motion)
            runs.append((time.perf_counter() - t0) / per_run)
    call = statistics.median(runs)
    return {"batch": batch, "us_per_call": 1e6 * call, "us_per_frame": 1e6 * call / batch,
            "frames_per_s": batch / call, "calls_per_run": per_run,
            "runs_us_per_frame": [1e6 * r / batch for r in runs]}


def print_report(results: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=120)
    s = results["settings"]
    table = Table(title=f"L_T inference on the CPU ({s['parameters']} parameters, {s['threads']} torch threads)")
    for col in ("batch", "µs / call", "µs / frame", "frames/s"):
        table.add_column(col, justify="right")
    for row in results["rows"]:
        table.add_row(str(row["batch"]), f"{row['us_per_call']:.1f}", f"{row['us_per_frame']:.2f}",
                      f"{row['frames_per_s']:.0f}")
    console.print(table)
    m = results["machine"]
    console.print(f"machine: {m['cpu_model']}, {m['cpus_usable']} usable of {m['cpu_count']} CPUs, "
                  f"load average {m['loadavg_at_start']} at start; torch {results['versions'].get('torch')}")


def markdown(results: dict[str, Any]) -> str:
    s = results["settings"]
    lines = [f"L_T ({s['parameters']} parameters, LTConfig {s['config']}), CPU, {s['threads']} torch threads.", "",
             "| batch | µs per call | µs per frame | frames/s |", "|---:|---:|---:|---:|"]
    for row in results["rows"]:
        lines.append(f"| {row['batch']} | {row['us_per_call']:.1f} | **{row['us_per_frame']:.2f}** | "
                     f"{row['frames_per_s']:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_lt", description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 32], metavar="B",
                        help="batch sizes (default 1 32)")
    parser.add_argument("--seconds", type=float, default=2.0, metavar="S", help="timed seconds per batch size")
    parser.add_argument("--repeats", type=int, default=5, metavar="R", help="runs per batch size (median)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the results as JSON to OUT")
    parser.add_argument("--markdown", type=Path, metavar="OUT", help="write the table as markdown to OUT")
    parser.add_argument("--quiet", action="store_true", help="no progress lines and no table")
    args = parser.parse_args(argv)
    if min(args.batch) < 1 or args.repeats < 1 or args.seconds <= 0:
        parser.error("--batch and --repeats must be >= 1, --seconds > 0")
    import torch

    from facegan_video.nets.landmark import LandmarkTransformerNet, LTConfig

    config = LTConfig()
    lt = LandmarkTransformerNet(config).eval()
    results: dict[str, Any] = {
        **run_header("lt"),
        "settings": {"config": config.to_dict(), "parameters": sum(p.numel() for p in lt.parameters()),
                     "threads": torch.get_num_threads(), "device": "cpu", "seconds": args.seconds,
                     "repeats": args.repeats},
        "rows": [],
    }
    for batch in args.batch:
        row = bench_batch(lt, batch, args.seconds, args.repeats)
        if not args.quiet:
            print(f"  batch {batch}: {row['us_per_frame']:.2f} µs/frame", file=sys.stderr, flush=True)
        results["rows"].append(row)
    results["peak_rss_mb"] = peak_rss_mb()
    report(results, args, print_report, markdown)
    return results


if __name__ == "__main__":
    main()
