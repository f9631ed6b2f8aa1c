"""One-Euro smoothing on landmark tracks made from the real 68-point mean face plus seeded detector jitter."""

from __future__ import annotations

import numpy as np
import pluggy
import pytest

from facegan_video import hookspecs
from facegan_video.analysis import smooth
from facegan_video.analysis.smooth import NoSmoother, OneEuroFilter, OneEuroSmoother
from facegan_video.assets import DATA_DIR
from facegan_video.errors import ConfigError
from facegan_video.types import Analysis, FaceRecord

FPS = 30.0
N = 150
TIMES = np.arange(N) / FPS


def _face(center: np.ndarray, size: float) -> np.ndarray:
    """Mean face x, y (mm) scaled so its landmark extent is `size` px, centred on `center`."""
    pts = np.load(DATA_DIR / "mean_face_68.npy")[:, :2].astype(np.float64)
    pts -= pts.mean(0)
    return pts / np.sqrt(np.prod(pts.max(0) - pts.min(0))) * size + center


def _track(centers: np.ndarray, size: float) -> np.ndarray:
    return np.stack([_face(c, size) for c in centers])


def _drift(size: float) -> np.ndarray:
    """A talking head's slow sway: up to 0.1 face size at 0.2-0.3 Hz, around (1000, 600) px."""
    return np.stack([0.1 * np.sin(2 * np.pi * 0.3 * TIMES), 0.05 * np.sin(2 * np.pi * 0.2 * TIMES)], 1) * size + (
        1000,
        600,
    )


def _jitter(shape: tuple[int, ...], size: float, seed: int = 0) -> np.ndarray:
    """Detector noise of 1% of the face size per coordinate."""
    return np.random.default_rng(seed).normal(0.0, 0.01 * size, shape)


def _record(i: int, landmarks: np.ndarray, face_id: int = 0, analysis: Analysis | None = None) -> FaceRecord:
    lo, hi = landmarks.min(0), landmarks.max(0)
    return FaceRecord(
        frame=i,
        timestamp=i / FPS,
        face_id=face_id,
        box=np.concatenate([lo, hi]).astype(np.float32),
        landmarks=landmarks.astype(np.float32),
        analysis=analysis,
    )


def _smooth_track(smoother: OneEuroSmoother, landmarks: np.ndarray, face_id: int = 0) -> np.ndarray:
    return np.stack([smoother.smooth(_record(i, lm, face_id)).landmarks for i, lm in enumerate(landmarks)])


def _jitter_rms(track: np.ndarray) -> float:
    """RMS frame-to-frame second difference after a 1 s warm-up; smooth motion contributes almost nothing."""
    return float(np.sqrt((np.diff(track[30:].astype(np.float64), 2, axis=0) ** 2).mean()))


def _ramp_lag(strength: str, size: float) -> float:
    """Mean lag in seconds while a noise-free face moves right at 1 face size per second."""
    centers = np.stack([np.clip(TIMES - 1.0, 0, None) * size, np.zeros(N)], 1) + 500
    truth = _track(centers, size)
    out = _smooth_track(OneEuroSmoother(strength), truth)
    return float((truth - out)[60:, :, 0].mean() / size)


@pytest.mark.parametrize("size", [40.0, 600.0])  # the face in a 176x144 clip and in a 2048 px video
def test_jitter_drops_and_lag_stays_small_at_any_resolution(size: float) -> None:
    still = _track(np.full((N, 2), 500.0), size) + _jitter((N, 68, 2), size)
    assert _jitter_rms(still) / _jitter_rms(_smooth_track(OneEuroSmoother("medium"), still)) > 4
    truth = _track(_drift(size), size)
    noisy = truth + _jitter(truth.shape, size)
    out = _smooth_track(OneEuroSmoother("medium"), noisy)
    # Motion raises the cut-off, so a swaying head keeps less of the reduction than a still one.
    assert _jitter_rms(noisy) / _jitter_rms(out) > 2.5
    error = lambda track: np.sqrt(((track[30:] - truth[30:]) ** 2).mean())  # noqa: E731
    assert error(out) < 0.7 * error(noisy)  # closer to the truth, not just smoother
    assert 0 < _ramp_lag("medium", size) < 0.01


def test_presets_are_scale_free() -> None:
    reductions = []
    for size in (40.0, 600.0):
        noisy = _track(_drift(size), size) + _jitter((N, 68, 2), size)
        reductions.append(_jitter_rms(noisy) / _jitter_rms(_smooth_track(OneEuroSmoother(), noisy)))
    assert reductions[0] == pytest.approx(reductions[1], rel=0.02)


def test_stronger_presets_remove_more_jitter_and_lag_more() -> None:
    size = 200.0
    noisy = _track(_drift(size), size) + _jitter((N, 68, 2), size)
    strengths = ("light", "medium", "strong")
    reductions = [_jitter_rms(noisy) / _jitter_rms(_smooth_track(OneEuroSmoother(s), noisy)) for s in strengths]
    lags = [_ramp_lag(s, size) for s in strengths]
    assert 1.5 < reductions[0] < reductions[1] < reductions[2]
    assert lags[0] < lags[1] < lags[2] < 0.03


def test_options_override_the_landmark_preset() -> None:
    size = 200.0
    noisy = _track(_drift(size), size) + _jitter((N, 68, 2), size)
    default = _jitter_rms(_smooth_track(OneEuroSmoother("medium"), noisy))
    heavier = _jitter_rms(_smooth_track(OneEuroSmoother("medium", min_cutoff=0.3, beta=0.0), noisy))
    assert heavier < 0.5 * default


def test_faces_are_smoothed_independently() -> None:
    size = 100.0
    a = _track(_drift(size), size) + _jitter((N, 68, 2), size, seed=1)
    b = _track(_drift(size) + 400, size) + _jitter((N, 68, 2), size, seed=2)
    alone_a = _smooth_track(OneEuroSmoother(), a, face_id=0)
    alone_b = _smooth_track(OneEuroSmoother(), b, face_id=7)
    both = OneEuroSmoother()
    mixed_a, mixed_b = [], []
    for i in range(N):
        mixed_a.append(both.smooth(_record(i, a[i], 0)).landmarks)
        mixed_b.append(both.smooth(_record(i, b[i], 7)).landmarks)
    np.testing.assert_array_equal(np.stack(mixed_a), alone_a)
    np.testing.assert_array_equal(np.stack(mixed_b), alone_b)


def test_pose_and_aus_are_smoothed_and_missing_aus_stay_missing() -> None:
    rng = np.random.default_rng(3)
    smoother = OneEuroSmoother()
    landmarks = _face(np.array([300.0, 200.0]), 120)
    raw_pose, out_pose, raw_aus, out_aus = [], [], [], []
    for i in range(N):
        aus = np.clip(1.5 + rng.normal(0, 0.15, 17), 0, 5).astype(np.float32)
        aus[[3, 16]] = np.nan  # AU05, AU45 not provided by this backend
        pose_r = (np.radians([5.0, -10.0, 2.0]) + rng.normal(0, np.radians(1.0), 3)).astype(np.float32)
        analysis = Analysis(aus=aus, pose_t=np.array([10, -5, 600], np.float32), pose_r=pose_r, confidence=0.9)
        out = smoother.smooth(_record(i, landmarks, analysis=analysis))
        assert out.analysis is not None and out.analysis is not analysis
        raw_pose.append(pose_r), out_pose.append(out.analysis.pose_r)
        raw_aus.append(aus), out_aus.append(out.analysis.aus)
        assert out.analysis.confidence == 0.9
        assert out.analysis.pose_r.dtype == np.float32
    out_aus_arr, raw_aus_arr = np.stack(out_aus), np.stack(raw_aus)
    assert np.isnan(out_aus_arr[:, [3, 16]]).all()
    given = np.isfinite(raw_aus_arr[0])
    assert _jitter_rms(raw_aus_arr[:, given]) / _jitter_rms(out_aus_arr[:, given]) > 3
    assert _jitter_rms(np.stack(raw_pose)) / _jitter_rms(np.stack(out_pose)) > 3
    assert np.abs(np.stack(out_pose)[30:].mean(0) - np.radians([5.0, -10.0, 2.0])).max() < np.radians(0.5)


def test_input_record_is_not_modified() -> None:
    smoother = OneEuroSmoother()
    lm = _face(np.array([100.0, 100.0]), 80)
    smoother.smooth(_record(0, lm))
    record = _record(1, lm + 5)
    before = record.landmarks.copy()
    out = smoother.smooth(record)
    assert out is not record
    np.testing.assert_array_equal(record.landmarks, before)
    assert out.landmarks.dtype == np.float32 and out.box.dtype == np.float32


def test_failed_record_passes_through_and_restarts_the_track() -> None:
    smoother = OneEuroSmoother("strong")
    lm = _face(np.array([100.0, 100.0]), 80)
    for i in range(10):
        smoother.smooth(_record(i, lm))
    failed = FaceRecord(10, 10 / FPS, 0, np.zeros(4, np.float32), np.zeros((68, 2), np.float32), success=False)
    assert smoother.smooth(failed) is failed
    moved = _record(11, lm + 50)
    # A fresh track starts at the new position instead of gliding from the old one.
    np.testing.assert_array_equal(smoother.smooth(moved).landmarks, moved.landmarks)


def test_filter_first_sample_nan_and_time_steps() -> None:
    f = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0]), 0.0), [1.0, 2.0])
    second = f(np.array([2.0, 3.0]), 1 / 30)
    assert np.all((second > [1.0, 2.0]) & (second < [2.0, 3.0]))
    out = f(np.array([np.nan, 4.0]), 2 / 30)
    assert np.isnan(out[0]) and 3.0 > out[1] > second[1]
    # The NaN element restarts at its next value; the other keeps its history.
    out = f(np.array([10.0, 4.0]), 3 / 30)
    assert out[0] == 10.0 and out[1] < 4.0


@pytest.mark.parametrize("bad_time", [1 / 30, 0.0])  # repeated, backwards
def test_filter_treats_non_increasing_time_as_one_frame(bad_time: float) -> None:
    steady, broken = OneEuroFilter(beta=0.5), OneEuroFilter(beta=0.5)
    for f in (steady, broken):
        f(np.array([0.0]), 0.0)
        f(np.array([1.0]), 1 / 30)
    np.testing.assert_allclose(broken(np.array([3.0]), bad_time), steady(np.array([3.0]), 2 / 30))


def test_filter_keeps_shape_of_any_array() -> None:
    f = OneEuroFilter()
    x = np.arange(24.0).reshape(2, 3, 4)
    assert f(x, 0.0).shape == (2, 3, 4)
    assert f(x + 1, 0.1).shape == (2, 3, 4)


def test_bad_strength_is_a_one_line_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        OneEuroSmoother("extreme")
    message = str(info.value)
    assert "\n" not in message and all(s in message for s in ("light", "medium", "strong"))
    with pytest.raises(ConfigError):
        OneEuroSmoother(beta="fast")
    with pytest.raises(ConfigError):
        OneEuroSmoother(min_cutoff=0)


def test_no_smoother_is_identity() -> None:
    record = _record(0, _face(np.array([50.0, 50.0]), 40))
    assert NoSmoother().smooth(record) is record


def test_backends_are_registered_through_the_hook() -> None:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(smooth)
    backends = {b.name: b for group in pm.hook.facegan_video_smoothers() for b in group}
    assert set(backends) == {"one-euro", "none"}
    assert isinstance(backends["one-euro"].factory(strength="light"), OneEuroSmoother)
    assert isinstance(backends["none"].factory(), NoSmoother)


def test_speech_rate_mouth_movement_survives_medium_smoothing() -> None:
    """Jaw drop opening and closing 4 times a second must stay visible in the smoothed AU26."""
    smoother = OneEuroSmoother("medium")
    landmarks = _face(np.array([300.0, 200.0]), 120)
    au26 = 2.0 + 1.5 * np.sin(2 * np.pi * 4.0 * TIMES)
    out = []
    for i, value in enumerate(au26):
        aus = np.zeros(17, np.float32)
        aus[15] = value
        analysis = Analysis(aus=aus, pose_t=np.zeros(3, np.float32), pose_r=np.zeros(3, np.float32), confidence=1.0)
        result = smoother.smooth(_record(i, landmarks, analysis=analysis)).analysis
        assert result is not None
        out.append(result.aus[15])
    kept = (np.max(out[60:]) - np.min(out[60:])) / (au26.max() - au26.min())
    assert kept > 0.8
