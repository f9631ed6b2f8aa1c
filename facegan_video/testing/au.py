"""The ``au`` stage's contract."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from facegan_video.ibug import mirror_points
from facegan_video.testing.common import _frozen, _require, _unchanged
from facegan_video.testing.fixture import RealFace
from facegan_video.types import AU_NAMES, Analysis, AUEstimator, Capabilities


def _au_call(au: Any, landmarks: np.ndarray, size: tuple[int, int], ids: Sequence[int] | None,
             images: list[np.ndarray], frames: bool) -> list[Analysis]:
    """Call ``estimate`` the way the pipeline does: backends declaring ``Capabilities.frames`` get the frames."""
    extra = {"images": images} if frames else {}
    return au.estimate(landmarks, size, ids, **extra)


def _check_analysis(a: Any, provides: Sequence[str], what: str) -> None:
    _require(isinstance(a, Analysis), f"{what}: expected Analysis, got {type(a).__name__}")
    aus = a.aus
    _require(isinstance(aus, np.ndarray) and aus.shape == (17,) and aus.dtype == np.float32,
             f"{what}: aus must be a (17,) float32 array, got {getattr(aus, 'shape', aus)} {getattr(aus, 'dtype', '')}")
    given = np.array([n in provides for n in AU_NAMES])
    _require(np.isfinite(aus[given]).all() and ((aus[given] >= 0) & (aus[given] <= 5)).all(),
             f"{what}: provided AUs must be finite and within 0-5: "
             f"{dict((n, float(v)) for n, v, g in zip(AU_NAMES, aus, given) if g and not 0 <= v <= 5)}")
    _require(np.isnan(aus[~given]).all(),
             f"{what}: AUs not in provides must be NaN: "
             f"{[n for n, v, g in zip(AU_NAMES, aus, given) if not g and not np.isnan(v)]}")
    pose_r, pose_t = np.asarray(a.pose_r), np.asarray(a.pose_t)
    _require(pose_r.shape == (3,) and np.isfinite(pose_r).all() and (np.abs(pose_r) <= np.pi).all(),
             f"{what}: pose_r must be 3 finite angles in radians (|angle| <= pi), got {pose_r}")
    _require(pose_t.shape == (3,) and np.isfinite(pose_t).all() and pose_t[2] > 0,
             f"{what}: pose_t must be 3 finite numbers with z > 0 (in front of the camera), got {pose_t}")
    _require(isinstance(a.confidence, (float, int, np.floating)) and 0 <= a.confidence <= 1,
             f"{what}: confidence must be within [0, 1], got {a.confidence!r}")


def _same_analyses(a: list[Analysis], b: list[Analysis], what: str, atol: float) -> None:
    for i, (x, y) in enumerate(zip(a, b)):
        ok = (np.allclose(x.aus, y.aus, atol=atol, equal_nan=True) and np.allclose(x.pose_r, y.pose_r, atol=atol)
              and np.allclose(x.pose_t, y.pose_t, atol=atol * 100) and abs(x.confidence - y.confidence) <= atol)
        _require(ok, f"{what}: face {i} differs: aus {x.aus} vs {y.aus}, pose_r {x.pose_r} vs {y.pose_r}")


def check_au_estimator(au: Any, face: RealFace, capabilities: Capabilities = Capabilities(), *,
                       fresh: Callable[[], Any] | None = None) -> list[str]:
    """Stage ``au``: ``provides`` and ``estimate(landmarks, image_size, track_ids) -> list[Analysis]``.

    ``provides`` names AUs of ``types.AU_NAMES``; each Analysis has (17,) float32 AUs, 0-5 where
    provided and NaN elsewhere, finite pose in radians (the astronaut's head within 0.7 rad of
    frontal; mirroring the landmarks flips yaw and roll and keeps pitch, within 0.1 rad), pose_t in
    front of the camera, confidence in [0, 1] (>= 0.5 on the astronaut); unrelated faces
    (``track_ids=None``) in a batch give the per-face results; the same call twice gives the same
    result; a track of frames gives one valid Analysis per frame.
    """
    _require(isinstance(au, AUEstimator), f"{type(au).__name__} lacks provides / estimate()")
    frames = capabilities.frames
    provides = tuple(au.provides)
    _require(set(provides) <= set(AU_NAMES) and len(set(provides)) == len(provides),
             f"provides must be distinct names from types.AU_NAMES, got {provides}")
    inputs = _frozen(face.landmarks, face.frame_landmarks)
    one = _au_call(au, face.landmarks[None].copy(), face.image_size, None, [face.image], frames)
    _require(isinstance(one, list) and len(one) == 1,
             f"estimate() of one face must return a list of one Analysis, got {one!r}")
    _check_analysis(one[0], provides, "astronaut")
    _require((np.abs(one[0].pose_r) < 0.7).all(),
             f"astronaut: the head is near frontal, got pose_r {one[0].pose_r} rad")
    _require(one[0].confidence >= 0.5, f"astronaut: confidence {one[0].confidence} for a clear real face")
    w = face.image.shape[1]
    mirrored = _au_call(au, mirror_points(face.landmarks, w)[None], face.image_size, None,
                        [np.ascontiguousarray(face.image[:, ::-1])], frames)
    _check_analysis(mirrored[0], provides, "mirrored astronaut")
    expect = one[0].pose_r * np.array([1, -1, -1])
    _require(np.allclose(mirrored[0].pose_r, expect, atol=0.1),
             f"pose convention: mirroring the face must keep pitch and flip yaw and roll; got {mirrored[0].pose_r} "
             f"for {one[0].pose_r}")
    n = len(face.frames)
    batch = _au_call(au, face.frame_landmarks.copy(), face.frame_size, None, list(face.frames), frames)
    _require(isinstance(batch, list) and len(batch) == n, f"estimate() of {n} faces returned {len(batch)} results")
    for i, a in enumerate(batch):
        _check_analysis(a, provides, f"carphone frame {i}")
    singles = [_au_call(au, face.frame_landmarks[i:i + 1].copy(), face.frame_size, None, [face.frames[i]], frames)[0]
               for i in range(n)]
    _same_analyses(batch, singles, "batch vs single (track_ids=None)", atol=1e-3)
    again = _au_call(au, face.frame_landmarks.copy(), face.frame_size, None, list(face.frames), frames)
    _same_analyses(again, batch, "same input twice", atol=1e-5)
    track = _au_call(au, face.frame_landmarks.copy(), face.frame_size, [7] * n, list(face.frames), frames)
    _require(isinstance(track, list) and len(track) == n,
             f"estimate() of a {n}-frame track returned {len(track)} results")
    for i, a in enumerate(track):
        _check_analysis(a, provides, f"carphone track frame {i}")
    _unchanged(inputs, [face.landmarks, face.frame_landmarks], "estimate()")
    return []
