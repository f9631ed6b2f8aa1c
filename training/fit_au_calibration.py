"""Fit the geometric AU backend's per-AU neutral level and scale on real talking-head clips.

    python -m training.fit_au_calibration ../shared/data/talking_heads/clips \\
        --exclude dt_mead_ -o facegan_video/data/au_calibration.json

For each AU feature (millimetre displacements on frontalised landmarks, see
``facegan_video.analysis.aus``): ``neutral`` is the 25th percentile over clips of each clip's 10th
percentile (a relaxed face reads 0 in most clips), ``scale`` maps the 95th percentile of all frames
to intensity 3 (a marked expression), ``median`` is the median over all frames (used by ``calibration="video"``).
The MEAD emotion clips are excluded by default: the test suite checks the AUs against their labels.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from rich.progress import track

from facegan_video.analysis.aus import au_features
from facegan_video.analysis.geometry import PoseTracker
from facegan_video.analysis.pipeline import FaceAnalyzer
from facegan_video.config import AnalysisConfig
from facegan_video.hookspecs import hookimpl
from facegan_video.plugins import Registry, load_registry
from facegan_video.types import AU_NAMES, Analysis, Backend
from facegan_video.video import open_video


class RawFeatures:
    """An AU backend that reports uncalibrated features, registered for this script only."""

    provides = AU_NAMES

    def __init__(self) -> None:
        self._pose = PoseTracker()

    def estimate(self, landmarks, image_size, track_ids=None):
        ids = list(track_ids) if track_ids is not None else [-1] * len(landmarks)
        fit = self._pose(landmarks, image_size, ids)
        features = au_features(fit.fronts)
        return [Analysis(features[i], fit.tvecs[i], fit.euler[i], 1.0) for i in range(len(ids))]


class _RawPlugin:
    @hookimpl
    def facegan_video_au_estimators(self):
        return [Backend("raw-features", RawFeatures, "uncalibrated geometric AU features")]


def clip_features(path: Path, registry: Registry) -> np.ndarray:
    cfg = AnalysisConfig(faces="largest")
    cfg.set_backend("au", "raw-features")
    cfg.set_backend("smooth", "none")
    analyzer = FaceAnalyzer(cfg, registry)
    with open_video(path) as src:
        rows = [r.analysis.aus for _, recs in analyzer.run(src) for r in recs if r.analysis is not None]
    return np.array(rows, np.float32).reshape(-1, len(AU_NAMES))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("clips", type=Path)
    ap.add_argument("--exclude", action="append", default=[], help="skip files whose name contains this")
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args()
    reg = load_registry()
    reg.register(_RawPlugin(), name="raw-features")
    files = sorted(p for p in args.clips.glob("*.mp4") if not any(e in p.name for e in args.exclude))
    per_clip = [f for f in (clip_features(p, reg) for p in track(files, "clips")) if len(f) > 10]
    frames = np.concatenate(per_clip)
    neutral = np.percentile([np.percentile(f, 10, axis=0) for f in per_clip], 25, axis=0)
    scale = np.maximum((np.percentile(frames, 95, axis=0) - neutral) / 3.0, 1e-3)
    median = np.median(frames, axis=0)
    out = {
        "fitted_on": f"{len(per_clip)} clips, {len(frames)} frames from {args.clips.name}/ (excluding {args.exclude})",
        "units": "millimetres on the frontalised mean-face frame",
        "neutral": dict(zip(AU_NAMES, np.round(neutral.astype(float), 4).tolist())),
        "scale": dict(zip(AU_NAMES, np.round(scale.astype(float), 4).tolist())),
        "median": dict(zip(AU_NAMES, np.round(median.astype(float), 4).tolist())),
    }
    args.output.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.output}: {out['fitted_on']}")


if __name__ == "__main__":
    main()
