"""Geometric Action Units and head pose from 68 landmarks (the default, offline AU backend).

Head pose comes from PnP against the 3D mean face; the landmarks are then frontalised (pose
removed) and each AU is read from the displacement FACS describes for it, in millimetres of the
mean face, e.g. AU12 lip corner puller = lip corners rising towards the eyes and the mouth
widening. Reference points are the inner eye corners, which no AU moves much.

Intensities are ``(feature - neutral) / scale`` clipped to 0-5, with ``neutral`` and ``scale`` per
AU fitted on real talking-head clips by ``training/fit_au_calibration.py`` (the population's
relaxed face reads 0, its 95th percentile 3). With ``calibration="video"``, each face's own
running median replaces the population's, as OpenFace's dynamic models do, so a face whose
resting shape looks like an expression (low brows, wide mouth) is not read as one.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Sequence

import numpy as np

from facegan_video.analysis.geometry import PoseTracker, landmark_confidence
from facegan_video.assets import DATA_DIR
from facegan_video.errors import ConfigError
from facegan_video.hookspecs import hookimpl
from facegan_video.options import Option
from facegan_video.types import AU_NAMES, Analysis, Backend

CALIBRATION_FILE = DATA_DIR / "au_calibration.json"


def au_features(front: np.ndarray) -> np.ndarray:
    """(N, 68, 2+) frontalised landmarks (mm, y down) -> (N, 17) raw AU features in AU_NAMES order.

    Each feature grows with its AU's intensity.
    """
    x, y = front[..., 0], front[..., 1]

    def my(idx: list[int]) -> np.ndarray:
        return y[:, idx].mean(1)

    ref = my([39, 42])  # inner eye corners
    eye_open = my([40, 41, 46, 47]) - my([37, 38, 43, 44])
    lower_lid_raise = ref - my([40, 41, 46, 47])
    inner_brow_raise = ref - my([20, 21, 22, 23])
    width = x[:, 54] - x[:, 48]
    corners = my([48, 54])
    corner_raise = ref - corners
    outer_up, outer_lo = my([50, 51, 52]), my([56, 57, 58])
    # corners above the lips' own midline: a smile, whatever the jaw does
    corner_lift = (outer_up + outer_lo) / 2 - corners
    inner_up, inner_lo = my([61, 62, 63]), my([65, 66, 67])
    lips_apart = inner_lo - inner_up
    nose_wing_lift = y[:, 30] - my([31, 32, 34, 35])
    feats = {
        "AU01": inner_brow_raise,
        "AU02": my([36, 45]) - my([18, 19, 24, 25]),
        # brows pulled down and together
        "AU04": -(ref - my([19, 20, 21, 22, 23, 24])) - 0.5 * (x[:, 22] - x[:, 21]),
        "AU05": eye_open,
        # the cheeks push the lower lids up
        "AU06": lower_lid_raise,
        "AU07": -eye_open,
        # FACS: AU9 wrinkles the nose, lifts the infraorbital triangle and lowers the inner brows
        "AU09": nose_wing_lift - 0.5 * inner_brow_raise + lower_lid_raise,
        "AU10": ref - outer_up,
        "AU12": corner_lift + 0.5 * width,
        "AU14": width - 0.5 * lips_apart,
        "AU15": -corner_lift,
        "AU17": -(y[:, 8] - outer_lo),
        "AU20": width - corner_raise,
        "AU23": -((inner_up - outer_up) + (outer_lo - inner_lo)),
        "AU25": lips_apart,
        "AU26": y[:, 8] - ref,
        "AU45": -eye_open,
    }
    return np.stack([feats[name] for name in AU_NAMES], 1).astype(np.float32)


def load_calibration() -> dict[str, np.ndarray]:
    """Per-AU ``neutral``, ``scale`` and population ``median`` from the committed calibration file."""
    data = json.loads(CALIBRATION_FILE.read_text())
    return {key: np.array([data[key][n] for n in AU_NAMES], np.float32)
            for key in ("neutral", "scale", "median")}


class GeometricAU:
    """AUs and pose from landmarks alone; see the module docstring."""

    provides = AU_NAMES

    def __init__(self, calibration: str = "population", window: int = 1800) -> None:
        if calibration not in ("population", "video"):
            raise ConfigError(f"unknown AU calibration {calibration!r}: use 'population' or 'video'")
        if window < 1:
            raise ConfigError("AU calibration window must be >= 1 frame")
        self.calibration = calibration
        self.window = window
        calib = load_calibration()
        self.neutral, self.scale, self.median = calib["neutral"], calib["scale"], calib["median"]
        self._pose = PoseTracker()
        self._history: dict[int, deque[np.ndarray]] = {}

    def estimate(self, landmarks: np.ndarray, image_size: tuple[int, int],
                 track_ids: Sequence[int] | None = None) -> list[Analysis]:
        ids = list(track_ids) if track_ids is not None else [-1] * len(landmarks)
        fit = self._pose(landmarks, image_size, ids)
        feats = au_features(fit.fronts) if len(ids) else np.zeros((0, len(AU_NAMES)), np.float32)
        if self.calibration == "video":
            feats = np.stack([self._recalibrate(f, tid) for f, tid in zip(feats, ids)]) if len(feats) else feats
        aus = self.intensities(feats)
        conf = landmark_confidence(landmarks) if len(landmarks) else np.zeros(0)
        return [Analysis(aus=aus[i], pose_t=fit.tvecs[i].astype(np.float32), pose_r=fit.euler[i].astype(np.float32),
                         confidence=float(conf[i])) for i in range(len(ids))]

    def intensities(self, features: np.ndarray, clip: bool = True) -> np.ndarray:
        """Raw features -> AU intensities (0-5 when ``clip``)."""
        aus = (features - self.neutral) / self.scale
        return (np.clip(aus, 0.0, 5.0) if clip else aus).astype(np.float32)

    def _recalibrate(self, feats: np.ndarray, track_id: int) -> np.ndarray:
        """Swap this face's resting shape (running median over ``window`` frames) for the population's."""
        hist = self._history.setdefault(track_id, deque(maxlen=self.window))
        hist.append(feats)
        return feats - np.median(np.stack(hist), 0) + self.median


@hookimpl
def facegan_video_au_estimators() -> list[Backend]:
    return [Backend("geometric", GeometricAU,
                    "17 AUs + head pose from dlib landmarks: PnP on a 3D mean face, FACS displacements",
                    options=(
                        Option("calibration", str, "population", "population: fitted neutral face; video: each "
                               "face's own running median (like OpenFace's dynamic models)",
                               choices=("population", "video")),
                        Option("window", int, 1800, "frames in the running median of calibration=video", low=1),
                    ),
                    extra={"provides": AU_NAMES})]
