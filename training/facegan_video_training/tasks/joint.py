"""Task ``joint``: G_r and G_b trained end to end (paper Section 4: "trained separately ... and then
together"), each with its discriminators, from the weights of a ``reenactor`` and a ``mixer`` run.

G_b gets G_r's face cut out by G_r's own segmentation, as at inference, and its losses reach G_r
through that face. The loss is eq. 8 plus eq. 11; validation reports the final frame's L1
(``l1``), G_r's eq. 5 L1 (``face_l1``) and, as baselines, pasting G_r's face without a mixer
(``paste_l1``) and the warp reenactor's face (``warp_l1``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from facegan_video.checkpoint import load_checkpoint, load_module
from facegan_video.nets.mixer import BackgroundMixer
from facegan_video.nets.reenactor import FaceReenactor
from facegan_video_training.image_losses import l1
from facegan_video_training.tasks.image import ImageTask, ImageTaskConfig, Pairs, foreground
from facegan_video_training.tasks.mixer import mixer_inputs, mixer_loss, mixer_terms
from facegan_video_training.tasks.reenactor import reenactor_loss, reenactor_terms, run_reenactor

KIND = "joint"


class JointTask(ImageTask):
    kind = KIND

    def __init__(self, dataset, config: ImageTaskConfig = ImageTaskConfig(), reenactor_checkpoint: str | None = None,
                 mixer_checkpoint: str | None = None) -> None:
        self.starts = {"reenactor": reenactor_checkpoint, "mixer": mixer_checkpoint}
        super().__init__(dataset, config)

    @property
    def uses_warp(self) -> bool:  # type: ignore[override]
        return self.cfg.reenactor.warp

    def config(self) -> dict[str, Any]:
        task = self.cfg.task_dict() | {f"{k}_checkpoint": v for k, v in self.starts.items()}
        return {"model": self.cfg.model_dict("reenactor", "mixer", "discriminator"), "task": task}

    def build(self, device: torch.device) -> dict[str, nn.Module]:
        self._to(device)
        models = {"reenactor": FaceReenactor(self.cfg.reenactor), "mixer": BackgroundMixer(self.cfg.mixer),
                  "reenactor_disc": self._discriminator(4), "mixer_disc": self._discriminator(3)}
        for name, path in self.starts.items():
            if path is not None:  # a fresh run starts from the separately trained network
                load_module(models[name], load_checkpoint(path), f"model.{name}.", cast=True)
        return {k: m.to(device) for k, m in models.items()}

    def _forward(self, models: dict[str, nn.Module], pairs: Pairs) -> tuple[torch.Tensor, ...]:
        rgb, logits = run_reenactor(models["reenactor"], pairs)
        fg = foreground(logits)
        output, _, mask = models["mixer"](*mixer_inputs(pairs, rgb.clamp(0, 1), fg))
        return rgb, logits, fg, output, mask

    def train_step(self, models: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer],
                   indices: np.ndarray, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        pairs = self.train_pairs(indices, rng)
        rgb, logits, _, output, mask = self._forward(models, pairs)
        fake, real = rgb * pairs.target_fg, pairs.target * pairs.target_fg
        face = reenactor_terms(rgb, logits, pairs) | self.generator_terms(models["reenactor_disc"], fake, real,
                                                                          pairs.heat)
        frame = mixer_terms(output, mask, pairs) | self.generator_terms(models["mixer_disc"], output, pairs.target,
                                                                        None)
        face_losses = {k: v.mean() for k, v in face.items()}
        frame_losses = {k: v.mean() for k, v in frame.items()}
        loss = reenactor_loss(face_losses, self.cfg) + mixer_loss(frame_losses, self.cfg)
        self.step([optimizers["reenactor"], optimizers["mixer"]], loss)
        losses = {f"face_{k}": v for k, v in face_losses.items()} | frame_losses | {"loss": loss}
        losses["face_discriminator"] = self.discriminator_step(models["reenactor_disc"],
                                                               optimizers["reenactor_disc"], fake, real, pairs.heat)
        losses["discriminator"] = self.discriminator_step(models["mixer_disc"], optimizers["mixer_disc"], output,
                                                          pairs.target, None)
        return {k: v.detach() for k, v in losses.items()}

    def validate(self, models: dict[str, nn.Module], indices: np.ndarray) -> dict[str, torch.Tensor]:
        pairs = self.val_batch(indices)
        rgb, logits, fg, output, mask = self._forward(models, pairs)
        rgb = rgb.clamp(0, 1)
        t_fg = pairs.target_fg
        return {"l1": l1(output, pairs.target), "face_l1": l1(rgb * t_fg, pairs.target * t_fg),
                "paste_l1": l1(fg * rgb + (1 - fg) * pairs.source, pairs.target),
                "warp_l1": l1(pairs.warped * t_fg, pairs.target * t_fg), "mask_mean": mask.flatten(1).mean(1)}

    def panels(self, models: dict[str, nn.Module], pairs: Pairs) -> tuple[torch.Tensor, ...]:
        _, logits, _, output, mask = self._forward(models, pairs)
        return output, logits.argmax(1), mask
