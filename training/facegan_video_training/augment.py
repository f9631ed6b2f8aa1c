"""Augmentations of landmark training pairs that stand in for identities the data lacks.

With about a hundred people, L_T would otherwise learn their face shapes rather than how motion
moves any face. Both act on a (source, driving) pair of one track in unit crop coordinates:

* ``mirror``: the face flipped left-right about the crop's centre line (where the eye mid-point
  sits): points swap sides (iBUG mirror order), yaw and roll change sign, AUs (bilateral
  intensities) stay. Doubles the poses and asymmetric shapes seen.
* ``jitter_identity``: one random face-shape change applied to both landmark sets of a pair, so
  the target motion is unchanged but the face is "someone else": the whole face scaled
  anisotropically about the eye mid-point, and each part (jaw, brows, nose, eyes, mouth) scaled
  about its own centre and shifted. L_T must then carry whatever shape the source has.
"""

from __future__ import annotations

import numpy as np
import torch

from facegan_video.ibug import MIRROR
from facegan_video.nets.crop import EYE_CENTRE, FACE_SCALE
from facegan_video.types import AUS

#: Face parts moved as wholes by the identity jitter.
PARTS = (np.arange(0, 17), np.arange(17, 27), np.arange(27, 36), np.arange(36, 48), np.arange(48, 68))
#: Signs that mirror the motion code: AUs and pitch stay, yaw and roll flip.
_MIRROR_MOTION = np.r_[np.ones(AUS.stop + 1), -1.0, -1.0]


def mirror(landmarks: torch.Tensor, motion: torch.Tensor, flip: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mirror the samples where ``flip`` (B,) is true: landmarks (B, 68, 2) unit coordinates, motion (B, 20)."""
    flipped = landmarks[:, torch.as_tensor(MIRROR, device=landmarks.device)].clone()
    flipped[..., 0] = 2 * EYE_CENTRE[0] - flipped[..., 0]
    signs = torch.as_tensor(_MIRROR_MOTION, dtype=motion.dtype, device=motion.device)
    f = flip.view(-1, 1, 1)
    return torch.where(f, flipped, landmarks), torch.where(f[:, 0], motion * signs, motion)


def jitter_identity(pair: tuple[torch.Tensor, torch.Tensor], rng: np.random.Generator, strength: float
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """The same random shape change applied to both (B, 68, 2) landmark sets; ``strength`` is the
    relative size of the changes (0.05: parts grow or shrink by about 5%, move by about 5% of the
    inter-ocular distance)."""
    source = pair[0]
    b, device, dtype = source.shape[0], source.device, source.dtype

    def draw(*shape: int) -> torch.Tensor:
        return torch.as_tensor(rng.standard_normal((b, *shape)) * strength, dtype=dtype, device=device)

    whole = 1 + draw(1, 2)
    part_scale = 1 + draw(len(PARTS), 1, 1)
    part_shift = draw(len(PARTS), 1, 2) * FACE_SCALE
    centre = torch.as_tensor(EYE_CENTRE, dtype=dtype, device=device)
    out = []
    for points in pair:
        points = (points - centre) * whole + centre
        moved = points.clone()
        for k, idx in enumerate(PARTS):
            part = points[:, idx]
            mid = part.mean(1, keepdim=True)
            moved[:, idx] = (part - mid) * part_scale[:, k] + mid + part_shift[:, k]
        out.append(moved)
    return out[0], out[1]
