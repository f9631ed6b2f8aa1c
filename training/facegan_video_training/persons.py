"""Who is in each video (a MANIFEST.tsv ``person_label``) and which split a person belongs to.

The split is a pure function of the person label (a hash), so shards, machines and later runs agree
without talking to each other, and one person never lands in both splits.
"""

from __future__ import annotations

import csv
import hashlib
from functools import cache
from pathlib import Path

from facegan_video.errors import ConfigError

MANIFEST_NAME = "MANIFEST.tsv"
#: Columns a manifest must have: the file path relative to the manifest, and the person.
FILE_COLUMN, PERSON_COLUMN = "file", "person_label"


@cache
def read_manifest(path: Path) -> dict[Path, str]:
    """Resolved file path -> person label, from a tab-separated manifest with ``file`` and ``person_label``."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
    except FileNotFoundError:
        raise ConfigError(f"manifest {path} does not exist; pass an existing MANIFEST.tsv or omit --manifest") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"cannot read manifest {path}: {exc}") from None
    if rows and not {FILE_COLUMN, PERSON_COLUMN} <= set(rows[0]):
        raise ConfigError(f"manifest {path} needs tab-separated columns {FILE_COLUMN!r} and {PERSON_COLUMN!r}; "
                          f"it has {', '.join(rows[0])}")
    return {(path.parent / r[FILE_COLUMN]).resolve(): r[PERSON_COLUMN].strip()
            for r in rows if r.get(FILE_COLUMN) and r.get(PERSON_COLUMN, "").strip()}


def find_manifest(video: Path) -> Path | None:
    """A MANIFEST.tsv beside the video or in the folder above."""
    for folder in (video.parent, video.parent.parent):
        if (folder / MANIFEST_NAME).is_file():
            return folder / MANIFEST_NAME
    return None


def person_of(video: Path, manifest: Path | None) -> str:
    """The video's person label: from ``manifest`` (or one found beside it), else the file's own name."""
    source = manifest or find_manifest(video)
    if source is not None:
        label = read_manifest(source.resolve()).get(video.resolve())
        if label:
            return label
    return f"file:{video.stem}"


def split_of(person: str, val_fraction: float) -> str:
    """``val`` for a stable ``val_fraction`` of all person labels, ``train`` for the rest."""
    return "val" if split_position(person) < val_fraction else "train"


def split_position(person: str) -> float:
    """Where a person falls in [0, 1): ``val`` exactly when this is below the validation fraction."""
    return int.from_bytes(hashlib.sha256(person.encode("utf-8")).digest()[:8], "big") / 2**64
