"""Every installed backend of every stage keeps its stage's contract (facegan_video.testing), on real media;
a third-party plugin distribution installed with pip is discovered and keeps it too."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from facegan_video import testing
from facegan_video.errors import BackendUnavailableError, ConfigError
from facegan_video.plugins import load_registry
from facegan_video.stages import STAGES

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "facegan-video-jitter-plugin"


@pytest.fixture(scope="session")
def real_face() -> testing.RealFace:
    try:
        return testing.real_face()
    except (testing.FixtureUnavailable, BackendUnavailableError) as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("stage,name", testing.all_backends())
def test_backend_contract(stage: str, name: str, real_face: testing.RealFace):
    try:
        testing.check_installed(stage, name, real_face)
    except BackendUnavailableError as exc:  # weights or binary missing on this machine
        pytest.skip(str(exc))


def test_every_stage_has_a_backend_and_a_check():
    listed = testing.all_backends()
    assert {stage for stage, _ in listed} == set(STAGES) == set(testing.CHECKS)
    assert len(listed) == len(set(listed))


def test_unknown_stage_is_a_config_error(real_face: testing.RealFace):
    with pytest.raises(ConfigError, match="unknown stage"):
        testing.check_backend("detetc", object(), real_face)


def test_contract_catches_broken_backends(real_face: testing.RealFace):
    """The checks are not vacuous: typical bugs in each kind of backend fail them."""
    from facegan_video.analysis.landmarks import Dlib68
    from facegan_video.analysis.smooth import OneEuroSmoother
    from facegan_video.reenact.transform import AnalyticTransformer

    class SwappedXY(Dlib68):  # (y, x) instead of (x, y)
        def landmarks(self, image, boxes):
            return super().landmarks(image, boxes)[..., ::-1].copy()

    class Float64(Dlib68):
        def landmarks(self, image, boxes):
            return super().landmarks(image, boxes).astype(np.float64)

    class Mutating(OneEuroSmoother):  # writes into the record it was given
        def smooth(self, record):
            out = super().smooth(record)
            record.landmarks[:] = out.landmarks
            return out

    class Shared(OneEuroSmoother):  # one state for every face
        def smooth(self, record):
            import dataclasses

            return super().smooth(dataclasses.replace(record, face_id=0))

    class NoAUs(AnalyticTransformer):  # ignores the source motion: unchanged motion moves the face
        def transform(self, source, target_motion, driving_landmarks=None):
            return super().transform(source, np.asarray(target_motion) * 0, driving_landmarks)

    broken = [("landmarks", SwappedXY(), "iBUG order"), ("landmarks", Float64(), "float32"),
              ("smooth", Mutating(), "modified its input"), ("smooth", Shared(), "second face"),
              ("transform", NoAUs(), "give back the source")]
    for stage, instance, message in broken:
        with pytest.raises(testing.ContractError, match=message):
            testing.check_backend(stage, instance, real_face)


@pytest.fixture
def jitter_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The example plugin distribution pip-installed into a temporary target on sys.path; the registry
    reloads with it and forgets it afterwards."""
    source = tmp_path / "src"  # pip builds in the source tree: build from a copy, keep the example clean
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = tmp_path / "site"
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
           "--disable-pip-version-check", "--quiet", "--target", str(target), str(source)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(target.glob("facegan_video_jitter-*.dist-info"))
    monkeypatch.syspath_prepend(str(target))
    yield load_registry(), target
    for module in [m for m in sys.modules if m == "facegan_video_jitter" or m.startswith("facegan_video_jitter.")]:
        del sys.modules[module]


def test_installed_plugin_is_discovered_and_keeps_the_contract(jitter_plugin, real_face: testing.RealFace):
    reg, target = jitter_plugin
    assert ("smooth", "median3") in testing.all_backends(reg)
    entry = reg.backends("smooth")["median3"]
    assert entry.plugin.distribution == "facegan-video-jitter"
    assert entry.plugin.version == "0.1.0" and entry.plugin.error is None
    assert Path(sys.modules[entry.backend.factory.__module__].__file__).is_relative_to(target)
    assert testing.check_installed("smooth", "median3", real_face, reg) == []
    with pytest.raises(ConfigError, match="max_gap"):
        reg.create("smooth", "median3", max_gap=0)
    with pytest.raises(ConfigError, match="max_gap"):
        reg.create("smooth", "median3", max_gap="soon")


def test_median3_removes_a_one_frame_spike(jitter_plugin, real_face: testing.RealFace):
    smoother = jitter_plugin[0].create("smooth", "median3")
    records = real_face.records()
    spike = len(records) // 2
    records[spike].landmarks[30] += 25.0  # the nose tip jumps for one frame
    out = [smoother.smooth(r) for r in records]
    raw = real_face.frame_landmarks[:, 30]
    assert np.abs(out[spike].landmarks[30] - raw[spike]).max() < 5.0
    assert np.abs(records[spike].landmarks[30] - raw[spike]).max() == pytest.approx(25.0)
