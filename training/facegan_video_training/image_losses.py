"""The image networks' losses (paper eq. 5-11), per sample.

Every function returns one value per sample, shape (B,), as the landmark losses do, so training
averages them and validation sums them across processes. Images are (B, 3, H, W) in [0, 1].

* eq. 5 / the L1 terms of eq. 11: mean absolute difference (background removed by the caller).
* eq. 6, perceptual: VGG19 (``vgg.VGG19Features``) when the user gives its weights; otherwise
  pix2pixHD's discriminator feature matching: the mean absolute difference of every intermediate
  discriminator feature between real and generated images, averaged over layers and scales.
* eq. 7, adversarial, over the discriminator scales: LSGAN (least squares, pix2pixHD's choice) or
  hinge; the paper's log loss is neither, both train more steadily.
* cross-entropy of the segmentation head against the dataset's pseudo-labels.
* eq. 10, the mask: total variation (mean squared differences of horizontal and vertical
  neighbours) and an L2 penalty (mean of M^2), which keeps M off wherever I_b can be copied.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

ADVERSARIAL = ("lsgan", "hinge")
Features = list[list[torch.Tensor]]  # per discriminator scale, per layer; the last layer is the scores


@dataclass(frozen=True)
class ImageWeights:
    """eq. 8's λ_r1..λ_r4 and eq. 10-11's λ_b1..λ_b5 (the paper gives no values; these are pix2pixHD's
    10 : 10 : 1 for L1, perceptual/feature matching and adversarial, and mask terms that keep M
    smooth and off the background without forcing it off the face)."""

    l1: float = 10.0
    perceptual: float = 10.0
    adversarial: float = 1.0
    segmentation: float = 1.0
    mask_tv: float = 1.0
    mask_l2: float = 0.1


def l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).abs().flatten(1).mean(1)


def feature_matching(fake: Features, real: Features) -> torch.Tensor:
    """Mean over scales and layers (scores excluded) of the mean |D(fake) - D(real)|; real is not differentiated."""
    terms = [l1(f, r.detach()) for fs, rs in zip(fake, real) for f, r in zip(fs[:-1], rs[:-1])]
    return torch.stack(terms).mean(0)


def generator_adversarial(fake: Features, kind: str) -> torch.Tensor:
    """The generator's side of eq. 7, summed over the scales."""
    scores = [f[-1].flatten(1) for f in fake]
    if kind == "lsgan":
        return torch.stack([((s - 1) ** 2).mean(1) for s in scores]).sum(0)
    if kind == "hinge":
        return torch.stack([-s.mean(1) for s in scores]).sum(0)
    raise ValueError(f"adversarial loss must be one of {ADVERSARIAL}, got {kind!r}")


def discriminator_adversarial(real: Features, fake: Features, kind: str) -> torch.Tensor:
    """The discriminators' side of eq. 7, summed over the scales."""
    out = []
    for r, f in zip(real, fake):
        rs, fs = r[-1].flatten(1), f[-1].flatten(1)
        if kind == "lsgan":
            out.append(((rs - 1) ** 2).mean(1) + (fs ** 2).mean(1))
        elif kind == "hinge":
            out.append(F.relu(1 - rs).mean(1) + F.relu(1 + fs).mean(1))
        else:
            raise ValueError(f"adversarial loss must be one of {ADVERSARIAL}, got {kind!r}")
    return torch.stack(out).sum(0)


def segmentation_ce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of (B, 3, H, W) logits against (B, H, W) labels, mean per sample."""
    return F.cross_entropy(logits, labels.long(), reduction="none").flatten(1).mean(1)


def mask_tv(mask: torch.Tensor) -> torch.Tensor:
    """eq. 10's first term: squared differences of horizontal and vertical neighbours, each averaged."""
    dx = (mask[..., :, 1:] - mask[..., :, :-1]) ** 2
    dy = (mask[..., 1:, :] - mask[..., :-1, :]) ** 2
    return dx.flatten(1).mean(1) + dy.flatten(1).mean(1)


def mask_l2(mask: torch.Tensor) -> torch.Tensor:
    """eq. 10's second term: the mean of M^2."""
    return (mask ** 2).flatten(1).mean(1)
