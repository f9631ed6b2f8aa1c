"""The ``track`` stage's contract."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from facegan_video.testing.common import _fresh_maker, _require
from facegan_video.testing.fixture import RealFace
from facegan_video.types import Capabilities, Detection, Tracker


def _run_tracker(tracker: Any, face: RealFace, start: int = 0, present: bool = True, n: int | None = None
                 ) -> list[list[tuple[int, np.ndarray]]]:
    """Feed the clip's detections (or none, ``present=False``) and landmarks the way the pipeline does."""
    out = []
    count = len(face.frames) if n is None else n
    for k in range(count):
        i, j = start + k, k % len(face.frames)
        asks = tracker.needs_detection(i)
        _require(isinstance(asks, (bool, np.bool_)), f"needs_detection({i}) must return a bool, got {asks!r}")
        dets = None
        if asks:
            dets = [Detection(face.frame_boxes[j].copy(), float(face.frame_scores[j]))] if present else []
        tracks = tracker.update(i, dets)
        _require(isinstance(tracks, list), f"update({i}) must return a list, got {type(tracks).__name__}")
        for item in tracks:
            _require(isinstance(item, tuple) and len(item) == 2,
                     f"update({i}) must return (track_id, box) tuples, got {item!r}")
            tid, box = item
            _require(isinstance(tid, (int, np.integer)), f"update({i}): track id must be an int, got {tid!r}")
            box = np.asarray(box)
            _require(box.shape == (4,) and np.isfinite(box).all() and box[2] > box[0] and box[3] > box[1],
                     f"update({i}): box must be finite (x0, y0, x1, y1), got {box}")
            if present:
                tracker.observe(tid, face.frame_landmarks[j].copy(), 1.0)
            else:
                tracker.observe(tid, np.full((68, 2), np.nan, np.float32), 0.0)
        out.append([(int(t), np.asarray(b, np.float64)) for t, b in tracks])
    return out


def check_tracker(tracker: Any, face: RealFace, fresh: Callable[[], Any] | None = None, *,
                  capabilities: Capabilities = Capabilities()) -> list[str]:
    """Stage ``track``: ``needs_detection``, ``update``, ``observe`` over one video.

    ``tracker`` must be new (no frames seen); ``fresh`` builds another new one (default: deep copies
    of ``tracker`` taken before use). A new tracker asks for detection on frame 0; the clip's one face
    keeps one track id and its box covers the nose tip (from the third frame on, so trackers that
    confirm tracks may wait); when the face vanishes (no detections, NaN landmarks with confidence 0)
    its track ends within 30 frames, and a face that comes back is tracked again within 30 frames;
    the same video on a new tracker gives the same ids and boxes.
    """
    _require(isinstance(tracker, Tracker), f"{type(tracker).__name__} lacks needs_detection/update/observe")
    notes = []
    make = _fresh_maker(tracker, fresh)
    _require(bool(tracker.needs_detection(0)), "a new tracker must ask for detection on frame 0")
    run = _run_tracker(tracker, face)
    ids = {tid for tracks in run for tid, _ in tracks}
    _require(len(ids) <= 1, f"one face in the clip got several track ids: {sorted(ids)}")
    for i, tracks in enumerate(run[2:], start=2):
        _require(len(tracks) == 1, f"frame {i}: expected one tracked face, got {len(tracks)}")
        box, nose = tracks[0][1], face.frame_landmarks[i, 30]
        _require(box[0] <= nose[0] <= box[2] and box[1] <= nose[1] <= box[3],
                 f"frame {i}: tracked box {box.round(1).tolist()} does not cover the face (nose tip {nose.round(1)})")
    n = len(face.frames)
    gone = _run_tracker(tracker, face, start=n, present=False, n=30)
    _require(not gone[-1], f"the face vanished for 30 frames but is still tracked: {gone[-1]}")
    back = _run_tracker(tracker, face, start=n + 30, present=True, n=30)
    _require(back[-1], "the face came back for 30 frames but is not tracked again")
    if make is None:
        notes.append("determinism not checked: the tracker cannot be deep-copied; pass fresh=")
    else:
        twin = _run_tracker(make(), face)
        for i, (a, b) in enumerate(zip(run, twin)):
            _require(len(a) == len(b)
                     and all(ta == tb and np.allclose(ba, bb, atol=1e-4) for (ta, ba), (tb, bb) in zip(a, b)),
                     f"frame {i}: the same video on a new tracker gave {b} instead of {a}")
    return notes
