"""Task ``reenactor``: G_r and its three discriminators (paper Section 3.2, eq. 5-8).

The losses see the images with the background removed by the driving frame's pseudo-labels (eq.
5's I'_fr and F_d); the discriminators are conditioned on H_t (pix2pixHD), so a face that does not
follow its landmarks is told apart; the segmentation head learns the pseudo-labels. Validation
reports eq. 5's L1 (``l1``, what picks ``best``), the same for the weights-free warp reenactor
(``warp_l1``, the baseline a network must beat), the cross-entropy and the label accuracy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from facegan_video.nets.reenactor import KIND, FaceReenactor
from facegan_video_training.image_losses import l1, segmentation_ce
from facegan_video_training.tasks.image import ImageTask, ImageTaskConfig, Pairs, foreground, plain


def run_reenactor(model: nn.Module, pairs: Pairs) -> tuple[torch.Tensor, torch.Tensor]:
    """G_r on a pair batch: (RGB, segmentation logits)."""
    return model(pairs.source, pairs.heat, pairs.warped if plain(model).config.warp else None)


def reenactor_terms(rgb: torch.Tensor, logits: torch.Tensor, pairs: Pairs) -> dict[str, torch.Tensor]:
    """eq. 5 and the cross-entropy, per sample (the adversarial terms need a discriminator)."""
    return {"l1": l1(rgb * pairs.target_fg, pairs.target * pairs.target_fg),
            "segmentation": segmentation_ce(logits, pairs.target_seg)}


def reenactor_loss(losses: dict[str, torch.Tensor], cfg: ImageTaskConfig) -> torch.Tensor:
    """eq. 8."""
    w = cfg.weights
    return (w.l1 * losses["l1"] + w.perceptual * losses["perceptual"] + w.adversarial * losses["adversarial"]
            + w.segmentation * losses["segmentation"])


class ReenactorTask(ImageTask):
    kind = KIND

    @property
    def uses_warp(self) -> bool:  # type: ignore[override]
        return self.cfg.reenactor.warp

    def config(self) -> dict[str, Any]:
        return {"model": self.cfg.model_dict("reenactor", "discriminator"), "task": self.cfg.task_dict()}

    def build(self, device: torch.device) -> dict[str, nn.Module]:
        self._to(device)
        return {"reenactor": FaceReenactor(self.cfg.reenactor).to(device),
                "reenactor_disc": self._discriminator(4).to(device)}

    def train_step(self, models: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer],
                   indices: np.ndarray, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        pairs = self.train_pairs(indices, rng)
        rgb, logits = run_reenactor(models["reenactor"], pairs)
        fake, real = rgb * pairs.target_fg, pairs.target * pairs.target_fg
        terms = reenactor_terms(rgb, logits, pairs)
        terms |= self.generator_terms(models["reenactor_disc"], fake, real, pairs.heat)
        losses = {k: v.mean() for k, v in terms.items()}
        losses["loss"] = reenactor_loss(losses, self.cfg)
        self.step(optimizers["reenactor"], losses["loss"])
        losses["discriminator"] = self.discriminator_step(models["reenactor_disc"], optimizers["reenactor_disc"],
                                                          fake, real, pairs.heat)
        return {k: v.detach() for k, v in losses.items()}

    def validate(self, models: dict[str, nn.Module], indices: np.ndarray) -> dict[str, torch.Tensor]:
        pairs = self.val_batch(indices)
        rgb, logits = run_reenactor(models["reenactor"], pairs)
        terms = reenactor_terms(rgb.clamp(0, 1), logits, pairs)
        terms["seg_accuracy"] = (logits.argmax(1) == pairs.target_seg).float().flatten(1).mean(1)
        terms["warp_l1"] = l1(pairs.warped * pairs.target_fg, pairs.target * pairs.target_fg)
        return terms

    def panels(self, models: dict[str, nn.Module], pairs: Pairs) -> tuple[torch.Tensor, ...]:
        rgb, logits = run_reenactor(models["reenactor"], pairs)
        return rgb, logits.argmax(1), foreground(logits)
