"""The edit round trip through the command line: ``edit --au AUxx=+2`` then ``extract`` of the result.

For every AU, a portrait is edited with that AU raised by ``MOVE`` and the edited image re-analysed
from scratch by ``extract``; the change of each AU against ``extract`` of the unedited portrait says
whether the edit did what it was asked (the edited AU moved by ``MOVE`` ± ``TOLERANCE``) and only that
(no other AU moved by more than ``DRIFT``). It measures the whole chain a user runs: landmark
transform, rendering, and the analysis reading the rendered face again; not L_a.

Run ``python -m facegan_video.evaluation.edits PORTRAIT... --transforms mlp,analytic`` for the table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facegan_video.errors import MediaError
from facegan_video.openface_csv import parse_openface_csv
from facegan_video.types import AU_NAMES

#: What each edit asks: the AU raised by this much.
MOVE = 2.0
#: The edited AU passes within this share of ``MOVE``.
TOLERANCE = 0.3
#: No other AU may move by more than this.
DRIFT = 0.5


@dataclass(frozen=True)
class RoundTrip:
    """One portrait, one transform: ``moved[k, j]`` is AU j's change when AU k was raised."""

    portrait: str
    transform: str
    moved: np.ndarray  # (17, 17)
    floor: np.ndarray  # (17,) each AU's change when nothing was asked (``AU01=+0``): rendering and re-reading alone

    @property
    def own(self) -> np.ndarray:
        """(17,) each edited AU's own change."""
        return np.diag(self.moved).copy()

    @property
    def drift(self) -> np.ndarray:
        """(17,) the largest change of any other AU, per edit."""
        off = np.abs(self.moved).copy()
        np.fill_diagonal(off, 0)
        return off.max(1)

    @property
    def as_asked(self) -> np.ndarray:
        """(17,) bool: the edited AU moved by MOVE ± TOLERANCE, whatever the others did."""
        return np.abs(self.own - MOVE) <= TOLERANCE * MOVE

    @property
    def passed(self) -> np.ndarray:
        """(17,) bool: the edited AU moved by MOVE ± TOLERANCE and no other AU by more than DRIFT."""
        return self.as_asked & (self.drift <= DRIFT)


def _run(*args: str | Path) -> None:
    """One ``facegan-video`` command in a fresh process, as a user runs it; a failure is a MediaError."""
    proc = subprocess.run([sys.executable, "-m", "facegan_video.cli", *map(str, args)], capture_output=True,
                          text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    if proc.returncode != 0:
        raise MediaError(f"facegan-video {' '.join(map(str, args[:2]))} failed: {proc.stderr.strip()}")


def _aus(image: Path, work: Path) -> np.ndarray:
    csv = work / f"{image.stem}.csv"
    _run("extract", image, "-o", csv, "-q")
    rows = parse_openface_csv(csv)
    if len(rows) != 1:
        raise MediaError(f"extract found {len(rows)} faces in {image}, expected one")
    return rows[0].aus.astype(np.float64)


def round_trip(portrait: Path, transform: str, work: Path, workers: int = 2) -> RoundTrip:
    """Edit ``portrait`` once per AU with ``transform`` and re-analyse each result, ``workers`` commands
    at a time."""
    work.mkdir(parents=True, exist_ok=True)

    def one(name: str, move: float) -> np.ndarray:
        out = work / f"{portrait.stem}_{transform}_{name}_{move:g}.png"
        _run("edit", portrait, "--au", f"{name}=+{move:g}", "--transform", transform, "-o", out, "-q")
        return _aus(out, work)

    with ThreadPoolExecutor(workers) as pool:
        source = pool.submit(_aus, portrait, work)
        unedited = pool.submit(one, AU_NAMES[0], 0.0)
        edited = list(pool.map(one, AU_NAMES, [MOVE] * len(AU_NAMES)))
    base = source.result()
    return RoundTrip(portrait.name, transform, np.stack(edited) - base, unedited.result() - base)


def markdown(results: list[RoundTrip]) -> str:
    """One row per AU: its own change and the largest drift of the others, per portrait and transform
    (a passing edit in bold), then per column the edits that moved their AU as asked, those that passed, and
    the largest change of any AU when nothing was asked."""
    head = [f"{r.portrait} {r.transform}" for r in results]
    lines = ["| AU | " + " | ".join(head) + " |", "|---|" + "---:|" * len(results)]
    for k, name in enumerate(AU_NAMES):
        cells = []
        for r in results:
            cell = f"{r.own[k]:+.2f} / {r.drift[k]:.2f}"
            cells.append(f"**{cell}**" if r.passed[k] else cell)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append(f"| moved ±{TOLERANCE:.0%} | " + " | ".join(f"{int(r.as_asked.sum())}/17" for r in results) + " |")
    lines.append("| passed | " + " | ".join(f"{int(r.passed.sum())}/17" for r in results) + " |")
    lines.append("| +0 (no edit) | " + " | ".join(f"{np.abs(r.floor).max():.2f}" for r in results) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("portraits", nargs="+", type=Path)
    parser.add_argument("--transforms", default="mlp,analytic", help="comma-separated transform backends")
    parser.add_argument("--workers", type=int, default=2, help="commands run at a time")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for portrait in args.portraits:
            for transform in args.transforms.split(","):
                results.append(round_trip(portrait, transform, Path(tmp) / transform, args.workers))
                r = results[-1]
                print(f"{r.portrait} {r.transform}: {int(r.passed.sum())}/17 passed", file=sys.stderr)
    table = markdown(results)
    print(table)
    if args.markdown:
        args.markdown.write_text(table)


if __name__ == "__main__":
    main()
