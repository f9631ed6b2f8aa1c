"""Temporal smoothing of face tracks with the One-Euro filter (Casiez, Roussel & Vogel, CHI 2012).

Landmark detectors jitter by a pixel or two from frame to frame even on a still face, and that jitter
becomes flicker in a reenacted video. A plain low-pass filter trades jitter for lag; the One-Euro
filter raises its cut-off frequency with the signal's speed, so a still face is smoothed hard while a
moving one is followed closely.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from facegan_video.errors import ConfigError
from facegan_video.hookspecs import hookimpl
from facegan_video.options import Option
from facegan_video.types import Backend, FaceRecord

#: Time step assumed when timestamps do not increase (stills, duplicated or broken pts).
DEFAULT_DT = 1.0 / 30.0
#: Nominal face size in mm, so head translation can share the landmarks' face-size-relative preset.
FACE_SIZE_MM = 150.0


def _alpha(cutoff: float | np.ndarray, dt: float) -> float | np.ndarray:
    """Smoothing factor of a first-order low-pass filter with the given cut-off (Hz) at step dt."""
    tau = 1.0 / (2.0 * np.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Element-wise One-Euro filter over arrays of a fixed shape.

    A NaN input element gives a NaN output and forgets that element's history, so the next valid
    value starts it afresh instead of being pulled towards a stale position; other elements go on.
    A change of shape restarts the whole filter.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0) -> None:
        if not (min_cutoff > 0 and d_cutoff > 0 and beta >= 0):
            raise ValueError(f"need min_cutoff > 0, d_cutoff > 0, beta >= 0; got {min_cutoff}, {d_cutoff}, {beta}")
        self.min_cutoff = min_cutoff
        self.beta = beta  # public: OneEuroSmoother rescales it by the face size every frame
        self.d_cutoff = d_cutoff
        self.reset()

    def reset(self) -> None:
        self._x: np.ndarray | None = None  # last output; NaN where an element has no history
        self._dx: np.ndarray | None = None  # last low-passed speed
        self._t = 0.0

    def __call__(self, x: np.ndarray, t: float) -> np.ndarray:
        x = np.asarray(x, np.float64)
        if self._x is None or self._dx is None or self._x.shape != x.shape:
            self._x, self._dx = np.full(x.shape, np.nan), np.zeros(x.shape)
        dt = t - self._t
        if not dt > 0:
            dt = DEFAULT_DT
        self._t = t
        fresh = np.isnan(self._x)
        speed = np.where(fresh, 0.0, (x - self._x) / dt)
        speed = self._dx + _alpha(self.d_cutoff, dt) * (speed - self._dx)
        a = _alpha(self.min_cutoff + self.beta * np.abs(speed), dt)
        out = np.where(fresh, x, self._x + a * (x - self._x))
        self._x = out
        self._dx = np.where(np.isnan(x), 0.0, speed)
        return out.copy()


@dataclass(frozen=True)
class _Preset:
    """(min_cutoff Hz, beta) per signal; beta is per unit of speed in that signal's units."""

    shape: tuple[float, float]  # landmarks, box, head translation: in face sizes
    pose: tuple[float, float]  # head rotation: radians
    aus: tuple[float, float]  # AU intensity: 0-5


#: Tuned at 30 fps on noise of 1% of the face size (landmarks), 1 degree (pose) and 0.15 (AUs).
#: Still-face jitter (RMS second difference) drops about 3x / 4.5x / 7x for light / medium / strong;
#: a 1 face-size/s ramp lags 3 / 6 / 11 ms; a 4 Hz mouth movement of 1.5 AU units keeps
#: 95 / 88 / 75 % of its amplitude.
PRESETS: dict[str, _Preset] = {
    "light": _Preset(shape=(1.5, 40.0), pose=(1.5, 25.0), aus=(1.5, 3.0)),
    "medium": _Preset(shape=(1.0, 20.0), pose=(1.0, 12.0), aus=(1.0, 1.5)),
    "strong": _Preset(shape=(0.5, 10.0), pose=(0.5, 6.0), aus=(0.5, 0.7)),
}


def _face_size(box: np.ndarray) -> float:
    """Geometric mean of the box sides in pixels; NaN for an empty or invalid box."""
    w, h = float(box[2] - box[0]), float(box[3] - box[1])
    return float(np.sqrt(w * h)) if w > 0 and h > 0 else float("nan")


class _FaceFilters:
    """The filters of one face track, plus the face size that makes the shape preset scale-free."""

    def __init__(self, preset: _Preset) -> None:
        self.box = OneEuroFilter(*preset.shape)
        self.landmarks = OneEuroFilter(*preset.shape)
        self.pose_t = OneEuroFilter(preset.shape[0], preset.shape[1] / FACE_SIZE_MM)
        self.pose_r = OneEuroFilter(*preset.pose)
        self.aus = OneEuroFilter(*preset.aus)
        self.shape_beta = preset.shape[1]
        self.size = float("nan")  # face size (px) of the last smoothed box

    def scale_shape_beta(self, size_px: float) -> None:
        """Filtering x / size with beta equals filtering x with beta / size; doing the latter keeps the
        state in pixels, so jitter of the box size is never multiplied into the landmark positions."""
        self.box.beta = self.landmarks.beta = self.shape_beta / size_px


class OneEuroSmoother:
    """One-Euro smoothing of box, landmarks, head pose and AUs, with independent state per face id.

    ``strength`` picks presets tuned for landmark jitter of about 1% of the face size at 25-30 fps;
    ``min_cutoff`` (Hz) and ``beta`` (per face size per second) override the landmark/box preset.
    """

    def __init__(self, strength: str = "medium", min_cutoff: float | None = None, beta: float | None = None) -> None:
        if strength not in PRESETS:
            raise ConfigError(f"unknown smoothing strength {strength!r}; choose one of: {', '.join(PRESETS)}")
        preset = PRESETS[strength]
        shape_cutoff = preset.shape[0] if min_cutoff is None else _positive("min_cutoff", min_cutoff, allow_zero=False)
        shape_beta = preset.shape[1] if beta is None else _positive("beta", beta, allow_zero=True)
        self.preset = dataclasses.replace(preset, shape=(shape_cutoff, shape_beta))
        self._faces: dict[int, _FaceFilters] = {}

    def smooth(self, record: FaceRecord) -> FaceRecord:
        """A new record with filtered values; a failed record passes unchanged and ends the face's track."""
        if not record.success:
            self._faces.pop(record.face_id, None)
            return record
        face = self._faces.setdefault(record.face_id, _FaceFilters(self.preset))
        size = face.size if np.isfinite(face.size) else _face_size(record.box)
        if not np.isfinite(size):
            size = 1.0  # no scale known: filter in pixels rather than fail
        face.scale_shape_beta(size)
        t = record.timestamp
        box = face.box(record.box, t)
        face.size = _face_size(box)
        out = dataclasses.replace(
            record,
            box=box.astype(np.asarray(record.box).dtype),
            landmarks=face.landmarks(record.landmarks, t).astype(np.asarray(record.landmarks).dtype),
        )
        if record.analysis is not None:
            a = record.analysis
            out.analysis = dataclasses.replace(
                a,
                aus=face.aus(a.aus, t).astype(np.asarray(a.aus).dtype),
                pose_t=face.pose_t(a.pose_t, t).astype(np.asarray(a.pose_t).dtype),
                pose_r=face.pose_r(a.pose_r, t).astype(np.asarray(a.pose_r).dtype),
            )
        return out


def _positive(name: str, value: float, *, allow_zero: bool) -> float:
    """Options may arrive as strings from the command line; reject non-numbers and bad signs in one line."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"smoothing option {name} must be a number, got {value!r}") from None
    if not (number >= 0 if allow_zero else number > 0):
        raise ConfigError(f"smoothing option {name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return number


class NoSmoother:
    """Identity: for analysis of raw per-frame estimates, or when a later stage smooths."""

    def smooth(self, record: FaceRecord) -> FaceRecord:
        return record


@hookimpl
def facegan_video_smoothers() -> list[Backend]:
    return [
        Backend("one-euro", OneEuroSmoother,
                "One-Euro filter (speed-adaptive low-pass); strength=light|medium|strong, scale-free presets",
                options=(
                    Option("strength", str, "medium", "preset for boxes, landmarks, pose and AUs",
                           choices=tuple(PRESETS)),
                    Option("min_cutoff", float, None, "landmark/box cutoff frequency (Hz), overrides the preset",
                           low=0, low_open=True),
                    Option("beta", float, None, "landmark/box speed coefficient (per face size per second), "
                           "overrides the preset", low=0),
                )),
        Backend("none", NoSmoother, "no smoothing: raw per-frame boxes, landmarks, pose and AUs"),
    ]
