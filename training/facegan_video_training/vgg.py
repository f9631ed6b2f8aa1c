"""VGG19's convolutional features for the perceptual loss (paper eq. 6), from weights the user has.

Nothing downloads: ``--vgg-weights`` names a torchvision-format VGG19 state dict (``features.N.weight``
and ``.bias`` at torchvision's layer numbers; ``classifier.*`` is ignored), as a ``.safetensors``
file or a ``torch.save`` file read with ``weights_only=True`` (no code runs). The network is built
here with torchvision's layer numbering, so torchvision is not needed. The loss is pix2pixHD's: L1
distances of relu1_1, relu2_1, relu3_1, relu4_1 and relu5_1 activations (each a mean over its
C x H x W, as eq. 6 normalises), weighted 1/32, 1/16, 1/8, 1/4, 1.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from facegan_video.errors import ConfigError

#: VGG19's convolution widths, "M" for max pooling (torchvision's configuration "E").
LAYERS = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512)
#: Indices in ``features`` of relu1_1, relu2_1, relu3_1, relu4_1, relu5_1, and their weights.
TAPS = (1, 6, 11, 20, 29)
TAP_WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _features() -> nn.Sequential:
    mods: list[nn.Module] = []
    cin = 3
    for v in LAYERS:
        if v == "M":
            mods.append(nn.MaxPool2d(2, 2))
        else:
            mods += [nn.Conv2d(cin, int(v), 3, padding=1), nn.ReLU(inplace=False)]
            cin = int(v)
    return nn.Sequential(*mods)


class VGG19Features(nn.Module):
    """(B, 3, H, W) images in [0, 1] -> the five tapped activations; frozen."""

    def __init__(self, state: dict[str, torch.Tensor] | None = None) -> None:
        super().__init__()
        self.features = _features()[:TAPS[-1] + 1]
        if state is not None:
            wanted = {k: v for k, v in state.items() if k.startswith("features.")
                      and int(k.split(".")[1]) <= TAPS[-1]}
            self.load_state_dict(wanted, strict=True)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = (x - self.mean) / self.std
        out = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in TAPS:
                out.append(x)
        return out

    def loss(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """eq. 6 per sample: weighted mean absolute differences of the taps; real is not differentiated."""
        with torch.no_grad():
            targets = self(real)
        return sum(w * (f - r).abs().flatten(1).mean(1) for w, f, r in zip(TAP_WEIGHTS, self(fake), targets))


def load_vgg19(path: str | Path) -> VGG19Features:
    """The VGG19 features with the weights in ``path``; a wrong or unreadable file is one ConfigError line."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise ConfigError(f"--vgg-weights {p} does not exist; pass a torchvision VGG19 state dict "
                          "(vgg19-dcbb9e9d.pth) or leave the option out to use feature matching")
    try:
        if p.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(p))
        else:
            state = torch.load(str(p), map_location="cpu", weights_only=True)
        if not isinstance(state, dict):
            raise ValueError("not a state dict")
        return VGG19Features(state)
    except Exception as exc:  # noqa: BLE001 - whatever the file is, the answer is this one line
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"--vgg-weights {p} is not a torchvision VGG19 state dict ({reason[:200]})") from None
