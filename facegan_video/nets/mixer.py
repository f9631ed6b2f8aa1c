"""The background mixer G_b (paper Section 3.3, eq. 9): the reenacted face without its background
and the source background without its face and hair in, the composed frame out.

Both images live in the target face's crop, in [0, 1]. Besides the paper's two images G_b reads the
two masks that removed their parts (the face's foreground, the background's hole), so a black pixel
of either image is never mistaken for a removed one. It predicts an RGB image I_c and a mask M, and
the output is I_r = M * I_c + (1 - M) * I_b: where M is 0 the background is copied exactly.

``residual`` (the default) is a deviation, so little training suffices: both outputs are
corrections of the obvious composition, pasting the face over the background. I_c is I'_fr plus a
predicted image and M's logit is the network's plus ``MASK_PRIOR`` times (2 * u - 1), u the union
of the new face's foreground and the hole; the head starts at zero, so an untrained G_b pastes the
face over I_b (M about 0.98 on u, 0.02 elsewhere) and leaves the uncovered part of the hole black,
where training teaches it to paint (M already lets that part of I_c through, so it learns at once)
and to blend the seam. Without it G_b predicts I_c and M outright (sigmoids), as in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from facegan_video.checkpoint import Checkpoint, load_network
from facegan_video.nets.unet import Head, UNet, UNetConfig, config_from_dict

#: Checkpoint kind of a trained G_b.
KIND = "mixer"
#: Prefix of G_b's tensors in a checkpoint.
PREFIX = "model.mixer."
#: How strongly M starts at the union of the face and the hole (its logit offset where the union is 0 or 1).
MASK_PRIOR = 4.0


def compose(mask: torch.Tensor, colour: torch.Tensor, background: torch.Tensor) -> torch.Tensor:
    """eq. 9: I_r = M * I_c + (1 - M) * I_b, with M (B, 1, H, W) broadcast over the colours."""
    return mask * colour + (1 - mask) * background


@dataclass(frozen=True)
class MixerConfig:
    unet: UNetConfig = field(default_factory=UNetConfig)
    residual: bool = True  # I_c and M as corrections of pasting the face (see the module docstring)

    def to_dict(self) -> dict[str, Any]:
        return {"unet": self.unet.to_dict(), "residual": self.residual}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MixerConfig:
        data = dict(data)
        return config_from_dict(cls, {**data, "unet": UNetConfig.from_dict(data.pop("unet", {}))})


class BackgroundMixer(nn.Module):
    """G_b: face I'_fr (B, 3, S, S), its foreground (B, 1, S, S), background I_b (B, 3, S, S) and its
    hole (B, 1, S, S) -> (I_r, I_c, M); M in [0, 1], I_c and I_r about [0, 1] (clip them for display)."""

    INPUTS = 3 + 1 + 3 + 1

    def __init__(self, config: MixerConfig = MixerConfig()) -> None:
        super().__init__()
        self.config = config
        self.unet = UNet(self.INPUTS, config.unet)
        self.head = Head(config.unet.channels[0], 4, zero=config.residual)

    def forward(self, face: torch.Tensor, foreground: torch.Tensor, background: torch.Tensor, hole: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        out = self.head(self.unet(torch.cat([face, foreground, background, hole], 1)))
        if self.config.residual:
            either = foreground + hole - foreground * hole  # the new face or where the old one was
            colour, mask = face + out[:, :3], torch.sigmoid(out[:, 3:] + MASK_PRIOR * (2 * either - 1))
        else:
            colour, mask = torch.sigmoid(out[:, :3]), torch.sigmoid(out[:, 3:])
        return compose(mask, colour, background), colour, mask


class MixerInference(nn.Module):
    """G_b as the ``facegan`` mixer calls it, channels last: (B, S, S, 3) reenacted crops (0-255),
    (B, S, S) their face-or-hair probability, (B, S, S, 3) background crops (0-255) and (B, S, S) the
    source's face-or-hair probability there -> I_c (B, S, S, 3) in 0-255 and M (B, S, S)."""

    def __init__(self, mixer: BackgroundMixer) -> None:
        super().__init__()
        self.mixer = mixer

    def forward(self, face: torch.Tensor, foreground: torch.Tensor, background: torch.Tensor, hole: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        fg, hole = foreground[:, None], hole[:, None]
        face = face.permute(0, 3, 1, 2) / 255.0 * fg
        background = background.permute(0, 3, 1, 2) / 255.0 * (1 - hole)
        _, colour, mask = self.mixer(face, fg, background, hole)
        return (colour.clamp(0, 1) * 255).permute(0, 2, 3, 1), mask[:, 0]


def mixer_from_checkpoint(checkpoint: Checkpoint) -> BackgroundMixer:
    """G_b of a ``mixer`` or ``joint`` checkpoint, in eval mode."""
    return load_network(checkpoint, "mixer", (KIND, "joint"), lambda d: BackgroundMixer(MixerConfig.from_dict(d)),
                        "facegan-video train mixer")
