"""Screenshots of the web app's three tabs for docs/ui.md: the app started with ``facegan-video ui``
on a free 127.0.0.1 port, driven in Debian's headless Chromium as a person would use it.

    python docs/ui/make_screenshots.py          # writes docs/ui/{edit,reenact,analyse}.png

Each PNG is reduced to a 256-colour palette so it stays under ~300 KB.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, sync_playwright

from facegan_video.sample_media import astronaut_png, carphone_path
from facegan_video.ui.local import local_app

HERE = Path(__file__).resolve().parent
VIEWPORT = {"width": 1280, "height": 1000}


def save(page: Page, name: str, **options) -> None:
    shot = Image.open(io.BytesIO(page.screenshot(**options))).convert("RGB")
    shot.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(HERE / name, optimize=True)
    print(f"{HERE / name}: {(HERE / name).stat().st_size // 1024} KB")


def set_slider(page: Page, elem_id: str, value: float) -> None:
    """Type a value into the slider's number box and leave it (Tab), which releases the slider."""
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(str(value))
    box.press("Tab")


def edit_tab(page: Page, portrait: Path) -> None:
    page.locator("#edit-source input[type=file]").set_input_files(str(portrait))
    page.get_by_text("Face found").wait_for()
    for elem_id, value in (("slider-AU12", 5), ("slider-AU26", 2.5)):
        src = page.locator("#edit-preview img").get_attribute("src")
        set_slider(page, elem_id, value)
        page.wait_for_function("s => document.querySelector('#edit-preview img').src !== s", arg=src)
    page.wait_for_timeout(500)
    save(page, "edit.png")


def reenact_tab(page: Page, portrait: Path, clip: Path) -> None:
    page.get_by_role("tab", name="Reenact").click()
    page.locator("#reenact-source input[type=file]").set_input_files(str(portrait))
    page.locator("#reenact-driving input[type=file]").set_input_files(str(clip))
    page.get_by_text("Options").click()
    page.get_by_label("Side by side (source | driving | output)").check()
    page.locator("#reenact-max-frames input").fill("60")
    page.locator("#reenact-run").click()
    page.wait_for_function("() => { const v = document.querySelector('#reenact-result video');"
                           " return v && v.readyState >= 2; }")
    page.locator("#reenact-result video").evaluate("v => { v.currentTime = 1.2; }")
    page.get_by_text("Options").click()  # folded again, so the whole tab fits the picture
    page.wait_for_timeout(800)
    save(page, "reenact.png", full_page=True)


def analyse_tab(page: Page, clip: Path) -> None:
    page.get_by_role("tab", name="Analyse").click()
    page.locator("#analyse-video input[type=file]").set_input_files(str(clip))
    page.locator("#analyse-run").click()
    page.locator("#analyse-plot img").wait_for()
    page.wait_for_timeout(800)
    save(page, "analyse.png")


def main() -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("Debian's chromium is needed: apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="ui-shots-") as tmp, local_app(Path(tmp) / "app.log") as app, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(120_000)
        page.goto(app.url)
        portrait = astronaut_png(Path(tmp))
        edit_tab(page, portrait)
        reenact_tab(page, portrait, carphone_path())
        analyse_tab(page, carphone_path())
        browser.close()


if __name__ == "__main__":
    main()
