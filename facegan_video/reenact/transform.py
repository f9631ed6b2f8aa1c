"""Landmark transformers: source landmarks + target AUs/pose -> target landmarks in the source image.

``analytic`` (default) keeps the SOURCE's face shape: the source's pose-free (frontalised) landmarks
are moved by an AU -> landmark-displacement basis fitted on real clips
(``training/fit_au_basis.py``), then rotated to the target head pose about the source head's own
position and projected with the source camera. ``direct`` is the paper's "without L_T" ablation:
the driving landmarks themselves, similarity-aligned onto the source face, so the driver's face
shape leaks into the output.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from facegan_video.analysis.geometry import PoseFit, PoseTracker, camera_matrix, project
from facegan_video.assets import DATA_DIR
from facegan_video.errors import ConfigError
from facegan_video.hookspecs import hookimpl
from facegan_video.ibug import ALIGN
from facegan_video.options import Option
from facegan_video.types import AUS, POSE, Backend, Capabilities, SourceFace

BASIS_FILE = DATA_DIR / "au_basis.npy"


def rotation_from_euler(euler: np.ndarray) -> np.ndarray:
    """R = Rx(pitch) @ Ry(yaw) @ Rz(roll), the inverse of ``euler_from_matrix``."""
    p, y, r = (float(v) for v in euler)
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rx @ ry @ rz


def similarity_align(points: np.ndarray, onto: np.ndarray, idx: np.ndarray = ALIGN) -> np.ndarray:
    """(N, 68, 2) point sets moved by the similarity that best maps their ``idx`` points onto ``onto``'s."""
    dst = onto[idx].astype(np.float64)
    dst_mean = dst.mean(0)
    zd = (dst - dst_mean) @ np.array([1, 1j])
    out = np.empty(points.shape, np.float32)
    for i, pts in enumerate(points):
        src_mean = pts[idx].mean(0)
        zs = (pts[idx] - src_mean) @ np.array([1, 1j])
        s = (np.conj(zs) @ zd) / max(float(np.real(np.conj(zs) @ zs)), 1e-9)
        z = ((pts - src_mean) @ np.array([1, 1j])) * s
        out[i] = np.stack([z.real, z.imag], 1) + dst_mean
    return out


@lru_cache(maxsize=1)
def load_basis() -> np.ndarray:
    """(17, 68, 2) millimetres of frontal landmark displacement per unit of each AU."""
    return np.load(BASIS_FILE).astype(np.float64)


class DirectTransformer:
    """Driving landmarks similarity-aligned onto the source (no L_T; ablation baseline)."""

    def transform(self, source: SourceFace, target_motion: np.ndarray,
                  driving_landmarks: np.ndarray | None = None) -> np.ndarray:
        if driving_landmarks is None:
            raise ConfigError("the 'direct' landmark transformer needs driving landmarks; "
                              "for edits use --transform analytic")
        return similarity_align(np.asarray(driving_landmarks), source.landmarks)


class AnalyticTransformer:
    """The source's own shape moved by AU deltas (fitted basis) and re-posed; see the module docstring."""

    def __init__(self, expression_gain: float = 1.0) -> None:
        if not 0 <= expression_gain <= 3:
            raise ConfigError("expression_gain must be within 0-3")
        self.gain = expression_gain
        self.basis = load_basis()
        self._cache: tuple[bytes, PoseFit] | None = None

    def _source_fit(self, source: SourceFace) -> PoseFit:
        key = source.landmarks.tobytes()
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, PoseTracker()(source.landmarks[None], source.image_size, [-1]))
        return self._cache[1]

    def transform(self, source: SourceFace, target_motion: np.ndarray,
                  driving_landmarks: np.ndarray | None = None) -> np.ndarray:
        fit = self._source_fit(source)
        cam = camera_matrix(*source.image_size)
        front, tvec = fit.fronts[0], fit.tvecs[0]
        src_rot = cv2.Rodrigues(fit.rvecs[0])[0]
        # rotate by the change of pose, so an unchanged pose gives back the source exactly
        undo_src = rotation_from_euler(source.motion[POSE]).T @ src_rot
        out = np.empty((len(target_motion), 68, 2), np.float32)
        for i, motion in enumerate(np.asarray(target_motion, np.float64)):
            delta = np.nan_to_num(motion[AUS] - source.motion[AUS])
            moved = front.copy()
            moved[:, :2] += self.gain * np.tensordot(delta, self.basis, axes=1)
            rot = rotation_from_euler(motion[POSE]) @ undo_src
            out[i] = project(moved, cam, cv2.Rodrigues(rot)[0], tvec)
        return out


@hookimpl
def facegan_video_landmark_transformers() -> list[Backend]:
    return [
        Backend("analytic", AnalyticTransformer,
                "source shape moved by an AU->landmark basis fitted on real clips, then re-posed (keeps face shape)",
                options=(Option("expression_gain", float, 1.0, "scales every AU's landmark displacement",
                                low=0, high=3),)),
        Backend("direct", DirectTransformer,
                "driving landmarks aligned onto the source (paper's no-L_T ablation; leaks the driver's shape)",
                capabilities=Capabilities(driving_landmarks=True)),
    ]
