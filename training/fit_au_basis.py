"""Fit the analytic landmark transformer's AU -> landmark-displacement basis on real talking-head clips.

    python -m training.fit_au_basis ../shared/data/talking_heads -o facegan_video/data/au_basis.npy

Per clip, each frame's frontalised landmarks (pose removed, mm) and AU intensities are taken
relative to the clip's median; ridge regression then finds the (17, 68, 2) displacement per unit
of each AU that best explains the landmark motion. Identities are split by MANIFEST.tsv's
``person_label``: the basis is fitted on 80 % of people and its R^2 reported on the held-out 20 %,
then refitted on everyone. Finally each AU's displacement is made to read back as exactly one unit
of that AU on the geometric estimator (rescaled when the fitted motion already moves the AU, else
given the smallest extra motion that does), so edits like ``AU12=+2`` do what they say; what the
regression learnt about co-moving points (cheeks with a smile) is kept.
"""

from __future__ import annotations

import argparse
import csv
import zlib
from pathlib import Path

import numpy as np
from rich.progress import track

from facegan_video.analysis.aus import au_features, load_calibration
from facegan_video.analysis.geometry import PoseTracker, mean_face
from facegan_video.analysis.pipeline import FaceAnalyzer
from facegan_video.config import AnalysisConfig
from facegan_video.types import AU_NAMES
from facegan_video.video import open_video


def clip_deltas(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(frames, 136) landmark and (frames, 17) AU deviations from the clip's median."""
    cfg = AnalysisConfig(faces="largest")
    cfg.set_backend("smooth", "none")
    analyzer = FaceAnalyzer(cfg)
    pose = PoseTracker()
    fronts, aus = [], []
    with open_video(path) as src:
        size = (src.info.width, src.info.height)
        for _, records in analyzer.run(src):
            for r in records:
                if r.analysis is not None:
                    fronts.append(pose(r.landmarks[None], size, [r.face_id]).fronts[0, :, :2])
                    aus.append(r.analysis.aus)
    if len(aus) < 10:
        return np.zeros((0, 136)), np.zeros((0, len(AU_NAMES)))
    f = np.array(fronts).reshape(len(fronts), -1)
    a = np.array(aus)
    return f - np.median(f, 0), a - np.median(a, 0)


def ridge(a: np.ndarray, f: np.ndarray, lam: float) -> np.ndarray:
    """B minimising |f - a B|^2 + lam |B|^2; (17, 136)."""
    return np.linalg.solve(a.T @ a + lam * np.eye(a.shape[1]), a.T @ f)


def r2(a: np.ndarray, f: np.ndarray, basis: np.ndarray) -> float:
    return float(1 - ((f - a @ basis) ** 2).sum() / (f**2).sum())


def unit_response(basis: np.ndarray) -> np.ndarray:
    """Make each AU's displacement change that AU's calibrated intensity by exactly 1 (see module doc)."""
    scale = load_calibration()["scale"]
    base = mean_face()[None, :, :2].reshape(1, -1)

    def intensity(flat: np.ndarray) -> np.ndarray:
        return au_features(flat.reshape(-1, 68, 2)) / scale

    # the features are linear in the landmarks: the Jacobian is exact
    jac = (intensity(base + np.eye(136)) - intensity(base)).T  # (17, 136)
    out = basis.copy()
    for k in range(len(AU_NAMES)):
        response = float(jac[k] @ basis[k])
        if response > 0.3:
            out[k] = basis[k] / response
        else:
            out[k] = basis[k] + jac[k] * (1 - response) / float(jac[k] @ jac[k])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path, help="folder with MANIFEST.tsv and clips/")
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--ridge", type=float, default=50.0)
    args = ap.parse_args()
    with open(args.data / "MANIFEST.tsv") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t") if r["file"].startswith("clips/")]
    data = {r["file"]: (r["person_label"], clip_deltas(args.data / r["file"])) for r in track(rows, "clips")}
    held_out = {label for label, _ in data.values() if zlib.crc32(label.encode()) % 5 == 0}

    def stack(select):
        parts = [d for label, d in data.values() if select(label) and len(d[0])]
        return np.concatenate([p[1] for p in parts]), np.concatenate([p[0] for p in parts])

    a_tr, f_tr = stack(lambda lab: lab not in held_out)
    a_va, f_va = stack(lambda lab: lab in held_out)
    basis = ridge(a_tr, f_tr, args.ridge)
    print(f"train {len(a_tr)} frames, R^2 {r2(a_tr, f_tr, basis):.3f}; "
          f"held-out people ({len(held_out)}) {len(a_va)} frames, R^2 {r2(a_va, f_va, basis):.3f}")
    a_all, f_all = np.concatenate([a_tr, a_va]), np.concatenate([f_tr, f_va])
    final = unit_response(ridge(a_all, f_all, args.ridge)).reshape(len(AU_NAMES), 68, 2).astype(np.float32)
    np.save(args.output, final)
    print(f"wrote {args.output} {final.shape}, fitted on {len(a_all)} frames of {len(data)} clips")


if __name__ == "__main__":
    main()
