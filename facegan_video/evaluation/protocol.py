"""The protocol in named steps: check the arguments, choose the pairs, measure each configuration, write."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from facegan_video.analysis.identity import SAME_PERSON, cosine, distance
from facegan_video.config import AnalysisConfig, tomllib
from facegan_video.errors import ConfigError
from facegan_video.evaluation.inputs import (
    IMAGE_EXTS,
    VIDEO_EXTS,
    ImageAnalyzer,
    Inputs,
    _Clip,
    _Face,
    _list_files,
    _Portrait,
    load_inputs,
)
from facegan_video.evaluation.metrics import METRICS, au_distance, image_metrics, landmark_error, lsim, pearson
from facegan_video.evaluation.report import write_outputs
from facegan_video.ibug import mouth_opening
from facegan_video.motion import combine
from facegan_video.plugins import Registry, load_registry
from facegan_video.progress import frame_progress
from facegan_video.types import SourceFace
from facegan_video.video import check_writable

#: {config: {metric: {"value", "count"}}}, as metrics.json holds it.
Metrics = dict[str, dict[str, dict[str, Any]]]
#: (pair title, driving frame indices, mouth opening of the driving frames, of the outputs)
Curve = tuple[str, list[int], list[float], list[float]]
#: Moves a progress bar on by a number of frames.
Advance = Callable[[int], None]


#: The render stages an evaluation configuration may name, besides ``transform``.
CONFIG_STAGES = ("transform", "reenact", "mix")


@dataclass
class EvalConfig:
    """One configuration to compare: a landmark-transform backend and, optionally, the reenact and mix
    backends (None: the base config's choice, else the default), so image networks compare the same way."""

    name: str
    transform: str
    reenact: str | None = None
    mix: str | None = None

    def backends(self) -> dict[str, str]:
        """The backend this configuration names for each of ``CONFIG_STAGES`` (only those it names)."""
        return {s: getattr(self, s) for s in CONFIG_STAGES if getattr(self, s) is not None}

    def analysis_config(self, base: AnalysisConfig | None = None) -> AnalysisConfig:
        """A copy of ``base`` (defaults without one) with this configuration's backends."""
        cfg = copy.deepcopy(base) if base is not None else AnalysisConfig()
        for stage, name in self.backends().items():
            cfg.set_backend(stage, name)
        return cfg


def configs_from_toml(path: Path | None) -> list[EvalConfig] | None:
    """``[[eval.configs]]`` entries (``name``, ``transform``, optional ``reenact`` and ``mix``) of a TOML
    config, or None if it has none."""
    if path is None:
        return None
    try:
        entries = tomllib.loads(Path(path).read_text()).get("eval", {}).get("configs")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    if entries is None:
        return None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "transform" in e for e in entries):
        raise ConfigError(f"config {path}: write each [[eval.configs]] with a transform (and a name; "
                          "reenact and mix are optional)")
    known = {"name", *CONFIG_STAGES}
    for e in entries:
        unknown = sorted(set(e) - known)
        if unknown:
            raise ConfigError(f"config {path}: unknown [[eval.configs]] key(s) {', '.join(unknown)}; "
                              f"use {', '.join(sorted(known))}")
    return [EvalConfig(str(e.get("name", e["transform"])), str(e["transform"]),
                       *(None if e.get(s) is None else str(e[s]) for s in CONFIG_STAGES[1:])) for e in entries]


def default_configs(registry: Registry) -> list[EvalConfig]:
    """Every installed landmark-transform backend, the default one first, the rest by name."""
    reg = registry
    names = sorted(reg.backends("transform"))
    default = reg.default("transform")
    if default in names:
        names.remove(default)
        names.insert(0, default)
    return [EvalConfig(n, n) for n in names]


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


@dataclass
class _LsimPair:
    """Faces A and B of one identity, and the other-identity driving face whose AUs are closest to B's."""

    image: np.ndarray  # A's image
    a: _Face
    b: _Face
    label: str
    name: str
    driver: _Face | None  # None: no driving frame of another identity has a face


def _source(face: _Face, image: np.ndarray) -> SourceFace:
    return SourceFace(face.landmarks.astype(np.float32), face.motion.astype(np.float32),
                      (image.shape[1], image.shape[0]))


def _render(renderer: Any, image: np.ndarray, src: SourceFace, motion: np.ndarray,
            lms: np.ndarray) -> np.ndarray:
    return renderer.render(image, src, motion.astype(np.float32), lms.astype(np.float32))


# ---------------------------------------------------------------- choosing what to measure


def _check_arguments(max_frames: int, frame_step: int, max_pairs: int, cross_mode: str) -> None:
    """One-line ConfigErrors for bad numbers and modes, before anything is loaded."""
    if max_frames < 2 or frame_step < 1:
        raise ConfigError("max_frames must be at least 2 and frame_step at least 1")
    if max_pairs < 1:
        raise ConfigError("max_pairs must be at least 1")
    if cross_mode not in ("relative", "absolute"):
        raise ConfigError(f"unknown cross-reenactment mode {cross_mode!r}: use relative or absolute")


def _configurations(configs: list[EvalConfig] | None, registry: Registry) -> list[EvalConfig]:
    """``configs`` (every installed transform without them), checked: known backends, unique names."""
    configs = list(configs) if configs is not None else default_configs(registry)
    if not configs:
        raise ConfigError("no configurations to evaluate: no landmark-transform backend is installed")
    for c in configs:
        for stage, backend in c.backends().items():
            known = registry.backends(stage)
            if backend not in known:
                raise ConfigError(f"configuration {c.name!r}: unknown {stage} backend {backend!r}; "
                                  f"available: {', '.join(sorted(known))}")
    if len({c.name for c in configs}) != len(configs):
        raise ConfigError("configuration names must be unique")
    return configs


def _cross_pairs(portraits: list[_Portrait], clips: list[_Clip], max_pairs: int) -> list[tuple[_Portrait, _Clip]]:
    """Up to ``max_pairs`` portraits with clips of another identity: portrait i with clip (i * stride) mod n,
    so every portrait and many people take part, deterministically."""
    stride = max(1, len(clips) // max(1, len(portraits)))
    pairs = []
    for k in range(len(portraits) * len(clips)):
        p = portraits[k % len(portraits)]
        c = clips[(k * stride + k // len(portraits)) % len(clips)]
        if p.label != c.label and (p, c) not in pairs:
            pairs.append((p, c))
        if len(pairs) >= max_pairs:
            break
    return pairs


def _closest_driver(pool: list[tuple[str, _Face]], label: str, target: _Face) -> _Face | None:
    """The face of another identity than ``label`` whose AUs are closest to ``target``'s."""
    others = [f for lab, f in pool if lab != label]
    if not others:
        return None
    dists = [au_distance(f.aus, target.aus) for f in others]
    return others[int(np.nanargmin([d if math.isfinite(d) else np.inf for d in dists]))]


def _lsim_pairs(portraits: list[_Portrait], clips: list[_Clip]) -> list[_LsimPair]:
    """The first and last sampled frame with a face of each clip, and every two portraits of one identity."""
    chosen: list[tuple[np.ndarray, _Face, _Face, str, str]] = []
    for c in clips:
        last = max((i for i in range(1, len(c.faces)) if c.faces[i] is not None), default=None)
        if last is not None:
            chosen.append((c.frames[0], c.faces[0], c.faces[last], c.label, c.path.name))
    for i, a in enumerate(portraits):
        for b in portraits[i + 1:]:
            if a.label == b.label:
                chosen.append((a.image, a.face, b.face, a.label, f"{a.path.name}/{b.path.name}"))
    pool = [(c.label, f) for c in clips for f in c.faces if f is not None]
    return [_LsimPair(image, a, b, label, name, _closest_driver(pool, label, b))
            for image, a, b, label, name in chosen]


# ---------------------------------------------------------------- measuring one configuration


def _run_self(renderer: Any, clips: list[_Clip], analyse: ImageAnalyzer, acc: _Acc, advance: Advance) -> None:
    """MSE, PSNR, SSIM and the landmark error (output re-analysed): each clip's first frame driven (absolute)
    by its later frames, against those frames."""
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
            o = analyse(out)
            if o is not None:
                acc.add("self_landmark_err", landmark_error(o.landmarks, face.landmarks))


def _run_cross(renderer: Any, pairs: list[tuple[_Portrait, _Clip]], cross_mode: str, media: Inputs, acc: _Acc,
               advance: Advance) -> Curve | None:
    """CSIM, identity pass, PSIM, pose errors, ED and the mouth / yaw correlations of each portrait driven by a
    clip of another identity, outputs re-analysed from scratch; returns the first pair's mouth-opening curve."""
    curve = None
    for k, (p, c) in enumerate(pairs):
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
            o = media.analyse(out)
            acc.add("output_face_rate", float(o is not None))
            if o is None:
                continue
            emb = media.embedder.embed(out, o.landmarks)
            acc.add("csim", cosine(emb, media.embeddings[p.path]))
            acc.add("identity_pass", float(distance(emb, media.embeddings[p.path]) < SAME_PERSON))
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
            curve = (f"{p.path.name} × {c.path.name}", frames_used, mouth_d, mouth_o)
    return curve


def _run_lsim(renderer: Any, pairs: list[_LsimPair], analyse: ImageAnalyzer, acc: _Acc, advance: Advance) -> None:
    """LSIM: A driven (absolute) by its pair's chosen driver, the output's landmarks against B's."""
    for pair in pairs:
        advance(1)
        if pair.driver is None:
            continue
        src = _source(pair.a, pair.image)
        motion = combine(src.motion, pair.driver.motion[None], None, "absolute")
        out = _render(renderer, pair.image, src, motion, pair.driver.landmarks[None])[0]
        o = analyse(out)
        if o is not None:
            acc.add("lsim", lsim(o.landmarks, pair.b.landmarks))


def _evaluate(cfg: EvalConfig, config: AnalysisConfig | None, device: str, registry: Registry, media: Inputs,
              cross_pairs: list[tuple[_Portrait, _Clip]], cross_mode: str, lsim_pairs: list[_LsimPair],
              advance: Advance) -> tuple[dict[str, dict[str, Any]], Curve | None]:
    """One configuration's metrics (self-reenactment, cross-reenactment, LSIM) and its mouth-opening curve."""
    from facegan_video.reenactment import Renderer

    renderer = Renderer(cfg.analysis_config(config), device, registry)
    acc = _Acc()
    _run_self(renderer, media.clips, media.analyse, acc, advance)
    curve = _run_cross(renderer, cross_pairs, cross_mode, media, acc, advance)
    _run_lsim(renderer, lsim_pairs, media.analyse, acc, advance)
    return acc.result(), curve


# ---------------------------------------------------------------- the whole run


def _counts(media: Inputs, cross_pairs: list[tuple[_Portrait, _Clip]], lsim_pairs: list[_LsimPair]) -> dict[str, int]:
    return {"portraits": len(media.portraits), "clips": len(media.clips),
            "self_frames": sum(len(c.frames) - 1 for c in media.clips), "cross_pairs": len(cross_pairs),
            "cross_frames": sum(len(c.frames) for _, c in cross_pairs), "lsim_pairs": len(lsim_pairs)}


def run_eval(sources: Path, driving: Path, out_dir: Path, configs: list[EvalConfig] | None = None,
             max_frames: int = 30, frame_step: int = 5, quiet: bool = False, max_pairs: int = 6,
             cross_mode: str = "relative", device: str = "cpu",
             config: AnalysisConfig | None = None,
             registry: Registry | None = None) -> Metrics:
    """Run the protocol for each configuration, write the outputs, return the metrics dict.

    ``max_pairs`` caps the cross-reenactment pairs (spread deterministically over portraits and clips);
    ``cross_mode`` is the motion mode of cross-reenactment (``relative``, the default
    ``reenact`` path, or ``absolute``, the paper's). ``config`` (e.g. from ``--config``) sets the
    analysis backends and the reenactor/mixer; each configuration replaces the backends it names.
    Raises MediaError (missing/empty folders), ConfigError (bad arguments, unknown backend) and
    NoFaceError (no usable face anywhere), all one-line messages.
    """
    _check_arguments(max_frames, frame_step, max_pairs, cross_mode)
    registry = registry or load_registry()
    configs = _configurations(configs, registry)
    sources, driving, out_dir = Path(sources), Path(driving), Path(out_dir).expanduser()
    portrait_paths = _list_files(sources, IMAGE_EXTS, "sources")
    clip_paths = _list_files(driving, VIDEO_EXTS, "driving")
    out_dir.mkdir(parents=True, exist_ok=True)
    check_writable(out_dir / "metrics.json")
    media = load_inputs(sources, driving, portrait_paths, clip_paths, max_frames, frame_step, quiet, config, registry)
    cross_pairs = _cross_pairs(media.portraits, media.clips, max_pairs)
    lsim_pairs = _lsim_pairs(media.portraits, media.clips)
    counts = _counts(media, cross_pairs, lsim_pairs)

    metrics: Metrics = {}
    curves: dict[str, Curve] = {}
    total = len(configs) * (counts["self_frames"] + counts["cross_frames"] + counts["lsim_pairs"])
    with frame_progress("eval: reenacting", total, quiet) as advance:
        for cfg in configs:
            metrics[cfg.name], curve = _evaluate(cfg, config, device, registry, media, cross_pairs, cross_mode,
                                                 lsim_pairs, advance)
            if curve is not None:
                curves[cfg.name] = curve

    inputs = {"sources": str(sources), "driving": str(driving), "max_frames": max_frames,
              "frame_step": frame_step, "max_pairs": max_pairs, "cross_mode": cross_mode,
              "portraits": [f"{p.path.name} ({p.label})" for p in media.portraits],
              "clips": [f"{c.path.name} ({c.label})" for c in media.clips],
              "cross_pairs": [f"{p.path.name} × {c.path.name}" for p, c in cross_pairs],
              "lsim_pairs": [f"{pair.name} ({pair.label})" for pair in lsim_pairs]}
    write_outputs(out_dir, metrics, inputs, counts, curves)
    return metrics
