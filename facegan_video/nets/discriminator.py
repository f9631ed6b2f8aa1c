"""Multi-scale PatchGAN discriminators (pix2pixHD, as the paper's eq. 7 uses): the same patch
classifier at full, half and quarter resolution, each returning its intermediate features too, for
the feature-matching loss that stands in for VGG19 when no VGG weights are given."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from facegan_video.nets.unet import config_from_dict


@dataclass(frozen=True)
class DiscriminatorConfig:
    inputs: int = 3  # image channels plus any conditioning channels
    width: int = 32  # channels of the first layer (doubled per layer, at most 8x)
    layers: int = 3  # stride-2 layers of each PatchGAN
    scales: int = 3  # discriminators, each at half the resolution of the previous

    def __post_init__(self) -> None:
        for name in ("inputs", "width", "layers", "scales"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 512:
                raise ValueError(f"DiscriminatorConfig.{name} must be a whole number within 1-512, got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("inputs", "width", "layers", "scales")}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DiscriminatorConfig:
        return config_from_dict(cls, data)


class PatchGAN(nn.Module):
    """(B, C, H, W) -> list of features; the last, (B, 1, H/2^layers, W/2^layers), is the patch scores."""

    def __init__(self, config: DiscriminatorConfig) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        cin, cout = config.inputs, config.width
        for i in range(config.layers + 1):
            stride = 2 if i < config.layers else 1
            norm: list[nn.Module] = [nn.InstanceNorm2d(cout)] if i > 0 else []
            blocks.append(nn.Sequential(nn.Conv2d(cin, cout, 4, stride, 2), *norm, nn.LeakyReLU(0.2, inplace=True)))
            cin, cout = cout, min(cout * 2, config.width * 8)
        blocks.append(nn.Conv2d(cin, 1, 4, 1, 2))
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for block in self.blocks:
            x = block(x)
            features.append(x)
        return features


class MultiScaleDiscriminator(nn.Module):
    """``scales`` PatchGANs; forward returns one feature list per scale, finest first."""

    def __init__(self, config: DiscriminatorConfig = DiscriminatorConfig()) -> None:
        super().__init__()
        self.config = config
        self.nets = nn.ModuleList(PatchGAN(config) for _ in range(config.scales))

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        out = []
        for i, net in enumerate(self.nets):
            if i:
                x = F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)
            out.append(net(x))
        return out
