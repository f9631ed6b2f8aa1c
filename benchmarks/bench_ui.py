"""Slider-to-preview latency of ``facegan-video ui`` on the 512x512 astronaut (target: median <= 300 ms
on 2 CPU cores).

Run from the repository root (needs the ``ui`` extra; the browser row also Playwright and Debian's
``chromium``)::

    python -m benchmarks.bench_ui                     # 30 slider changes per row
    python -m benchmarks.bench_ui --changes 50 --json out/bench_ui.json

Three rows, each the median (and 90th percentile) over ``--changes`` changes of the AU12 slider
after one warm-up change:

- ``server``: what the app's slider handler does, in this process: the motion of the 20 slider
  values, ``Editor.render`` (landmark transformer -> warp -> blend), ``Session.preview`` (the PNG)
  and ``gr.Image.postprocess``, the call Gradio makes on the handler's result (a copy into its cache).
- ``browser``: a real slider release in headless Chromium against the app started with
  ``facegan-video ui`` on a free 127.0.0.1 port: from the pointer release to the new preview image's
  ``load`` event, timed in the page (the release event, the queue, rendering, encoding, the fetch
  and the decode).
- ``api``: a ``gradio_client`` round trip of ``/edit(image, "AU12=...")`` to the same app: upload of
  the 454 KB PNG, the (cached) source, rendering, encoding and the download of the result.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from facegan_video.provenance import git_commit
from facegan_video.sample_media import astronaut_png
from facegan_video.types import AU_NAMES

AU12 = AU_NAMES.index("AU12")
TARGET_MS = 300.0


def summary(ms: list[float]) -> dict[str, Any]:
    return {"median_ms": statistics.median(ms), "p90_ms": float(np.percentile(ms, 90)), "changes": len(ms),
            "runs_ms": [round(v, 1) for v in ms]}


def bench_server(image_path: Path, changes: int, cache: Path) -> dict[str, Any]:
    """The slider handler's work in process: motion_of -> Editor.render -> Session.preview -> gr.Image.postprocess."""
    os.environ["GRADIO_TEMP_DIR"] = str(cache)
    import gradio as gr

    from facegan_video.plugins import load_registry
    from facegan_video.ui.editing import Editor, motion_of, slider_values
    from facegan_video.ui.session import Session
    from facegan_video.video import read_image

    (cache / "session").mkdir(parents=True)
    editor, session = Editor(load_registry()), Session(cache / "session")
    source = editor.source(session, read_image(image_path))
    output = gr.Image(type="filepath", interactive=False)
    values = slider_values(source.face.motion)
    times = []
    for i in range(changes + 1):
        values[AU12] = 1.0 + 3.0 * (i % 2) + 0.01 * i  # a new value each time, as a dragged slider gives
        t0 = time.perf_counter()
        output.postprocess(session.preview(editor.render(source, motion_of(source, values), session.background)))
        if i:  # the first change is the warm-up
            times.append(1e3 * (time.perf_counter() - t0))
    return summary(times)


def bench_browser(url: str, image_path: Path, changes: int) -> dict[str, Any] | str:
    """Real slider releases in headless Chromium, timed in the page from pointer-up to the new preview's load."""
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "skipped: playwright is not installed"
    if chromium is None:
        return "skipped: Debian's chromium is not installed"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(url)
        page.locator("#edit-source input[type=file]").set_input_files(str(image_path))
        page.wait_for_selector("#edit-preview img")
        page.evaluate("""() => {
            document.addEventListener('pointerup', () => { window.__released = performance.now(); }, true);
            document.addEventListener('load', e => {
                if (e.target.closest && e.target.closest('#edit-preview')) window.__loaded = performance.now();
            }, true);
        }""")
        track = page.locator("#slider-AU12 input[type=range]")
        track.scroll_into_view_if_needed()
        box = track.bounding_box()
        y = box["y"] + box["height"] / 2
        times = []
        for i in range(changes + 1):
            page.evaluate("() => { window.__loaded = null; }")
            src = page.locator("#edit-preview img").get_attribute("src")
            page.mouse.click(box["x"] + box["width"] * (0.25 + 0.5 * (i % 2) + 0.002 * i), y)
            page.wait_for_function("s => window.__loaded && document.querySelector('#edit-preview img').src !== s",
                                   arg=src)
            if i:
                times.append(page.evaluate("() => window.__loaded - window.__released"))
        browser.close()
    return summary(times)


def bench_api(url: str, image_path: Path, changes: int, downloads: Path) -> dict[str, Any]:
    from gradio_client import Client, handle_file

    client = Client(url, download_files=str(downloads), verbose=False)
    times = []
    for i in range(changes + 1):
        t0 = time.perf_counter()
        client.predict(handle_file(str(image_path)), f"AU12={1.0 + 3.0 * (i % 2) + 0.01 * i:.2f}", api_name="/edit")
        if i:
            times.append(1e3 * (time.perf_counter() - t0))
    return summary(times)


def header() -> dict[str, Any]:
    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    return {"benchmark": "ui", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                        "loadavg_at_start": [round(v, 2) for v in os.getloadavg()]},
            "versions": {d: version(d) for d in ("gradio", "gradio_client", "playwright", "numpy", "dlib-bin")},
            "git": git_commit(), "image": "astronaut 512x512", "target_median_ms": TARGET_MS}


def main() -> None:
    from facegan_video.ui.local import local_app

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=30, help="timed slider changes per row (after one warm-up)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    results = header()
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        folder = Path(tmp)
        image = astronaut_png(folder)
        results["server"] = bench_server(image, args.changes, folder / "cache")
        with local_app(folder / "app.log") as app:
            results["browser"] = bench_browser(app.url, image, args.changes)
            results["api"] = bench_api(app.url, image, args.changes, folder / "downloads")
    print(f"slider-to-preview latency, {results['image']}, {results['machine']['cpu_count']} CPUs, "
          f"load {results['machine']['loadavg_at_start']}, commit {results['git']['commit']}")
    print("| path | median ms | p90 ms | changes |\n|---|---:|---:|---:|")
    for row in ("server", "browser", "api"):
        r = results[row]
        print(f"| {row} | {r} | | |" if isinstance(r, str) else
              f"| {row} | {r['median_ms']:.0f} | {r['p90_ms']:.0f} | {r['changes']} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
