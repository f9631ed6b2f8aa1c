"""Speed of the landmark transformer L_T at inference: microseconds per frame at batch 1 and 32, CPU.

Run from the repository root::

    python -m benchmarks.bench_lt
    python -m benchmarks.bench_lt --batch 1 8 32 128 --json out/bench_lt.json --markdown out/bench_lt.md

Two things are timed, on the CPU with 1 thread and with torch's default thread count (``--threads``;
a network this small often runs faster on one):

* ``network``: ``facegan_video.nets.landmark.transform_landmarks`` (normalise the source landmarks
  and the target and source motion, L_T's MLP on both, the difference added, denormalised) on random
  inputs, default ``LTConfig``, under ``torch.inference_mode()``;
* ``mlp backend``: the ``mlp`` transform backend's ``transform()`` with the shipped weights, as a
  pipeline calls it (a real face's landmarks into its crop, batched through ``TorchRunner``, back to
  pixels), for a batch of target motions.

After 50 warm-up calls, ``--repeats`` runs of about ``--seconds / repeats`` each; the median run is
reported. Speed does not depend on the weights' values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks import common

#: Untimed calls before the timed runs (the network's first calls allocate).
WARMUP_CALLS = 50


def _time(call: Callable[[], Any], batch: int, seconds: float, repeats: int) -> dict[str, Any]:
    median, runs = common.median_call(call, seconds / repeats, repeats, warmup=WARMUP_CALLS)
    return {"batch": batch, "us_per_call": 1e6 * median, "us_per_frame": 1e6 * median / batch,
            "frames_per_s": batch / median, "runs_us_per_frame": [1e6 * r / batch for r in runs]}


def bench_network(lt: Any, batch: int, seconds: float, repeats: int) -> dict[str, Any]:
    import torch

    from facegan_video.nets.landmark import transform_landmarks

    g = torch.Generator().manual_seed(batch)
    source = torch.rand(batch, 68, 2, generator=g) * 0.5 + 0.25
    motion, own = (torch.cat([torch.rand(batch, 17, generator=g) * 5, torch.rand(batch, 3, generator=g) - 0.5], 1)
                   for _ in range(2))
    with torch.inference_mode():
        return _time(lambda: transform_landmarks(lt, source, motion, own), batch, seconds, repeats)


def bench_backend(backend: Any, source: Any, batch: int, seconds: float, repeats: int) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(batch)
    motion = np.repeat(source.motion[None], batch, 0)
    motion[:, :17] = rng.uniform(0, 5, (batch, 17))
    return _time(lambda: backend.transform(source, motion), batch, seconds, repeats)


def _cells(row: dict[str, Any], bold: str) -> list[str]:
    return [row["what"], str(row["threads"]), str(row["batch"]), f"{row['us_per_call']:.1f}",
            bold.format(f"{row['us_per_frame']:.2f}"), f"{row['frames_per_s']:.0f}"]


def print_report(results: dict[str, Any]) -> None:
    s = results["settings"]
    out = common.console(120)
    out.print(common.rich_table(f"L_T inference, CPU ({s['parameters']} parameters)",
                                ["what", "threads", "batch", "µs / call", "µs / frame", "frames/s"],
                                [_cells(r, "[bold]{}") for r in results["rows"]]))
    out.print(common.machine_line(results))


def markdown(results: dict[str, Any]) -> str:
    s = results["settings"]
    lines = [f"L_T ({s['parameters']} parameters, LTConfig {s['config']}), CPU: the network alone and the "
             "`mlp` backend's `transform()` (crop, network through TorchRunner, back to pixels).", "",
             common.md_row(["what", "torch threads", "batch", "µs per call", "µs per frame", "frames/s"]),
             "|---|---:|---:|---:|---:|---:|"]
    lines += [common.md_row(_cells(r, "**{}**")) for r in results["rows"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.argument_parser("bench_lt", __doc__, repeats_default=5,
                                    repeats_help="timed runs per batch size, median reported (default 5)")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 32], metavar="B", help="batch sizes (default 1 32)")
    parser.add_argument("--threads", type=int, nargs="+", metavar="T",
                        help="torch thread counts (default: 1 and torch's default)")
    parser.add_argument("--seconds", type=float, default=2.0, metavar="S", help="timed seconds per batch size")
    args = common.parse_args(parser, argv)
    if min(args.batch) < 1 or args.seconds <= 0 or min(args.threads or [1]) < 1:
        parser.error("--batch and --threads must be >= 1 and --seconds > 0")
    import torch

    default = torch.get_num_threads()
    threads = args.threads or sorted({1, default})

    from facegan_video.nets.landmark import LandmarkTransformerNet, LTConfig
    from facegan_video.reenact.mlp import MLPTransformer
    from facegan_video.testing import real_face

    log: Callable[[str], None] = common.logger(args.quiet)
    config = LTConfig()
    lt = LandmarkTransformerNet(config).eval()
    source = real_face().source
    results: dict[str, Any] = {
        **common.run_header("lt"),
        "settings": {"config": config.to_dict(), "parameters": sum(p.numel() for p in lt.parameters()),
                     "default_threads": default, "device": "cpu", "seconds": args.seconds,
                     "repeats": args.repeats},
        "rows": [],
    }
    backend = MLPTransformer(device="cpu")
    benches = {"network": lambda b: bench_network(lt, b, args.seconds, args.repeats),
               "mlp backend": lambda b: bench_backend(backend, source, b, args.seconds, args.repeats)}
    for n in threads:
        torch.set_num_threads(n)
        for what, bench in benches.items():
            for batch in args.batch:
                row = {"what": what, "threads": n, **bench(batch)}
                log(f"  {what}, {n} thread(s), batch {batch}: {row['us_per_frame']:.2f} µs/frame")
                results["rows"].append(row)
    torch.set_num_threads(default)
    return common.finish(results, args, print_report, markdown)


if __name__ == "__main__":
    main()
