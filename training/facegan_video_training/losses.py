"""The landmark transformer's losses (paper Section 3.1, eq. 1-4), per sample.

Every function returns one value per sample, shape (B,), so training averages them and validation
can sum them across processes. Inputs are in network coordinates (``facegan_video.nets.landmark``):
landmarks (B, 68, 2), motion (B, 20). NaN entries of a motion code (AUs a backend does not
measure) are left out of eq. 2.

AU labels are clipped intensities (0-5, normalised 0-1): a face reading 0 may be anywhere at or
below the neutral. ``bounded_l1`` therefore penalises a prediction for a label at a bound only when
it lies inside the range, so L_a extrapolates past the bounds instead of flattening there, and an
edit that raises an AU from 0 asks for the full rise.

For synthetic edits (no l_d), eq. 2 is taken relative to the reading of the source (``edit_au_loss``):
l_t should read as the source's reading plus the change asked for, which is what the round trip
(edit, then re-analysis) measures, whatever the reading of the source itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from facegan_video.ibug import EDGES
from facegan_video.types import AUS


@dataclass(frozen=True)
class LTWeights:
    """eq. 1's λ_lr and eq. 4's λ_l1, λ_l2, λ_l3 (the paper gives no values; these balance the
    terms' typical sizes on normalised data: landmark errors ~0.05 face scales, AU errors ~0.1-0.3);
    ``edit`` weighs the synthetic edit samples' loss against the real pairs', ``edit_asked`` the AUs an
    edit changes against the others in its eq. 2 (the analysis reads 17 AUs from 12 independent
    landmark measures, so some AUs cannot move alone: the asked one should move, the others drift as
    little as they can), and ``edit_connectivity`` their connectivity to the source (a smooth,
    whole-part change rather than single points)."""

    reg: float = 0.01
    reconstruction: float = 1.0
    au: float = 0.5
    connectivity: float = 1.0
    edit: float = 1.0
    edit_asked: float = 4.0
    edit_connectivity: float = 0.2


def bounded_l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B, 20) |pred - target| where the target is measured; for an AU whose target is at or beyond a
    bound of the normalised range (0 or 1) only a prediction inside it counts. NaN targets give 0."""
    err = (pred - target).abs()
    aus = _au_mask(target)
    err = torch.where(aus & (target <= 0), torch.relu(pred), err)
    err = torch.where(aus & (target >= 1), torch.relu(1 - pred), err)
    return torch.where(torch.isfinite(target), err, torch.zeros_like(err))


def _au_mask(like: torch.Tensor) -> torch.Tensor:
    """(20,) True at the AU entries of the motion code (the pose entries are unbounded)."""
    aus = torch.zeros(like.shape[-1], dtype=torch.bool, device=like.device)
    aus[AUS] = True
    return aus


def _mean_measured(err: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return err.sum(1) / torch.isfinite(target).sum(1).clamp(min=1)


def reconstruction_loss(target: torch.Tensor, delta: torch.Tensor, driving: torch.Tensor, reg: float
                        ) -> torch.Tensor:
    """eq. 1: ‖l_t − l_d‖₁ (mean over the 136 coordinates) + λ_lr ‖Δl‖₂ (Euclidean norm of the 136-vector)."""
    return (target - driving).abs().flatten(1).mean(1) + reg * delta.flatten(1).norm(dim=1)


def au_loss(au: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """One term of eq. 2, ‖L_a(l) − AU‖₁, bounded (``bounded_l1``); the mean over the measured entries."""
    return _mean_measured(bounded_l1(au, labels), labels)


def edit_au_loss(au_target: torch.Tensor, au_source: torch.Tensor, change: torch.Tensor, asked: float = 1.0
                 ) -> torch.Tensor:
    """eq. 2 for an edit, relative: ‖R(l_t) − (R(l_s) + ΔAU)‖₁ for a reading R, with R(l_s) clipped to the
    range as the analysis clips it, bounded (``bounded_l1``); the mean over the measured entries of
    ``change``, the entries that change (the asked ones) weighted ``asked``."""
    start = torch.where(_au_mask(change), au_source.clamp(0, 1), au_source)
    target = start.detach() + change
    weight = torch.where(change != 0, torch.full_like(change, asked), torch.ones_like(change))
    return _mean_measured(bounded_l1(au_target, target) * weight, target)


def edge_vectors(landmarks: torch.Tensor) -> torch.Tensor:
    """(B, 63, 2) differences between the connected points of the iBUG-68 contours."""
    edges = torch.as_tensor(EDGES, device=landmarks.device)
    return landmarks[:, edges[:, 1]] - landmarks[:, edges[:, 0]]


def connectivity_loss(target: torch.Tensor, driving: torch.Tensor) -> torch.Tensor:
    """eq. 3: ‖D_t − D_d‖₁ over the contour edges (mean over edges and x, y)."""
    return (edge_vectors(target) - edge_vectors(driving)).abs().flatten(1).mean(1)


def lt_losses(source: torch.Tensor, delta: torch.Tensor, driving: torch.Tensor, au_target: torch.Tensor,
              au_driving: torch.Tensor, motion: torch.Tensor, weights: LTWeights) -> dict[str, torch.Tensor]:
    """Each term and eq. 4's weighted sum ``loss`` for real pairs, per pair; l_t = source + delta, l_d =
    driving with motion ``motion``; eq. 2 = ‖L_a(l_t) − AU_d‖₁ + ‖L_a(l_d) − AU_d‖₁."""
    target = source + delta
    terms = {
        "reconstruction": reconstruction_loss(target, delta, driving, weights.reg),
        "au": au_loss(au_target, motion) + au_loss(au_driving, motion),
        "connectivity": connectivity_loss(target, driving),
    }
    terms["loss"] = (weights.reconstruction * terms["reconstruction"] + weights.au * terms["au"]
                     + weights.connectivity * terms["connectivity"])
    return terms


def edit_losses(source: torch.Tensor, delta: torch.Tensor, au_target: torch.Tensor, au_source: torch.Tensor,
                change: torch.Tensor, weights: LTWeights) -> dict[str, torch.Tensor]:
    """Synthetic edits (the source's own motion with some AUs changed by ``change``; no ground-truth l_d):
    eq. 2 on the readings of l_t and l_s (``edit_au_loss``), λ_lr ‖Δl‖₂ and connectivity to the source,
    per sample; ``edit_loss`` is their sum, eq. 2 weighted as in eq. 4."""
    terms = {
        "edit_au": edit_au_loss(au_target, au_source, change, weights.edit_asked),
        "edit_connectivity": connectivity_loss(source + delta, source),
    }
    terms["edit_loss"] = (weights.au * terms["edit_au"] + weights.reg * delta.flatten(1).norm(dim=1)
                          + weights.edit_connectivity * terms["edit_connectivity"])
    return terms
