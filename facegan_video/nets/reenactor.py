"""The face reenactor G_r (paper Section 3.2): source crop and target-landmark heatmap in, the
reenacted face and its face/hair/background segmentation out.

Inputs live in the crop of the TARGET face (``facegan_video.nets.crop``), in [0, 1]: the source
image resampled into that crop (so background pixels sit where the output's do), the heatmap H_t
of the target landmarks and, in the ``warp`` variant (a documented deviation from the paper), the
weights-free warp reenactor's rendering of the source at those landmarks. That variant's RGB head
predicts a correction added to the warp (it starts as the warp itself), which trains far better on
little data; the plain variant predicts the face outright. The segmentation head reads the
second-to-last layer (the U-Net's last features), as in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from facegan_video.checkpoint import Checkpoint, load_network
from facegan_video.nets.unet import Head, UNet, UNetConfig, config_from_dict
from facegan_video.types import SEGMENT_CLASSES

#: Checkpoint kind of a trained G_r.
KIND = "reenactor"
#: Prefix of G_r's tensors in a checkpoint.
PREFIX = "model.reenactor."
#: Width of each landmark's Gaussian in H_t, as a fraction of the crop side.
HEATMAP_SIGMA = 0.01


def heatmap(landmarks: torch.Tensor, size: int, sigma: float = HEATMAP_SIGMA) -> torch.Tensor:
    """H_t: (B, 68, 2) landmarks in unit crop coordinates -> (B, 1, size, size), a Gaussian at each
    point (summed, as two separable factors in one batched matrix product, and clipped at 1)."""
    grid = torch.arange(size, device=landmarks.device, dtype=landmarks.dtype) / size
    gx = torch.exp(-0.5 * ((grid[None, None] - landmarks[..., :1]) / sigma) ** 2)  # (B, 68, size)
    gy = torch.exp(-0.5 * ((grid[None, None] - landmarks[..., 1:]) / sigma) ** 2)
    return torch.bmm(gy.transpose(1, 2), gx).clamp(max=1.0).unsqueeze(1)


@dataclass(frozen=True)
class ReenactorConfig:
    unet: UNetConfig = field(default_factory=UNetConfig)
    warp: bool = True  # also take the warp reenactor's output, and predict a correction to it

    @property
    def inputs(self) -> int:
        return 3 + 1 + (3 if self.warp else 0)

    def to_dict(self) -> dict[str, Any]:
        return {"unet": self.unet.to_dict(), "warp": self.warp}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReenactorConfig:
        data = dict(data)
        unet = UNetConfig.from_dict(data.pop("unet", {}))
        return config_from_dict(cls, {**data, "unet": unet})


class FaceReenactor(nn.Module):
    """G_r: (B, 3, S, S) source, (B, 1, S, S) heatmap[, (B, 3, S, S) warp] -> (RGB (B, 3, S, S),
    segmentation logits (B, 3, S, S)). RGB is in [0, 1] for the plain variant; the warp variant's is
    the warp plus a correction (clip it for display)."""

    def __init__(self, config: ReenactorConfig = ReenactorConfig()) -> None:
        super().__init__()
        self.config = config
        self.unet = UNet(config.inputs, config.unet)
        width = config.unet.channels[0]
        self.rgb = Head(width, 3, zero=config.warp)
        self.seg = Head(width, len(SEGMENT_CLASSES), kernel=1)

    def forward(self, source: torch.Tensor, heat: torch.Tensor, warped: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        if (warped is not None) != self.config.warp:
            raise ValueError("the warp variant of G_r needs the warped source; the plain one takes none")
        x = torch.cat([source, heat] + ([warped] if warped is not None else []), 1)
        features = self.unet(x)
        rgb = self.rgb(features)
        rgb = warped + rgb if warped is not None else torch.sigmoid(rgb)
        return rgb, self.seg(features)


class ReenactorInference(nn.Module):
    """G_r as the ``facegan`` reenactor calls it: (B, S, S, 3) source crops and warps as 0-255 values
    and (B, 68, 2) target landmarks in unit crop coordinates -> (B, S, S, 3) RGB in 0-255 and
    (B, S, S, 3) class probabilities, channels last."""

    def __init__(self, reenactor: FaceReenactor) -> None:
        super().__init__()
        self.reenactor = reenactor

    def forward(self, source: torch.Tensor, landmarks: torch.Tensor, warped: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        def chw(x: torch.Tensor) -> torch.Tensor:
            return x.permute(0, 3, 1, 2) / 255.0

        heat = heatmap(landmarks, source.shape[1])
        rgb, logits = self.reenactor(chw(source), heat, chw(warped) if self.reenactor.config.warp else None)
        return (rgb.clamp(0, 1) * 255).permute(0, 2, 3, 1), logits.softmax(1).permute(0, 2, 3, 1)


def reenactor_from_checkpoint(checkpoint: Checkpoint) -> FaceReenactor:
    """G_r of a ``reenactor`` or ``joint`` checkpoint, in eval mode."""
    return load_network(checkpoint, "reenactor", (KIND, "joint"),
                        lambda d: FaceReenactor(ReenactorConfig.from_dict(d)), "facegan-video train reenactor")
