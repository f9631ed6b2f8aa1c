"""The landmark transformer's losses (paper Section 3.1, eq. 1-4), per sample.

Every function returns one value per sample, shape (B,), so training averages them and validation
can sum them across processes. Inputs are in network coordinates (``facegan_video.nets.landmark``):
landmarks (B, 68, 2), motion (B, 20). NaN entries of the driving motion (AUs a backend does not
measure) are left out of eq. 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from facegan_video.ibug import EDGES


@dataclass(frozen=True)
class LTWeights:
    """eq. 1's λ_lr and eq. 4's λ_l1, λ_l2, λ_l3 (the paper gives no values; these balance the
    terms' typical sizes on normalised data: landmark errors ~0.05 face scales, AU errors ~0.1-0.3)."""

    reg: float = 0.01
    reconstruction: float = 1.0
    au: float = 0.5
    connectivity: float = 1.0


def reconstruction_loss(target: torch.Tensor, delta: torch.Tensor, driving: torch.Tensor, reg: float
                        ) -> torch.Tensor:
    """eq. 1: ‖l_t − l_d‖₁ (mean over the 136 coordinates) + λ_lr ‖Δl‖₂ (Euclidean norm of the 136-vector)."""
    return (target - driving).abs().flatten(1).mean(1) + reg * delta.flatten(1).norm(dim=1)


def au_loss(au_target: torch.Tensor, au_driving: torch.Tensor, motion: torch.Tensor) -> torch.Tensor:
    """eq. 2: ‖L_a(l_t) − AU_d‖₁ + ‖L_a(l_d) − AU_d‖₁, each the mean over the measured entries."""
    valid = torch.isfinite(motion)
    m = torch.where(valid, motion, torch.zeros_like(motion))
    count = valid.sum(1).clamp(min=1)
    err = ((au_target - m).abs() + (au_driving - m).abs()) * valid
    return err.sum(1) / count


def edge_vectors(landmarks: torch.Tensor) -> torch.Tensor:
    """(B, 63, 2) differences between the connected points of the iBUG-68 contours."""
    edges = torch.as_tensor(EDGES, device=landmarks.device)
    return landmarks[:, edges[:, 1]] - landmarks[:, edges[:, 0]]


def connectivity_loss(target: torch.Tensor, driving: torch.Tensor) -> torch.Tensor:
    """eq. 3: ‖D_t − D_d‖₁ over the contour edges (mean over edges and x, y)."""
    return (edge_vectors(target) - edge_vectors(driving)).abs().flatten(1).mean(1)


def lt_losses(source: torch.Tensor, delta: torch.Tensor, driving: torch.Tensor, au_target: torch.Tensor,
              au_driving: torch.Tensor, motion: torch.Tensor, weights: LTWeights) -> dict[str, torch.Tensor]:
    """Each term and eq. 4's weighted sum ``loss``, per sample; l_t = source + delta."""
    target = source + delta
    terms = {
        "reconstruction": reconstruction_loss(target, delta, driving, weights.reg),
        "au": au_loss(au_target, au_driving, motion),
        "connectivity": connectivity_loss(target, driving),
    }
    terms["loss"] = (weights.reconstruction * terms["reconstruction"] + weights.au * terms["au"]
                     + weights.connectivity * terms["connectivity"])
    return terms
