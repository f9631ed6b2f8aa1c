"""Who is in each file: a ``MANIFEST.tsv`` with ``file`` and ``person_label`` columns.

Evaluation (identities of sources and drivers) and dataset preparation (the train/validation split
by person) read it here, in one way: file paths are relative to the manifest's folder; the manifest
sits beside the files or one folder up.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from facegan_video.errors import ConfigError

MANIFEST_NAME = "MANIFEST.tsv"
#: Columns a manifest must have: the file path relative to the manifest, and the person.
FILE_COLUMN, PERSON_COLUMN = "file", "person_label"


def manifest_labels(path: Path) -> dict[str, str]:
    """The ``file`` column as written (relative to the manifest's folder) -> person label."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
    except FileNotFoundError:
        raise ConfigError(f"manifest {path} does not exist; pass an existing {MANIFEST_NAME}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"cannot read manifest {path}: {exc}") from None
    if rows and not {FILE_COLUMN, PERSON_COLUMN} <= set(rows[0]):
        raise ConfigError(f"manifest {path} needs tab-separated columns {FILE_COLUMN!r} and {PERSON_COLUMN!r}; "
                          f"it has {', '.join(rows[0])}")
    return {r[FILE_COLUMN]: r[PERSON_COLUMN].strip()
            for r in rows if r.get(FILE_COLUMN) and (r.get(PERSON_COLUMN) or "").strip()}


@cache
def read_manifest(path: Path) -> dict[Path, str]:
    """Resolved file path -> person label (read once per process: ``prepare`` asks for every video)."""
    path = Path(path)
    return {(path.parent / file).resolve(): label for file, label in manifest_labels(path).items()}


def find_manifest(file: Path) -> Path | None:
    """A MANIFEST.tsv beside ``file`` or in the folder above."""
    for folder in (file.parent, file.parent.parent):
        if (folder / MANIFEST_NAME).is_file():
            return folder / MANIFEST_NAME
    return None


def person_of(file: Path, manifest: Path | None = None) -> str:
    """The file's person label from ``manifest`` (or one found beside it); without one the file is its
    own person, ``file:<folder>/<name>``."""
    file = Path(file)
    source = manifest or find_manifest(file)
    if source is not None:
        label = read_manifest(Path(source).resolve()).get(file.resolve())
        if label:
            return label
    return f"file:{file.parent.name}/{file.name}"
