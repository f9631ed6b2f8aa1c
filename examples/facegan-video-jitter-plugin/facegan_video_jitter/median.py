"""A causal 3-frame temporal median over each face track.

A median of the current and the two previous frames removes single-frame spikes (a landmark that
jumps for one frame, a blink mis-read as an AU peak) without the lag a low-pass filter needs for the
same effect; it delays real motion by one frame at most.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections import deque

import numpy as np

from facegan_video.errors import ConfigError
from facegan_video.types import FaceRecord

FIELDS = ("box", "landmarks", "aus", "pose_t", "pose_r")


def _median(history: deque, current: np.ndarray) -> np.ndarray:
    """Element-wise median of the window, skipping NaN history; NaN where the current value is NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: AUs the backend does not provide
        out = np.nanmedian(np.stack(history).astype(np.float64), axis=0)
    out[np.isnan(current)] = np.nan
    return out.astype(current.dtype)


class Median3Smoother:
    """Median of the last three records of each face id (fewer at the start of a track).

    ``max_gap`` (seconds): a longer pause between two records of a face (a cut, a seek) restarts
    its window, so frames from before the gap never leak into the new shot.
    """

    window = 3

    def __init__(self, max_gap: float = 0.5) -> None:
        try:
            max_gap = float(max_gap)
        except (TypeError, ValueError):
            raise ConfigError(f"median3 option max_gap must be a number of seconds, got {max_gap!r}") from None
        if not max_gap > 0:
            raise ConfigError(f"median3 option max_gap must be > 0 seconds, got {max_gap!r}")
        self.max_gap = max_gap
        self._faces: dict[int, tuple[int, float, dict[str, deque]]] = {}

    def smooth(self, record: FaceRecord) -> FaceRecord:
        if not record.success:
            self._faces.pop(record.face_id, None)
            return record
        last = self._faces.get(record.face_id)
        # a new stream (frame numbers restart) or a long pause starts the window afresh
        if last is None or record.frame <= last[0] or record.timestamp - last[1] > self.max_gap:
            history = {name: deque(maxlen=self.window) for name in FIELDS}
        else:
            history = last[2]
        self._faces[record.face_id] = (record.frame, record.timestamp, history)
        values = {"box": np.asarray(record.box), "landmarks": np.asarray(record.landmarks)}
        if record.analysis is not None:
            a = record.analysis
            values.update(aus=np.asarray(a.aus), pose_t=np.asarray(a.pose_t), pose_r=np.asarray(a.pose_r))
        out = {}
        for name, value in values.items():
            hist = history[name]
            if hist and hist[-1].shape != value.shape:
                hist.clear()
            hist.append(value.copy())
            out[name] = _median(hist, value)
        smoothed = dataclasses.replace(record, box=out["box"], landmarks=out["landmarks"])
        if record.analysis is not None:
            smoothed.analysis = dataclasses.replace(record.analysis, aus=out["aus"], pose_t=out["pose_t"],
                                                    pose_r=out["pose_r"])
        return smoothed
