"""The web app in a real headless Chromium (Debian's, driven by Playwright; no browser download): what
a person does on each tab, and what they would see."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from uihelp import FRAMES, Landmarks, require

from facegan_video.video import open_video, read_image

require("gradio")
require("playwright")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).is_file():
    pytest.skip("Debian's chromium is not installed: apt-get install -y chromium", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from facegan_video.ui.local import local_app  # noqa: E402

TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    # a 1 s heartbeat, so the app notices a closed tab within seconds (Gradio's default is 15 s)
    with local_app(tmp_path_factory.mktemp("ui") / "app.log", "--max-upload-mb", "1",
                   env={"GRADIO_HEARTBEAT_INTERVAL": "1"}) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(app, browser) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app.url)
    yield page
    page.close()


def preview(page: Page) -> tuple[str, np.ndarray]:
    """The preview's URL and its pixels, as the browser fetched them."""
    src = page.locator("#edit-preview img").get_attribute("src")
    body = page.request.get(src).body()
    return src, cv2.cvtColor(cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def drag_slider(page: Page, elem_id: str, fraction: float) -> None:
    """Press on the slider's knob area and drag it to ``fraction`` of its track, as a person does."""
    track = page.locator(f"#{elem_id} input[type=range]")
    track.scroll_into_view_if_needed()
    box = track.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.5, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * fraction, y, steps=8)
    page.mouse.up()


def test_au12_slider_changes_the_mouth_corners(page: Page, astronaut_png: Path, tmp_path: Path):
    page.locator("#edit-source input[type=file]").set_input_files(str(astronaut_png))
    expect(page.locator("#edit-status")).to_contain_text("Face found")
    number = page.locator("#slider-AU12 input[type=number]")
    measured = float(number.input_value())
    assert 0 < measured < 5  # the slider starts at the value measured on the portrait
    before_src, before = preview(page)
    drag_slider(page, "slider-AU12", 1.0)
    expect(number).to_have_value("5")
    page.wait_for_function("s => document.querySelector('#edit-preview img').src !== s", arg=before_src)
    _, after = preview(page)

    lm = Landmarks()(read_image(astronaut_png))

    def change(x: float, y: float, r: int = 14) -> float:
        x, y = int(round(x)), int(round(y))
        return float(np.abs(after[y - r:y + r, x - r:x + r].astype(int) - before[y - r:y + r, x - r:x + r]).mean())

    corners = [change(*lm[48]), change(*lm[54])]
    far = change(40, 40)  # the flag in the top-left corner, far from the face
    assert min(corners) > 2.0 and far < 0.5, (corners, far)
    shot = tmp_path / "edit.png"
    page.screenshot(path=str(shot))
    assert read_image(shot).shape[1] == 1280


def test_reenact_of_30_carphone_frames_plays(page: Page, app, astronaut_png: Path, carphone_path: Path,
                                              tmp_path: Path):
    page.get_by_role("tab", name="Reenact").click()
    page.locator("#reenact-source input[type=file]").set_input_files(str(astronaut_png))
    page.locator("#reenact-driving input[type=file]").set_input_files(str(carphone_path))
    page.get_by_text("Options").click()
    page.locator("#reenact-max-frames input").fill(str(FRAMES))
    page.locator("#reenact-run").click()
    video = page.locator("#reenact-result video")
    expect(video).to_be_attached()
    # playable: the browser decodes it, knows its size and length, and plays it forward
    page.wait_for_function("() => document.querySelector('#reenact-result video').readyState >= 2")
    width, duration = video.evaluate("v => [v.videoWidth, v.duration]")
    assert width == 512 and duration == pytest.approx(FRAMES / 29.97, abs=0.1)
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.querySelector('#reenact-result video').currentTime > 0.2")
    page.screenshot(path=str(tmp_path / "reenact.png"))

    src = video.get_attribute("src")
    out = tmp_path / "result.mp4"
    out.write_bytes(page.request.get(src).body())
    with open_video(out) as clip:
        assert clip.info.frame_count == FRAMES
    # the result was written into this tab's session folder, which goes when the tab closes
    [written] = list(app.root.glob("session-*/reenact-*.mp4"))
    page.close()
    deadline = time.monotonic() + 30
    while written.parent.exists() and time.monotonic() < deadline:
        time.sleep(0.25)
    assert not written.parent.exists()


def test_a_photo_without_a_face_says_so_in_the_page(page: Page, tmp_path: Path):
    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((256, 256, 3), 180, np.uint8))
    page.locator("#edit-source input[type=file]").set_input_files(str(blank))
    message = page.get_by_text("no face found in the uploaded image")
    expect(message.first).to_be_visible()
    assert "Traceback" not in page.content()


def test_analyse_tab_shows_the_plot_and_csv(page: Page, carphone_path: Path, tmp_path: Path):
    page.get_by_role("tab", name="Analyse").click()
    page.locator("#analyse-video input[type=file]").set_input_files(str(carphone_path))
    page.locator("#analyse-run").click()
    expect(page.locator("#analyse-plot img")).to_be_visible()
    expect(page.locator("#analyse-csv")).to_contain_text("carphone_pristine")


def test_an_upload_over_the_limit_is_refused_in_the_page(page: Page, tmp_path: Path):
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\0" * (3 * 2**20 // 2))  # 1.5 MiB against --max-upload-mb 1
    page.get_by_role("tab", name="Analyse").click()
    page.locator("#analyse-video input[type=file]").set_input_files(str(big))
    expect(page.get_by_text("exceed the maximum allowed size").first).to_be_visible()
