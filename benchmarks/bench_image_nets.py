"""Speed of the image networks G_r and G_b: ms per frame by resolution and batch size on the CPU, and
end-to-end ``reenact`` frames/s with the ``facegan`` reenactor and mixer.

Run from the repository root::

    python -m benchmarks.bench_image_nets
    python -m benchmarks.bench_image_nets --sizes 128 256 --batch 1 8 32 --json out/nets.json --markdown out/nets.md
    python -m benchmarks.bench_image_nets --skip-reenact       # networks only

Three things are timed:

* ``G_r`` / ``G_b``: the networks alone (the shipped configurations: G_r reading the source, the
  heatmap and the warp; G_b its four inputs) on random inputs under ``torch.inference_mode()``,
  through ``ReenactorInference`` / ``MixerInference`` (what the backends call: heatmap, layout,
  softmax), at each ``--sizes`` and ``--batch``. After a warm-up call, ``--repeats`` runs of at least
  ``--seconds`` each; the median run is reported. Speed does not depend on the weights' values.
* ``facegan backends``: ``FaceganReenactor.reenact`` then ``FaceganMixer.mix`` on the 512x512
  astronaut and on it resized to 2048x2048 (where pasting at full resolution counts), for a batch of
  8 targets (warp, crops, both networks through ``TorchRunner``, pasting), with the shipped weights,
  median of ``--repeats``.
* ``reenact() end to end``: ``benchmarks.bench_reenact``'s observed ``reenact()`` call with
  ``--reenactor facegan --mixer facegan`` (one warm-up, best of ``--repeats``) for the astronaut
  256x256 driven by MEAD W009 (115 frames) and 512x512 driven by lp_d3 (300 frames, ``--frames``
  limits it), with the warp + blend defaults beside it. The issue's target: 5 frames/s on 2 cores.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import bench_reenact, common

#: The issue's end-to-end target with the facegan backends at 256x256 network resolution, 2 CPU cores.
TARGET_FPS = 5.0
#: Targets per call of the backend benchmark.
BACKEND_BATCH = 8
#: Frame sides of the backend benchmark: the astronaut as it comes, and resized to a large portrait's size.
BACKEND_SIDES = (512, 2048)


def bench_networks(sizes: list[int], batches: list[int], seconds: float, repeats: int,
                   log: Callable[[str], None]) -> list[dict[str, Any]]:
    import torch

    from facegan_video.nets.mixer import BackgroundMixer, MixerConfig, MixerInference
    from facegan_video.nets.reenactor import FaceReenactor, ReenactorConfig, ReenactorInference

    g = ReenactorInference(FaceReenactor(ReenactorConfig())).eval()
    b = MixerInference(BackgroundMixer(MixerConfig())).eval()
    rows = []
    for size in sizes:
        for batch in batches:
            gen = torch.Generator().manual_seed(size + batch)
            image = torch.rand(batch, size, size, 3, generator=gen) * 255
            prob = torch.rand(batch, size, size, generator=gen)
            lms = torch.rand(batch, 68, 2, generator=gen) * 0.5 + 0.25
            for name, net, inputs in (("G_r", g, (image, lms, image)), ("G_b", b, (image, prob, image, prob))):
                with torch.inference_mode():
                    median, runs = common.median_call(lambda n=net, x=inputs: n(*x), seconds, repeats)
                rows.append({"network": name, "size": size, "batch": batch, "ms_per_call": 1e3 * median,
                             "ms_per_frame": 1e3 * median / batch, "frames_per_s": batch / median,
                             "runs_ms_per_frame": [1e3 * r / batch for r in runs]})
                log(f"  {name} {size}² batch {batch}: {1e3 * median / batch:.1f} ms/frame")
    return rows


def bench_backends(repeats: int, log: Callable[[str], None]) -> list[dict[str, Any]]:
    import cv2
    import numpy as np

    from facegan_video.reenact.facegan import FaceganMixer, FaceganReenactor
    from facegan_video.testing import real_face

    face = real_face()
    reenactor, mixer = FaceganReenactor(device="cpu"), FaceganMixer(device="cpu")
    rows = []
    for side in BACKEND_SIDES:
        scale = side / face.image.shape[1]
        image = cv2.resize(face.image, (side, side), interpolation=cv2.INTER_CUBIC) if scale != 1 else face.image
        lms = (face.landmarks * scale).astype(np.float32)
        targets = np.resize(face.targets * scale, (BACKEND_BATCH, 68, 2)).astype(np.float32)
        reenactor.reenact(image, lms, targets)  # the source's own segmentation is cached from here on

        def both(image=image, lms=lms, targets=targets) -> None:
            frames, seg = reenactor.reenact(image, lms, targets)
            mixer.mix(image, frames, targets, source_landmarks=lms, segmentation=seg)

        median, runs = common.median_call(both, 0.0, repeats)
        per_frame = 1e3 * median / BACKEND_BATCH
        log(f"  facegan backends, astronaut {side}², batch {BACKEND_BATCH}: {per_frame:.0f} ms/frame")
        rows.append({"side": side, "batch": BACKEND_BATCH, "ms_per_frame": per_frame,
                     "runs_ms_per_frame": [1e3 * r / BACKEND_BATCH for r in runs]})
    return rows


def bench_end_to_end(frames: int | None, repeats: int, log: Callable[[str], None]) -> list[dict[str, Any]]:
    from facegan_video.config import AnalysisConfig
    from facegan_video.devices import resolve_device

    resolve_device("cpu")  # imports torch before any timed run
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for case in bench_reenact.build_cases(None, None, folder):
            for label, reenactor, mixer in (("facegan + facegan", "facegan", "facegan"), ("warp + blend", None, None)):
                config = AnalysisConfig()
                if reenactor:
                    config.set_backend("reenact", reenactor)
                    config.set_backend("mix", mixer)
                _, best = common.best_of(lambda c=case, cfg=config: bench_reenact.reenact_once(
                    c, folder / "out.mp4", frames, cfg, "cpu"), repeats, case.name, log)
                rows.append({"case": case.source_label, "driving": case.driving.name, "backends": label,
                             "frames": best.frames, "wall_s": best.wall, "fps": best.frames / best.wall,
                             "fps_excl_setup": best.frames / max(best.loop_wall, 1e-9),
                             "reenact_ms_per_frame": 1e3 * best.times.seconds["reenact"] / max(best.frames, 1),
                             "mix_ms_per_frame": 1e3 * best.times.seconds["mix"] / max(best.frames, 1),
                             "analysis_ms_per_frame": 1e3 * best.times.seconds["analysis"] / max(best.frames, 1)})
                log(f"  {case.name} {label}: {rows[-1]['fps']:.1f} frames/s")
    return rows


def _net_cells(r: dict[str, Any]) -> list[str]:
    return [r["network"], f"{r['size']}²", str(r["batch"]), f"{r['ms_per_call']:.1f}", f"{r['ms_per_frame']:.1f}",
            f"{r['frames_per_s']:.0f}"]


def _e2e_cells(r: dict[str, Any]) -> list[str]:
    return [r["case"], r["driving"], r["backends"], str(r["frames"]), f"{r['fps']:.1f}", f"{r['fps_excl_setup']:.1f}",
            f"{r['analysis_ms_per_frame']:.0f}", f"{r['reenact_ms_per_frame']:.0f}", f"{r['mix_ms_per_frame']:.0f}"]


NET_COLUMNS = ["network", "size", "batch", "ms / call", "ms / frame", "frames/s"]
E2E_COLUMNS = ["source", "driving", "reenact + mix", "frames", "frames/s", "excl. setup", "analysis ms/frame",
               "reenact ms/frame", "mix ms/frame"]


def print_report(results: dict[str, Any]) -> None:
    out = common.console(140)
    out.print(common.rich_table(f"G_r and G_b alone, CPU, {results['settings']['threads']} torch threads",
                                NET_COLUMNS, [_net_cells(r) for r in results["networks"]], left=["network"]))
    for r in results.get("backends", []):
        out.print(f"facegan reenact + mix backends, astronaut {r['side']}², batch {r['batch']}: "
                  f"{r['ms_per_frame']:.0f} ms/frame")
    if results.get("end_to_end"):
        out.print(common.rich_table(f"reenact() end to end (target {TARGET_FPS:g} frames/s with facegan)",
                                    E2E_COLUMNS, [_e2e_cells(r) for r in results["end_to_end"]],
                                    left=["source", "driving", "reenact + mix"]))
    out.print(common.machine_line(results))


def markdown(results: dict[str, Any]) -> str:
    lines = [f"G_r and G_b alone (shipped configurations, random inputs), CPU, {results['settings']['threads']} "
             "torch threads, median of the runs:", "", common.md_row(NET_COLUMNS), "|---|---:|---:|---:|---:|---:|"]
    lines += [common.md_row(_net_cells(r)) for r in results["networks"]]
    if results.get("backends"):
        sizes = " and ".join(f"**{r['ms_per_frame']:.0f} ms** at {r['side']}x{r['side']}" for r in results["backends"])
        lines += ["", f"`facegan` reenactor + mixer backends on the astronaut, {BACKEND_BATCH} targets per call (warp, "
                  f"crops, both networks, pasting), per frame: {sizes}."]
    if results.get("end_to_end"):
        lines += ["", f"`reenact()` end to end, CPU (target: {TARGET_FPS:g} frames/s with the facegan backends):",
                  "", common.md_row(E2E_COLUMNS), "|---|---|---|---:|---:|---:|---:|---:|---:|"]
        lines += [common.md_row(_e2e_cells(r)) for r in results["end_to_end"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.argument_parser("bench_image_nets", __doc__, frames_default=None,
                                    frames_help="driving frames per end-to-end run (default: the whole clip)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256], metavar="S", help="crop sides (128 256)")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 4, 8, 16, 32], metavar="B",
                        help="batch sizes (default 1 4 8 16 32)")
    parser.add_argument("--seconds", type=float, default=1.0, metavar="S", help="timed seconds per run (default 1)")
    parser.add_argument("--skip-reenact", action="store_true", help="time the networks only")
    args = common.parse_args(parser, argv)
    if min(args.batch) < 1 or args.seconds <= 0 or any(s % 32 for s in args.sizes):
        parser.error("--batch must be >= 1, --seconds > 0 and --sizes multiples of 32")
    import torch

    log = common.logger(args.quiet)
    results: dict[str, Any] = {**common.run_header("image_nets"),
                               "settings": {"threads": torch.get_num_threads(), "device": "cpu", "sizes": args.sizes,
                                            "batch": args.batch, "seconds": args.seconds, "repeats": args.repeats}}
    results["networks"] = bench_networks(args.sizes, args.batch, args.seconds, args.repeats, log)
    if not args.skip_reenact:
        results["backends"] = bench_backends(args.repeats, log)
        results["end_to_end"] = bench_end_to_end(args.frames, args.repeats, log)
    return common.finish(results, args, print_report, markdown)


if __name__ == "__main__":
    main()
