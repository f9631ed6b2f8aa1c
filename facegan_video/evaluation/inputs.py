"""The portraits and driving clips, their identities, and their faces analysed once for every configuration."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facegan_video.analysis.identity import FaceEmbedder
from facegan_video.analysis.pipeline import FaceAnalyzer
from facegan_video.config import AnalysisConfig
from facegan_video.errors import MediaError, NoFaceError
from facegan_video.manifest import MANIFEST_NAME, find_manifest, manifest_labels
from facegan_video.plugins import Registry
from facegan_video.progress import frame_progress
from facegan_video.types import FaceRecord
from facegan_video.video import Frame, open_video, read_image

IMAGE_EXTS = (".png", ".jpg", ".jpeg")
VIDEO_EXTS = (".mp4",)


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
    manifest = find_manifest(Path(folder) / MANIFEST_NAME)
    return manifest_labels(manifest) if manifest is not None else {}


def _label(path: Path, labels: dict[str, str]) -> str:
    for key in (f"{path.parent.name}/{path.name}", path.name):
        if key in labels:
            return labels[key]
    return f"file:{path.parent.name}/{path.name}"



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
class Inputs:
    """The portraits and clips with a usable face, and the analysis every configuration's outputs get too."""

    portraits: list[_Portrait]
    clips: list[_Clip]  # each with at least two sampled frames and a face in the first
    analyse: ImageAnalyzer
    embedder: FaceEmbedder
    embeddings: dict[Path, np.ndarray]  # each portrait's face embedding, by path


def load_inputs(sources: Path, driving: Path, portrait_paths: list[Path], clip_paths: list[Path], max_frames: int,
                frame_step: int, quiet: bool, config: AnalysisConfig | None, registry: Registry) -> Inputs:
    """Read and analyse every portrait and every ``frame_step``-th clip frame below ``max_frames`` once;
    NoFaceError when none has a usable face."""
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
    embeddings = {p.path: embedder.embed(p.image, p.face.landmarks) for p in portraits}
    return Inputs(portraits, clips, analyse, embedder, embeddings)
