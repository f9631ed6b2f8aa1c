"""Task ``lt``: the landmark transformer L_T with its AU regressor L_a (paper Section 3.1).

A training sample is a frame i of a training track: l_s is its landmarks, and a partner frame j
drawn uniformly from the whole track (so pairs span the track's full range of motion) gives l_d
and AU_d. Pairs are mirrored (probability ``mirror``) and given a random identity
(``jitter_identity``) unless augmentation is off; L_a learns from l_d before the identity change, whose
labels are the analysis's reading of it.

Synthetic edits (``edits`` per real pair, drawn from the batch's sources): the source's own motion
with 1 to ``edit_aus`` AUs changed by up to ±``edit_range`` (clipped to 0-5), what ``edit --au``
asks of L_T. They have no ground-truth l_d, so only eq. 2, the ‖Δl‖ regulariser and connectivity to
the source train on them; eq. 2 reads their AUs with the analysis's own reading, linearised at the
source frame (``teacher``; exact while the head pose stays), and the pose with L_a. They teach L_T to
move the asked AUs and only those, as far as the analysis can tell them apart.

Validation pairs every frame of the validation persons with a partner drawn once with a fixed seed,
and edits it with one AU raised by 2 (``round_trip_edits``), without augmentation, so the scores of
different runs and epochs compare. ``overfit N`` trains on N fixed pairs without augmentation or
edits (cycled through; an epoch keeps the dataset's length): a check that the networks and losses
fit real data.
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
from facegan_video.types import AU_MAX, AUS, POSE
from facegan_video_training.augment import jitter_identity, mirror
from facegan_video_training.dataset import VAL_SEED, FaceDataset, sample_partners
from facegan_video_training.losses import LTWeights, edit_losses, lt_losses
from facegan_video_training.settings import EditSettings
from facegan_video_training.teacher import AUTeacher

#: Crop side in pixels that the pixel-error metrics are quoted at.
METRIC_SIZE = 256


@dataclass(frozen=True)
class LTTaskConfig:
    model: LTConfig = field(default_factory=LTConfig)
    weights: LTWeights = field(default_factory=LTWeights)
    augment: bool = True
    mirror: float = 0.5  # probability of mirroring a pair
    identity_jitter: float = 0.05  # strength of the random identity change
    overfit: int = 0  # > 0: train on this many fixed pairs, no augmentation, no edits
    edits: float = EditSettings.edits  # synthetic edit samples per real pair (0: none)
    edit_aus: int = EditSettings.edit_aus  # at most this many AUs changed per edit
    edit_range: float = EditSettings.edit_range  # largest AU change of an edit (AU units)

    def __post_init__(self) -> None:
        if self.overfit < 0 or self.edits < 0 or self.edit_aus < 1 or not 0 < self.edit_range <= AU_MAX:
            raise ValueError("overfit and edits must be >= 0, edit_aus >= 1 and edit_range within (0, 5]")

    def to_dict(self) -> dict[str, Any]:
        task = asdict(self)
        return {"model": task.pop("model"), "task": task}


def draw_edits(motion: np.ndarray, rng: np.random.Generator, most: int, span: float) -> np.ndarray:
    """(N, 20) motion codes with 1 to ``most`` AUs each changed by a uniform ±``span``, clipped to 0-5."""
    out = motion.copy()
    n_aus = AUS.stop
    for row, count in zip(out, rng.integers(1, most + 1, len(out))):
        which = rng.choice(n_aus, count, replace=False)
        row[which] = np.clip(row[which] + rng.uniform(-span, span, count), 0, AU_MAX)
    return out


def round_trip_edits(motion: np.ndarray) -> np.ndarray:
    """(N, 20) the validation edits: frame k's own motion with AU k mod 17 raised by 2 (clipped), as the
    ``edit --au AUxx=+2`` round trip asks; the same for every run, whatever its edit settings."""
    out = motion.copy()
    rows = np.arange(len(out))
    cols = rows % AUS.stop
    out[rows, cols] = np.clip(out[rows, cols] + 2, 0, AU_MAX)
    return out


class LTTask:
    kind = KIND
    best_metric = "landmark_px"

    def __init__(self, dataset: FaceDataset, config: LTTaskConfig = LTTaskConfig()) -> None:
        self.cfg = config
        self.size = dataset.size
        dataset.check_training()
        self.train_lm, self.train_motion, self.train_owner = dataset.landmarks_and_motion("train")
        self.val_lm, self.val_motion, val_owner = dataset.landmarks_and_motion("val")
        rng = np.random.default_rng(VAL_SEED)
        self.val_partner = sample_partners(val_owner, rng, np.arange(len(self.val_lm)))
        self.val_edit = round_trip_edits(self.val_motion)
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
        self.val = tuple(torch.as_tensor(a, **to) for a in (self.val_lm, self.val_motion, self.val_edit))
        edits = self.cfg.edits and not self.cfg.overfit
        self.teachers = {"train": AUTeacher(self.train_lm, self.size, device) if edits else None,
                         "val": AUTeacher(self.val_lm, self.size, device)}
        return {"landmark": LandmarkNets(self.cfg.model).to(device)}

    def optimizers(self, models: dict[str, nn.Module], lr: float) -> dict[str, torch.optim.Optimizer]:
        return {"landmark": torch.optim.Adam(models["landmark"].parameters(), lr=lr)}

    def train_size(self) -> int:
        return len(self.train_lm)

    def val_size(self) -> int:
        return len(self.val_lm)

    def _batch(self, indices: np.ndarray, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """Real pairs (unit crop coordinates, raw motion) and, when asked for, synthetic edits of their sources
        (with the frame each edit's source came from and whether it was mirrored, for the teacher)."""
        if self.fixed is not None:
            k = indices % len(self.fixed[0])
            i, j = self.fixed[0][k], self.fixed[1][k]
        else:
            i, j = indices, sample_partners(self.train_owner, rng, indices)
        ti, tj = (torch.as_tensor(a, device=self.device) for a in (i, j))
        b = {"source": self.lm[ti], "driving": self.lm[tj], "source_motion": self.motion[ti],
             "motion": self.motion[tj]}
        augment = self.cfg.augment and self.fixed is None
        flip = torch.zeros(len(i), dtype=torch.bool, device=self.device)
        if augment:
            flip = torch.as_tensor(rng.random(len(i)) < self.cfg.mirror, device=self.device)
            b["source"], b["source_motion"] = mirror(b["source"], b["source_motion"], flip)
            b["driving"], b["motion"] = mirror(b["driving"], b["motion"], flip)
        b["real"] = b["driving"]  # L_a learns from l_d before the identity change
        if augment:
            b["source"], b["driving"] = jitter_identity((b["source"], b["driving"]), rng, self.cfg.identity_jitter)
        n_edits = int(round(self.cfg.edits * len(i))) if self.fixed is None else 0
        if n_edits:
            k = torch.as_tensor(rng.integers(0, len(i), n_edits), device=self.device)
            motion = b["source_motion"][k]
            b["edit_source"], b["edit_source_motion"] = b["source"][k], motion
            b["edit_frame"], b["edit_flip"] = ti[k], flip[k]
            edited = draw_edits(motion.cpu().numpy(), rng, self.cfg.edit_aus, self.cfg.edit_range)
            b["edit_motion"] = torch.as_tensor(edited, device=self.device)
        return b

    def _losses(self, model: nn.Module, b: dict[str, torch.Tensor], split: str = "train"
                ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Per-sample terms of the real pairs (eq. 1-4, ``loss``) and of the edits (``edit_loss``), from one
        forward; and the outputs (normalised): the pairs' l_t, and the edits' readings of l_t and l_s
        (the teacher's AUs, L_a's pose), the frames of ``split``."""
        n = len(b["source"])
        keys = ("source", "source_motion", "motion")
        edits = "edit_source" in b
        parts = {k: torch.cat([b[k], b[f"edit_{k}"]]) if edits else b[k] for k in keys}
        src = normalise_landmarks(parts["source"])
        src_mot, mot = normalise_motion(parts["source_motion"]), normalise_motion(parts["motion"])
        delta, au_t, au_s, au_real = model(src, src_mot, mot, normalise_landmarks(b["real"]))
        terms = lt_losses(src[:n], delta[:n], normalise_landmarks(b["driving"]), au_t[:n], au_real, mot[:n],
                          self.cfg.weights)
        out = {"target": src[:n] + delta[:n], "au_real": au_real}
        if edits:
            out["edit_t"], out["edit_s"] = (self._edit_reading(split, b, denormalise_landmarks(lm), au[n:])
                                            for lm, au in ((src[n:] + delta[n:], au_t), (src[n:], au_s)))
            terms.update(edit_losses(src[n:], delta[n:], out["edit_t"], out["edit_s"], mot[n:] - src_mot[n:],
                                     self.cfg.weights))
        return terms, out

    def _edit_reading(self, split: str, b: dict[str, torch.Tensor], landmarks: torch.Tensor, la: torch.Tensor
                      ) -> torch.Tensor:
        """(E, 20) normalised motion the analysis reads from edit landmarks (unit crop coordinates): the
        teacher's AUs at the source frame (mirrored samples mirrored back first: the analysis reads a
        mirrored face's AUs alike) and L_a's pose."""
        unflipped, _ = mirror(landmarks, la, b["edit_flip"])
        return torch.cat([self.teachers[split].reading(b["edit_frame"], unflipped), la[:, POSE]], 1)

    def train_step(self, models: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer],
                   indices: np.ndarray, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        terms, _ = self._losses(models["landmark"], self._batch(indices, rng))
        losses = {k: v.mean() for k, v in terms.items()}
        if "edit_loss" in losses:
            losses["loss"] = losses["loss"] + self.cfg.weights.edit * losses["edit_loss"]
        opt = optimizers["landmark"]
        opt.zero_grad(set_to_none=True)
        losses["loss"].backward()
        opt.step()
        return {k: v.detach() for k, v in losses.items()}

    def validate(self, models: dict[str, nn.Module], indices: np.ndarray) -> dict[str, torch.Tensor]:
        """Per-sample: the loss terms; landmark errors (px at 256); L_a's AU error on l_d; and for the fixed
        edit, the analysis's reading of the change (the teacher's, clipped as the analysis clips) against the
        change asked for, on the edited AU (``edit_error``) and on the others (``edit_drift``), AU units."""
        i = torch.as_tensor(indices, device=self.device)
        j = torch.as_tensor(self.val_partner[indices], device=self.device)
        lm, motion, edit = self.val
        no_flip = torch.zeros(len(i), dtype=torch.bool, device=self.device)
        b = {"source": lm[i], "driving": lm[j], "source_motion": motion[i], "motion": motion[j], "real": lm[j],
             "edit_source": lm[i], "edit_source_motion": motion[i], "edit_motion": edit[i], "edit_frame": i,
             "edit_flip": no_flip}
        terms, out = self._losses(models["landmark"], b, "val")
        terms["landmark_px"] = (denormalise_landmarks(out["target"]) - b["driving"]).norm(dim=-1).mean(1) * METRIC_SIZE
        terms["unchanged_px"] = (b["source"] - b["driving"]).norm(dim=-1).mean(1) * METRIC_SIZE
        terms["la_au_error"] = (out["au_real"][:, AUS] - normalise_motion(b["motion"])[:, AUS]).abs().mean(1) * AU_MAX
        moved = (out["edit_t"][:, AUS].clamp(0, 1) - out["edit_s"][:, AUS].clamp(0, 1)) * AU_MAX
        asked = (edit[i] - motion[i])[:, AUS]
        changed = asked != 0
        terms["edit_error"] = ((moved - asked).abs() * changed).sum(1) / changed.sum(1).clamp(min=1)
        terms["edit_drift"] = (moved.abs() * ~changed).sum(1) / (~changed).sum(1).clamp(min=1)
        return terms
