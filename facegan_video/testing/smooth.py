"""The ``smooth`` stage's contract."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from facegan_video.testing.common import _fresh_maker, _frozen, _require, _unchanged
from facegan_video.testing.fixture import RealFace
from facegan_video.types import Capabilities, FaceRecord, Smoother


def _record_arrays(r: FaceRecord) -> list[np.ndarray]:
    arrays = [np.asarray(r.box), np.asarray(r.landmarks)]
    if r.analysis is not None:
        arrays += [np.asarray(r.analysis.aus), np.asarray(r.analysis.pose_t), np.asarray(r.analysis.pose_r)]
    return arrays


def _same_records(a: FaceRecord, b: FaceRecord, what: str) -> None:
    ok = all(np.allclose(x, y, atol=1e-5, equal_nan=True) and x.shape == y.shape
             for x, y in zip(_record_arrays(a), _record_arrays(b)))
    ok = ok and (a.analysis is None) == (b.analysis is None) and a.success == b.success
    _require(ok, f"{what}: records differ (frame {a.frame}, face {a.face_id})")


def _smooth_all(smoother: Any, records: list[FaceRecord]) -> list[FaceRecord]:
    out = []
    for r in records:
        before = _frozen(*_record_arrays(r))
        s = smoother.smooth(r)
        _unchanged(before, _record_arrays(r), "smooth()")
        out.append(s)
    return out


def check_smoother(smoother: Any, face: RealFace, fresh: Callable[[], Any] | None = None, *,
                   capabilities: Capabilities = Capabilities()) -> list[str]:
    """Stage ``smooth``: ``smooth(record) -> record``, state per face id.

    ``smoother`` must be new; ``fresh`` builds another new one (default: deep copies taken before use).
    Over the clip's face track each output is a FaceRecord with the same frame, timestamp, face id and
    success, box (4,) and landmarks (68, 2) of the input's dtype, finite and within 0.15 face sizes of
    the input, AUs NaN exactly where the input's are and within 0-5 elsewhere, finite pose; the input
    record is not modified; a failed record passes unchanged and resets its face (the next record
    comes out as from a new smoother); a second face interleaved with the first does not change the
    first's output; the same track on a new smoother gives the same output.
    """
    _require(isinstance(smoother, Smoother), f"{type(smoother).__name__} lacks smooth(record)")
    notes = []
    make = _fresh_maker(smoother, fresh)
    records = face.records(face_id=0)
    out = _smooth_all(smoother, records)
    for r, s in zip(records, out):
        what = f"frame {r.frame}"
        _require(isinstance(s, FaceRecord), f"{what}: smooth() must return a FaceRecord, got {type(s).__name__}")
        _require((s.frame, s.timestamp, s.face_id, s.success) == (r.frame, r.timestamp, r.face_id, r.success),
                 f"{what}: frame, timestamp, face_id and success must pass through unchanged")
        box, lm = np.asarray(s.box), np.asarray(s.landmarks)
        _require(box.shape == (4,) and box.dtype == r.box.dtype and np.isfinite(box).all(),
                 f"{what}: box must be a finite (4,) {r.box.dtype} array, got {box.shape} {box.dtype}")
        _require(lm.shape == (68, 2) and lm.dtype == r.landmarks.dtype and np.isfinite(lm).all(),
                 f"{what}: landmarks must be a finite (68, 2) {r.landmarks.dtype} array, got {lm.shape} {lm.dtype}")
        size = float(r.box[2] - r.box[0])
        dev = float(np.abs(lm - r.landmarks).max())
        _require(dev <= 0.15 * size,
                 f"{what}: smoothed landmarks moved {dev:.1f} px from the input (face {size:.0f} px)")
        _require(s.analysis is not None, f"{what}: the analysis was dropped")
        aus = np.asarray(s.analysis.aus)
        _require(aus.shape == (17,) and np.array_equal(np.isnan(aus), np.isnan(r.analysis.aus)),
                 f"{what}: smoothed AUs must be (17,) with NaN exactly where the input's are")
        ok = ~np.isnan(aus)
        _require(((aus[ok] >= 0) & (aus[ok] <= 5)).all(), f"{what}: smoothed AUs outside 0-5: {aus}")
        _require(np.isfinite(s.analysis.pose_r).all() and np.asarray(s.analysis.pose_r).shape == (3,)
                 and np.isfinite(s.analysis.pose_t).all() and np.asarray(s.analysis.pose_t).shape == (3,),
                 f"{what}: smoothed pose must be finite (3,) arrays")
    k = len(records) // 2
    failed = dataclasses.replace(records[k], landmarks=np.full((68, 2), np.nan, np.float32), analysis=None,
                                 success=False)
    passed = smoother.smooth(failed)
    _require(isinstance(passed, FaceRecord) and not passed.success and np.isnan(passed.landmarks).all()
             and np.array_equal(passed.box, failed.box), "a failed record (success=False) must pass unchanged")
    if make is None:
        notes.append("determinism, per-face state and reset not checked: the smoother cannot be deep-copied; "
                     "pass fresh=")
        return notes
    after = smoother.smooth(face.records(face_id=0)[k + 1])
    first = make().smooth(face.records(face_id=0)[k + 1])
    _same_records(after, first, "after a failed record the face must start afresh")
    twin = _smooth_all(make(), face.records(face_id=0))
    for a, b in zip(out, twin):
        _same_records(a, b, "same track on a new smoother")
    other = face.records(face_id=1, offset=40.0)
    mixed = _smooth_all(make(), [r for pair in zip(face.records(face_id=0), other) for r in pair])
    for a, b in zip(out, mixed[0::2]):
        _same_records(a, b, "a second face interleaved with the first changed the first's output")
    return notes
