"""Speed of ``facegan-video reenact``: per-stage cost and end-to-end frames/s on a still source and a real clip.

Run from the repository root::

    python -m benchmarks.bench_reenact                   # astronaut 512 + lp_d3, astronaut 256 + MEAD W009
    python -m benchmarks.bench_reenact --json out/bench_reenact.json --markdown out/bench_reenact.md
    python -m benchmarks.bench_reenact --source face.png --driving talk.mp4 --frames 100

Cases: by default two, a 512x512 source (scikit-image's astronaut, saved to a temp PNG) driven by
``../shared/data/talking_heads/clips/lp_d3.mp4`` (512x512, 300 frames, with sound) and the same
picture shrunk to 256x256 driven by ``dt_mead_W009_surprised_level3.mp4`` (256x256, 115 frames,
silent). With ``--source`` and/or ``--driving`` only that one pair is run (the missing one is the
512x512 default).

Per case:

* **End to end and stages, from the same runs.** ``facegan_video.reenactment.reenact()`` (what the
  CLI runs) writing an H.264 file to a temp folder, default options, with a
  :class:`~benchmarks.common.StageTimes` among its observers: one warm-up, then the best of
  ``--repeats`` runs; frames/s = frames / wall time of the whole call. Setup is what the pipeline
  reports as such: ``renderer`` (building transformer, reenactor, mixer), ``analyzer`` (the
  driving ``FaceAnalyzer``: loading the dlib models) and ``source`` (analysing the source still);
  ``fps excl. setup`` takes it out. Stages are the pipeline's own events: ``decode`` (each driving
  frame from PyAV, RGB included), the driving analysis stages (as in ``bench_extract``),
  ``transform``, ``reenact``, ``mix`` (per batch) and ``encode`` (each write, opening the writer
  with the audio source and the final flush). ``analysis`` is the time spent pulling each (frame,
  record) out of the driving analysis less the decoding done inside it. What is left of the wall
  time after setup and stages (opening the clip, motion combination, batching, side-by-side) is
  ``reenact() glue``. Earlier versions timed plain runs and instrumented runs apart; an observer
  adds microseconds per call, so one set of runs gives both. Decoding and H.264 encoding partly run
  on FFmpeg's own threads (frame-threaded decoding, libx264's threads): the decode and encode rows
  are the time the pipeline waits for them, and what those threads do in parallel shows in the
  process CPU time and in the floor, not in those rows. Importing torch (``resolve_device``; once
  per process) is timed before the warm-up and is in no run.
* **Floor.** The driving clip decoded with ``open_video`` and written back with the project's
  ``VideoWriter`` (H.264, with the clip's sound as ``reenact()`` does): the most frames/s any
  reenactment writing that clip can reach on this machine. Decoding alone is timed too. Best of
  ``--repeats`` after a warm-up. The driving clip is full of motion; ``reenact()``'s output is
  mostly the still source and encodes much faster, so the same transcode of the file the last
  end-to-end run wrote is timed too ("output re-encode").
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import bench_extract, common
from facegan_video.config import AnalysisConfig
from facegan_video.devices import resolve_device
from facegan_video.reenactment import ReenactOptions, reenact
from facegan_video.sample_media import astronaut_png
from facegan_video.video import VideoWriter, is_image_path, open_video, read_image

DEFAULT_DRIVING = common.SHARED_CLIPS / "lp_d3.mp4"
DEFAULT_DRIVING_256 = common.SHARED_CLIPS / "dt_mead_W009_surprised_level3.mp4"
#: The issue's target: a 512x512 source driven by lp_d3 on 2 cores.
TARGET_FPS = 25.0

#: The driving analysis stages, as bench_extract reports them: (key in the JSON, observer stage, label).
ANALYSIS = tuple(s for s in bench_extract.STAGES if s[0] not in ("decode", "csv"))
ANALYSIS_PARTS = tuple(stage for _, stage, _ in ANALYSIS)
#: Stages in pipeline order: (key in the JSON, observer stage, label in the table). Indented ones are parts of
#: ``analysis``.
STAGES: tuple[tuple[str, str, str], ...] = (
    bench_extract.STAGES[0],
    ("analysis", "analysis", "driving analysis, total"),
    *((key, stage, f"  {label}") for key, stage, label in ANALYSIS),
    ("transform", "transform", "transform (motion -> landmarks)"),
    ("reenact", "reenact", "reenact (warp)"),
    ("mix", "mix", "mix (blend)"),
    ("encode", "encode", "encode (H.264 + audio mux)"),
)
#: Stages that add up (with setup and glue) to the run's wall time.
TOP_LEVEL = ("decode", "analysis", "transform", "reenact", "mix", "encode")
#: Setup inside reenact(), paid once per call: (key in the JSON, observer setup part, label).
SETUP: tuple[tuple[str, str, str], ...] = (
    ("renderer", "renderer", "Renderer (transformer, warp, mixer)"),
    ("driving_analyzer", "analyzer", "driving FaceAnalyzer (dlib models)"),
    ("source_analysis", "source", "source analysis (analyzer + detect/landmarks/AU)"),
)


@dataclass
class Case:
    name: str
    source: Path  # a still image
    source_label: str
    driving: Path


# --------------------------------------------------------------------------- inputs


def _existing(path: Path, what: str) -> Path:
    path = path.expanduser()
    if not path.is_file():
        raise SystemExit(f"no such {what}: {path}")
    return path.resolve()


def build_cases(source: Path | None, driving: Path | None, folder: Path) -> list[Case]:
    if source is not None and not is_image_path(source):
        raise SystemExit(f"--source must be a still image (.png, .jpg, ...), got {source}")
    if source is None and driving is None:
        return [
            Case("512", astronaut_png(folder, 512), "astronaut 512x512", _existing(DEFAULT_DRIVING, "clip")),
            Case("256", astronaut_png(folder, 256), "astronaut 256x256", _existing(DEFAULT_DRIVING_256, "clip")),
        ]
    src = _existing(source, "source image") if source else astronaut_png(folder, 512)
    label = src.name if source else "astronaut 512x512"
    return [Case("custom", src, label, _existing(driving or DEFAULT_DRIVING, "clip"))]


# --------------------------------------------------------------------------- runs


def reenact_once(case: Case, output: Path, max_frames: int | None, config: AnalysisConfig | None = None,
                 device: str = "auto") -> common.Run:
    """One observed ``reenact()`` with default options (what ``facegan-video reenact SRC DRV -o OUT`` does)."""
    options = ReenactOptions(max_frames=max_frames, quiet=True, device=device)
    run = common.observe(lambda obs: reenact(case.source, case.driving, output, config=config, options=options,
                                             observers=obs))
    run.times.seconds["analysis"] -= run.times.seconds["decode"]  # the decoding happens inside the analysis
    return run


def transcode_once(clip: Path, output: Path | None, max_frames: int | None) -> tuple[int, float, float]:
    """open_video -> VideoWriter (with the clip's sound, as reenact() writes it); decode only without
    ``output``. Returns (frames, wall seconds, CPU seconds)."""
    cpu0, t0 = time.process_time(), time.perf_counter()
    frames = 0
    with open_video(clip, max_frames=max_frames) as src:
        if output is None:
            for _ in src:
                frames += 1
        else:
            audio = clip if src.info.has_audio else None
            with VideoWriter(output, src.info.fps, audio_from=audio) as writer:
                for frame in src:
                    writer.write(frame.image)
                    frames += 1
    return frames, time.perf_counter() - t0, time.process_time() - cpu0


def bench_case(case: Case, folder: Path, *, max_frames: int | None, repeats: int,
               log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    with open_video(case.driving, max_frames=1) as probe:
        info = probe.info
    src_h, src_w = read_image(case.source).shape[:2]
    output = folder / f"reenact_{case.name}.mp4"

    runs, best = common.best_of(lambda: reenact_once(case, output, max_frames), repeats, case.name, log)
    times, frames = best.times, best.frames
    output_bytes = output.stat().st_size
    stages = common.stage_entries(times, STAGES, frames, best.wall)
    analysis_glue = times.seconds["analysis"] - sum(times.seconds[k] for k in ANALYSIS_PARTS)
    glue = best.loop_wall - sum(times.seconds[k] for k in TOP_LEVEL)

    # Floor: decode + encode of the driving clip, and decode alone; warm-up, then best of `repeats`.
    floor_out = folder / f"floor_{case.name}.mp4"
    transcode_once(case.driving, floor_out, max_frames)
    floor = [transcode_once(case.driving, floor_out, max_frames) for _ in range(repeats)]
    decode = [transcode_once(case.driving, None, max_frames) for _ in range(repeats)]
    f_best = min(floor, key=lambda r: r[1])
    d_best = min(decode, key=lambda r: r[1])
    # reenact()'s output is mostly the still source: it encodes far cheaper than the driving clip
    transcode_once(output, floor_out, max_frames)
    rendered = [transcode_once(output, floor_out, max_frames) for _ in range(repeats)]
    r_best = min(rendered, key=lambda r: r[1])
    log(f"  {case.name}: floor decode+encode {f_best[0] / f_best[1]:.1f} frames/s, "
        f"decode only {d_best[0] / d_best[1]:.1f} frames/s, "
        f"decode+encode of reenact()'s output {r_best[0] / r_best[1]:.1f} frames/s")

    return {
        "case": case.name,
        "source": case.source_label,
        "source_size": [src_w, src_h],
        "driving": case.driving.name,
        "driving_path": str(case.driving),
        "driving_size": [info.width, info.height],
        "driving_fps": info.fps,
        "driving_has_audio": info.has_audio,
        "frames": frames,
        "driving_frames_without_face": best.result.driving_without_face,
        "output_bytes": output_bytes,
        "stages": stages,
        "analysis_overhead_ms_per_frame": 1e3 * analysis_glue / frames,
        "overhead_ms_per_frame": 1e3 * glue / frames,
        "instrumented_ms_per_frame_excl_setup": 1e3 * best.loop_wall / frames,
        "instrumented_setup_s": best.setup_s,
        "instrumented_wall_s": best.wall,
        "setup_s": {key: times.setup[part] for key, part, _ in SETUP},
        "end_to_end": {
            "fps": frames / best.wall,
            "ms_per_frame": 1e3 * best.wall / frames,
            "wall_s": best.wall,
            "runs_fps": [r.frames / r.wall for r in runs],
            "cpu_ms_per_frame": 1e3 * best.cpu / frames,
            "setup_s": best.setup_s,
            "fps_excl_setup": frames / best.loop_wall,
            "warmup_runs": 1,
        },
        "floor": {
            "decode_encode_fps": f_best[0] / f_best[1],
            "decode_encode_runs_fps": [n / w for n, w, _ in floor],
            "decode_encode_cpu_ms_per_frame": 1e3 * f_best[2] / f_best[0],
            "decode_fps": d_best[0] / d_best[1],
            "decode_cpu_ms_per_frame": 1e3 * d_best[2] / d_best[0],
            "output_transcode_fps": r_best[0] / r_best[1],
            "output_transcode_cpu_ms_per_frame": 1e3 * r_best[2] / r_best[0],
        },
        "peak_rss_mb": common.peak_rss_mb(),
    }


# --------------------------------------------------------------------------- reporting


def _col(c: dict[str, Any]) -> str:
    return (f"{c['case']}: {c['source']} <- {c['driving']} "
            f"({c['driving_size'][0]}x{c['driving_size'][1]}, {c['frames']} frames)")


def _stage_rows(cases: list[dict[str, Any]], sep: str) -> list[tuple[str, list[str]]]:
    rows = []
    for key, _, label in STAGES:
        rows.append((label, [common.stage_cell(c["stages"][key], key, sep) for c in cases]))
        if key == "smooth":
            rows.append(("  analysis glue", [f"{c['analysis_overhead_ms_per_frame']:.3f}" for c in cases]))
    rows.append(("reenact() glue (motion, batching)", [f"{c['overhead_ms_per_frame']:.3f}" for c in cases]))
    rows.append(("total per frame (excl. setup)", [f"{c['instrumented_ms_per_frame_excl_setup']:.3f}" for c in cases]))
    rows.append(("setup, once per call (s)", [f"{c['instrumented_setup_s']:.2f}" for c in cases]))
    return rows


def _summary_cells(c: dict[str, Any], sep: str, bold: str) -> list[str]:
    e, f = c["end_to_end"], c["floor"]
    return [c["case"], c["source"], f"{c['driving']}{sep}({c['driving_size'][0]}x{c['driving_size'][1]})",
            str(c["frames"]), bold.format(f"{e['fps']:.1f}"), ", ".join(f"{x:.0f}" for x in e["runs_fps"]),
            f"{e['cpu_ms_per_frame']:.2f}", " + ".join(f"{c['setup_s'][k]:.2f}" for k, _, _ in SETUP),
            f"{e['fps_excl_setup']:.1f}",
            f"{f['decode_encode_fps']:.1f}{sep}({f['decode_encode_cpu_ms_per_frame']:.2f})",
            f"{f['decode_fps']:.1f}{sep}({f['decode_cpu_ms_per_frame']:.2f})",
            f"{f['output_transcode_fps']:.1f}{sep}({f['output_transcode_cpu_ms_per_frame']:.2f})",
            f"{c['peak_rss_mb']:.0f}"]


def print_report(results: dict[str, Any]) -> None:
    cases = results["cases"]
    out = common.console(160)
    title = "reenact: per-stage cost (ms/frame, amortised over all frames; share of the run's wall time)"
    columns = ["stage", *(_col(c).replace(" (", "\n(") for c in cases)]
    out.print(common.rich_table(title, columns, [[label, *cells] for label, cells in _stage_rows(cases, "\n")],
                                left=["stage"]))
    title = (f"reenact: end to end (reenact() wall time, best of {results['settings']['repeats']} after a warm-up) "
             "and the decode+encode floor")
    columns = ["case", "source", "driving", "frames", "frames/s\n(best)", "runs\n(frames/s)", "CPU ms\n/frame",
               "setup s\nrenderer +\nanalyzer +\nsource", "frames/s\nexcl. setup",
               "floor: decode\n+encode fr/s\n(CPU ms)", "decode\nonly fr/s\n(CPU ms)",
               "output\nre-encode\nfr/s (CPU ms)", "peak\nRSS MB"]
    out.print(common.rich_table(title, columns, [_summary_cells(c, "\n", "[bold]{}") for c in cases],
                                left=["case", "source", "driving"]))
    out.print(f"torch import (once per process, not in any run): {results['torch_import_s']:.2f} s; "
              f"target >= {TARGET_FPS:.0f} frames/s on the 512 case: {_target(results)}")
    out.print(common.machine_line(results))


def _target(results: dict[str, Any]) -> str:
    met = results.get("target", {}).get("met")
    if met is None:
        return "not measured (no 512 case)"
    t = results["target"]
    return (f"{'met' if met else 'NOT met'} ({t['fps']:.1f} frames/s over {t['frames']} frames"
            + (", setup included: use the whole clip for this)" if results["settings"]["frames"] else ")"))


def markdown_tables(results: dict[str, Any]) -> str:
    """The two tables as GitHub markdown, for docs/benchmarks.md."""
    cases = results["cases"]
    lines = [common.md_row(["stage", *(_col(c) for c in cases)]), "|---|" + "---:|" * len(cases)]
    for label, cells in _stage_rows(cases, ", "):
        label = label.replace("  ", "&nbsp;&nbsp;", 1) if label.startswith("  ") else label
        lines.append(common.md_row([label, *cells]))
    repeats = results["settings"]["repeats"]
    lines += ["", common.md_row(["case", "source", "driving", "frames", f"frames/s (best of {repeats})",
                                 "runs (frames/s)", "CPU ms/frame", "setup s (renderer + driving analyzer + source)",
                                 "frames/s excl. setup", "floor: decode + encode frames/s (CPU ms/frame)",
                                 "decode only frames/s (CPU ms/frame)",
                                 "decode + encode of reenact()'s output frames/s (CPU ms/frame)", "peak RSS (MB)"]),
              "|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [common.md_row(_summary_cells(c, " ", "**{}**")) for c in cases]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.argument_parser("bench_reenact", __doc__, frames_help="only the first N frames of the driving clip")
    parser.add_argument("--source", type=Path, metavar="PNG",
                        help="source still (default: scikit-image's astronaut, 512x512, plus a 256x256 case)")
    parser.add_argument("--driving", type=Path, metavar="CLIP",
                        help=f"driving video (default: {DEFAULT_DRIVING.name}, plus {DEFAULT_DRIVING_256.name} "
                             "for the 256x256 case)")
    args = common.parse_args(parser, argv)
    log = common.logger(args.quiet)
    results: dict[str, Any] = {
        **common.run_header("reenact"),
        "settings": {"frames": args.frames, "repeats": args.repeats, "config": "defaults",
                     "options": "ReenactOptions defaults (relative motion, all channels, driving audio)"},
        "cases": [],
    }
    t0 = time.perf_counter()
    results["device"] = resolve_device("auto")  # imports torch: once per process
    results["torch_import_s"] = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="bench-reenact-") as tmp:
        folder = Path(tmp)
        for case in build_cases(args.source, args.driving, folder):
            log(f"benchmarking {case.name}: {case.source_label} driven by {case.driving} ...")
            results["cases"].append(bench_case(case, folder, max_frames=args.frames, repeats=args.repeats, log=log))
    results["loadavg_at_end"] = common.loadavg()
    main_case = next((c for c in results["cases"] if c["case"] == "512"), None)
    if main_case is not None:
        fps = main_case["end_to_end"]["fps"]
        results["target"] = {"fps_required": TARGET_FPS, "fps": fps, "met": fps >= TARGET_FPS,
                             "frames": main_case["frames"]}
    common.report(results, args, print_report, markdown_tables)
    return results


if __name__ == "__main__":
    main()
