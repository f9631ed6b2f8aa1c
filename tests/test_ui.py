"""The running web app through its named API endpoints, called with gradio_client as a script would."""

from __future__ import annotations

import csv
from pathlib import Path
from urllib.parse import urlparse

import cv2
import pytest
from clihelp import assert_clean_error, cli
from uihelp import FRAMES, Landmarks, first_frames, lip_gap, require

from facegan_video.video import open_video, read_image

require("gradio")
require("gradio_client")

from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

from facegan_video.ui.local import local_app  # noqa: E402


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    with local_app(tmp_path_factory.mktemp("ui") / "app.log", "--max-upload-mb", "1") as running:
        yield running
    assert not running.root.exists(), "the app's temporary folder outlived it"


@pytest.fixture
def client(app, tmp_path: Path) -> Client:
    return Client(app.url, download_files=str(tmp_path), verbose=False)


@pytest.fixture(scope="module")
def clip(carphone_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return first_frames(carphone_path, tmp_path_factory.mktemp("clip") / "carphone30.mp4")


def test_edit_au26_opens_the_mouth(client: Client, astronaut_png: Path):
    out = client.predict(handle_file(str(astronaut_png)), "AU26=+3", api_name="/edit")
    source, edited = read_image(astronaut_png), read_image(out)
    assert edited.shape == source.shape
    landmarks = Landmarks()
    before, after = lip_gap(landmarks(source)), lip_gap(landmarks(edited))
    assert after > before + 0.08, (before, after)


def test_edit_errors_are_one_line_messages(client: Client, astronaut_png: Path, tmp_path: Path):
    with pytest.raises(AppError, match=r"unknown AU 'AU99'; known AUs: AU01"):
        client.predict(handle_file(str(astronaut_png)), "AU99=+1", api_name="/edit")
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), 128 * (cv2.imread(str(astronaut_png)) > 300).astype("uint8") + 128)
    with pytest.raises(AppError, match="no face found in the uploaded image"):
        client.predict(handle_file(str(blank)), "AU12=+2", api_name="/edit")


def test_reenact_has_the_drivers_frame_count(client: Client, astronaut_png: Path, clip: Path):
    out = client.predict(handle_file(str(astronaut_png)), handle_file(str(clip)), "relative", api_name="/reenact")
    with open_video(out) as video, open_video(clip) as driving:
        assert video.info.frame_count == driving.info.frame_count == FRAMES
        assert (video.info.width, video.info.height) == (512, 512)
        assert sum(1 for _ in video) == FRAMES


def test_reenact_rejects_an_unknown_motion_mode(client: Client, astronaut_png: Path, clip: Path):
    with pytest.raises(AppError, match="sideways"):
        client.predict(handle_file(str(astronaut_png)), handle_file(str(clip)), "sideways", api_name="/reenact")


def test_analyse_gives_one_csv_row_per_frame_and_a_plot(client: Client, clip: Path):
    table, plot = client.predict(handle_file(str(clip)), api_name="/analyse")
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f, skipinitialspace=True))  # OpenFace writes ", "
    assert [int(r["frame"]) for r in rows] == list(range(1, FRAMES + 1))
    assert all(r["success"] == "1" for r in rows)
    assert {"AU12_r", "AU26_r", "pose_Rx", "x_67"} <= set(rows[0])
    image = read_image(plot)
    assert image.shape[0] > 200 and image.shape[1] > 200 and image.std() > 10


def test_analyse_of_an_unreadable_file_is_a_message(client: Client, tmp_path: Path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 100)
    with pytest.raises(AppError, match="cannot read"):
        client.predict(handle_file(str(junk)), api_name="/analyse")


def test_a_taken_port_is_a_one_line_error(app):
    port = urlparse(app.url).port
    assert_clean_error(cli("ui", "--port", port, timeout=180), f"cannot serve on 127.0.0.1:{port}")


def test_the_server_refuses_uploads_over_the_limit(app):
    import httpx  # Gradio's own HTTP client

    big = ("big.mp4", b"\0" * (3 * 2**20 // 2), "video/mp4")  # 1.5 MiB against --max-upload-mb 1
    reply = httpx.post(f"{app.url}gradio_api/upload", files={"files": big}, timeout=30)
    assert reply.status_code == 413, reply.text
