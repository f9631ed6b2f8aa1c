"""The paper's landmark transformer L_T and AU regressor L_a (Section 3.1), and the one place where
their inputs and outputs are normalised, so training and inference agree.

Normalisation:

* landmarks: offsets from the crop's eye mid-point in face scales (inter-ocular distances), i.e.
  unit crop coordinates (``facegan_video.nets.crop``) minus ``EYE_CENTRE``, over ``FACE_SCALE``;
  about -2.5..2. Errors in these units are the usual inter-ocular-normalised landmark error, and
  the inputs vary enough between faces and expressions for the MLPs to train quickly.
* motion (17 AUs then pitch, yaw, roll): AUs / 5 and pose (x + 0.7) / 1.4, as ICface reads
  OpenFace; both about 0..1. A NaN (an AU a backend does not measure) enters the network as 0.

L_T maps source landmarks (136) and a motion code (20) to a landmark displacement; its last layer
starts at zero. It is applied as a change of motion (``displacement``): the target landmarks are
l_s + L_T(l_s, AU_t) - L_T(l_s, AU_s), the network's reading of the source's own motion subtracted,
so an unchanged motion gives back the source exactly whatever L_T learned (the paper adds
L_T(l_s, AU_t) alone; training uses the same form). L_a maps landmarks (136) to the normalised
20-d motion code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn
from torch.func import functional_call

from facegan_video.checkpoint import Checkpoint, CheckpointError, load_module
from facegan_video.nets.crop import EYE_CENTRE, FACE_SCALE
from facegan_video.types import AU_MAX, AUS, MOTION_NAMES, POSE

#: Checkpoint kind of a trained L_T + L_a pair.
KIND = "lt"
#: Prefix of the two networks' tensors in a checkpoint.
PREFIX = "model.landmark."
LANDMARKS = 68
MOTION = len(MOTION_NAMES)
#: Pose normalisation (radians): (x + POSE_OFFSET) / POSE_RANGE.
POSE_OFFSET, POSE_RANGE = 0.7, 1.4


def normalise_landmarks(unit: torch.Tensor) -> torch.Tensor:
    """Unit crop coordinates (..., 68, 2) -> network coordinates."""
    return (unit - unit.new_tensor(EYE_CENTRE)) / FACE_SCALE


def denormalise_landmarks(net: torch.Tensor) -> torch.Tensor:
    """Network coordinates -> unit crop coordinates."""
    return net * FACE_SCALE + net.new_tensor(EYE_CENTRE)


def normalise_motion(motion: torch.Tensor) -> torch.Tensor:
    """(..., 20) raw motion (AUs 0-5, pose in radians) -> network scale; NaNs are kept."""
    return torch.cat([motion[..., AUS] / AU_MAX, (motion[..., POSE] + POSE_OFFSET) / POSE_RANGE], -1)


def denormalise_motion(net: torch.Tensor) -> torch.Tensor:
    """Network scale -> raw motion."""
    return torch.cat([net[..., AUS] * AU_MAX, net[..., POSE] * POSE_RANGE - POSE_OFFSET], -1)


@dataclass(frozen=True)
class LTConfig:
    """Sizes of L_T and L_a. The defaults total about 310k parameters (1.2 MB in float32)."""

    hidden: int = 256  # width of L_T's hidden layers
    layers: int = 3  # hidden layers of L_T
    au_hidden: int = 256
    au_layers: int = 2

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 4096:
                raise ValueError(f"LTConfig.{f.name} must be a whole number within 1-4096, got {value!r}")

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LTConfig:
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown LTConfig field(s) {', '.join(sorted(unknown))}")
        return cls(**data)


def _mlp(inputs: int, hidden: int, layers: int, outputs: int) -> nn.Sequential:
    mods: list[nn.Module] = []
    width = inputs
    for _ in range(layers):
        mods += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
        width = hidden
    mods.append(nn.Linear(width, outputs))
    return nn.Sequential(*mods)


class LandmarkTransformerNet(nn.Module):
    """L_T: normalised source landmarks (B, 68, 2) and motion (B, 20) -> displacement (B, 68, 2)."""

    def __init__(self, config: LTConfig = LTConfig()) -> None:
        super().__init__()
        self.mlp = _mlp(LANDMARKS * 2 + MOTION, config.hidden, config.layers, LANDMARKS * 2)
        last = self.mlp[-1]
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)

    def forward(self, landmarks: torch.Tensor, motion: torch.Tensor) -> torch.Tensor:
        x = torch.cat([landmarks.flatten(1), torch.nan_to_num(motion)], 1)
        return self.mlp(x).view(-1, LANDMARKS, 2)


class AURegressor(nn.Module):
    """L_a: normalised landmarks (B, 68, 2) -> normalised motion (B, 20)."""

    def __init__(self, config: LTConfig = LTConfig()) -> None:
        super().__init__()
        self.mlp = _mlp(LANDMARKS * 2, config.au_hidden, config.au_layers, MOTION)

    def forward(self, landmarks: torch.Tensor) -> torch.Tensor:
        return self.mlp(landmarks.flatten(1))


def displacement(lt: LandmarkTransformerNet, source: torch.Tensor, motion: torch.Tensor,
                 source_motion: torch.Tensor) -> torch.Tensor:
    """Δl = L_T(l_s, AU_t) - L_T(l_s, AU_s) in network coordinates: L_T applied as a change of motion."""
    moved, still = lt(torch.cat([source, source]), torch.cat([motion, source_motion])).chunk(2)
    return moved - still


class LandmarkNets(nn.Module):
    """L_T and L_a trained together; one module so one forward serves data-parallel training."""

    def __init__(self, config: LTConfig = LTConfig()) -> None:
        super().__init__()
        self.config = config
        self.lt = LandmarkTransformerNet(config)
        self.la = AURegressor(config)

    def forward(self, source: torch.Tensor, source_motion: torch.Tensor, motion: torch.Tensor, real: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Normalised inputs -> (Δl, L_a(l_t), L_a(l_s), L_a(real)), l_t = source + Δl.

        L_a reads l_t and l_s with its weights held fixed, so eq. 2 on l_t trains L_T only: L_a
        learns from ``real`` landmarks (with their labels) alone and cannot adapt to L_T's outputs.
        """
        delta = displacement(self.lt, source, motion, source_motion)
        fixed = {name: p.detach() for name, p in self.la.named_parameters()}
        au_t, au_s = functional_call(self.la, fixed, (torch.cat([source + delta, source]),)).chunk(2)
        return delta, au_t, au_s, self.la(real)


def transform_landmarks(lt: LandmarkTransformerNet, source: torch.Tensor, motion: torch.Tensor,
                        source_motion: torch.Tensor) -> torch.Tensor:
    """(B, 68, 2) source landmarks in unit crop coordinates, (B, 20) raw target and source motion ->
    target landmarks in unit crop coordinates."""
    src = normalise_landmarks(source)
    return denormalise_landmarks(src + displacement(lt, src, normalise_motion(motion), normalise_motion(source_motion)))


class LandmarkTransform(nn.Module):
    """``transform_landmarks`` as a module: what an inference backend runs through ``TorchRunner``."""

    def __init__(self, lt: LandmarkTransformerNet) -> None:
        super().__init__()
        self.lt = lt

    def forward(self, source: torch.Tensor, motion: torch.Tensor, source_motion: torch.Tensor) -> torch.Tensor:
        return transform_landmarks(self.lt, source, motion, source_motion)


def landmark_nets_from_checkpoint(checkpoint: Checkpoint) -> LandmarkNets:
    """L_T and L_a rebuilt from a loaded ``lt`` checkpoint's config and weights, in eval mode (on the CPU)."""
    if checkpoint.kind != KIND:
        raise CheckpointError(f"{checkpoint.path} is a {checkpoint.kind!r} checkpoint, not a landmark transformer "
                              f"({KIND!r}); pass a checkpoint written by `facegan-video train lt`")
    try:
        config = LTConfig.from_dict(checkpoint.config.get("model", {}))
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{checkpoint.path}: bad landmark-transformer config ({exc}); "
                              "retrain it with `facegan-video train lt`") from None
    nets = LandmarkNets(config)
    load_module(nets, checkpoint, PREFIX)
    return nets.eval()
