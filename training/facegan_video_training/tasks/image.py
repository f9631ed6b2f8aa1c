"""What the image tasks (``reenactor``, ``mixer``, ``joint``) share: their options, pair batches as
tensors, progressive resolution, the fixed validation pairs, the discriminator steps and the
sample grid.

Progressive training (paper Section 4): the first ``progressive_steps`` steps run at half
``resolution`` (128 for 256), the rest at ``resolution``; the networks are fully convolutional, so
the same weights continue at the larger size (pix2pixHD adds an enhancer network instead).
Validation always runs at ``resolution`` on ``VAL_SAMPLES`` fixed pairs of the validation persons
(evenly spread over their frames, partners drawn once with a fixed seed), without augmentation,
so the scores of runs and epochs compare. ``overfit N`` trains on N fixed training pairs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from facegan_video.nets.discriminator import DiscriminatorConfig, MultiScaleDiscriminator
from facegan_video.nets.mixer import MixerConfig
from facegan_video.nets.reenactor import ReenactorConfig, heatmap
from facegan_video_training.dataset import VAL_SEED, FaceDataset
from facegan_video_training.grid import write_grid
from facegan_video_training.image_losses import (
    ADVERSARIAL,
    Features,
    ImageWeights,
    discriminator_adversarial,
    feature_matching,
    generator_adversarial,
)
from facegan_video_training.pairs import ImagePairs, PairBatch
from facegan_video_training.vgg import VGG19Features, load_vgg19

#: Validation pairs scored each time (fixed).
VAL_SAMPLES = 192
#: Rows of the sample grid (validation pairs spread over the validation persons).
GRID_ROWS = 4
#: Adam's betas for generators and discriminators (pix2pixHD's).
BETAS = (0.5, 0.999)
#: Batch size of new image runs (the paper uses 1 on a GPU; a few pairs per step use CPU cores better).
IMAGE_DEFAULTS = {"batch_size": 8}


@dataclass(frozen=True)
class ImageTaskConfig:
    resolution: int = 128
    progressive_steps: int = 0  # steps at half resolution first
    adversarial: str = "lsgan"
    vgg_weights: str | None = None  # torchvision VGG19 state dict; None: discriminator feature matching
    augment: bool = True  # mirror pairs
    overfit: int = 0  # > 0: train on this many fixed pairs, no augmentation
    weights: ImageWeights = field(default_factory=ImageWeights)
    reenactor: ReenactorConfig = field(default_factory=ReenactorConfig)
    mixer: MixerConfig = field(default_factory=MixerConfig)
    discriminator: DiscriminatorConfig = field(default_factory=lambda: DiscriminatorConfig(width=16))

    def __post_init__(self) -> None:
        multiple = max(self.reenactor.unet.multiple, self.mixer.unet.multiple)
        low = self.resolution // 2 if self.progressive_steps else self.resolution
        if self.resolution < 32 or self.resolution % multiple or low % multiple:
            raise ValueError(f"resolution must be a multiple of {multiple} (of {2 * multiple} with progressive "
                             f"steps), at least 32; got {self.resolution}")
        if self.adversarial not in ADVERSARIAL:
            raise ValueError(f"adversarial must be one of {ADVERSARIAL}")
        if self.overfit < 0 or self.progressive_steps < 0:
            raise ValueError("overfit and progressive_steps must be >= 0")

    def model_dict(self, *names: str) -> dict[str, Any]:
        return {n: getattr(self, n).to_dict() for n in names}

    def task_dict(self) -> dict[str, Any]:
        return {"resolution": self.resolution, "progressive_steps": self.progressive_steps,
                "adversarial": self.adversarial, "vgg_weights": self.vgg_weights, "augment": self.augment,
                "overfit": self.overfit, "weights": asdict(self.weights)}


def images(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """(B, H, W, 3) uint8 -> (B, 3, H, W) float in [0, 1]."""
    return torch.as_tensor(array, device=device).permute(0, 3, 1, 2).float() / 255.0


def plain(model: nn.Module) -> nn.Module:
    """The module inside a DDP wrapper (for forwards that must not join DDP's gradient reduction)."""
    return model.module if isinstance(model, DistributedDataParallel) else model


def foreground(logits: torch.Tensor) -> torch.Tensor:
    """(B, 1, S, S) face-or-hair probability from G_r's segmentation logits."""
    return 1 - logits.softmax(1)[:, :1]


@dataclass
class Pairs:
    """A pair batch as tensors on the device, at side ``size``."""

    size: int
    source: torch.Tensor  # (B, 3, S, S) in the target crop
    source_fg: torch.Tensor  # (B, 1, S, S) source face or hair, in the target crop
    target: torch.Tensor  # (B, 3, S, S) ground truth
    target_fg: torch.Tensor  # (B, 1, S, S)
    target_seg: torch.Tensor  # (B, S, S) int64 labels
    heat: torch.Tensor  # (B, 1, S, S) H_t of the target landmarks
    warped: torch.Tensor | None

    @staticmethod
    def of(batch: PairBatch, size: int, device: torch.device) -> Pairs:
        seg_t = torch.as_tensor(batch.target_seg, device=device).long()
        lm = torch.as_tensor(batch.target_landmarks, device=device) / size
        return Pairs(size, images(batch.source, device),
                     (torch.as_tensor(batch.source_seg, device=device) > 0).float()[:, None],
                     images(batch.target, device), (seg_t > 0).float()[:, None], seg_t, heatmap(lm, size),
                     None if batch.warped is None else images(batch.warped, device))


class ImageTask:
    """The shared part of the three image tasks; subclasses say which networks train and how."""

    kind = ""
    best_metric = "l1"
    defaults = IMAGE_DEFAULTS
    uses_warp = False  # whether pairs carry the warp reenactor's rendering

    def __init__(self, dataset: FaceDataset, config: ImageTaskConfig = ImageTaskConfig()) -> None:
        self.cfg = config
        dataset.check_training()
        self.train = ImagePairs(dataset, "train", self.uses_warp)
        self.val = ImagePairs(dataset, "val", warp=True)  # the warp is every task's baseline
        rng = np.random.default_rng(VAL_SEED)
        n_val = min(len(self.val), VAL_SAMPLES)
        val_i = np.linspace(0, len(self.val) - 1, n_val).round().astype(np.int64) if n_val else np.zeros(0, np.int64)
        self.val_pairs = (val_i, self.val.partners(val_i, rng) if n_val else val_i)
        self.fixed: tuple[np.ndarray, np.ndarray] | None = None
        if config.overfit:
            i = rng.choice(len(self.train), config.overfit, replace=config.overfit > len(self.train))
            self.fixed = (i, self.train.partners(i, rng))
        self.begin_step(0)
        self.device = torch.device("cpu")
        self.vgg: VGG19Features | None = load_vgg19(config.vgg_weights) if config.vgg_weights else None
        self._val_cache: dict[tuple[int, ...], Pairs] = {}

    # ------------------------------------------------------------------ trainer interface

    def config(self) -> dict[str, Any]:
        raise NotImplementedError

    def train_size(self) -> int:
        return len(self.train)

    def val_size(self) -> int:
        return len(self.val_pairs[0])

    def begin_step(self, step: int) -> None:
        self.size = self.cfg.resolution // 2 if step < self.cfg.progressive_steps else self.cfg.resolution

    def _discriminator(self, inputs: int) -> MultiScaleDiscriminator:
        return MultiScaleDiscriminator(replace(self.cfg.discriminator, inputs=inputs))

    def _to(self, device: torch.device) -> None:
        self.device = device
        if self.vgg is not None:
            self.vgg.to(device)

    def optimizers(self, models: dict[str, nn.Module], lr: float) -> dict[str, torch.optim.Optimizer]:
        return {name: torch.optim.Adam(m.parameters(), lr=lr, betas=BETAS) for name, m in models.items()}

    # ------------------------------------------------------------------ batches

    def train_pairs(self, indices: np.ndarray, rng: np.random.Generator) -> Pairs:
        if self.fixed is not None:
            k = indices % len(self.fixed[0])
            i, j, flip = self.fixed[0][k], self.fixed[1][k], None
        else:
            i, j = indices, self.train.partners(indices, rng)
            flip = rng.random(len(i)) < 0.5 if self.cfg.augment else None
        return Pairs.of(self.train.batch(i, j, self.size, flip), self.size, self.device)

    def val_batch(self, indices: np.ndarray) -> Pairs:
        key = tuple(int(k) for k in indices)
        if key not in self._val_cache:
            i, j = self.val_pairs[0][indices], self.val_pairs[1][indices]
            size = self.cfg.resolution
            self._val_cache[key] = Pairs.of(self.val.batch(i, j, size), size, self.device)
        return self._val_cache[key]

    # ------------------------------------------------------------------ GAN steps

    def perceptual(self, fake: torch.Tensor, real: torch.Tensor, fake_features: Features,
                   real_features: Features) -> torch.Tensor:
        """eq. 6: VGG19 when its weights were given, else discriminator feature matching."""
        if self.vgg is not None:
            return self.vgg.loss(fake, real)
        return feature_matching(fake_features, real_features)

    def generator_terms(self, disc: nn.Module, fake: torch.Tensor, real: torch.Tensor, cond: torch.Tensor | None
                        ) -> dict[str, torch.Tensor]:
        """Adversarial and perceptual terms of a generator step (the discriminator takes no gradient)."""
        d = plain(disc)
        d.requires_grad_(False)
        try:
            fake_f = d(fake if cond is None else torch.cat([fake, cond], 1))
            with torch.no_grad():
                real_f = d(real if cond is None else torch.cat([real, cond], 1))
        finally:
            d.requires_grad_(True)
        return {"adversarial": generator_adversarial(fake_f, self.cfg.adversarial),
                "perceptual": self.perceptual(fake, real, fake_f, real_f)}

    def discriminator_step(self, disc: nn.Module, opt: torch.optim.Optimizer, fake: torch.Tensor,
                           real: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        """One step of a multi-scale discriminator on real and (detached) generated images, in one
        forward (one DDP reduction)."""
        both = torch.cat([real, fake.detach()])
        if cond is not None:
            both = torch.cat([both, torch.cat([cond, cond])], 1)
        features = disc(both)
        n = len(real)
        loss = discriminator_adversarial([[f[:n] for f in s] for s in features],
                                         [[f[n:] for f in s] for s in features], self.cfg.adversarial).mean()
        self.step(opt, loss)
        return loss.detach()

    @staticmethod
    def step(opt: torch.optim.Optimizer | list[torch.optim.Optimizer], loss: torch.Tensor) -> None:
        opts = opt if isinstance(opt, list) else [opt]
        for o in opts:
            o.zero_grad(set_to_none=True)
        loss.backward()
        for o in opts:
            o.step()

    # ------------------------------------------------------------------ samples

    def panels(self, models: dict[str, nn.Module], pairs: Pairs) -> tuple[torch.Tensor, torch.Tensor,
                                                                          torch.Tensor]:
        """(output RGB, segmentation labels (B, S, S), mask (B, 1, S, S)) drawn in the grid."""
        raise NotImplementedError

    def write_samples(self, models: dict[str, nn.Module], path: Path) -> None:
        """source | target heatmap | output | ground truth | segmentation | mask, one row per pair."""
        n = min(GRID_ROWS, self.val_size())
        if not n:
            return
        pairs = self.val_batch(np.linspace(0, self.val_size() - 1, n).round().astype(np.int64))
        output, seg, mask = self.panels(models, pairs)
        write_grid(path, pairs.source, pairs.heat, output, pairs.target, seg, mask)
