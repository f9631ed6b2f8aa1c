"""One video -> one clip folder of face-crop tracks: analyse, keep good tracks, crop steadily, label, write.

Two passes over the video keep memory bounded by one frame whatever its length: the first runs
the analysis stages (detection, tracking, landmarks, AUs and pose, smoothing) and keeps only
numbers; the second decodes again and writes the crops of the kept frames straight into
memory-mapped arrays. The crop follows the eye mid-point and face scale smoothed over the track
(a Gaussian of ``CROP_SMOOTHING_S``), so it does not jitter with the landmarks; it never rotates.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from facegan_video.analysis.pipeline import FaceAnalyzer
from facegan_video.errors import MediaError
from facegan_video.nets.crop import EYE_CENTRE, crop_image, crop_transform, face_scale
from facegan_video.video import open_video
from facegan_video_training.dataset import CLIP_FILE, FORMAT_VERSION, TRACK_FILE, TRACK_PREFIX
from facegan_video_training.segment import segment
from facegan_video_training.settings import PrepareSettings

#: Temporal smoothing of the crop window (Gaussian sigma, seconds).
CROP_SMOOTHING_S = 0.1
#: Tracks with fewer usable frames than this are not kept.
MIN_TRACK_FRAMES = 8
#: Bytes of a file hashed (with its size) to name its clip folder.
_KEY_BYTES = 1 << 20


@dataclass(frozen=True)
class Job:
    path: Path
    key: str
    person: str
    split: str


@dataclass
class Outcome:
    """What happened to one input file (a plain dataclass: it comes back from worker processes)."""

    path: str
    key: str
    status: str  # prepared, skipped, unreadable, no face, too small, low confidence, too short
    detail: str = ""
    video_frames: int = 0
    kept_frames: int = 0
    tracks: int = 0
    rejected: dict[str, int] = field(default_factory=dict)


def clip_key(path: Path) -> str:
    """Folder name of a video: its name and a hash of its size and first MiB (same file, same key)."""
    digest = hashlib.sha1(str(path.stat().st_size).encode())
    with open(path, "rb") as fh:
        digest.update(fh.read(_KEY_BYTES))
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", path.stem).lstrip(".") or "clip"
    return f"{stem}-{digest.hexdigest()[:10]}"


@dataclass
class _TrackData:
    """Pass-1 numbers of one face track, before filtering."""

    index: list[int] = field(default_factory=list)
    landmarks: list[np.ndarray] = field(default_factory=list)
    motion: list[np.ndarray] = field(default_factory=list)
    confidence: list[float] = field(default_factory=list)


@dataclass
class _Kept:
    track_id: int
    index: np.ndarray  # (T,) source frame indices
    landmarks: np.ndarray  # (T, 68, 2) source pixels
    motion: np.ndarray
    confidence: np.ndarray
    crop: np.ndarray  # (T, 3) source pixels -> crop pixels


def smooth_crops(index: np.ndarray, landmarks: np.ndarray, fps: float, size: int) -> np.ndarray:
    """(T, 3) crop transforms (source -> crop pixels) from eye mid-points and log face scales smoothed
    over frame time; frames missing from the track simply carry no weight."""
    unit = crop_transform(landmarks)  # s, tx, ty with mid = (EYE_CENTRE - t) / s
    mid = (np.asarray(EYE_CENTRE) - unit[:, 1:]) / unit[:, :1]
    values = np.concatenate([mid, np.log(unit[:, :1])], 1)
    sigma = max(CROP_SMOOTHING_S * fps, 1e-3)
    radius = int(np.ceil(3 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    span = index - index[0] + radius  # zero weight padding on both sides: 'valid' keeps the length
    dense = np.zeros((span[-1] + radius + 1, 4))
    dense[span, :3], dense[span, 3] = values, 1.0
    smooth = np.stack([np.convolve(dense[:, c], kernel, mode="valid") for c in range(4)], 1)[span - radius]
    values = smooth[:, :3] / smooth[:, 3:]
    s = np.exp(values[:, 2:]) * size
    return np.concatenate([s, np.asarray(EYE_CENTRE) * size - s * values[:, :2]], 1).astype(np.float32)


def inside_box(transform: np.ndarray, width: int, height: int) -> tuple[float, float, float, float]:
    """Crop-pixel box (x0, y0, x1, y1) that shows the source frame; the rest repeats its border."""
    s, tx, ty = (float(v) for v in transform)
    return tx - 0.5 * s, ty - 0.5 * s, tx + s * (width - 0.5), ty + s * (height - 0.5)


def _analyse(path: Path, analyzer: FaceAnalyzer, advance: Callable[[int], None]
             ) -> tuple[dict[int, _TrackData], int, float]:
    tracks: dict[int, _TrackData] = {}
    frames = 0
    analyzer.reset()
    with open_video(path) as src:
        fps = src.info.fps
        for frame, records in analyzer.run(src):
            frames += 1
            for r in records:
                if r.success and r.analysis is not None:
                    t = tracks.setdefault(r.face_id, _TrackData())
                    t.index.append(frame.index)
                    t.landmarks.append(np.asarray(r.landmarks, np.float32))
                    t.motion.append(r.motion)
                    t.confidence.append(float(r.analysis.confidence))
            advance(1)
    return tracks, frames, fps


def _select(tracks: dict[int, _TrackData], settings: PrepareSettings, fps: float
            ) -> tuple[list[_Kept], dict[str, int]]:
    """Tracks worth keeping (the longest, or all with --all-tracks) and counts of rejected frames."""
    rejected = {"small": 0, "low confidence": 0}
    kept: list[_Kept] = []
    for tid, t in tracks.items():
        lms, motion, conf = np.stack(t.landmarks), np.stack(t.motion), np.asarray(t.confidence, np.float32)
        small = face_scale(lms) < settings.min_face
        unsure = (conf < settings.min_confidence) | ~np.isfinite(motion[:, 17:]).all(1)
        rejected["small"] += int(small.sum())
        rejected["low confidence"] += int((unsure & ~small).sum())
        good = ~small & ~unsure
        if good.sum() >= MIN_TRACK_FRAMES:
            index = np.asarray(t.index, np.int32)[good]
            kept.append(_Kept(tid, index, lms[good], motion[good], conf[good],
                              smooth_crops(index, lms[good], fps, settings.size)))
    kept.sort(key=lambda k: -len(k.index))
    return (kept if settings.all_tracks else kept[:1]), rejected


def _failure(tracks: dict[int, _TrackData], rejected: dict[str, int]) -> str:
    if not tracks:
        return "no face"
    if rejected["small"] + rejected["low confidence"] == 0:
        return "too short"
    return "too small" if rejected["small"] >= rejected["low confidence"] else "low confidence"


def _write_tracks(path: Path, kept: list[_Kept], folder: Path, job: Job, fps: float, size: int,
                  advance: Callable[[int], None]) -> None:
    arrays = []
    for k in kept:
        tdir = folder / f"{TRACK_PREFIX}{k.track_id}"
        tdir.mkdir()
        n = len(k.index)
        frames = np.lib.format.open_memmap(tdir / "frames.npy", "w+", np.uint8, (n, size, size, 3))
        seg = np.lib.format.open_memmap(tdir / "seg.npy", "w+", np.uint8, (n, size, size))
        landmarks = (k.landmarks * k.crop[:, None, :1] + k.crop[:, None, 1:]).astype(np.float32)
        for name, arr in (("landmarks", landmarks), ("motion", k.motion.astype(np.float32)), ("index", k.index),
                          ("crop", k.crop), ("confidence", k.confidence)):
            np.save(tdir / f"{name}.npy", arr)
        meta = {"version": FORMAT_VERSION, "clip": job.key, "track_id": k.track_id, "person": job.person,
                "split": job.split, "frames": n, "fps": fps}
        (tdir / TRACK_FILE).write_text(json.dumps(meta, indent=1))
        arrays.append((k, frames, seg, landmarks, {int(f): i for i, f in enumerate(k.index)}))
    with open_video(path) as src:
        for frame in src:
            for k, frames, seg, landmarks, row_of in arrays:
                row = row_of.get(frame.index)
                if row is not None:
                    h, w = frame.image.shape[:2]
                    frames[row] = crop = crop_image(frame.image, k.crop[row], size)
                    seg[row] = segment(crop, landmarks[row], inside_box(k.crop[row], w, h))
            advance(1)
    for _, frames, seg, *_ in arrays:
        frames.flush()
        seg.flush()


def prepare_clip(job: Job, root: Path, settings: PrepareSettings, analyzer: FaceAnalyzer,
                 advance: Callable[[int], None] = lambda n: None) -> Outcome:
    """Prepare one video into ``root/<job.key>``; a clip that yields no track still gets a folder
    (its clip.json says why) so later runs skip it. Unreadable videos leave nothing behind."""
    out = Outcome(str(job.path), job.key, "prepared")
    tmp = root / f".{job.key}.tmp-{secrets.token_hex(4)}"
    try:
        tracks, out.video_frames, fps = _analyse(job.path, analyzer, advance)
        kept, out.rejected = _select(tracks, settings, fps)
        tmp.mkdir()
        if kept:
            _write_tracks(job.path, kept, tmp, job, fps, settings.size, advance)
        else:
            out.status = _failure(tracks, out.rejected)
            advance(out.video_frames)
        out.tracks, out.kept_frames = len(kept), sum(len(k.index) for k in kept)
        clip = {"version": FORMAT_VERSION, "clip": job.key, "source": job.path.name,
                "source_path": str(job.path), "person": job.person, "split": job.split, "status": out.status,
                "fps": fps, "video_frames": out.video_frames, "rejected_frames": out.rejected,
                "tracks": [{"track_id": k.track_id, "frames": len(k.index)} for k in kept],
                "settings": asdict(settings)}
        (tmp / CLIP_FILE).write_text(json.dumps(clip, indent=1))
        try:
            os.rename(tmp, root / job.key)
        except OSError:  # another run finished the same clip first
            out.status, out.detail = "skipped", "prepared by another run meanwhile"
    except MediaError as exc:
        out.status, out.detail = "unreadable", str(exc)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out

