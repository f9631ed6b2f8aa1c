"""The prepared face-track dataset: its on-disk format and a reader that needs only numpy and OpenCV.

Layout (written by ``facegan-video prepare``)::

    DATASET/
      dataset.json                 format, version, crop size, crop geometry, validation fraction
      <clip>/                      one folder per source video, written atomically
        clip.json                  source file, person, split, outcome, its tracks
        track_<id>/                one kept face track
          meta.json                clip, track id, person, split, frames, fps
          frames.npy   (T, S, S, 3) uint8  RGB crops
          seg.npy      (T, S, S)    uint8  0 background, 1 face, 2 hair (pseudo-labels)
          landmarks.npy (T, 68, 2) float32 iBUG-68 points, crop pixels
          motion.npy   (T, 20)     float32 17 AU intensities (0-5) then pitch, yaw, roll (radians)
          index.npy    (T,)        int32   frame index in the source video
          crop.npy     (T, 3)      float32 (s, tx, ty): crop pixel = s * source pixel + t
          confidence.npy (T,)      float32 the AU stage's landmark-fit confidence

``<clip>`` is the video's name and a hash of its content, so the same file gets the same folder on
every machine and shard; merging datasets is copying clip folders (``prepare --merge``). Folders
whose names start with ``.`` are unfinished writes and are ignored. Arrays open memory-mapped.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facegan_video.errors import FaceganError

FORMAT = "facegan-video-faces"
FORMAT_VERSION = 1
DATASET_FILE = "dataset.json"
CLIP_FILE = "clip.json"
TRACK_FILE = "meta.json"
TRACK_PREFIX = "track_"
#: Per-frame arrays of a track folder, by name (``<name>.npy``).
ARRAYS = ("frames", "seg", "landmarks", "motion", "index", "crop", "confidence")
SPLITS = ("train", "val")
SEG_BACKGROUND, SEG_FACE, SEG_HAIR = 0, 1, 2


class DatasetError(FaceganError):
    """A dataset folder is missing, incomplete or of another format."""


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{path} is missing; prepare the dataset with `facegan-video prepare`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"cannot read {path} ({exc}); delete its clip folder and run prepare again") from None


@dataclass(frozen=True)
class TrackInfo:
    path: Path
    clip: str
    track_id: int
    person: str
    split: str
    length: int
    fps: float


@dataclass
class FrameSample:
    """One frame of a track, at the size it was asked for."""

    image: np.ndarray  # (H, W, 3) uint8 RGB
    seg: np.ndarray  # (H, W) uint8
    landmarks: np.ndarray  # (68, 2) float32 pixels at this size
    motion: np.ndarray  # (20,) float32


def _opened(name: str) -> cached_property:
    """``Track``'s array ``name``, opened (``Track._array``) the first time it is read."""
    return cached_property(lambda track: track._array(name))


class Track:
    """Memory-mapped arrays of one track; images are read only when asked for."""

    def __init__(self, info: TrackInfo, size: int) -> None:
        self.info = info
        self.size = size

    def _array(self, name: str) -> np.ndarray:
        path = self.info.path / f"{name}.npy"
        try:
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DatasetError(f"cannot read {path} ({exc}); delete its clip folder and run prepare again") from None
        if len(arr) != self.info.length:
            raise DatasetError(f"{path} has {len(arr)} frames, its meta.json says {self.info.length}; "
                               "delete its clip folder and run prepare again")
        return arr

    frames = _opened("frames")
    seg = _opened("seg")
    landmarks = _opened("landmarks")
    motion = _opened("motion")
    crop = _opened("crop")

    def sample(self, index: int, size: int | None = None) -> FrameSample:
        """Frame ``index`` resized to ``size`` (area filter for the image, nearest for the labels)."""
        image, seg = np.asarray(self.frames[index]), np.asarray(self.seg[index])
        landmarks = np.array(self.landmarks[index], np.float32)
        if size is not None and size != self.size:
            image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA if size < self.size
                               else cv2.INTER_LINEAR)
            seg = cv2.resize(seg, (size, size), interpolation=cv2.INTER_NEAREST)
            landmarks *= size / self.size
        return FrameSample(image, seg, landmarks, np.array(self.motion[index], np.float32))


#: Seed of the validation partners and edits and of the overfit pairs (fixed, so scores compare across runs).
VAL_SEED = 20210105


class FaceDataset:
    """Every finished track under a dataset folder (several folders read as one)."""

    def __init__(self, *roots: str | os.PathLike) -> None:
        if not roots:
            raise DatasetError("no dataset folder given")
        self.roots = [Path(r).expanduser() for r in roots]
        self.header = check_compatible([read_header(r) for r in self.roots], self.roots)
        self.size = int(self.header["size"])
        self.tracks: list[TrackInfo] = sorted(
            (t for r in self.roots for t in discover_tracks(r)), key=lambda t: (t.clip, t.track_id))
        self._open: dict[Path, Track] = {}

    def select(self, split: str | None = None) -> list[TrackInfo]:
        """Tracks of ``split`` (``train`` or ``val``; None: all)."""
        if split is not None and split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        return [t for t in self.tracks if split is None or t.split == split]

    def check_training(self) -> None:
        """A one-line error for a dataset a task cannot train on: no training tracks."""
        if not self.select("train"):
            raise DatasetError(f"{', '.join(map(str, self.roots))} has no training tracks "
                               f"({len(self.persons('val'))} validation persons only); prepare more videos")

    def persons(self, split: str | None = None) -> list[str]:
        return sorted({t.person for t in self.select(split)})

    def track(self, info: TrackInfo) -> Track:
        if info.path not in self._open:
            self._open[info.path] = Track(info, self.size)
        return self._open[info.path]

    def landmarks_and_motion(self, split: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All frames of a split in memory: landmarks (N, 68, 2) in unit crop coordinates, motion (N, 20)
        and each frame's track number (N,) in ``select(split)`` order; what landmark training needs."""
        tracks = self.select(split)
        if not tracks:
            return np.zeros((0, 68, 2), np.float32), np.zeros((0, 20), np.float32), np.zeros(0, np.int64)
        lms = np.concatenate([self.track(t).landmarks for t in tracks]) / np.float32(self.size)
        motion = np.concatenate([self.track(t).motion for t in tracks])
        owner = np.repeat(np.arange(len(tracks)), [t.length for t in tracks])
        return lms.astype(np.float32), motion.astype(np.float32), owner


def read_header(root: Path) -> dict[str, Any]:
    if not root.is_dir():
        raise DatasetError(f"no dataset at {root}; prepare one with `facegan-video prepare VIDEOS -o {root}`")
    header = read_json(root / DATASET_FILE)
    if header.get("format") != FORMAT:
        raise DatasetError(f"{root} is not a facegan-video face dataset ({DATASET_FILE} has format "
                           f"{header.get('format')!r}); pass a folder written by `facegan-video prepare`")
    if int(header.get("version", 0)) > FORMAT_VERSION:
        raise DatasetError(f"{root} has dataset format {header['version']}, newer than this reader "
                           f"({FORMAT_VERSION}); upgrade facegan-video-training")
    return header


#: Header fields datasets must share to be read (or merged) together.
SHARED_FIELDS = ("size", "crop", "val_fraction")


def check_compatible(headers: list[dict[str, Any]], roots: list[Path]) -> dict[str, Any]:
    first = headers[0]
    for root, header in zip(roots[1:], headers[1:]):
        for key in SHARED_FIELDS:
            if header.get(key) != first.get(key):
                raise DatasetError(f"{root} has {key} {header.get(key)!r} but {roots[0]} has {first.get(key)!r}; "
                                   "only datasets prepared with the same settings can be read together")
    return first


def discover_tracks(root: Path) -> list[TrackInfo]:
    """Tracks of the finished clip folders under ``root`` (unfinished ``.``-folders are skipped)."""
    out = []
    for clip_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not (clip_dir / CLIP_FILE).is_file():
            continue
        for track_dir in sorted(clip_dir.glob(f"{TRACK_PREFIX}*")):
            meta = read_json(track_dir / TRACK_FILE)
            try:
                out.append(TrackInfo(track_dir, str(meta["clip"]), int(meta["track_id"]), str(meta["person"]),
                                     str(meta["split"]), int(meta["frames"]), float(meta["fps"])))
            except (KeyError, TypeError, ValueError) as exc:
                raise DatasetError(f"{track_dir / TRACK_FILE} lacks {exc}; delete {clip_dir} and run prepare "
                                   "again") from None
    return out


def sample_partners(owner: np.ndarray, rng: np.random.Generator, indices: np.ndarray) -> np.ndarray:
    """For frame numbers ``indices`` (into arrays whose track number per frame is ``owner``, grouped
    by track), a uniformly drawn frame of the same track each: pairs spread over the whole track."""
    starts = np.searchsorted(owner, owner[indices], side="left")
    ends = np.searchsorted(owner, owner[indices], side="right")
    return starts + (rng.random(len(indices)) * (ends - starts)).astype(np.int64)
