"""Defaults of ``prepare`` and ``train``, in a module light enough for the command line to import."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PrepareSettings:
    """How clips are prepared; ``size`` and ``val_fraction`` must be the same for every run into one dataset."""

    size: int = 256  # crop side, pixels
    val_fraction: float = 0.1  # share of persons in the validation split
    min_face: float = 28.0  # face scale (inter-ocular distance) in source pixels below which frames are rejected
    min_confidence: float = 0.8  # landmark-fit confidence below which frames are rejected
    all_tracks: bool = False  # keep every long-enough track, not only the longest


#: Hyper-parameters of a new run unless given: the paper's batch size and learning rate for L_T.
TRAIN_DEFAULTS = {"batch_size": 32, "lr": 2e-4, "seed": 0}
EPOCHS = 10


@dataclass(frozen=True)
class EditSettings:
    """Synthetic AU edits of ``train lt`` (``tasks.lt``): how many per real pair, how many AUs each changes
    and by how much at most (AU units)."""

    edits: float = 1.0
    edit_aus: int = 3
    edit_range: float = 3.0
