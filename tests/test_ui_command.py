"""`facegan-video ui` without a browser: the command without Gradio, bad options, and the per-session
store and edit parsing the app is built on (these need no Gradio either)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from clihelp import assert_clean_error, cli

from facegan_video.config import AnalysisConfig
from facegan_video.errors import ConfigError
from facegan_video.motion import POSE_AXES, au_index
from facegan_video.plugins import load_registry
from facegan_video.sample_media import astronaut
from facegan_video.ui.editing import Editor, motion_of, parse_changes, slider_values
from facegan_video.ui.session import Session, Sessions

WITHOUT_GRADIO = ("import sys; sys.modules['gradio'] = None  # as if the ui extra were not installed\n"
                  "from facegan_video.cli import main; sys.argv = ['facegan-video', 'ui']; main()")


def test_ui_without_gradio_says_how_to_install_it():
    proc = subprocess.run([sys.executable, "-c", WITHOUT_GRADIO], capture_output=True, text=True, timeout=120)
    assert_clean_error(proc, "pip install 'facegan-video[ui]'")


def test_loading_the_plugins_does_not_import_gradio():
    code = ("import sys; from facegan_video.plugins import load_registry; load_registry(); "
            "print('gradio' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert proc.stdout.strip() == "False"


def test_ui_is_listed_with_its_options():
    proc = cli("ui", "--help", check=True, timeout=120)
    for option in ("--host", "--port", "--max-upload-mb", "127.0.0.1"):
        assert option in proc.stdout


@pytest.mark.parametrize("args, words", [(["--port", "70000"], ["--port", "70000"]),
                                         (["--max-upload-mb", "0"], ["--max-upload-mb"])])
def test_bad_options_are_one_line_errors(args, words):
    assert_clean_error(cli("ui", *args, timeout=120), *words)


def test_session_folders_go_with_their_session(tmp_path: Path):
    sessions = Sessions(tmp_path / "root", capacity=2)
    a, b = sessions.get("a"), sessions.get("b")
    assert sessions.get("a") is a and a.folder.parent == sessions.root and a.folder != b.folder
    a.output("reenact", ".mp4").write_bytes(b"x")
    sessions.close("a")
    assert not a.folder.exists() and b.folder.exists() and "a" not in sessions
    sessions.get("c"), sessions.get("d")  # over capacity: the least recently used (b) is closed
    assert not b.folder.exists() and "b" not in sessions
    sessions.close_all()
    assert not sessions.root.exists()


def test_changes_use_the_cli_syntax():
    edits = parse_changes("AU12=+2, AU26 = +1  yaw=+0.1; AU45=5")
    assert [(e.index, e.relative, e.value) for e in edits] == [
        (au_index("AU12"), True, 2.0), (au_index("AU26"), True, 1.0), (POSE_AXES["yaw"], True, 0.1),
        (au_index("AU45"), False, 5.0)]
    for text, words in (("", "no changes given"), ("yaw=+2", "out of range"), ("AU12+2", "bad AU edit")):
        with pytest.raises(ConfigError, match=words):
            parse_changes(text)


@pytest.fixture(scope="module")
def editor() -> Editor:
    return Editor(load_registry(), AnalysisConfig())


def test_a_source_is_analysed_once_per_session(editor: Editor, tmp_path: Path):
    session, image = Session(tmp_path), astronaut()
    first = editor.source(session, image)
    assert editor.source(session, image.copy()) is first and session.current is first
    # sliders left where they started render the measured face exactly; a moved one changes only its value
    start = slider_values(first.face.motion)
    assert np.array_equal(motion_of(first, start), first.face.motion)
    moved = list(start)
    moved[au_index("AU12")] = 5.0
    diff = motion_of(first, moved) - first.face.motion
    assert np.flatnonzero(diff).tolist() == [au_index("AU12")]


def test_a_sweep_is_a_video_of_the_frames_asked_for(editor: Editor, tmp_path: Path):
    from facegan_video.video import open_video

    session = Session(tmp_path)
    with pytest.raises(ConfigError, match="no portrait yet"):
        editor.sweep(session, "AU26", 0, 4, 12, [0.0] * 20)
    source = editor.source(session, astronaut())
    path = editor.sweep(session, "AU26", 0, 4, 12, slider_values(source.face.motion))
    assert path.parent == tmp_path
    with open_video(path) as video:
        assert video.info.frame_count == 12 and (video.info.width, video.info.height) == (512, 512)
