"""The ``mlp`` landmark transformer: the paper's trained L_T (Section 3.1) in the transform stage.

The source landmarks are mapped into the face crop L_T was trained in (``nets.crop``: the source's
own eye mid-point and face scale), moved by L_T as a change of motion (target motion against the
source's own, ``nets.landmark.displacement``, so an unchanged motion gives back the source exactly)
and mapped back to image pixels. Motion modes and channel masks are applied before the transformer
(``motion.combine``), as for every backend. Batches run through ``inference.TorchRunner``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facegan_video.assets import LT_WEIGHTS
from facegan_video.hookspecs import hookimpl
from facegan_video.nets.crop import apply_transform, crop_transform, invert_transform
from facegan_video.options import Option
from facegan_video.types import Backend, Capabilities, SourceFace

#: Target frames per network call unless ``batch_size`` says otherwise.
BATCH_SIZE = 256


class MLPTransformer:
    """L_T from a ``train lt`` checkpoint (default: the shipped weights); see the module docstring."""

    def __init__(self, checkpoint: Path | None = None, batch_size: int = BATCH_SIZE, device: str = "cpu") -> None:
        # torch is imported here, not with the plugin, so commands that never build this backend start fast
        from facegan_video.checkpoint import load_checkpoint
        from facegan_video.inference import TorchRunner
        from facegan_video.nets.landmark import KIND, LandmarkTransform, landmark_nets_from_checkpoint

        nets = landmark_nets_from_checkpoint(load_checkpoint(checkpoint or LT_WEIGHTS, kind=KIND))
        self.runner = TorchRunner(LandmarkTransform(nets.lt), device, batch_size, precision="float32")

    def transform(self, source: SourceFace, target_motion: np.ndarray,
                  driving_landmarks: np.ndarray | None = None) -> np.ndarray:
        crop = crop_transform(source.landmarks)
        n = len(target_motion)
        unit = np.broadcast_to(apply_transform(source.landmarks, crop), (n, 68, 2))
        own = np.broadcast_to(source.motion, (n, len(source.motion)))
        moved = self.runner(unit, np.asarray(target_motion, np.float32), own)
        return apply_transform(moved, invert_transform(crop)).astype(np.float32)


@hookimpl
def facegan_video_landmark_transformers() -> list[Backend]:
    return [Backend(
        "mlp", MLPTransformer,
        "the paper's trained landmark transformer L_T (an MLP on the source's landmarks and the target AUs + pose)",
        options=(Option("checkpoint", Path, None, "an `lt` checkpoint from `facegan-video train lt` "
                        "(default: the shipped weights, MODEL_CARD_lt_mlp.md)", exists=True),
                 Option("batch_size", int, BATCH_SIZE, "target frames per network call", low=1)),
        capabilities=Capabilities(device=True))]
