"""The sample grid a training run writes so a person can look at progress: one PNG, one row per
pair, columns source | target heatmap | output | ground truth | segmentation | mask."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from facegan_video.reenactment import write_image

#: Colours of the segmentation labels (background, face, hair), RGB.
SEG_COLOURS = np.array([[30, 30, 30], [230, 180, 140], [110, 60, 20]], np.uint8)


def _rgb(t: torch.Tensor) -> np.ndarray:
    """(B, C, S, S) in [0, 1] (C 1 or 3) -> (B, S, S, 3) uint8."""
    a = (t.detach().float().clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
    return np.repeat(a, 3, -1) if a.shape[-1] == 1 else a


def write_grid(path: Path, source: torch.Tensor, heat: torch.Tensor, output: torch.Tensor, target: torch.Tensor,
               seg: torch.Tensor, mask: torch.Tensor) -> Path:
    """Write the grid to ``path`` (atomically, folders created); ``seg`` is (B, S, S) labels."""
    cols = [_rgb(source), _rgb(heat), _rgb(output), _rgb(target), SEG_COLOURS[seg.cpu().numpy()], _rgb(mask)]
    grid = np.concatenate([np.concatenate(row, 1) for row in zip(*cols)], 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_image(path, grid)
    return path
