"""Real-world inputs at full speed (issue 13): each case timed end to end, start-up included.

Run from the repository root::

    python -m benchmarks.bench_inputs                     # every case, best of 3 (the portrait: of 2)
    python -m benchmarks.bench_inputs faceless extract --repeats 5 --json out/inputs.json

Cases, each a ratio or a rate measured in this one run:

* ``faceless``: ``extract()`` of a 150-frame 512x512 clip without a face (``sample_media.faceless_clip``)
  against ``extract()`` of the first 150 frames of ``lp_d3.mp4``. Target: at most 1.5x.
* ``portrait``: ``reenact()`` of ``portraits/lp_s2.jpg`` (2048x2048) driven by ``lp_d3.mp4`` (300
  frames) against merely encoding as many 2048x2048 frames with libx264 (the first 30 frames of
  that reenactment, played forth and back): a plain PyAV loop (``VideoFrame.from_ndarray``, FFmpeg's
  own colour conversion, ``stream.encode``) with the writer's preset and CRF. Target: at most 1.6x.
  The project's ``VideoWriter`` on the same frames (its ``encode`` events) is reported beside it.
* ``extract``: ``extract()`` of ``lp_d3.mp4``, frames/s. Target: at least 100.
* ``reenact``: ``reenact()`` of the astronaut driven by ``lp_d3.mp4``, frames/s. Target: at least 40.

Start-up is what a user waits for: every call runs in a fresh Python process (interpreter, imports,
dlib models) and its wall time is the process's, from the parent's clock. Inside, the child makes
the process setting the ``extract``/``reenact`` commands make (``memory.reuse_large_buffers``), then
calls the public pipeline function with a ``common.StageTimes`` observer, whose events give the split
(setup, stages) printed beside it. The encoding floor is timed by the writer's own ``encode`` events.
Each case pairs its runs (A then B, repeated) and reports the best wall time of each side. The
plain encoding loop is timed with a clock around it: it is the floor, not a pipeline.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import common

CLIP = common.SHARED_CLIPS / "lp_d3.mp4"
PORTRAIT = common.SHARED_CLIPS.parent / "portraits" / "lp_s2.jpg"
CASES = ("faceless", "portrait", "extract", "reenact")
TARGETS = {"faceless": ("ratio", 1.5), "portrait": ("ratio", 1.6), "extract": ("fps", 100.0),
           "reenact": ("fps", 40.0)}
#: Output frames the encoding floor cycles through (held in memory: 30 x 12 MB at 2048x2048).
FLOOR_FRAMES = 30


# --------------------------------------------------------------------------- the child process


def _summary(run: common.Run) -> dict[str, Any]:
    t = run.times
    return {"call_wall": run.wall, "cpu": run.cpu, "frames": run.frames, "setup": dict(t.setup),
            "stages": dict(t.seconds), "calls": dict(t.calls)}


def child(kind: str, *args: str) -> dict[str, Any]:
    """One public pipeline call in this (fresh) process, observed; what the parent reads back."""
    from facegan_video.memory import reuse_large_buffers

    reuse_large_buffers()
    if kind == "extract":
        from facegan_video.extract import extract

        source, csv_path, frames = args
        run = common.observe(lambda obs: extract(source, csv_path, max_frames=int(frames) or None, quiet=True,
                                                 observers=obs))
        return _summary(run)
    if kind == "reenact":
        from facegan_video.reenactment import ReenactOptions, reenact

        source, driving, output = args
        run = common.observe(lambda obs: reenact(Path(source), Path(driving), Path(output),
                                                 options=ReenactOptions(quiet=True), observers=obs))
        return _summary(run)
    if kind == "encode":
        return _encode_floor(Path(args[0]), int(args[1]), Path(args[2]))
    raise ValueError(kind)


def _encode_floor(reenacted: Path, frames: int, output: Path) -> dict[str, Any]:
    """Encode ``frames`` frames of ``reenacted`` (its first ``FLOOR_FRAMES``, forth and back) with plain
    PyAV libx264 at the writer's preset and CRF, then with ``VideoWriter`` (timed by its ``encode``
    events). Decoding the frames to encode is not counted."""
    import inspect

    import av

    from facegan_video.observe import Observers
    from facegan_video.video import VideoWriter, open_video

    with open_video(reenacted, max_frames=FLOOR_FRAMES) as src:
        pictures = [f.image for f in src]
    cycle = pictures + pictures[::-1]
    defaults = inspect.signature(VideoWriter).parameters
    options = {"crf": str(defaults["crf"].default), "preset": defaults["preset"].default}
    start = time.perf_counter()
    with av.open(str(output), "w") as container:
        stream = container.add_stream("libx264", rate=30, options=options)
        stream.height, stream.width = pictures[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(cycle[i % len(cycle)], format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    plain = time.perf_counter() - start
    times = common.StageTimes()
    with VideoWriter(output, 30.0, observers=Observers([times])) as writer:
        for i in range(frames):
            writer.write(cycle[i % len(cycle)])
    return {"call_wall": plain, "writer_wall": times.seconds["encode"], "frames": frames, "setup": {},
            "stages": {"plain libx264": plain, "VideoWriter": times.seconds["encode"]}, "calls": {}, "floor": True}


def _in_fresh_process(kind: str, *args: str | Path) -> dict[str, Any]:
    """``child(kind, *args)`` in a new interpreter; adds its whole wall time as ``process_wall``."""
    code = "import json, sys; from benchmarks.bench_inputs import child; print(json.dumps(child(*sys.argv[1:])))"
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, kind, *map(str, args)], capture_output=True, text=True,
                          cwd=common.REPO_ROOT, check=False)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{kind} {args} failed:\n{proc.stderr.strip()}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall"] = wall
    return result


# --------------------------------------------------------------------------- the cases


def _best(runs: list[dict[str, Any]], key: str = "process_wall") -> dict[str, Any]:
    best = min(runs, key=lambda r: r[key])
    return {**best, "runs_wall": [r[key] for r in runs]}


def _ratio(a: tuple, b, b_key: str, repeats: int, log, label: str) -> dict[str, Any]:
    """Runs of A (its process wall) and B (``b(run_a)``'s ``b_key``) in turn; the best of each and their ratio."""
    runs_a, runs_b = [], []
    for i in range(repeats):
        runs_a.append(_in_fresh_process(*a))
        runs_b.append(_in_fresh_process(*b(runs_a[-1])))
        log(f"  {label} {i + 1}/{repeats}: {runs_a[-1]['process_wall']:.2f} s vs {runs_b[-1][b_key]:.2f} s")
    best_a, best_b = _best(runs_a), _best(runs_b, b_key)
    walls = (best_a["process_wall"], best_b[b_key])
    return {"a": best_a, "b": best_b, "walls": walls, "value": walls[0] / walls[1]}


def bench_faceless(tmp: Path, repeats: int, log) -> dict[str, Any]:
    from facegan_video.sample_media import faceless_clip

    clip = faceless_clip(tmp, frames=150, size=512)
    result = _ratio(("extract", clip, tmp / "faceless.csv", 0), lambda _: ("extract", CLIP, tmp / "lp_d3.csv", 150),
                    "process_wall", repeats, log, "faceless vs lp_d3")
    return {**result, "what": "extract, 150 faceless 512x512 frames / 150 frames of lp_d3, start-up included"}


def bench_portrait(tmp: Path, repeats: int, log) -> dict[str, Any]:
    result = _ratio(("reenact", PORTRAIT, CLIP, tmp / "portrait.mp4"),
                    lambda run: ("encode", tmp / "portrait.mp4", run["frames"], tmp / "floor.mp4"), "call_wall",
                    repeats, log, "portrait reenact vs encoding alone")
    return {**result, "what": "reenact lp_s2.jpg (2048x2048) x lp_d3 (300 frames), start-up included / libx264 "
                              "encoding of as many 2048x2048 frames"}


def bench_rate(kind: str, tmp: Path, repeats: int, log) -> dict[str, Any]:
    from facegan_video.sample_media import astronaut_png

    args = (CLIP, tmp / "rate.csv", 0) if kind == "extract" else (astronaut_png(tmp), CLIP, tmp / "rate.mp4")
    runs = []
    for i in range(repeats):
        runs.append(_in_fresh_process(kind, *args))
        log(f"  {kind} {i + 1}/{repeats}: {runs[-1]['frames'] / runs[-1]['process_wall']:.1f} frames/s")
    best = _best(runs)
    what = "extract lp_d3.mp4" if kind == "extract" else "reenact astronaut.png x lp_d3.mp4"
    return {"a": best, "walls": (best["process_wall"],), "value": best["frames"] / best["process_wall"],
            "what": f"{what}, frames/s incl. start-up"}


# --------------------------------------------------------------------------- reporting


def _split(run: dict[str, Any]) -> str:
    """Where a run's time went: start-up outside the call, setup, and the biggest stages."""
    parts = [] if run.get("floor") else [f"start-up {run['process_wall'] - run['call_wall']:.2f}"]
    parts += [f"{k} {v:.2f}" for k, v in run["setup"].items() if v >= 0.01]
    top = sorted(((v, k) for k, v in run["stages"].items() if k != "analysis"), reverse=True)[:4]
    parts += [f"{k} {v:.2f}" for v, k in top]
    return ", ".join(parts)


def _rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, case in results["cases"].items():
        kind, target = TARGETS[name]
        value = f"{case['value']:.2f}x" if kind == "ratio" else f"{case['value']:.1f} frames/s"
        goal = f"<= {target}x" if kind == "ratio" else f">= {target:.0f}"
        met = case["value"] <= target if kind == "ratio" else case["value"] >= target
        walls = " vs ".join(f"{w:.2f} s" for w in case["walls"])
        split = _split(case["a"]) + (f" | {_split(case['b'])}" if "b" in case else "")
        rows.append([name, case["what"], walls, value, goal, "yes" if met else "NO", split])
    return rows


COLUMNS = ["case", "what", "wall (best)", "result", "target", "met", "where the time went (s)"]


def print_report(results: dict[str, Any]) -> None:
    out = common.console(180)
    out.print(common.rich_table("real-world inputs (each call in a fresh process)", COLUMNS, _rows(results),
                                left=["case", "what", "where the time went (s)"]))
    out.print(common.machine_line(results))


def markdown_tables(results: dict[str, Any]) -> str:
    lines = [common.md_row(COLUMNS), "|---|---|---:|---:|---:|---|---|"]
    lines += [common.md_row(row) for row in _rows(results)]
    return "\n".join(lines) + "\n\n" + common.machine_line(results) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.argument_parser("bench_inputs", __doc__)
    parser.add_argument("cases", nargs="*", metavar="CASE", help=f"which cases ({', '.join(CASES)}; default all)")
    args = common.parse_args(parser, argv)
    if unknown := sorted(set(args.cases) - set(CASES)):
        parser.error(f"unknown case {', '.join(unknown)}: choose from {', '.join(CASES)}")
    log = common.logger(args.quiet)
    for needed in (CLIP, PORTRAIT):
        if not needed.is_file():
            raise SystemExit(f"{needed} is missing: the shared talking-head data must be beside the repository")
    results: dict[str, Any] = {**common.run_header("inputs"), "settings": {"repeats": args.repeats}, "cases": {}}
    with tempfile.TemporaryDirectory(prefix="bench-inputs-") as tmp:
        for name in args.cases or CASES:
            log(f"{name} ...")
            repeats = min(args.repeats, 2) if name == "portrait" else args.repeats
            if name == "faceless":
                results["cases"][name] = bench_faceless(Path(tmp), repeats, log)
            elif name == "portrait":
                results["cases"][name] = bench_portrait(Path(tmp), repeats, log)
            else:
                results["cases"][name] = bench_rate(name, Path(tmp), repeats, log)
    results["loadavg_at_end"] = common.loadavg()
    common.report(results, args, print_report, markdown_tables)
    return results


if __name__ == "__main__":
    main()
