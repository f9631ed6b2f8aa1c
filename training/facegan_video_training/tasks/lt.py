"""Task ``lt``: the landmark transformer L_T with its AU regressor L_a (paper Section 3.1).

A training sample is a frame i of a training track: l_s is its landmarks, and a partner frame j
drawn uniformly from the whole track (so pairs span the track's full range of motion) gives l_d
and AU_d. Pairs are mirrored (probability ``mirror``) and given a random identity
(``jitter_identity``) unless augmentation is off. Validation pairs every frame of the validation
persons with a partner drawn once with a fixed seed, without augmentation, so the scores of
different runs and epochs compare. ``overfit N`` trains on N fixed pairs without augmentation (cycled
through; an epoch keeps the dataset's length): a check that the networks and losses fit real data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from facegan_video.nets.landmark import (
    KIND,
    LandmarkNets,
    LTConfig,
    denormalise_landmarks,
    normalise_landmarks,
    normalise_motion,
)
from facegan_video_training.augment import jitter_identity, mirror
from facegan_video_training.dataset import DatasetError, FaceDataset, sample_partners
from facegan_video_training.losses import LTWeights, lt_losses

#: Crop side in pixels that the pixel-error metrics are quoted at.
METRIC_SIZE = 256
#: Seed of the validation partners (fixed, so scores compare across runs).
VAL_SEED = 20210105


@dataclass(frozen=True)
class LTTaskConfig:
    model: LTConfig = field(default_factory=LTConfig)
    weights: LTWeights = field(default_factory=LTWeights)
    augment: bool = True
    mirror: float = 0.5  # probability of mirroring a pair
    identity_jitter: float = 0.05  # strength of the random identity change
    overfit: int = 0  # > 0: train on this many fixed pairs, no augmentation

    def to_dict(self) -> dict[str, Any]:
        task = asdict(self)
        return {"model": task.pop("model"), "task": task}


class LTTask:
    kind = KIND
    best_metric = "landmark_px"

    def __init__(self, dataset: FaceDataset, config: LTTaskConfig = LTTaskConfig()) -> None:
        if config.overfit < 0:
            raise ValueError("overfit must be >= 0")
        self.cfg = config
        self.train_lm, self.train_motion, self.train_owner = dataset.landmarks_and_motion("train")
        if not len(self.train_lm):
            raise DatasetError(f"{', '.join(map(str, dataset.roots))} has no training tracks "
                               f"({len(dataset.persons('val'))} validation persons only); prepare more videos")
        self.val_lm, self.val_motion, val_owner = dataset.landmarks_and_motion("val")
        self.val_partner = sample_partners(val_owner, np.random.default_rng(VAL_SEED), np.arange(len(self.val_lm)))
        self.fixed: tuple[np.ndarray, np.ndarray] | None = None
        if config.overfit:
            rng = np.random.default_rng(VAL_SEED)
            n = len(self.train_lm)
            i = rng.choice(n, config.overfit, replace=config.overfit > n)
            self.fixed = (i, sample_partners(self.train_owner, rng, i))
        self.device = torch.device("cpu")

    def config(self) -> dict[str, Any]:
        return self.cfg.to_dict()

    def build(self, device: torch.device) -> dict[str, nn.Module]:
        self.device = device
        to = {"device": device}
        self.lm = torch.as_tensor(self.train_lm, **to)
        self.motion = torch.as_tensor(self.train_motion, **to)
        self.val = tuple(torch.as_tensor(a, **to) for a in (self.val_lm, self.val_motion))
        return {"landmark": LandmarkNets(self.cfg.model).to(device)}

    def optimizers(self, models: dict[str, nn.Module], lr: float) -> dict[str, torch.optim.Optimizer]:
        return {"landmark": torch.optim.Adam(models["landmark"].parameters(), lr=lr)}

    def train_size(self) -> int:
        return len(self.train_lm)

    def val_size(self) -> int:
        return len(self.val_lm)

    def _pairs(self, indices: np.ndarray, rng: np.random.Generator) -> tuple[torch.Tensor, ...]:
        if self.fixed is not None:
            k = indices % len(self.fixed[0])
            i, j = self.fixed[0][k], self.fixed[1][k]
        else:
            i, j = indices, sample_partners(self.train_owner, rng, indices)
        ti, tj = (torch.as_tensor(a, device=self.device) for a in (i, j))
        source, driving, motion = self.lm[ti], self.lm[tj], self.motion[tj]
        if self.cfg.augment and self.fixed is None:
            flip = torch.as_tensor(rng.random(len(i)) < self.cfg.mirror, device=self.device)
            source, _ = mirror(source, motion, flip)
            driving, motion = mirror(driving, motion, flip)
            source, driving = jitter_identity((source, driving), rng, self.cfg.identity_jitter)
        return source, driving, motion

    def _losses(self, model: nn.Module, source: torch.Tensor, driving: torch.Tensor, motion: torch.Tensor
                ) -> dict[str, torch.Tensor]:
        src, drv, mot = normalise_landmarks(source), normalise_landmarks(driving), normalise_motion(motion)
        delta, au_t, au_d = model(src, mot, drv)
        terms = lt_losses(src, delta, drv, au_t, au_d, mot, self.cfg.weights)
        terms["target"] = src + delta
        return terms

    def train_step(self, models: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer],
                   indices: np.ndarray, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        terms = self._losses(models["landmark"], *self._pairs(indices, rng))
        terms.pop("target")
        losses = {k: v.mean() for k, v in terms.items()}
        opt = optimizers["landmark"]
        opt.zero_grad(set_to_none=True)
        losses["loss"].backward()
        opt.step()
        return {k: v.detach() for k, v in losses.items()}

    def validate(self, models: dict[str, nn.Module], indices: np.ndarray) -> dict[str, torch.Tensor]:
        i = torch.as_tensor(indices, device=self.device)
        j = torch.as_tensor(self.val_partner[indices], device=self.device)
        lm, motion = self.val
        source, driving = lm[i], lm[j]
        terms = self._losses(models["landmark"], source, driving, motion[j])
        target = denormalise_landmarks(terms.pop("target"))
        terms["landmark_px"] = (target - driving).norm(dim=-1).mean(1) * METRIC_SIZE
        terms["unchanged_px"] = (source - driving).norm(dim=-1).mean(1) * METRIC_SIZE
        return terms
