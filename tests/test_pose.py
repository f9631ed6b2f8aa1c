"""Head pose: exact recovery on the projected 3D mean face, and the sign conventions on real head turns.

Convention (OpenFace's): pose_r = (pitch, yaw, roll) with R = Rx(pitch) @ Ry(yaw) @ Rz(roll) in the
camera frame (x right, y down, z forward). Seen in the image, positive yaw moves the nose tip LEFT,
positive pitch moves it DOWN (head bowed), positive roll turns the face CLOCKWISE.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest

from facegan_video.analysis.geometry import camera_matrix, euler_from_matrix, mean_face, solve_pose
from facegan_video.analysis.pipeline import FaceAnalyzer
from facegan_video.config import AnalysisConfig
from facegan_video.plugins import load_registry
from facegan_video.video import open_video

SIZE = 512
DISTANCE_MM = 600.0
NOSE_TIP, OUTER_EYE_R, OUTER_EYE_L = 30, 36, 45  # iBUG 300-W: 36 is the subject's right eye, image left


def rotation(pitch: float, yaw: float, roll: float) -> np.ndarray:
    """R = Rx(pitch) @ Ry(yaw) @ Rz(roll), angles in degrees."""
    p, y, r = np.radians([pitch, yaw, roll])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rx @ ry @ rz


def project(pitch: float = 0.0, yaw: float = 0.0, roll: float = 0.0) -> np.ndarray:
    """(68, 2) image of the mean face rotated by the given angles (degrees), 600 mm in front of the camera."""
    rvec, _ = cv2.Rodrigues(rotation(pitch, yaw, roll))
    pts, _ = cv2.projectPoints(mean_face(), rvec, np.array([0.0, 0.0, DISTANCE_MM]), camera_matrix(SIZE, SIZE), None)
    return pts.reshape(68, 2)


def estimate(landmarks: np.ndarray, guess=None) -> tuple[np.ndarray, np.ndarray]:
    """(pitch, yaw, roll) in degrees and translation in mm from the pose solver."""
    rvec, tvec = solve_pose(landmarks, camera_matrix(SIZE, SIZE), guess)
    return np.degrees(euler_from_matrix(cv2.Rodrigues(rvec)[0])), tvec.reshape(3)


def nose_offset(landmarks: np.ndarray) -> np.ndarray:
    """Nose tip minus the mid-point of the outer eye corners, over the inter-ocular distance; (..., 2)."""
    lm = np.asarray(landmarks, np.float64)
    mid = (lm[..., OUTER_EYE_R, :] + lm[..., OUTER_EYE_L, :]) / 2
    iod = np.linalg.norm(lm[..., OUTER_EYE_L, :] - lm[..., OUTER_EYE_R, :], axis=-1)
    return (lm[..., NOSE_TIP, :] - mid) / iod[..., None]


def eye_line_angle(landmarks: np.ndarray) -> float:
    """Angle of the outer-eye-corner line in degrees; with y down, positive is clockwise on screen."""
    dx, dy = landmarks[OUTER_EYE_L] - landmarks[OUTER_EYE_R]
    return float(np.degrees(np.arctan2(dy, dx)))


# --- synthetic: the real 3D mean face through a real camera model ---------------------------------------

POSES = [(0, 20, 0), (0, -20, 0), (15, 0, 0), (-15, 0, 0), (0, 0, 10), (0, 0, -10),
         (15, -20, 10), (-10, 25, -8), (12, 18, -10)]


@pytest.mark.parametrize("pose", POSES, ids=lambda p: "p{}y{}r{}".format(*p))
def test_solver_recovers_known_rotation(pose):
    pts = project(*pose)
    angles, t = estimate(pts)
    np.testing.assert_allclose(angles, pose, atol=1.0)
    np.testing.assert_allclose(t, [0, 0, DISTANCE_MM], atol=5.0)
    # warm start from the frontal pose, as the AU backend does frame to frame
    frontal = solve_pose(project(), camera_matrix(SIZE, SIZE))
    angles, _ = estimate(pts, frontal)
    np.testing.assert_allclose(angles, pose, atol=1.0)


@pytest.mark.parametrize("pose", POSES, ids=lambda p: "p{}y{}r{}".format(*p))
def test_au_backend_reports_known_rotation(pose):
    """The default AU backend's pose_r (radians) and pose_t (mm) on the projected mean face."""
    au = load_registry().create("au")
    [analysis] = au.estimate(project(*pose)[None].astype(np.float32), (SIZE, SIZE))
    np.testing.assert_allclose(np.degrees(analysis.pose_r), pose, atol=1.0)
    np.testing.assert_allclose(analysis.pose_t, [0, 0, DISTANCE_MM], atol=5.0)
    assert analysis.confidence > 0.9


def test_euler_from_matrix_inverts_rx_ry_rz():
    rng = np.random.default_rng(0)
    angles = rng.uniform([-80, -80, -170], [80, 80, 170], size=(200, 3))
    matrices = np.stack([rotation(*a) for a in angles])
    np.testing.assert_allclose(np.degrees(euler_from_matrix(matrices)), angles, atol=1e-6)


@pytest.mark.parametrize("sign", [1, -1])
def test_positive_yaw_moves_nose_left(sign):
    frontal, turned = nose_offset(project()), nose_offset(project(yaw=sign * 20))
    # the geometry: the nose tip is ~34 mm in front of the eyes, so yaw swings it sideways
    assert sign * (turned[0] - frontal[0]) < -0.1
    assert abs(turned[1] - frontal[1]) < 0.05
    angles, _ = estimate(project(yaw=sign * 20))
    assert sign * angles[1] > 19


@pytest.mark.parametrize("sign", [1, -1])
def test_positive_pitch_moves_nose_down(sign):
    frontal, tilted = nose_offset(project()), nose_offset(project(pitch=sign * 15))
    assert sign * (tilted[1] - frontal[1]) > 0.1  # y grows downwards
    assert abs(tilted[0] - frontal[0]) < 0.02
    angles, _ = estimate(project(pitch=sign * 15))
    assert sign * angles[0] > 14


@pytest.mark.parametrize("sign", [1, -1])
def test_positive_roll_turns_clockwise(sign):
    assert abs(eye_line_angle(project())) < 0.5
    pts = project(roll=sign * 10)
    assert sign * eye_line_angle(pts) > 9  # with y down, a positive image angle is clockwise
    angles, _ = estimate(pts)
    assert sign * angles[2] > 9


# --- real clips with head turns --------------------------------------------------------------------------


@cache
def analyse(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Pose (N, 3) degrees and landmarks (N, 68, 2) of the largest face, default backends."""
    analyzer = FaceAnalyzer(AnalysisConfig(faces="largest"))
    poses, landmarks = [], []
    with open_video(path) as src:
        frames = 0
        for _, records in analyzer.run(src):
            frames += 1
            for record in records:
                if record.success and record.analysis is not None:
                    poses.append(np.degrees(record.analysis.pose_r))
                    landmarks.append(record.landmarks)
    assert len(poses) > 0.9 * frames, f"{path.name}: face in {len(poses)} of {frames} frames"
    return np.array(poses), np.array(landmarks)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


#: Clips with clear head turns (see ../shared/data/talking_heads/MANIFEST.tsv).
YAW_CLIPS = ["lp_d3.mp4", "lia_vox_driving2.mp4", "sadtalker_katiehill.mp4"]
PITCH_CLIPS = ["lia_vox_driving2.mp4", "sadtalker_katiehill.mp4",
               # the woman bows her head twice (frames ~150-170, ~250-265): caught by the inner-face refinement
               "lp_d3.mp4"]


@pytest.mark.parametrize("clip", YAW_CLIPS)
def test_yaw_follows_nose_offset(shared_clips, clip):
    """Positive yaw moves the nose tip left of the eyes' mid-point, so yaw and its x offset anti-correlate."""
    pose, landmarks = analyse(shared_clips / clip)
    yaw, offset_x = pose[:, 1], nose_offset(landmarks)[:, 0]
    assert pearson(yaw, offset_x) < -0.7
    assert 5.0 < np.ptp(yaw) < 60.0, f"yaw range {np.ptp(yaw):.1f} degrees"
    assert np.abs(pose[:, 0]).max() < 45.0


@pytest.mark.parametrize("clip", PITCH_CLIPS)
def test_pitch_follows_nose_drop(shared_clips, clip):
    """Positive pitch (head bowed) moves the nose tip down from the eye line."""
    pose, landmarks = analyse(shared_clips / clip)
    pitch, offset_y = pose[:, 0], nose_offset(landmarks)[:, 1]
    assert np.abs(pitch).max() < 45.0
    assert pearson(pitch, offset_y) > 0.5
