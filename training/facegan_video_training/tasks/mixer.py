"""Task ``mixer``: G_b and its discriminators (paper Section 3.3, eq. 9-11).

G_b learns to put a reenacted face into the source's background: its inputs are the face with its
background removed (the driving frame's own face, i.e. a perfect reenactor, or with
``reenactor_checkpoint`` a trained G_r's output cut out by its own segmentation) and the source in
the driving crop with its face and hair removed (by the source's pseudo-labels); the target is the
whole driving frame. Validation reports the L1 of I_r against the driving frame (``l1``), the same
for pasting the face over the source without a mixer (``paste_l1``, the baseline) and the mean mask.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from facegan_video.checkpoint import load_checkpoint
from facegan_video.nets.mixer import KIND, BackgroundMixer
from facegan_video.nets.reenactor import FaceReenactor, reenactor_from_checkpoint
from facegan_video_training.image_losses import l1, mask_l2, mask_tv
from facegan_video_training.tasks.image import ImageTask, ImageTaskConfig, Pairs, foreground
from facegan_video_training.tasks.reenactor import run_reenactor


def mixer_inputs(pairs: Pairs, face: torch.Tensor, foreground: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """G_b's inputs: the face cut out by ``foreground``, and I_b, the source without face and hair."""
    return face * foreground, foreground, pairs.source * (1 - pairs.source_fg), pairs.source_fg


def mixer_terms(output: torch.Tensor, mask: torch.Tensor, pairs: Pairs) -> dict[str, torch.Tensor]:
    return {"l1": l1(output, pairs.target), "mask_tv": mask_tv(mask), "mask_l2": mask_l2(mask)}


def mixer_loss(losses: dict[str, torch.Tensor], cfg: ImageTaskConfig) -> torch.Tensor:
    """eq. 11 (with eq. 10's two mask terms)."""
    w = cfg.weights
    return (w.mask_tv * losses["mask_tv"] + w.mask_l2 * losses["mask_l2"] + w.perceptual * losses["perceptual"]
            + w.adversarial * losses["adversarial"] + w.l1 * losses["l1"])


class MixerTask(ImageTask):
    kind = KIND

    def __init__(self, dataset, config: ImageTaskConfig = ImageTaskConfig(),
                 reenactor_checkpoint: str | None = None) -> None:
        self.reenactor: FaceReenactor | None = None
        self.reenactor_checkpoint = reenactor_checkpoint
        if reenactor_checkpoint is not None:
            self.reenactor = reenactor_from_checkpoint(load_checkpoint(reenactor_checkpoint))
            self.reenactor.requires_grad_(False)
        super().__init__(dataset, config)

    @property
    def uses_warp(self) -> bool:  # type: ignore[override]
        return self.reenactor is not None and self.reenactor.config.warp

    def config(self) -> dict[str, Any]:
        task = self.cfg.task_dict() | {"reenactor_checkpoint": self.reenactor_checkpoint}
        return {"model": self.cfg.model_dict("mixer", "discriminator"), "task": task}

    def build(self, device: torch.device) -> dict[str, nn.Module]:
        self._to(device)
        if self.reenactor is not None:
            self.reenactor.to(device)
        return {"mixer": BackgroundMixer(self.cfg.mixer).to(device), "mixer_disc": self._discriminator(3).to(device)}

    def _face(self, pairs: Pairs) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The reenacted face, its foreground and labels: the driving frame's own, or a frozen G_r's."""
        if self.reenactor is None:
            return pairs.target, pairs.target_fg, pairs.target_seg
        with torch.no_grad():
            rgb, logits = run_reenactor(self.reenactor, pairs)
        return rgb.clamp(0, 1), foreground(logits), logits.argmax(1)

    def train_step(self, models: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer],
                   indices: np.ndarray, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        pairs = self.train_pairs(indices, rng)
        face, fg, _ = self._face(pairs)
        output, _, mask = models["mixer"](*mixer_inputs(pairs, face, fg))
        terms = mixer_terms(output, mask, pairs) | self.generator_terms(models["mixer_disc"], output, pairs.target,
                                                                        None)
        losses = {k: v.mean() for k, v in terms.items()}
        losses["loss"] = mixer_loss(losses, self.cfg)
        self.step(optimizers["mixer"], losses["loss"])
        losses["discriminator"] = self.discriminator_step(models["mixer_disc"], optimizers["mixer_disc"], output,
                                                          pairs.target, None)
        return {k: v.detach() for k, v in losses.items()}

    def validate(self, models: dict[str, nn.Module], indices: np.ndarray) -> dict[str, torch.Tensor]:
        pairs = self.val_batch(indices)
        face, fg, _ = self._face(pairs)
        output, _, mask = models["mixer"](*mixer_inputs(pairs, face, fg))
        terms = mixer_terms(output, mask, pairs)
        terms["paste_l1"] = l1(fg * face + (1 - fg) * pairs.source, pairs.target)
        terms["mask_mean"] = mask.flatten(1).mean(1)
        return terms

    def panels(self, models: dict[str, nn.Module], pairs: Pairs) -> tuple[torch.Tensor, ...]:
        face, fg, labels = self._face(pairs)
        output, _, mask = models["mixer"](*mixer_inputs(pairs, face, fg))
        return output, labels, mask
