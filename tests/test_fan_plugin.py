"""The facegan-video-fan plugin: face-alignment output conversion on real dlib68 landmarks of skimage's
astronaut, the offline error path, and discovery through the installed distribution's entry point.

No test downloads anything: face-alignment is not installed here, or its weights are absent and
FACEGAN_ALLOW_DOWNLOADS is unset, so constructing the backend must fail fast with a hint.
"""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest

pytest.importorskip("facegan_video_fan")
pytest.importorskip("skimage.data")

from facegan_video import testing  # noqa: E402
from facegan_video.errors import BackendUnavailableError  # noqa: E402
from facegan_video.plugins import load_registry  # noqa: E402
from facegan_video_fan import landmarker as fan  # noqa: E402
from facegan_video_fan.landmarker import FanLandmarker, boxes_to_fa, to_landmark_array  # noqa: E402


@pytest.fixture(scope="module")
def astronaut():
    """(box, dlib68 landmarks) of the astronaut's face, from the project's own hog + dlib68 backends."""
    try:
        face = testing.real_face()
    except (testing.FixtureUnavailable, BackendUnavailableError) as exc:
        pytest.skip(str(exc))
    assert face.landmarks.shape == (68, 2) and np.isfinite(face.landmarks).all()
    return np.asarray(face.box, np.float32), np.asarray(face.landmarks, np.float32)


@pytest.fixture
def registry():
    return load_registry()


@pytest.fixture
def no_network(monkeypatch):
    """Any socket connection attempt fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("the fan backend tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


# --- conversion ---------------------------------------------------------------------------------


def test_to_landmark_array_2d_points_exact(astronaut):
    _, lm = astronaut
    out = to_landmark_array([lm.copy(), lm + 5], 2)
    assert out.dtype == np.float32 and out.shape == (2, 68, 2)
    np.testing.assert_array_equal(out[0], lm)
    np.testing.assert_array_equal(out[1], lm + 5)


def test_to_landmark_array_drops_depth_column(astronaut):
    _, lm = astronaut
    depth = np.linspace(-30, 30, 68, dtype=np.float32)[:, None]
    pred3 = np.concatenate([lm, depth], axis=1).astype(np.float64)  # face-alignment 3D output, float64
    out = to_landmark_array([pred3], 1)
    assert out.dtype == np.float32 and out.shape == (1, 68, 2)
    np.testing.assert_array_equal(out[0], lm)


def test_to_landmark_array_nan_rows_for_failed_faces(astronaut):
    _, lm = astronaut
    out = to_landmark_array([None, lm, np.zeros((5, 2)), lm], 4)
    assert out.shape == (4, 68, 2)
    assert np.isnan(out[0]).all() and np.isnan(out[2]).all()
    np.testing.assert_array_equal(out[1], lm)
    np.testing.assert_array_equal(out[3], lm)
    # a short list (fewer predictions than boxes) pads with NaN rows
    short = to_landmark_array([lm], 3)
    np.testing.assert_array_equal(short[0], lm)
    assert np.isnan(short[1:]).all()


def test_to_landmark_array_none_and_empty():
    assert np.isnan(to_landmark_array(None, 2)).all() and to_landmark_array(None, 2).shape == (2, 68, 2)
    empty = to_landmark_array([], 0)
    assert empty.shape == (0, 68, 2) and empty.dtype == np.float32


def test_to_landmark_array_does_not_alias_input(astronaut):
    _, lm = astronaut
    pred = lm.copy()
    out = to_landmark_array([pred], 1)
    out[0, 0, 0] = -1
    np.testing.assert_array_equal(pred, lm)


def test_boxes_to_fa(astronaut):
    box, _ = astronaut
    dets = boxes_to_fa([box, box + 10, (1, 2, 3, 4)])
    assert len(dets) == 3
    for det in dets:
        assert det.shape == (5,) and det.dtype == np.float32 and det[4] == 1.0
    np.testing.assert_array_equal(dets[0][:4], box)
    np.testing.assert_array_equal(dets[1][:4], box + 10)
    np.testing.assert_array_equal(dets[2], [1, 2, 3, 4, 1])
    assert boxes_to_fa([]) == []
    with pytest.raises(ValueError):
        boxes_to_fa([np.zeros(3)])


# --- the offline error path -----------------------------------------------------------------------


def _fa_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("face_alignment") is not None


def test_constructing_without_backend_is_a_hint_not_a_download(monkeypatch, tmp_path, no_network):
    monkeypatch.delenv(fan.ALLOW_DOWNLOADS_ENV, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty hub cache if face-alignment is installed
    t0 = time.monotonic()
    with pytest.raises(BackendUnavailableError) as err:
        FanLandmarker()
    assert time.monotonic() - t0 < 30
    msg = str(err.value)
    assert "\n" not in msg
    if _fa_installed():
        assert "2DFAN4" in msg and str(tmp_path) in msg and "FACEGAN_ALLOW_DOWNLOADS=1" in msg
    else:
        assert msg == "the fan landmark backend needs face-alignment: pip install 'facegan-video-fan[fan]'"


def test_bad_options_are_value_errors():
    with pytest.raises(ValueError):
        FanLandmarker(batch_size=0)
    with pytest.raises(ValueError):
        FanLandmarker(device="")


def test_missing_weights_message_names_file_and_folder(monkeypatch, tmp_path):
    """check_weights on its own (works without face-alignment: a stand-in module without models_urls)."""
    pytest.importorskip("torch")
    import types

    monkeypatch.delenv(fan.ALLOW_DOWNLOADS_ENV, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    standin = types.ModuleType("no_such_face_alignment")
    with pytest.raises(BackendUnavailableError) as err:
        fan.check_weights(standin)
    msg = str(err.value)
    assert "2DFAN4-cd938726ad.zip" in msg and "2DFAN4-11f355bf06.pth.tar" in msg
    assert str(tmp_path / "hub" / "checkpoints") in msg and "FACEGAN_ALLOW_DOWNLOADS=1" in msg
    # present weights, or downloads allowed: no error
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    (tmp_path / "hub" / "checkpoints" / "2DFAN4-11f355bf06.pth.tar").write_bytes(b"")
    fan.check_weights(standin)
    (tmp_path / "hub" / "checkpoints" / "2DFAN4-11f355bf06.pth.tar").unlink()
    monkeypatch.setenv(fan.ALLOW_DOWNLOADS_ENV, "1")
    fan.check_weights(standin)


# --- registry -------------------------------------------------------------------------------------


def test_registry_lists_fan_from_its_distribution(registry):
    entry = registry.backends("landmarks").get("fan")
    assert entry is not None, "pip install plugins/facegan-video-fan to register the fan backend"
    assert entry.plugin.distribution == "facegan-video-fan" and entry.plugin.error is None
    assert entry.backend.factory is FanLandmarker
    assert "dlib68" in registry.backends("landmarks")


def test_registry_create_fan_is_unavailable_here(registry, monkeypatch, tmp_path, no_network):
    monkeypatch.delenv(fan.ALLOW_DOWNLOADS_ENV, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    if "fan" not in registry.backends("landmarks"):
        pytest.skip("facegan-video-fan is not installed as a distribution")
    with pytest.raises(BackendUnavailableError):
        registry.create("landmarks", "fan")
