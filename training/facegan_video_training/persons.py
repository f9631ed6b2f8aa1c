"""Which split a person belongs to (who is in each video: ``facegan_video.manifest``).

The split is a pure function of the person label (a hash), so shards, machines and later runs agree
without talking to each other, and one person never lands in both splits.
"""

from __future__ import annotations

import hashlib


def split_of(person: str, val_fraction: float) -> str:
    """``val`` for a stable ``val_fraction`` of all person labels, ``train`` for the rest."""
    return "val" if split_position(person) < val_fraction else "train"


def split_position(person: str) -> float:
    """Where a person falls in [0, 1): ``val`` exactly when this is below the validation fraction."""
    return int.from_bytes(hashlib.sha256(person.encode("utf-8")).digest()[:8], "big") / 2**64
