"""The analysis's own AU reading around each training frame, for the synthetic edits' eq. 2.

The geometric AU backend (``facegan_video.analysis.aus``) reads every AU as a linear function of the
frontalised landmarks (``au_features``), and for a fixed head pose frontalisation is linear in the
image landmarks too (each point back-projected at the posed mean face's depth, then un-rotated;
``analysis.geometry.frontalise``). So around a frame, the AU change that a landmark displacement
causes is exactly ``M_frame · Δl``, the pose held. The paper trains edits against L_a, an MLP that
approximates its analysis (OpenFace, not differentiable); here the analysis is known, and its exact
reading keeps L_T from moving landmarks in ways L_a misreads. What it leaves out: the analysis
re-fits the head pose on the moved landmarks, which shifts AUs a little for large edits.

Frames are read in the crop's own camera (a 256-px image holding the face at a portrait's scale),
as the analysis would read a portrait; the poses are fitted once, when a task starts (~0.6 ms a frame).
"""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np
import torch

from facegan_video.analysis.aus import GeometricAU, au_features
from facegan_video.analysis.geometry import PoseTracker, camera_matrix, mean_face
from facegan_video.types import AU_MAX


@cache
def feature_jacobian() -> np.ndarray:
    """(17, 68, 2) d feature / d frontal (x, y) of ``au_features``, which is linear: read off unit steps."""
    base = np.zeros((1, 68, 3))
    f0 = au_features(base)[0].astype(np.float64)
    jac = np.zeros((len(f0), 68, 2))
    for i in range(68):
        for c in range(2):
            step = base.copy()
            step[0, i, c] = 1.0
            jac[:, i, c] = au_features(step)[0] - f0
    return jac


class AUTeacher:
    """The AU intensities (unclipped, normalised by ``AU_MAX``) the analysis reads from landmarks near the
    frames it was built on: ``reading(frames, landmarks)`` for (B, 68, 2) unit crop coordinates."""

    def __init__(self, landmarks: np.ndarray, size: int, device: torch.device | str = "cpu") -> None:
        """``landmarks``: (N, 68, 2) unit crop coordinates of the frames; ``size``: the crop side in pixels."""
        px = np.asarray(landmarks, np.float64) * size
        cam = camera_matrix(size, size)
        fit = PoseTracker()(px, (size, size), [-1] * len(px))
        geo = GeometricAU()
        rot = np.stack([cv2.Rodrigues(r)[0] for r in fit.rvecs]) if len(px) else np.zeros((0, 3, 3))
        depth = (np.einsum("pk,njk->npj", mean_face(), rot) + fit.tvecs[:, None, :])[..., 2]
        to = {"dtype": torch.float32, "device": device}
        self.frames = torch.as_tensor(np.asarray(landmarks), **to)
        self.raw = torch.as_tensor(geo.intensities(au_features(fit.fronts), clip=False) / AU_MAX, **to)
        # frontal mm per unit-coordinate step of each point, with the in-plane rotation: d front_xy / d l
        self.lift = torch.as_tensor(depth * size / cam[0, 0], **to)
        self.rot = torch.as_tensor(rot[:, :2, :2], **to)
        self.jac = torch.as_tensor(feature_jacobian() / (geo.scale[:, None, None] * AU_MAX), **to)

    def reading(self, frames: torch.Tensor, landmarks: torch.Tensor) -> torch.Tensor:
        """(B, 17) normalised AU intensities of ``landmarks`` near frames ``frames`` (B,), unclipped."""
        delta = landmarks - self.frames[frames]
        front = self.lift[frames, :, None] * torch.einsum("bij,bjc->bic", delta, self.rot[frames])
        return self.raw[frames] + torch.einsum("kic,bic->bk", self.jac, front)
