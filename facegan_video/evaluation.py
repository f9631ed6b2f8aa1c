"""``eval``: the paper's evaluation protocol (Section 5, Tables 1-2) on a folder of portraits and clips.

Every configuration (one landmark-transform backend with the default reenactor and mixer) is run on
the same, deterministically chosen inputs:

* **Self-reenactment** (per driving clip): the source is the clip's first frame; every
  ``frame_step``-th later frame (below ``max_frames``) drives it in *absolute* mode (the driving
  frame's own AUs and pose) and the output is compared with the real frame: **MSE** (RGB in [0, 1]),
  **PSNR** (dB, 10·log10(1/MSE)) and **SSIM** (scikit-image, channel_axis=2, data_range=1).
* **Cross-reenactment**: each source portrait × each driving clip of *another* identity (the first
  ``max_pairs`` such pairs, spread over portraits and clips), *relative* mode (the default ``reenact`` path). Each
  output frame is re-analysed from scratch (detect, landmarks, geometric AUs, no smoothing):
  **CSIM** cosine of dlib face embeddings output vs source (↑); **PSIM** cosine of the head-pose
  angle vectors (pitch, yaw, roll) output vs driving (↑, the paper's definition; unstable for
  near-frontal heads, so the mean absolute yaw and pitch errors in degrees are reported too);
  **ED** Euclidean distance of the 17 AU vectors output vs driving with AUs scaled by 1/5 (↓; AUs a
  backend does not give, NaN, are left out); **identity pass** share of outputs whose embedding
  distance to the source is below dlib's 0.6; **mouth r** / **yaw r** Pearson correlation over
  frames between driving and output of mouth opening (mean inner-lip gap divided by the
  inter-ocular distance) and of yaw, per pair, averaged over pairs.
* **LSIM**: pairs A, B of one identity (the first and the last sampled frame of each clip, and
  every two portraits with the same ``person_label``); among the sampled driving frames of *other*
  identities the one whose AUs are closest to B's (Euclidean) drives A in absolute mode; LSIM is
  the mean over the 68 points of the squared distance between the output's and B's landmarks, each
  set normalised by translating its centroid to the origin and dividing by its inter-ocular distance
  (distance between the two eye centres, the means of points 36-41 and 42-47). ↓.

Identities: ``person_label`` from a ``MANIFEST.tsv`` in the input folder or its parent (keys such as
``portraits/x.png`` or ``clips/y.mp4``); without one every file is its own identity. Outputs, all
written atomically into ``out_dir``: ``metrics.json`` ({config: {metric: {"value", "count"}}}),
``report.md`` (a Table-2-like table with the paper's FaceForensics++ figures beside it),
``metrics.png`` (one bar chart per metric) and ``curves.png`` (per-frame mouth opening, driving vs
output, for the first cross-reenactment pair). There is no randomness: inputs are sorted.
"""

from __future__ import annotations

import copy
import csv
import json
import math
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from facegan_video.analysis.identity import SAME_PERSON, FaceEmbedder, cosine, distance
from facegan_video.analysis.pipeline import FaceAnalyzer
from facegan_video.config import AnalysisConfig, tomllib
from facegan_video.errors import ConfigError, MediaError, NoFaceError
from facegan_video.motion import combine
from facegan_video.plugins import Registry, load_registry
from facegan_video.progress import frame_progress
from facegan_video.types import FaceRecord, SourceFace
from facegan_video.video import Frame, atomic_path, check_writable, open_video, read_image

IMAGE_EXTS = (".png", ".jpg", ".jpeg")
VIDEO_EXTS = (".mp4",)

#: metric key -> (column title, higher is better)
METRICS: dict[str, tuple[str, bool]] = {
    "mse": ("MSE", False),
    "psnr": ("PSNR", True),
    "ssim": ("SSIM", True),
    "csim": ("CSIM", True),
    "psim": ("PSIM", True),
    "ed": ("ED", False),
    "lsim": ("LSIM", False),
    "identity_pass": ("identity-pass", True),
    "mouth_r": ("mouth-r", True),
    "yaw_r": ("yaw-r", True),
    "yaw_err_deg": ("yaw err °", False),
    "pitch_err_deg": ("pitch err °", False),
    "output_face_rate": ("face found", True),
}
#: Columns of the report's main table (the rest go in a second table).
TABLE_METRICS = ("mse", "psnr", "ssim", "csim", "psim", "ed", "lsim", "identity_pass", "mouth_r", "yaw_r")

#: The paper's FaceForensics++ figures (Table 2), for orientation only: other data, other networks.
PAPER_FIGURES: dict[str, dict[str, float]] = {
    "FACEGAN (paper)": {"mse": 0.018, "csim": 0.747, "psim": 0.811, "ed": 0.012, "lsim": 0.021},
    "FACEGAN without L_T (paper)": {"mse": 0.015, "csim": 0.623, "psim": 0.885, "ed": 0.014},
    "FOM (paper)": {"mse": 0.012, "csim": 0.676, "psim": 0.825, "lsim": 0.035},
}

_INNER_UPPER = [61, 62, 63]
_INNER_LOWER = [67, 66, 65]


@dataclass
class EvalConfig:
    """One configuration to compare: a landmark-transform backend with the default reenactor and mixer."""

    name: str
    transform: str

    def analysis_config(self, base: AnalysisConfig | None = None) -> AnalysisConfig:
        """A copy of ``base`` (defaults without one) with this configuration's transform backend."""
        cfg = copy.deepcopy(base) if base is not None else AnalysisConfig()
        cfg.set_backend("transform", self.transform)
        return cfg


def configs_from_toml(path: Path | None) -> list[EvalConfig] | None:
    """``[[eval.configs]]`` entries (``name``, ``transform``) of a TOML config, or None if it has none."""
    if path is None:
        return None
    try:
        entries = tomllib.loads(Path(path).read_text()).get("eval", {}).get("configs")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    if entries is None:
        return None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "transform" in e for e in entries):
        raise ConfigError(f"config {path}: write each [[eval.configs]] with a transform (and a name)")
    return [EvalConfig(str(e.get("name", e["transform"])), str(e["transform"])) for e in entries]


def default_configs(registry: Registry) -> list[EvalConfig]:
    """Every installed landmark-transform backend, the default one first, the rest by name."""
    reg = registry
    names = sorted(reg.backends("transform"))
    default = reg.default("transform")
    if default in names:
        names.remove(default)
        names.insert(0, default)
    return [EvalConfig(n, n) for n in names]


# ---------------------------------------------------------------- inputs


def _list_files(folder: Path, exts: tuple[str, ...], what: str) -> list[Path]:
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise MediaError(f"{what} folder {folder} does not exist or is not a folder")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in exts and p.is_file())
    if not files:
        raise MediaError(f"{what} folder {folder} has no {'/'.join(exts)} files")
    return files


def read_labels(folder: Path) -> dict[str, str]:
    """``person_label`` by manifest key, from MANIFEST.tsv in ``folder`` or its parent ({} without one)."""
    for cand in (folder / "MANIFEST.tsv", folder.parent / "MANIFEST.tsv"):
        if cand.is_file():
            try:
                with open(cand, newline="", encoding="utf-8") as fh:
                    rows = list(csv.DictReader(fh, delimiter="\t"))
            except (OSError, UnicodeDecodeError, csv.Error) as exc:
                raise ConfigError(f"cannot read {cand}: {exc}") from None
            return {r["file"]: r["person_label"] for r in rows
                    if r.get("file") and r.get("person_label")}
    return {}


def _label(path: Path, labels: dict[str, str]) -> str:
    for key in (f"{path.parent.name}/{path.name}", path.name):
        if key in labels:
            return labels[key]
    return f"file:{path.parent.name}/{path.name}"


# ---------------------------------------------------------------- analysis helpers


@dataclass
class _Face:
    landmarks: np.ndarray  # (68, 2)
    motion: np.ndarray  # (20,)

    @property
    def aus(self) -> np.ndarray:
        return self.motion[:17]

    @property
    def pose(self) -> np.ndarray:
        return self.motion[17:20]


class ImageAnalyzer:
    """Analyses single images independently: the tracker and AU estimator (which keep per-track state)
    are rebuilt for each image, the slow-to-load detector and landmarker are reused."""

    def __init__(self, config: AnalysisConfig | None, registry: Registry) -> None:
        cfg = copy.deepcopy(config) if config is not None else AnalysisConfig()
        cfg.faces = "largest"
        cfg.set_backend("smooth", "none")
        self._analyzer = FaceAnalyzer(cfg, registry)

    def __call__(self, image: np.ndarray) -> _Face | None:
        self._analyzer.reset()
        _, records = next(self._analyzer.run([Frame(0, 0.0, image)]))
        good = [r for r in records if r.usable]
        return _to_face(good[0]) if good else None


def _to_face(rec: FaceRecord) -> _Face:
    return _Face(np.asarray(rec.landmarks, np.float64), np.asarray(rec.motion, np.float64))


def inter_ocular(lm: np.ndarray) -> float:
    return float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))


def mouth_opening(lm: np.ndarray) -> float:
    """Mean inner-lip gap (points 61-63 to 67-65) divided by the inter-ocular distance."""
    gap = np.linalg.norm(lm[_INNER_UPPER] - lm[_INNER_LOWER], axis=1).mean()
    return float(gap / max(inter_ocular(lm), 1e-6))


def normalise_landmarks(lm: np.ndarray) -> np.ndarray:
    """Centroid at the origin, inter-ocular distance 1."""
    return (lm - lm.mean(0)) / max(inter_ocular(lm), 1e-6)


def lsim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean squared distance between two normalised (68, 2) landmark sets."""
    d = normalise_landmarks(a) - normalise_landmarks(b)
    return float((d ** 2).sum(1).mean())


def au_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance of AU vectors scaled by 1/5, over the AUs both give (NaN if none)."""
    ok = np.isfinite(a) & np.isfinite(b)
    if not ok.any():
        return math.nan
    return float(np.linalg.norm((a[ok] - b[ok]) / 5.0))


def pearson(x: list[float], y: list[float]) -> float:
    """Pearson r; NaN with fewer than 3 points or a constant series."""
    xa, ya = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(xa) < 3 or xa.std() < 1e-9 or ya.std() < 1e-9:
        return math.nan
    return float(np.corrcoef(xa, ya)[0, 1])


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 1.0, win_size: int = 7) -> float:
    """Mean SSIM of two HxWxC float images, computed as scikit-image's ``structural_similarity``
    does by default (uniform 7x7 window, sample covariance, K1 0.01, K2 0.03, borders of half a window
    left out, channels averaged), without depending on it."""
    import cv2

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    n = win_size * win_size
    cov_norm = n / (n - 1)
    pad = (win_size - 1) // 2
    scores = []
    for ch in range(a.shape[2]):
        x, y = np.ascontiguousarray(a[..., ch], np.float64), np.ascontiguousarray(b[..., ch], np.float64)

        def box(img: np.ndarray) -> np.ndarray:
            return cv2.boxFilter(img, cv2.CV_64F, (win_size, win_size), borderType=cv2.BORDER_REFLECT)

        ux, uy = box(x), box(y)
        vx = cov_norm * (box(x * x) - ux * ux)
        vy = cov_norm * (box(y * y) - uy * uy)
        vxy = cov_norm * (box(x * y) - ux * uy)
        s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
        scores.append(s[pad:s.shape[0] - pad, pad:s.shape[1] - pad].mean())
    return float(np.mean(scores))


def image_metrics(out: np.ndarray, real: np.ndarray) -> tuple[float, float, float]:
    """MSE, PSNR (dB) and SSIM of two uint8 RGB images, on [0, 1]."""
    a = out.astype(np.float64) / 255.0
    b = real.astype(np.float64) / 255.0
    mse = float(((a - b) ** 2).mean())
    psnr = 10.0 * math.log10(1.0 / max(mse, 1e-10))
    return mse, psnr, ssim(a, b)


# ---------------------------------------------------------------- inputs, analysed once


@dataclass
class _Clip:
    path: Path
    label: str
    frames: list[np.ndarray]  # sampled frames: 0, step, 2·step, ... < max_frames
    indices: list[int]
    faces: list[_Face | None]


@dataclass
class _Portrait:
    path: Path
    label: str
    image: np.ndarray
    face: _Face | None


def _load_clip(path: Path, label: str, max_frames: int, step: int, analyse: ImageAnalyzer) -> _Clip:
    frames, indices = [], []
    with open_video(path, max_frames=max_frames) as video:
        for frame in video:
            if frame.index % step == 0:
                frames.append(frame.image)
                indices.append(frame.index)
    return _Clip(path, label, frames, indices, [analyse(f) for f in frames])


@dataclass
class _Acc:
    """Samples per metric."""

    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, key: str, value: float) -> None:
        if value is not None and math.isfinite(value):
            self.values.setdefault(key, []).append(float(value))

    def result(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for key in METRICS:
            v = self.values.get(key, [])
            out[key] = {"value": round(float(np.mean(v)), 6) if v else None, "count": len(v)}
        return out


# ---------------------------------------------------------------- the protocol


def _source(face: _Face, image: np.ndarray) -> SourceFace:
    return SourceFace(face.landmarks.astype(np.float32), face.motion.astype(np.float32),
                      (image.shape[1], image.shape[0]))


def _render(renderer: Any, image: np.ndarray, src: SourceFace, motion: np.ndarray,
            lms: np.ndarray) -> np.ndarray:
    return renderer.render(image, src, motion.astype(np.float32), lms.astype(np.float32))


def run_eval(sources: Path, driving: Path, out_dir: Path, configs: list[EvalConfig] | None = None,
             max_frames: int = 30, frame_step: int = 5, quiet: bool = False, max_pairs: int = 6,
             cross_mode: str = "relative", device: str = "cpu",
             config: AnalysisConfig | None = None,
             registry: Registry | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """Run the protocol for each configuration, write the outputs, return the metrics dict.

    ``max_pairs`` caps the cross-reenactment pairs (spread deterministically over portraits and clips);
    ``cross_mode`` is the motion mode of cross-reenactment (``relative``, the default
    ``reenact`` path, or ``absolute``, the paper's). ``config`` (e.g. from ``--config``) sets the
    analysis backends and the reenactor/mixer; each configuration only replaces the transform.
    Raises MediaError (missing/empty folders), ConfigError (bad arguments, unknown backend) and
    NoFaceError (no usable face anywhere), all one-line messages.
    """
    from facegan_video.reenactment import Renderer

    if max_frames < 2 or frame_step < 1:
        raise ConfigError("max_frames must be at least 2 and frame_step at least 1")
    if max_pairs < 1:
        raise ConfigError("max_pairs must be at least 1")
    if cross_mode not in ("relative", "absolute"):
        raise ConfigError(f"unknown cross-reenactment mode {cross_mode!r}: use relative or absolute")
    registry = registry or load_registry()
    configs = list(configs) if configs is not None else default_configs(registry)
    if not configs:
        raise ConfigError("no configurations to evaluate: no landmark-transform backend is installed")
    known = registry.backends("transform")
    for c in configs:
        if c.transform not in known:
            raise ConfigError(f"configuration {c.name!r}: unknown transform backend {c.transform!r}; "
                              f"available: {', '.join(sorted(known))}")
    if len({c.name for c in configs}) != len(configs):
        raise ConfigError("configuration names must be unique")
    sources, driving, out_dir = Path(sources), Path(driving), Path(out_dir).expanduser()
    portrait_paths = _list_files(sources, IMAGE_EXTS, "sources")
    clip_paths = _list_files(driving, VIDEO_EXTS, "driving")
    out_dir.mkdir(parents=True, exist_ok=True)
    check_writable(out_dir / "metrics.json")
    src_labels, drv_labels = read_labels(sources), read_labels(driving)

    analyse = ImageAnalyzer(config, registry)
    embedder = FaceEmbedder()
    with frame_progress("eval: analysing inputs", len(portrait_paths) + len(clip_paths), quiet) as advance:
        portraits = []
        for p in portrait_paths:
            img = read_image(p)
            portraits.append(_Portrait(p, _label(p, src_labels), img, analyse(img)))
            advance(1)
        clips = []
        for p in clip_paths:
            clips.append(_load_clip(p, _label(p, drv_labels), max_frames, frame_step, analyse))
            advance(1)
    portraits = [p for p in portraits if p.face is not None]
    clips = [c for c in clips if len(c.frames) >= 2 and c.faces[0] is not None]
    if not portraits and not clips:
        raise NoFaceError("no usable face in any source portrait or driving clip")
    src_emb = {p.path: embedder.embed(p.image, p.face.landmarks) for p in portraits}

    # portrait i with clip (i * stride) mod n: every portrait and many people take part, deterministically
    stride = max(1, len(clips) // max(1, len(portraits)))
    cross_pairs = []
    for k in range(len(portraits) * len(clips)):
        p = portraits[k % len(portraits)]
        c = clips[(k * stride + k // len(portraits)) % len(clips)]
        if p.label != c.label and (p, c) not in cross_pairs:
            cross_pairs.append((p, c))
        if len(cross_pairs) >= max_pairs:
            break
    # LSIM pairs (A image, A face, B face, label)
    lsim_pairs: list[tuple[np.ndarray, _Face, _Face, str, str]] = []
    for c in clips:
        last = max((i for i in range(1, len(c.faces)) if c.faces[i] is not None), default=None)
        if last is not None:
            lsim_pairs.append((c.frames[0], c.faces[0], c.faces[last], c.label, c.path.name))
    for i, a in enumerate(portraits):
        for b in portraits[i + 1:]:
            if a.label == b.label:
                lsim_pairs.append((a.image, a.face, b.face, a.label, f"{a.path.name}/{b.path.name}"))
    # driving frames with a face, for the LSIM driver search
    pool = [(c.label, c.frames[i], f) for c in clips for i, f in enumerate(c.faces) if f is not None]

    n_self = sum(len(c.frames) - 1 for c in clips)
    n_cross = sum(len(c.frames) for _, c in cross_pairs)
    total = len(configs) * (n_self + n_cross + len(lsim_pairs))
    metrics: dict[str, dict[str, dict[str, Any]]] = {}
    curves: dict[str, tuple[str, list[int], list[float], list[float]]] = {}
    counts = {"portraits": len(portraits), "clips": len(clips), "self_frames": n_self,
              "cross_pairs": len(cross_pairs), "cross_frames": n_cross, "lsim_pairs": len(lsim_pairs)}

    with frame_progress("eval: reenacting", total, quiet) as advance:
        for cfg in configs:
            renderer = Renderer(cfg.analysis_config(config), device, registry)
            acc = _Acc()
            # self-reenactment: the first frame is the source, later frames drive it (absolute)
            for c in clips:
                src = _source(c.faces[0], c.frames[0])
                for img, face in zip(c.frames[1:], c.faces[1:]):
                    advance(1)
                    if face is None:
                        continue
                    motion = combine(src.motion, face.motion[None], None, "absolute")
                    out = _render(renderer, c.frames[0], src, motion, face.landmarks[None])[0]
                    mse, psnr, ssim = image_metrics(out, img)
                    acc.add("mse", mse)
                    acc.add("psnr", psnr)
                    acc.add("ssim", ssim)
            # cross-reenactment
            for k, (p, c) in enumerate(cross_pairs):
                src = _source(p.face, p.image)
                idx = [i for i, f in enumerate(c.faces) if f is not None]
                advance(len(c.frames) - len(idx))
                drv = np.stack([c.faces[i].motion for i in idx])
                ref = c.faces[0].motion if cross_mode == "relative" else None
                motion = combine(src.motion, drv, ref, cross_mode)
                outs = _render(renderer, p.image, src, motion, np.stack([c.faces[i].landmarks for i in idx]))
                mouth_d, mouth_o, yaw_d, yaw_o, frames_used = [], [], [], [], []
                for i, out in zip(idx, outs):
                    advance(1)
                    d = c.faces[i]
                    o = analyse(out)
                    acc.add("output_face_rate", float(o is not None))
                    if o is None:
                        continue
                    emb = embedder.embed(out, o.landmarks)
                    acc.add("csim", cosine(emb, src_emb[p.path]))
                    acc.add("identity_pass", float(distance(emb, src_emb[p.path]) < SAME_PERSON))
                    acc.add("psim", cosine(o.pose, d.pose) if np.linalg.norm(o.pose) * np.linalg.norm(d.pose) > 0
                            else math.nan)
                    acc.add("yaw_err_deg", abs(math.degrees(o.pose[1] - d.pose[1])))
                    acc.add("pitch_err_deg", abs(math.degrees(o.pose[0] - d.pose[0])))
                    acc.add("ed", au_distance(o.aus, d.aus))
                    mouth_d.append(mouth_opening(d.landmarks))
                    mouth_o.append(mouth_opening(o.landmarks))
                    yaw_d.append(math.degrees(d.pose[1]))
                    yaw_o.append(math.degrees(o.pose[1]))
                    frames_used.append(c.indices[i])
                acc.add("mouth_r", pearson(mouth_d, mouth_o))
                acc.add("yaw_r", pearson(yaw_d, yaw_o))
                if k == 0:
                    curves[cfg.name] = (f"{p.path.name} × {c.path.name}", frames_used, mouth_d, mouth_o)
            # LSIM
            for a_img, a_face, b_face, label, _ in lsim_pairs:
                advance(1)
                others = [(lab, img, f) for lab, img, f in pool if lab != label]
                if not others:
                    continue
                dists = [au_distance(f.aus, b_face.aus) for _, _, f in others]
                best = others[int(np.nanargmin([d if math.isfinite(d) else np.inf for d in dists]))][2]
                src = _source(a_face, a_img)
                motion = combine(src.motion, best.motion[None], None, "absolute")
                out = _render(renderer, a_img, src, motion, best.landmarks[None])[0]
                o = analyse(out)
                if o is not None:
                    acc.add("lsim", lsim(o.landmarks, b_face.landmarks))
            metrics[cfg.name] = acc.result()

    inputs = {"sources": str(sources), "driving": str(driving), "max_frames": max_frames,
              "frame_step": frame_step, "max_pairs": max_pairs, "cross_mode": cross_mode,
              "portraits": [f"{p.path.name} ({p.label})" for p in portraits],
              "clips": [f"{c.path.name} ({c.label})" for c in clips],
              "cross_pairs": [f"{p.path.name} × {c.path.name}" for p, c in cross_pairs],
              "lsim_pairs": [f"{name} ({label})" for *_, label, name in lsim_pairs]}
    _write_outputs(out_dir, metrics, configs, inputs, counts, curves)
    return metrics


# ---------------------------------------------------------------- outputs


def _git_commit() -> str | None:
    try:
        res = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             timeout=10, cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return None
    return (res.stdout.strip() or None) if res.returncode == 0 else None


def _fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def _table(keys: tuple[str, ...] | list[str], rows: list[tuple[str, dict[str, Any]]]) -> list[str]:
    head = "| configuration | " + " | ".join(f"{METRICS[k][0]} {'↑' if METRICS[k][1] else '↓'}" for k in keys) + " |"
    lines = [head, "|---|" + "---:|" * len(keys)]
    for name, vals in rows:
        lines.append(f"| {name} | " + " | ".join(_fmt(vals.get(k)) for k in keys) + " |")
    return lines


def render_report(metrics: dict[str, dict[str, dict[str, Any]]], inputs: dict[str, Any],
                  counts: dict[str, int], commit: str | None) -> str:
    ours = [(name, {k: m["value"] for k, m in vals.items()}) for name, vals in metrics.items()]
    paper = [(name, vals) for name, vals in PAPER_FIGURES.items()]
    extra = [k for k in METRICS if k not in TABLE_METRICS]
    lines = ["# facegan-video evaluation", "",
             f"Commit: `{commit}`" if commit else "Commit: unknown (not a git checkout)", "",
             "## Results (Table 2 layout)", "",
             *_table(TABLE_METRICS, ours + paper), "",
             "Rows ending in “(paper)” are the FACEGAN paper's FaceForensics++ figures (256², trained "
             "networks), quoted for orientation only: different data, different models, not comparable "
             "number for number.", "",
             "More measures:", "", *_table(extra, ours), "",
             "Samples per metric (count):", "",
             "| configuration | " + " | ".join(METRICS[k][0] for k in METRICS) + " |",
             "|---|" + "---:|" * len(METRICS)]
    for name, vals in metrics.items():
        lines.append(f"| {name} | " + " | ".join(str(vals[k]["count"]) for k in METRICS) + " |")
    lines += ["", "## Protocol", "",
              "- MSE/PSNR/SSIM: self-reenactment (source = first frame of each clip, later frames drive it, "
              "absolute motion), RGB in [0, 1].",
              f"- CSIM, PSIM, ED, identity pass, mouth r, yaw r: cross-reenactment ({inputs['cross_mode']} "
              "motion), outputs re-analysed from scratch; ED on AUs / 5; identity pass = embedding "
              f"distance < {SAME_PERSON}.",
              "- LSIM: mean squared distance of landmarks (centroid at origin, inter-ocular distance 1) "
              "between output and B, A driven (absolute) by the other-identity frame with AUs closest to B.",
              "", "## Inputs", "",
              f"- sources: `{inputs['sources']}`; driving: `{inputs['driving']}`",
              f"- max_frames {inputs['max_frames']}, frame_step {inputs['frame_step']}, "
              f"max_pairs {inputs['max_pairs']}",
              "- counts: " + ", ".join(f"{k} {v}" for k, v in counts.items()),
              "- portraits: " + (", ".join(inputs["portraits"]) or "none"),
              "- clips: " + (", ".join(inputs["clips"]) or "none"),
              "- cross pairs: " + (", ".join(inputs["cross_pairs"]) or "none"),
              "- LSIM pairs: " + (", ".join(inputs["lsim_pairs"]) or "none"), ""]
    return "\n".join(lines)


def _plot_metrics(path: Path, metrics: dict[str, dict[str, dict[str, Any]]]) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    keys = list(METRICS)
    cols = 5
    rows = math.ceil(len(keys) / cols)
    fig = Figure(figsize=(3.2 * cols, 2.6 * rows), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    names = list(metrics)
    for i, key in enumerate(keys):
        ax = fig.add_subplot(rows, cols, i + 1)
        vals = [metrics[n][key]["value"] for n in names]
        ax.bar(range(len(names)), [np.nan if v is None else v for v in vals], color=f"C{i % 10}")
        ax.set_xticks(range(len(names)), names, fontsize=8)
        title, up = METRICS[key]
        ax.set_title(f"{title} {'↑' if up else '↓'}", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
        if all(v is None for v in vals):
            ax.text(0.5, 0.5, "no samples", ha="center", va="center", transform=ax.transAxes, color="grey")
            ax.set_yticks([])
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")


def _plot_curves(path: Path, curves: dict[str, tuple[str, list[int], list[float], list[float]]]) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    title = "no cross-reenactment pair"
    for i, (name, (pair, frames, drv, out)) in enumerate(curves.items()):
        if i == 0:
            ax.plot(frames, drv, "k-o", label="driving")
            title = f"mouth opening, {pair}"
        ax.plot(frames, out, "--o", color=f"C{i}", label=f"output ({name})")
    ax.set_xlabel("driving frame")
    ax.set_ylabel("inner-lip gap / inter-ocular distance")
    ax.set_title(title, fontsize=10)
    if curves:
        ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")


def _write_outputs(out_dir: Path, metrics: dict, configs: list[EvalConfig], inputs: dict[str, Any],
                   counts: dict[str, int], curves: dict) -> None:
    with atomic_path(out_dir / "metrics.json") as tmp:
        tmp.write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")
    with atomic_path(out_dir / "report.md") as tmp:
        tmp.write_text(render_report(metrics, inputs, counts, _git_commit()), encoding="utf-8")
    _plot_metrics(out_dir / "metrics.png", metrics)
    _plot_curves(out_dir / "curves.png", curves)
