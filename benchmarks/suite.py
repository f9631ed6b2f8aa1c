"""All benchmarks in one command: extract, reenact, edit, a batch-size sweep, the decode+encode floor, peak RSS.

Run from the repository root::

    python -m benchmarks.suite                                    # full run, about 2-3 minutes on 2 cores
    python -m benchmarks.suite --quick --json out/suite.json      # a few frames per case (smoke test)
    python -m benchmarks.suite --json out/suite.json --markdown out/suite.md

Sections (each reuses its benchmark module's functions, in this one process; all timing comes from the
pipelines' observer events, see ``benchmarks.common``):

* ``extract``: ``bench_extract.bench_clip`` on lp_d3 (512x512) and the 256x256 MEAD W009 clip.
* ``reenact``: ``bench_reenact.bench_case``, its 512 and 256 cases (astronaut <- lp_d3 / W009).
* ``edit``: ``bench_edit.bench_edit_case``, ``--sweep AU26=0:4`` on the astronaut at 512 and 256.
* ``batch_sweep``: ``reenact()`` of the 512 case with ``AnalysisConfig.batch_size`` 8, 32 and 64
  (what ``--batch-size`` sets), end to end, best of the repeats after a warm-up.
* ``floor``: the decode+encode floor of each reenact case (measured by ``bench_case``).
* ``peak_rss_mb``: the whole suite process.

Device: every row runs on the CPU. When ``torch.cuda.is_available()``, the 512 reenact (with
``--device cuda``) and edit cases are run again as ``cuda`` rows; the current backends are
numpy/OpenCV, so those rows are the same code path with device=cuda noted.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import bench_edit, bench_extract, bench_reenact, common
from facegan_video.config import AnalysisConfig

BATCH_SIZES = (8, 32, 64)
QUICK_FRAMES = 10


def reenact_batch(case: bench_reenact.Case, folder: Path, batch_size: int, *, max_frames: int | None,
                  repeats: int, device: str = "cpu", log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """End-to-end ``reenact()`` with ``AnalysisConfig.batch_size`` (and ``device``): warm-up, best of ``repeats``."""
    output = folder / f"batch_{case.name}_{batch_size}.mp4"
    config = AnalysisConfig(batch_size=batch_size)
    runs, best = common.best_of(lambda: bench_reenact.reenact_once(case, output, max_frames, config, device), repeats,
                                f"reenact {case.name} batch {batch_size} ({device})", log)
    frames = best.frames
    return {"case": case.name, "batch_size": batch_size, "device": device, "frames": frames,
            "fps": frames / best.wall, "fps_excl_setup": frames / best.loop_wall, "wall_s": best.wall,
            "cpu_ms_per_frame": 1e3 * best.cpu / frames, "runs_fps": [r.frames / r.wall for r in runs]}


def run_suite(*, quick: bool, repeats: int, log: Callable[[str], None]) -> dict[str, Any]:
    frames = QUICK_FRAMES if quick else None
    edit_frames = QUICK_FRAMES if quick else bench_edit.DEFAULT_FRAMES
    results: dict[str, Any] = {
        **common.run_header("suite"),
        "settings": {"quick": quick, "frames": frames, "edit_frames": edit_frames, "repeats": repeats,
                     "batch_sizes": list(BATCH_SIZES), "sweep": bench_edit.DEFAULT_SWEEP},
    }
    t0 = time.perf_counter()
    import torch  # what resolve_device imports anyway; once per process, in no run

    cuda = bool(torch.cuda.is_available())
    results["torch_import_s"] = time.perf_counter() - t0
    results["devices"] = ["cpu"] + (["cuda"] if cuda else [])
    results["device_note"] = ("numpy/OpenCV backends: cuda rows run the same code path as cpu, device=cuda noted"
                              if cuda else "torch.cuda.is_available() is False: CPU rows only")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
        folder = Path(tmp)
        log("extract ...")
        results["extract"] = [
            {**bench_extract.bench_clip(clip, max_frames=frames, repeats=repeats, log=log), "device": "cpu"}
            for clip in (bench_reenact.DEFAULT_DRIVING, bench_reenact.DEFAULT_DRIVING_256)]
        log("reenact ...")
        cases = bench_reenact.build_cases(None, None, folder)
        results["reenact"] = [{**bench_reenact.bench_case(c, folder, max_frames=frames, repeats=repeats, log=log),
                               "device": "cpu"} for c in cases]
        results["floor"] = [{"case": c["case"], "driving": c["driving"], "frames": c["frames"], "device": "cpu",
                             **c["floor"]} for c in results["reenact"]]
        log("edit ...")
        results["edit"] = [{**bench_edit.bench_edit_case(name, path, label, folder, frames=edit_frames,
                                                         repeats=repeats, device="cpu", log=log), "device": "cpu"}
                           for name, path, label in bench_edit.default_cases(folder)]
        log("batch-size sweep ...")
        results["batch_sweep"] = [reenact_batch(cases[0], folder, bs, max_frames=frames, repeats=repeats, log=log)
                                  for bs in BATCH_SIZES]
        results["cuda"] = []
        if cuda:
            log("cuda rows (same numpy/OpenCV code path) ...")
            row = reenact_batch(cases[0], folder, AnalysisConfig().batch_size, max_frames=frames, repeats=repeats,
                                device="cuda", log=log)
            results["cuda"].append({"section": "reenact", **row})
            e = bench_edit.bench_edit_case("512", cases[0].source, "astronaut 512x512", folder, frames=edit_frames,
                                           repeats=repeats, device="cuda", log=log)
            results["cuda"].append({"section": "edit", "case": "512", "device": "cuda", "frames": e["frames"],
                                    **{k: e["end_to_end"][k] for k in ("fps", "fps_excl_setup", "cpu_ms_per_frame")}})
    results["suite_wall_s"] = time.perf_counter() - started
    results["peak_rss_mb"] = common.peak_rss_mb()
    results["loadavg_at_end"] = common.loadavg()
    results["rows"] = table_rows(results)
    return results


# --------------------------------------------------------------------------- the combined table

COLUMNS = ("section", "case", "device", "frames", "frames/s", "frames/s excl. setup", "CPU ms/frame",
           "ms/frame by stage")


def _stages(stages: dict[str, Any], keys: tuple[str, ...]) -> str:
    return ", ".join(f"{k} {stages[k]['ms_per_frame']:.2f}" for k in keys)


def table_rows(r: dict[str, Any]) -> list[list[str]]:
    rows = []
    for c in r["extract"]:
        e = c["end_to_end"]
        rows.append(["extract", f"{c['clip']} ({c['width']}x{c['height']})", c["device"], str(c["frames"]),
                     f"{e['fps']:.1f}", f"{e['fps']:.1f} (incl. model load {e['fps_incl_model_load']:.1f})",
                     f"{e['cpu_ms_per_frame']:.2f}",
                     _stages(c["stages"], ("decode", "detect", "landmarks", "au_pose", "csv"))])
    for c in r["reenact"]:
        e = c["end_to_end"]
        rows.append(["reenact", f"{c['source']} <- {c['driving']}", c["device"], str(c["frames"]), f"{e['fps']:.1f}",
                     f"{e['fps_excl_setup']:.1f}", f"{e['cpu_ms_per_frame']:.2f}",
                     _stages(c["stages"], ("decode", "analysis", "transform", "reenact", "mix", "encode"))])
    for c in r["edit"]:
        e = c["end_to_end"]
        rows.append(["edit", f"{c['source']}, --sweep {c['sweep']}", c["device"], str(c["frames"]), f"{e['fps']:.1f}",
                     f"{e['fps_excl_setup']:.1f}", f"{e['cpu_ms_per_frame']:.2f}",
                     _stages(c["stages"], ("transform", "reenact", "mix", "encode"))])
    for b in r["batch_sweep"]:
        rows.append(["batch size", f"reenact {b['case']}, --batch-size {b['batch_size']}", b["device"],
                     str(b["frames"]), f"{b['fps']:.1f}", f"{b['fps_excl_setup']:.1f}",
                     f"{b['cpu_ms_per_frame']:.2f}", ""])
    for f in r["floor"]:
        rows.append(["floor", f"{f['driving']} decode+encode (decode only)", f["device"], str(f["frames"]),
                     f"{f['decode_encode_fps']:.1f} ({f['decode_fps']:.1f})", "",
                     f"{f['decode_encode_cpu_ms_per_frame']:.2f} ({f['decode_cpu_ms_per_frame']:.2f})", ""])
    for c in r.get("cuda", []):
        rows.append([c["section"], f"{c['case']} (same numpy/OpenCV path)", "cuda", str(c["frames"]),
                     f"{c['fps']:.1f}", f"{c['fps_excl_setup']:.1f}", f"{c['cpu_ms_per_frame']:.2f}", ""])
    rows.append(["peak RSS", f"{r['peak_rss_mb']:.0f} MB (whole suite process)", "cpu", "", "", "", "", ""])
    return rows


def print_report(results: dict[str, Any]) -> None:
    s = results["settings"]
    out = common.console(180)
    title = f"benchmark suite ({'quick, ' if s['quick'] else ''}best of {s['repeats']} after a warm-up)"
    out.print(common.rich_table(title, COLUMNS, results["rows"],
                                left=("section", "case", "device", "ms/frame by stage")))
    out.print(f"{results['device_note']}; suite {results['suite_wall_s']:.0f} s")
    out.print(common.machine_line(results))


def markdown_tables(results: dict[str, Any]) -> str:
    lines = [common.md_row(COLUMNS), "|---|---|---|---:|---:|---:|---:|---|"]
    lines += [common.md_row(row) for row in results["rows"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.argument_parser(
        "suite", __doc__, repeats_default=None,
        repeats_help="timed runs per measurement after the warm-up (default 2, 1 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_FRAMES} frames per case and one repeat (a smoke test, not a measurement)")
    args = common.parse_args(parser, argv)
    repeats = args.repeats or (1 if args.quick else 2)
    results = run_suite(quick=args.quick, repeats=repeats, log=common.logger(args.quiet))
    common.report(results, args, print_report, markdown_tables)
    return results


if __name__ == "__main__":
    main()
