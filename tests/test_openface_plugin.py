"""The facegan-video-openface plugin, against a real executable stand-in for FeatureExtraction.

The stand-in is a Python script (shebang, chmod +x) that checks FeatureExtraction's argument list
and writes a genuine OpenFace-format CSV, holding the landmarks, AUs and pose the project's own
dlib pipeline finds on skimage's astronaut, in each header variant OpenFace has used.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("facegan_video_openface")
skimage_data = pytest.importorskip("skimage.data")

from clihelp import cli  # noqa: E402

from facegan_video.errors import BackendUnavailableError, ConfigError, FaceganError  # noqa: E402
from facegan_video.extract_output import CsvWriter  # noqa: E402
from facegan_video.openface_csv import parse_openface_csv, parse_openface_text  # noqa: E402
from facegan_video.plugins import load_registry  # noqa: E402
from facegan_video.types import AU_NAMES, FaceRecord  # noqa: E402
from facegan_video_openface import plugin as of_plugin  # noqa: E402
from facegan_video_openface.runner import (  # noqa: E402
    ENV_VAR,
    OpenFaceError,
    find_binary,
    run_feature_extraction,
)

STANDIN = r'''#!/usr/bin/env python3
"""Stand-in for OpenFace 2.x FeatureExtraction: checks its arguments, writes <stem>.csv."""
import json, os, sys, time
from pathlib import Path

CSV = Path(__CSV__)
LOG = Path(__LOG__)
args = sys.argv[1:]
with LOG.open("a") as f:
    f.write(json.dumps(args) + "\n")
mode = os.environ.get("STANDIN_MODE", "")
if mode == "fail":
    sys.stderr.write("Loading the model\nCould not find the landmark detection model\nERROR: exiting\n")
    sys.exit(3)
if mode == "sleep":
    time.sleep(60)
inputs, out_dir, flags, i = [], None, set(), 0
while i < len(args):
    a = args[i]
    if a in ("-f", "-fdir"):
        inputs.append((a, Path(args[i + 1]))); i += 2
    elif a == "-out_dir":
        out_dir = Path(args[i + 1]); i += 2
    elif a in ("-2Dfp", "-pose", "-aus"):
        flags.add(a); i += 1
    else:
        sys.exit(f"unknown argument {a!r}")
if not inputs or out_dir is None or flags != {"-2Dfp", "-pose", "-aus"}:
    sys.exit(f"bad arguments: {args!r}")
out_dir.mkdir(parents=True, exist_ok=True)
text = CSV.read_text()
for kind, path in inputs:
    if not path.exists():
        sys.exit(f"no such input {path}")
    if kind == "-f":
        out = text
    else:  # one image folder: the template's first row for every image, then a failed row
        lines = text.splitlines()
        header, first = lines[0], lines[1]
        sep = ", " if ", " in header else ","
        names = [n.strip() for n in header.split(",")]
        fi, si = names.index("frame"), names.index("success")
        images = sorted(p for p in path.iterdir() if p.suffix.lower() in (".png", ".jpg", ".bmp"))
        rows = []
        for k, _ in enumerate(images):
            fields = [v.strip() for v in first.split(",")]
            fields[fi] = str(k + 1)
            rows.append(sep.join(fields))
        fields = ["0"] * len(names)
        fields[fi] = str(len(images) + 1)
        rows.append(sep.join(fields))
        out = "\n".join([header] + rows) + "\n"
    (out_dir / f"{path.stem}.csv").write_text(out)
'''


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return skimage_data.astronaut()


@pytest.fixture(scope="module")
def astronaut_face(astronaut):
    """The project's dlib pipeline on the astronaut: one FaceRecord with landmarks, AUs and pose."""
    from facegan_video.analysis.pipeline import FaceAnalyzer
    from facegan_video.config import AnalysisConfig
    from facegan_video.video.reader import Frame

    analyzer = FaceAnalyzer(AnalysisConfig(faces="largest"))
    (_, records), = list(analyzer.run([Frame(0, 0.0, astronaut)]))
    assert len(records) == 1 and records[0].success and records[0].analysis is not None
    return records[0]


@pytest.fixture(scope="module")
def csv_22(astronaut_face, tmp_path_factory) -> str:
    """OpenFace 2.2 variant (", " separators, face_id) written by the project's CsvWriter:
    frame 1 the real face, frame 2 failed (success 0), frame 3 the face with stronger AUs."""
    import copy

    failed = FaceRecord(1, 1 / 30, 0, astronaut_face.box, astronaut_face.landmarks, None, success=False)
    stronger = copy.deepcopy(astronaut_face)
    stronger.frame, stronger.timestamp = 2, 2 / 30
    stronger.analysis.aus = np.clip(stronger.analysis.aus + 1.0, 0, 5)
    path = tmp_path_factory.mktemp("csv") / "astronaut.csv"
    with CsvWriter(path) as writer:
        for record in (astronaut_face, failed, stronger):
            writer.write(record)
    return path.read_text()


def _variant(text_22: str, variant: str) -> str:
    """The same data under another OpenFace header variant."""
    rows = [[f.strip() for f in line.split(",")] for line in text_22.splitlines() if line.strip()]
    if variant == "2.2":
        return text_22
    if variant == "nospace":
        return "\n".join(",".join(r) for r in rows) + "\n"
    if variant == "2.0":  # no face_id; extra gaze and AU-presence columns as OpenFace 2.0 writes them
        header = rows[0]
        fid = header.index("face_id")
        out = []
        for k, r in enumerate(rows):
            r = r[:fid] + r[fid + 1:]
            success = r[3]
            extra = ["gaze_0_x", "gaze_0_y", "gaze_0_z"] if k == 0 else ["0.1", "-0.2", "-0.97"]
            tail = ["AU01_c", "AU45_c"] if k == 0 else [success, "0"]
            out.append(r[:4] + extra + r[4:] + tail)
        return "\n".join(", ".join(r) for r in out) + "\n"
    raise AssertionError(variant)


VARIANTS = ["2.0", "2.2", "nospace"]


def _write_standin(directory: Path, csv_text: str, name: str = "FeatureExtraction") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    template = directory / "template.csv"
    template.write_text(csv_text)
    script = directory / name
    log = directory / "argv.log"
    script.write_text(STANDIN.replace("__CSV__", repr(str(template))).replace("__LOG__", repr(str(log))))
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


def _argv_log(script: Path) -> list[list[str]]:
    log = script.parent / "argv.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.delenv("STANDIN_MODE", raising=False)
    of_plugin.CACHE.clear()
    yield
    of_plugin.CACHE.clear()


# ---------------------------------------------------------------- CSV parsing


def _assert_same(a, b):
    assert len(a) == len(b)
    for ra, rb in zip(a, b):
        assert (ra.frame, ra.face_id) == (rb.frame, rb.face_id)
        assert ra.timestamp == pytest.approx(rb.timestamp) and ra.confidence == pytest.approx(rb.confidence)
        for field in ("landmarks", "aus", "pose_r", "pose_t"):
            np.testing.assert_array_equal(getattr(ra, field), getattr(rb, field))


@pytest.mark.parametrize("variant", VARIANTS)
def test_parse_variants_identical(csv_22, astronaut_face, variant, tmp_path):
    path = tmp_path / f"{variant}.csv"
    path.write_text(_variant(csv_22, variant))
    rows = parse_openface_csv(path)
    assert [r.frame for r in rows] == [1, 3]  # the success == 0 row (frame 2) is dropped
    _assert_same(rows, parse_openface_text(csv_22))
    first = rows[0]
    a = astronaut_face.analysis
    assert first.landmarks.shape == (68, 2) and first.aus.shape == (17,)
    np.testing.assert_allclose(first.landmarks, astronaut_face.landmarks, atol=0.051)
    np.testing.assert_allclose(first.aus, np.nan_to_num(a.aus), atol=0.0051)
    np.testing.assert_allclose(first.pose_r, a.pose_r, atol=0.00051)
    np.testing.assert_allclose(first.pose_t, a.pose_t, atol=0.051)
    assert first.confidence == pytest.approx(a.confidence, abs=0.0051)
    assert first.motion.shape == (20,)
    np.testing.assert_array_equal(first.motion, np.concatenate([first.aus, first.pose_r]))
    np.testing.assert_allclose(rows[1].aus, np.clip(first.aus + 1.0, 0, 5), atol=0.011)


def test_parse_maps_columns_by_name_not_position():
    names = ["frame", "face_id", "timestamp", "confidence", "success"] + [f"{n}_r" for n in AU_NAMES] + \
        ["pose_Rz", "pose_Ry", "pose_Rx"]
    values = ["4", "2", "0.1", "0.9", "1"] + [str(i / 10) for i in range(17)] + ["0.3", "0.2", "0.1"]
    (row,) = parse_openface_text(" , ".join(names) + "\n" + " ,".join(values) + "\n")
    assert (row.frame, row.face_id) == (4, 2)
    np.testing.assert_allclose(row.aus, np.arange(17) / 10, rtol=1e-6)
    np.testing.assert_allclose(row.pose_r, [0.1, 0.2, 0.3], rtol=1e-6)
    assert np.isnan(row.landmarks).all() and np.isnan(row.pose_t).all()


def test_parse_rejects_non_openface(tmp_path):
    from facegan_video.errors import MediaError

    with pytest.raises(MediaError, match="no frame, success column"):
        parse_openface_text("a, b\n1, 2\n")
    with pytest.raises(MediaError, match="not 3 numbers"):
        parse_openface_text("frame, success, x\n1, 1\n")
    with pytest.raises(MediaError, match="cannot read"):
        parse_openface_csv(tmp_path / "missing.csv")


# ---------------------------------------------------------------- binary resolution


def test_missing_binary_names_openface(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackendUnavailableError) as info:
        find_binary()
    message = str(info.value)
    assert "OpenFace" in message and "FeatureExtraction" in message and ENV_VAR in message
    assert "https://github.com/TadasBaltrusaitis/OpenFace" in message and "\n" not in message
    with pytest.raises(BackendUnavailableError, match="OpenFace"):
        find_binary(tmp_path / "nope")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nope"))
    with pytest.raises(BackendUnavailableError, match=ENV_VAR):
        find_binary()
    with pytest.raises(BackendUnavailableError, match="OpenFace"):
        of_plugin.OpenFaceAU()  # fails at construction, not at first use


def test_binary_resolution_order(monkeypatch, tmp_path, csv_22):
    on_path = _write_standin(tmp_path / "path dir", csv_22)
    in_env = _write_standin(tmp_path / "env", csv_22)
    in_opt = _write_standin(tmp_path / "opt", csv_22)
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert find_binary() == on_path
    monkeypatch.setenv(ENV_VAR, str(in_env))
    assert find_binary() == in_env
    assert find_binary(str(in_opt)) == in_opt
    assert find_binary(None) == in_env


# ---------------------------------------------------------------- running FeatureExtraction


def test_run_passes_argument_list(monkeypatch, tmp_path, csv_22):
    script = _write_standin(tmp_path / "bin", csv_22)
    video = tmp_path / "odd; name $(touch pwned)" / "my clip.mp4"
    video.parent.mkdir()
    video.write_bytes(b"\0")
    calls = []
    real_run = subprocess.run

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return real_run(*args, **kwargs)

    monkeypatch.setattr(subprocess, "run", spy)
    out = run_feature_extraction(script, [video], tmp_path / "out", timeout=60)
    (args, kwargs), = calls
    assert isinstance(args[0], list) and not kwargs.get("shell", False)
    assert _argv_log(script) == [["-f", str(video), "-out_dir", str(tmp_path / "out"), "-2Dfp", "-pose", "-aus"]]
    assert not (Path.cwd() / "pwned").exists() and not (video.parent / "pwned").exists()
    _assert_same(parse_openface_csv(out / "my clip.csv"), parse_openface_text(csv_22))


def test_run_folder_uses_fdir(tmp_path, csv_22):
    script = _write_standin(tmp_path / "bin", csv_22)
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "a.png").write_bytes(b"\0")
    run_feature_extraction(script, [frames], tmp_path / "out", timeout=60)
    assert _argv_log(script)[0][:2] == ["-fdir", str(frames)]
    assert (tmp_path / "out" / "frames.csv").is_file()


def test_nonzero_exit_reports_stderr_tail(monkeypatch, tmp_path, csv_22):
    script = _write_standin(tmp_path / "bin", csv_22)
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\0")
    monkeypatch.setenv("STANDIN_MODE", "fail")
    with pytest.raises(OpenFaceError) as info:
        run_feature_extraction(script, [video], tmp_path / "out", timeout=60)
    message = str(info.value)
    assert "exit code 3" in message and "Could not find the landmark detection model" in message
    assert "\n" not in message and isinstance(info.value, FaceganError)


def test_timeout_is_clear(monkeypatch, tmp_path, csv_22):
    script = _write_standin(tmp_path / "bin", csv_22)
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\0")
    monkeypatch.setenv("STANDIN_MODE", "sleep")
    with pytest.raises(OpenFaceError, match=r"did not finish within 1 s.*timeout"):
        run_feature_extraction(script, [video], tmp_path / "out", timeout=1)


def test_missing_input_is_media_error(tmp_path, csv_22):
    from facegan_video.errors import MediaError

    script = _write_standin(tmp_path / "bin", csv_22)
    with pytest.raises(MediaError, match="does not exist"):
        run_feature_extraction(script, [tmp_path / "none.mp4"], tmp_path / "out")


# ---------------------------------------------------------------- backends


@pytest.fixture
def private_tmp(monkeypatch, tmp_path):
    """tempfile's directory pointed at an empty folder, to see that nothing is left behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.mark.parametrize("variant", VARIANTS)
def test_au_backend_returns_openface_aus(variant, tmp_path, csv_22, astronaut, astronaut_face, private_tmp):
    script = _write_standin(tmp_path / "bin", _variant(csv_22, variant))
    au = of_plugin.OpenFaceAU(binary=str(script), timeout=60)
    expected = parse_openface_text(csv_22)[0]
    lms = astronaut_face.landmarks[None]
    (result,) = au.estimate(lms, (512, 512), [0], images=[astronaut])
    np.testing.assert_array_equal(result.aus, expected.aus)
    np.testing.assert_array_equal(result.pose_r, expected.pose_r)
    np.testing.assert_array_equal(result.pose_t, expected.pose_t)
    assert result.confidence == pytest.approx(expected.confidence)
    (call,) = _argv_log(script)
    assert call[0] == "-fdir" and call[2:] == ["-out_dir", call[3], "-2Dfp", "-pose", "-aus"]
    assert list(private_tmp.iterdir()) == []  # frames and CSV removed


def test_au_backend_batches_and_unmatched_faces(tmp_path, csv_22, astronaut, astronaut_face, private_tmp):
    script = _write_standin(tmp_path / "bin", csv_22)
    au = of_plugin.OpenFaceAU(binary=str(script), timeout=60)
    other = np.ascontiguousarray(astronaut[:, ::-1])
    far = astronaut_face.landmarks - astronaut_face.landmarks.mean(0) + np.float32([480, 480])
    lms = np.stack([astronaut_face.landmarks, far, astronaut_face.landmarks])
    results = au.estimate(lms, (512, 512), [0, 1, 0], images=[astronaut, astronaut, other])
    assert len(_argv_log(script)) == 1  # one FeatureExtraction run per batch
    expected = parse_openface_text(csv_22)[0]
    np.testing.assert_array_equal(results[0].aus, expected.aus)
    np.testing.assert_array_equal(results[2].aus, expected.aus)
    assert np.isnan(results[1].aus).all() and results[1].confidence == 0.0  # no OpenFace face there
    with pytest.raises(ConfigError, match="images"):
        au.estimate(lms, (512, 512), [0, 1, 0])
    assert list(private_tmp.iterdir()) == []


def test_landmarker_and_au_share_one_run(tmp_path, csv_22, astronaut, astronaut_face):
    script = _write_standin(tmp_path / "bin", csv_22)
    landmarker = of_plugin.OpenFaceLandmarker(binary=str(script), timeout=60)
    lms = landmarker.landmarks(astronaut, [astronaut_face.box, np.array([0, 0, 40, 40], np.float32)])
    assert lms.shape == (2, 68, 2) and lms.dtype == np.float32
    np.testing.assert_allclose(lms[0], astronaut_face.landmarks, atol=0.051)
    assert np.isnan(lms[1]).all()  # no OpenFace face in that box
    au = of_plugin.OpenFaceAU(binary=str(script), timeout=60)
    au.estimate(lms[:1], (512, 512), [0], images=[astronaut])
    assert len(_argv_log(script)) == 1


def test_registered_and_used_by_the_pipeline(monkeypatch, tmp_path, csv_22, astronaut):
    from facegan_video.analysis.pipeline import FaceAnalyzer
    from facegan_video.config import AnalysisConfig
    from facegan_video.video.reader import Frame

    registry = load_registry()
    au_entry = registry.backends("au")["openface"]
    assert au_entry.plugin.distribution == "facegan-video-openface"
    assert au_entry.backend.extra["provides"] == AU_NAMES
    assert "openface" in registry.backends("landmarks")

    script = _write_standin(tmp_path / "bin", csv_22)
    monkeypatch.setenv(ENV_VAR, str(script))
    config = AnalysisConfig(faces="largest")
    config.set_backend("landmarks", "openface")
    config.set_backend("au", "openface")
    config.set_option("au.timeout=60")
    analyzer = FaceAnalyzer(config)
    (_, records), = list(analyzer.run([Frame(0, 0.0, astronaut)]))
    expected = parse_openface_text(csv_22)[0]
    assert len(records) == 1 and records[0].success
    assert len(_argv_log(script)) == 1
    np.testing.assert_allclose(records[0].analysis.aus, expected.aus, atol=1e-6)


def test_plugins_command_lists_openface():
    proc = cli("plugins", env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert "openface" in proc.stdout and "facegan-video-openface" in proc.stdout


def test_extract_cli_with_openface_backend(tmp_path, csv_22, astronaut_face):
    """`facegan-video extract IMG --au-backend openface` end to end against the stand-in executable."""
    import cv2
    from skimage import data

    from facegan_video.extract_output import read_openface_csv

    img = tmp_path / "astronaut.png"
    cv2.imwrite(str(img), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    script = _write_standin(tmp_path / "bin", csv_22)
    out = tmp_path / "of.csv"
    proc = cli("extract", img, "-o", out, "--au-backend", "openface", "--smoothing", "off", "-q",
               env={**os.environ, ENV_VAR: str(script)})
    assert proc.returncode == 0, proc.stderr
    cols = read_openface_csv(out)
    expected = parse_openface_text(csv_22)[0]
    assert cols["success"][0] == 1
    np.testing.assert_allclose([cols[f"{a}_r"][0] for a in AU_NAMES], expected.aus, atol=0.006)
    assert len(_argv_log(script)) == 1
