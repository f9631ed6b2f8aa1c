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

Three kinds of measurement per case:

* **End to end.** ``facegan_video.reenactment.reenact()`` (what the CLI runs) writing an H.264
  file to a temp folder, default options: one warm-up, then the best of ``--repeats`` runs;
  frames/s = frames / wall time of the whole call. The setup inside that call (building the
  ``Renderer``, building the driving ``FaceAnalyzer`` = loading the dlib models, analysing the
  source still) is timed by thin wrappers around those constructors and ``source_face`` only, so
  nothing per frame is touched, and is reported separately with ``fps excl. setup``. Importing
  torch (``resolve_device``; once per process) is timed before the warm-up and is in no run.
* **Stages.** The same ``reenact()`` with its stage objects in timing proxies: while it runs, the
  module globals ``Renderer``, ``FaceAnalyzer``, ``open_video``, ``VideoWriter`` and
  ``_driving_motion`` of ``facegan_video.reenactment`` are replaced (``unittest.mock.patch``, this
  process only, restored afterwards) by subclasses / wrappers that build the real objects and time
  ``transformer.transform``, ``reenactor.reenact``, ``mixer.mix``, the driving analyzer's stage
  objects (as ``bench_extract`` does), each ``next()`` on the driving frames (PyAV decode + RGB)
  and ``VideoWriter.write`` / ``close`` (H.264 encode + audio mux). Driving analysis in total is
  the time spent pulling the next (frame, record) out of ``_driving_motion`` less the decoding
  done inside it. What is left of the wall time after setup and stages (motion combination,
  batching, side-by-side, progress) is ``reenact() glue``. The run with the shortest wall time of
  ``--repeats`` is reported. Decoding and H.264 encoding partly run on FFmpeg's own threads
  (frame-threaded decoding, libx264's threads): the decode and encode rows are the time the
  pipeline waits in ``next()`` / ``write()``, and what those threads do in parallel shows in the
  process CPU time and in the floor, not in those rows.
* **Floor.** The driving clip decoded with ``open_video`` and written back with the project's
  ``VideoWriter`` (H.264, with the clip's sound as ``reenact()`` does): the most frames/s any
  reenactment writing that clip can reach on this machine. Decoding alone is timed too. Best of
  ``--repeats`` after a warm-up. The driving clip is full of motion; ``reenact()``'s output is
  mostly the still source and encodes much faster, so the same transcode of the file the last
  end-to-end run wrote is timed too ("output re-encode").
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator
from unittest import mock

import cv2
import numpy as np

from benchmarks.bench_extract import (
    _version,
    instrument,
    machine,
    peak_rss_mb,
    REPO_ROOT,
    report,
    run_header,
    StageTimes,
    timed_frames,
    TimedProxy,
)
from facegan_video import reenactment
from facegan_video.analysis.pipeline import FaceAnalyzer
from facegan_video.video import VideoWriter, is_image_path, open_video, read_image

CLIPS = REPO_ROOT / ".." / "shared" / "data" / "talking_heads" / "clips"
DEFAULT_DRIVING = CLIPS / "lp_d3.mp4"
DEFAULT_DRIVING_256 = CLIPS / "dt_mead_W009_surprised_level3.mp4"
#: The issue's target: a 512x512 source driven by lp_d3 on 2 cores.
TARGET_FPS = 25.0

#: Stages in pipeline order: (key in the JSON, label in the table). Indented ones are parts of ``analysis``.
STAGES: tuple[tuple[str, str], ...] = (
    ("decode", "decode (PyAV + RGB)"),
    ("analysis", "driving analysis, total"),
    ("detect", "  detection (amortised)"),
    ("track", "  tracking"),
    ("landmarks", "  landmarks (dlib 68)"),
    ("au_pose", "  AU + pose"),
    ("smooth", "  smoothing"),
    ("transform", "transform (motion -> landmarks)"),
    ("reenact", "reenact (warp)"),
    ("mix", "mix (blend)"),
    ("encode", "encode (H.264 + audio mux)"),
)
ANALYSIS_PARTS = ("detect", "track", "landmarks", "au_pose", "smooth")
#: Stages that add up (with setup and glue) to the instrumented run's wall time.
TOP_LEVEL = ("decode", "analysis", "transform", "reenact", "mix", "encode")
#: Setup inside reenact(), paid once per call: (key, label).
SETUP: tuple[tuple[str, str], ...] = (
    ("renderer", "Renderer (transformer, warp, mixer)"),
    ("driving_analyzer", "driving FaceAnalyzer (dlib models)"),
    ("source_analysis", "source analysis (analyzer + detect/landmarks/AU)"),
)


@dataclass
class Case:
    name: str
    source: Path  # a still image
    source_label: str
    driving: Path


# --------------------------------------------------------------------------- inputs


def astronaut_png(folder: Path, size: int) -> Path:
    """scikit-image's 512x512 astronaut (resized to ``size`` with INTER_AREA) as a PNG in ``folder``."""
    from skimage import data

    image = data.astronaut()
    if size != image.shape[0]:
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    path = folder / f"astronaut_{size}.png"
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path


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


# --------------------------------------------------------------------------- timing wrappers


class TimedSource:
    """A FrameSource whose frames are timed as ``decode`` (PyAV decode + RGB conversion)."""

    def __init__(self, source: Any, times: StageTimes) -> None:
        self._source = source
        self._times = times

    def __iter__(self) -> Iterator[Any]:
        return timed_frames(self._source, self._times)

    def __enter__(self) -> TimedSource:
        self._source.__enter__()
        return self

    def __exit__(self, *exc: object) -> Any:
        return self._source.__exit__(*exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)


def patches(setup: dict[str, float], times: StageTimes | None) -> dict[str, Any]:
    """Replacements for globals of ``facegan_video.reenactment``. Always: constructor/setup timing
    only. With ``times``: every per-frame stage in a timing proxy too."""
    perf = time.perf_counter
    real_source_face = reenactment.source_face
    real_driving_motion = reenactment._driving_motion
    in_source = [False]

    class SetupTimedRenderer(reenactment.Renderer):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            t0 = perf()
            super().__init__(*args, **kwargs)
            setup["renderer"] += perf() - t0
            if times is not None:
                n_motion: Callable[..., int] = lambda face, motion, *a, **k: len(motion)  # noqa: E731
                self.transformer = TimedProxy(self.transformer, {"transform": "transform"}, times,
                                              counts={"transform": n_motion})
                self.reenactor = TimedProxy(self.reenactor, {"reenact": "reenact"}, times,
                                            counts={"reenact": lambda image, lms, targets, *a, **k: len(targets)})
                self.mixer = TimedProxy(self.mixer, {"mix": "mix"}, times,
                                        counts={"mix": lambda image, faces, *a, **k: len(faces)})

    class SetupTimedAnalyzer(FaceAnalyzer):
        """The driving analyzer (built outside source_face) is timed as setup and, with ``times``, instrumented."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            t0 = perf()
            super().__init__(*args, **kwargs)
            if not in_source[0]:
                setup["driving_analyzer"] += perf() - t0
                if times is not None:
                    instrument(self, times)

    def timed_source_face(*args: Any, **kwargs: Any) -> Any:
        in_source[0] = True
        t0 = perf()
        try:
            return real_source_face(*args, **kwargs)
        finally:
            in_source[0] = False
            setup["source_analysis"] += perf() - t0

    replacements: dict[str, Any] = {"Renderer": SetupTimedRenderer, "FaceAnalyzer": SetupTimedAnalyzer,
                                    "source_face": timed_source_face}
    if times is None:
        return replacements

    def timed_open_video(path: Any, **kwargs: Any) -> TimedSource:
        t0 = perf()
        source = open_video(path, **kwargs)  # decodes the first frame
        times.seconds["decode"] += perf() - t0
        return TimedSource(source, times)

    class TimedVideoWriter(VideoWriter):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            t0 = perf()
            super().__init__(*args, **kwargs)  # opens the audio source
            times.seconds["encode"] += perf() - t0

        def write(self, image: np.ndarray) -> None:
            t0 = perf()
            try:
                super().write(image)
            finally:
                times.add("encode", perf() - t0, 1)

        def close(self) -> None:  # flushes the encoder's delayed frames and the rest of the audio
            t0 = perf()
            try:
                super().close()
            finally:
                times.seconds["encode"] += perf() - t0

    def timed_driving_motion(frames: Any, analyzer: Any) -> Iterator[Any]:
        it = real_driving_motion(frames, analyzer)
        while True:
            decoded, t0 = times.seconds["decode"], perf()
            try:
                item = next(it)
            except StopIteration:
                times.seconds["analysis"] += perf() - t0 - (times.seconds["decode"] - decoded)
                return
            times.add("analysis", perf() - t0 - (times.seconds["decode"] - decoded), 1)
            yield item

    replacements.update(open_video=timed_open_video, VideoWriter=TimedVideoWriter,
                        _driving_motion=timed_driving_motion)
    return replacements


# --------------------------------------------------------------------------- runs


@dataclass
class Run:
    frames: int
    driving_without_face: int
    wall: float
    cpu: float
    setup: dict[str, float]


def reenact_once(case: Case, output: Path, max_frames: int | None, times: StageTimes | None = None) -> Run:
    """One ``reenact()`` call with default options (what ``facegan-video reenact SRC DRV -o OUT`` does)."""
    setup: dict[str, float] = defaultdict(float)
    options = reenactment.ReenactOptions(max_frames=max_frames, quiet=True)
    with mock.patch.multiple(reenactment, **patches(setup, times)):
        cpu0, t0 = time.process_time(), time.perf_counter()
        summary = reenactment.reenact(case.source, case.driving, output, options=options)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return Run(summary.frames, summary.driving_without_face, wall, cpu, dict(setup))


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

    # End to end: a warm-up, then the best of `repeats`.
    runs: list[Run] = []
    for i in range(repeats + 1):
        run = reenact_once(case, output, max_frames)
        log(f"  {case.name}: {'warm-up' if i == 0 else f'run {i}'} {run.frames / run.wall:.1f} frames/s "
            f"({run.wall:.2f} s, setup {sum(run.setup.values()):.2f} s)")
        if i:
            runs.append(run)
    best = min(runs, key=lambda r: r.wall)
    frames = best.frames
    output_bytes = output.stat().st_size

    # Per stage, with proxies: keep the run with the shortest wall time.
    staged: tuple[Run, StageTimes] | None = None
    for i in range(repeats):
        times = StageTimes()
        run = reenact_once(case, output, max_frames, times)
        assert run.frames == frames, (run.frames, frames)
        log(f"  {case.name}: instrumented run {i + 1} {run.frames / run.wall:.1f} frames/s")
        if staged is None or run.wall < staged[0].wall:
            staged = (run, times)
    assert staged is not None
    srun, times = staged

    stages: dict[str, dict[str, Any]] = {}
    for key, label in STAGES:
        seconds = times.seconds.get(key, 0.0)
        stages[key] = {"label": label.strip(), "ms_per_frame": 1e3 * seconds / frames, "total_s": seconds,
                       "calls": times.calls.get(key, 0), "share": seconds / srun.wall}
    detect_frames = times.items.get("detect", 0)
    stages["detect"]["frames_run"] = detect_frames
    stages["detect"]["ms_per_detected_frame"] = 1e3 * times.seconds.get("detect", 0.0) / max(detect_frames, 1)
    analysis_glue = times.seconds.get("analysis", 0.0) - sum(times.seconds.get(k, 0.0) for k in ANALYSIS_PARTS)
    staged_setup = sum(srun.setup.values())
    glue = srun.wall - staged_setup - sum(times.seconds.get(k, 0.0) for k in TOP_LEVEL)

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

    setup = {key: best.setup.get(key, 0.0) for key, _ in SETUP}
    setup_s = sum(setup.values())
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
        "driving_frames_without_face": best.driving_without_face,
        "output_bytes": output_bytes,
        "stages": stages,
        "analysis_overhead_ms_per_frame": 1e3 * analysis_glue / frames,
        "overhead_ms_per_frame": 1e3 * glue / frames,
        "instrumented_ms_per_frame_excl_setup": 1e3 * (srun.wall - staged_setup) / frames,
        "instrumented_setup_s": staged_setup,
        "instrumented_wall_s": srun.wall,
        "setup_s": setup,
        "end_to_end": {
            "fps": frames / best.wall,
            "ms_per_frame": 1e3 * best.wall / frames,
            "wall_s": best.wall,
            "runs_fps": [r.frames / r.wall for r in runs],
            "cpu_ms_per_frame": 1e3 * best.cpu / frames,
            "setup_s": setup_s,
            "fps_excl_setup": frames / (best.wall - setup_s),
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
        "peak_rss_mb": peak_rss_mb(),
    }


# --------------------------------------------------------------------------- reporting


def _col(c: dict[str, Any]) -> str:
    return (f"{c['case']}: {c['source']} <- {c['driving']} "
            f"({c['driving_size'][0]}x{c['driving_size'][1]}, {c['frames']} frames)")


def _stage_cell(s: dict[str, Any], key: str, sep: str) -> str:
    cell = f"{s['ms_per_frame']:.3f} ({100 * s['share']:.0f}%)"
    if key == "detect":
        cell += f"{sep}{s['frames_run']} fr x {s['ms_per_detected_frame']:.1f} ms"
    return cell


def _stage_rows(cases: list[dict[str, Any]], sep: str) -> list[tuple[str, list[str]]]:
    rows = []
    for key, label in STAGES:
        rows.append((label, [_stage_cell(c["stages"][key], key, sep) for c in cases]))
        if key == "smooth":
            rows.append(("  analysis glue", [f"{c['analysis_overhead_ms_per_frame']:.3f}" for c in cases]))
    rows.append(("reenact() glue (motion, batching)", [f"{c['overhead_ms_per_frame']:.3f}" for c in cases]))
    rows.append(("total per frame (instrumented, excl. setup)",
                 [f"{c['instrumented_ms_per_frame_excl_setup']:.3f}" for c in cases]))
    rows.append(("setup, once per call (s)", [f"{c['instrumented_setup_s']:.2f}" for c in cases]))
    return rows


def _setup_cell(c: dict[str, Any]) -> str:
    return " + ".join(f"{c['setup_s'][k]:.2f}" for k, _ in SETUP)


def print_report(results: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    cases = results["cases"]
    table = Table(title="reenact: per-stage cost (ms/frame, amortised over all frames; share of the instrumented run)")
    table.add_column("stage")
    for c in cases:
        table.add_column(_col(c).replace(" (", "\n("), justify="right")
    for label, cells in _stage_rows(cases, "\n"):
        table.add_row(label, *cells)
    console.print(table)

    summary = Table(title="reenact: end to end (reenact() wall time, best of "
                          f"{results['settings']['repeats']} after a warm-up) and the decode+encode floor")
    for col in ("case", "source", "driving", "frames", "frames/s\n(best)", "runs\n(frames/s)", "CPU ms\n/frame",
                "setup s\nrenderer +\nanalyzer +\nsource", "frames/s\nexcl. setup", "floor: decode\n+encode fr/s",
                "decode\nonly fr/s", "output\nre-encode\nfr/s", "peak\nRSS MB"):
        summary.add_column(col, justify="left" if col in ("case", "source", "driving") else "right",
                           overflow="fold")
    for c in cases:
        e, f = c["end_to_end"], c["floor"]
        summary.add_row(c["case"], f"{c['source']}", f"{c['driving']}\n{c['driving_size'][0]}x{c['driving_size'][1]}",
                        str(c["frames"]), f"[bold]{e['fps']:.1f}", " ".join(f"{x:.0f}" for x in e["runs_fps"]),
                        f"{e['cpu_ms_per_frame']:.2f}", _setup_cell(c), f"{e['fps_excl_setup']:.1f}",
                        f"{f['decode_encode_fps']:.1f}\n({f['decode_encode_cpu_ms_per_frame']:.2f} CPU ms)",
                        f"{f['decode_fps']:.1f}\n({f['decode_cpu_ms_per_frame']:.2f} CPU ms)",
                        f"{f['output_transcode_fps']:.1f}\n({f['output_transcode_cpu_ms_per_frame']:.2f} CPU ms)",
                        f"{c['peak_rss_mb']:.0f}")
    console.print(summary)
    m, v, g = results["machine"], results["versions"], results["git"]
    console.print(f"torch import (once per process, not in any run): {results['torch_import_s']:.2f} s; "
                  f"target >= {TARGET_FPS:.0f} frames/s on the 512 case: {_target(results)}")
    console.print(f"machine: {m['cpu_model']}, {m['cpus_usable']} usable of {m['cpu_count']} CPUs, "
                  f"load average {m['loadavg_at_start']} at start, {results['loadavg_at_end']} at end; "
                  f"commit {g['commit']}{' (dirty)' if g['dirty'] else ''}; "
                  + ", ".join(f"{k} {val}" for k, val in v.items()))


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
    lines = ["| stage | " + " | ".join(_col(c) for c in cases) + " |", "|---|" + "---:|" * len(cases)]
    for label, cells in _stage_rows(cases, ", "):
        label = label.replace("  ", "&nbsp;&nbsp;", 1) if label.startswith("  ") else label
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", f"| case | source | driving | frames | frames/s (best of {results['settings']['repeats']}) | "
              "runs (frames/s) | CPU ms/frame | setup s (renderer + driving analyzer + source) | "
              "frames/s excl. setup | floor: decode + encode frames/s (CPU ms/frame) | decode only frames/s (CPU ms/frame) | "
              "decode + encode of reenact()'s output frames/s (CPU ms/frame) | peak RSS (MB) |",
              "|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for c in cases:
        e, f = c["end_to_end"], c["floor"]
        lines.append(f"| {c['case']} | {c['source']} | {c['driving']} ({c['driving_size'][0]}x{c['driving_size'][1]}) | "
                     f"{c['frames']} | **{e['fps']:.1f}** | {', '.join(f'{x:.0f}' for x in e['runs_fps'])} | "
                     f"{e['cpu_ms_per_frame']:.2f} | {_setup_cell(c)} | {e['fps_excl_setup']:.1f} | "
                     f"{f['decode_encode_fps']:.1f} ({f['decode_encode_cpu_ms_per_frame']:.2f}) | "
                     f"{f['decode_fps']:.1f} ({f['decode_cpu_ms_per_frame']:.2f}) | "
                     f"{f['output_transcode_fps']:.1f} ({f['output_transcode_cpu_ms_per_frame']:.2f}) | "
                     f"{c['peak_rss_mb']:.0f} |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_reenact", description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, metavar="PNG",
                        help="source still (default: scikit-image's astronaut, 512x512, plus a 256x256 case)")
    parser.add_argument("--driving", type=Path, metavar="CLIP",
                        help=f"driving video (default: {DEFAULT_DRIVING.name}, plus {DEFAULT_DRIVING_256.name} "
                             "for the 256x256 case)")
    parser.add_argument("--frames", type=int, metavar="N", help="only the first N frames of the driving clip")
    parser.add_argument("--repeats", type=int, default=3, metavar="K",
                        help="timed runs per measurement after the warm-up (default 3)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the results as JSON to OUT")
    parser.add_argument("--markdown", type=Path, metavar="OUT", help="write the tables as markdown to OUT")
    parser.add_argument("--quiet", action="store_true", help="no progress lines and no tables")
    args = parser.parse_args(argv)
    if args.frames is not None and args.frames < 1:
        parser.error("--frames must be >= 1")
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")

    def log(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    results: dict[str, Any] = {
        **run_header("reenact", {"scikit-image": _version("scikit-image")}),
        "settings": {"frames": args.frames, "repeats": args.repeats, "config": "defaults",
                     "options": "ReenactOptions defaults (relative motion, all channels, driving audio)"},
        "cases": [],
    }
    t0 = time.perf_counter()
    results["device"] = reenactment.resolve_device("auto")  # imports torch: once per process
    results["torch_import_s"] = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="bench-reenact-") as tmp:
        folder = Path(tmp)
        for case in build_cases(args.source, args.driving, folder):
            log(f"benchmarking {case.name}: {case.source_label} driven by {case.driving} ...")
            results["cases"].append(bench_case(case, folder, max_frames=args.frames, repeats=args.repeats, log=log))
    results["loadavg_at_end"] = machine()["loadavg_at_start"]
    main_case = next((c for c in results["cases"] if c["case"] == "512"), None)
    if main_case is not None:
        fps = main_case["end_to_end"]["fps"]
        results["target"] = {"fps_required": TARGET_FPS, "fps": fps, "met": fps >= TARGET_FPS,
                             "frames": main_case["frames"]}
    report(results, args, print_report, markdown_tables)
    return results


if __name__ == "__main__":
    main()
