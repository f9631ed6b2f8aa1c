"""The U-Net both image generators are built on, sized so a 256-pixel frame costs well under a
GFLOP (real time on two CPU cores), and the same weights run at any multiple of its stride.

The first level works at half the input resolution (a stride-2 stem), every further level halves
it again with a stride-2 convolution followed by a 3x3 one. The decoder brings each level's
features up with a 1x1 convolution at the lower resolution (4x cheaper than after upsampling),
adds the encoder's features of the same level (a skip by addition, not concatenation) and mixes
them with a 3x3 convolution. Heads turn the half-resolution features into full-resolution maps
by pixel shuffle. No normalisation layers: colours pass through unchanged, and there is no batch
statistic that could make a batch differ from a single frame.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar

import torch
from torch import nn
from torch.nn import functional as F

C = TypeVar("C")


def config_from_dict(cls: type[C], data: dict[str, Any]) -> C:
    """``cls(**data)`` that names unknown fields instead of a TypeError (checkpoints from other versions)."""
    unknown = set(data) - {f.name for f in fields(cls)}  # type: ignore[arg-type]
    if unknown:
        raise ValueError(f"unknown {cls.__name__} field(s) {', '.join(sorted(unknown))}")
    return cls(**data)


@dataclass(frozen=True)
class UNetConfig:
    """Channels per level, from half the input resolution down; the input side must be a multiple
    of ``multiple`` (2^levels)."""

    channels: tuple[int, ...] = (16, 32, 64, 128, 128)

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(self.channels))
        if not 2 <= len(self.channels) <= 8 or not all(
                isinstance(c, int) and not isinstance(c, bool) and 1 <= c <= 1024 for c in self.channels):
            raise ValueError(f"UNetConfig.channels must be 2-8 whole numbers within 1-1024, got {self.channels!r}")

    @property
    def multiple(self) -> int:
        """What the input side must be a multiple of."""
        return 2 ** len(self.channels)

    def to_dict(self) -> dict[str, Any]:
        return {"channels": list(self.channels)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UNetConfig:
        return config_from_dict(cls, data)


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.LeakyReLU(0.2, inplace=True))


class UNet(nn.Module):
    """(B, inputs, H, W) -> (B, channels[0], H/2, W/2) features."""

    def __init__(self, inputs: int, config: UNetConfig = UNetConfig()) -> None:
        super().__init__()
        ch = config.channels
        self.config = config
        self.stem = _conv(inputs, ch[0], 2)
        self.down = nn.ModuleList(nn.Sequential(_conv(ch[i], ch[i + 1], 2), _conv(ch[i + 1], ch[i + 1]))
                                  for i in range(len(ch) - 1))
        self.lift = nn.ModuleList(nn.Conv2d(ch[i + 1], ch[i], 1) for i in range(len(ch) - 1))
        self.mix = nn.ModuleList(_conv(ch[i], ch[i]) for i in range(len(ch) - 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.config.multiple
        if x.shape[-1] % m or x.shape[-2] % m:
            raise ValueError(f"input sides must be multiples of {m}, got {tuple(x.shape[-2:])}")
        skips = [self.stem(x)]
        for down in self.down:
            skips.append(down(skips[-1]))
        y = skips.pop()
        for lift, mix in zip(reversed(self.lift), reversed(self.mix)):
            y = mix(F.interpolate(lift(y), scale_factor=2.0, mode="nearest") + skips.pop())
        return y


class Head(nn.Module):
    """Half-resolution features -> ``outputs`` full-resolution maps (3x3 convolution, pixel shuffle)."""

    def __init__(self, width: int, outputs: int, kernel: int = 3, zero: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(width, outputs * 4, kernel, 1, kernel // 2)
        if zero:  # the head starts at zero: its output starts as the base it is added to
            nn.init.zeros_(self.conv.weight)
            nn.init.zeros_(self.conv.bias)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(self.conv(features), 2)
