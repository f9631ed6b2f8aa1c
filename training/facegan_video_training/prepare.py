"""``facegan-video prepare``: many videos -> one face-track dataset, resumable, shardable, in parallel.

Each input video becomes one clip folder (``clip.prepare_clip``), renamed into place only when
complete, so an interrupted run loses at most the clips in progress and a new run skips every
finished one. ``--shard K/N`` keeps the clips whose folder-name hash falls in shard K of N, so
separate jobs (a scheduler's array, several machines) split the work without coordination and
their folders merge by copying (``merge``). Worker processes each load the analysis models once.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import queue
import shutil
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facegan_video.errors import ConfigError, MediaError, OutputError
from facegan_video.manifest import person_of
from facegan_video.nets import crop
from facegan_video.progress import frame_progress
from facegan_video.video import atomic_path, open_video
from facegan_video.video.formats import VIDEO_CONTAINERS
from facegan_video_training.clip import Job, Outcome, clip_key, prepare_clip
from facegan_video_training.dataset import (
    CLIP_FILE,
    DATASET_FILE,
    FORMAT,
    FORMAT_VERSION,
    SHARED_FIELDS,
    check_compatible,
    read_header,
)
from facegan_video_training.persons import split_of
from facegan_video_training.settings import PrepareSettings

#: Extensions of the files taken from an input folder (searched recursively).
VIDEO_EXTENSIONS = tuple(VIDEO_CONTAINERS) + (".avi", ".webm")


def parse_shard(spec: str | None) -> tuple[int, int]:
    """``K/N`` (0 <= K < N) -> (K, N); None -> the whole set (0, 1)."""
    if spec is None:
        return 0, 1
    k, sep, n = spec.partition("/")
    if not sep or not k.strip().isdigit() or not n.strip().isdigit() or not 0 <= int(k) < int(n):
        raise ConfigError(f"bad --shard {spec!r}: write K/N with 0 <= K < N, e.g. 0/4 for the first of four")
    return int(k), int(n)


def in_shard(key: str, shard: tuple[int, int]) -> bool:
    return zlib.crc32(key.encode()) % shard[1] == shard[0]


def find_videos(inputs: Iterable[Path]) -> list[Path]:
    """Files as given (even with odd extensions: they are reported if unreadable) and the videos
    inside given folders."""
    out: list[Path] = []
    for p in inputs:
        p = p.expanduser()
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.suffix.lower() in VIDEO_EXTENSIONS and f.is_file())
        else:
            out.append(p)
    return list(dict.fromkeys(out))


def dataset_header(settings: PrepareSettings) -> dict[str, Any]:
    return {"format": FORMAT, "version": FORMAT_VERSION, "size": settings.size,
            "crop": {"eye_centre": list(crop.EYE_CENTRE), "face_scale": crop.FACE_SCALE,
                     "eye_mouth_ratio": crop.EYE_MOUTH_RATIO},
            "val_fraction": settings.val_fraction}


def ensure_header(root: Path, header: dict[str, Any]) -> None:
    """Create ``root`` with its dataset.json, or check an existing one was made with the same settings."""
    if root.exists() and not root.is_dir():
        raise OutputError(f"output {root} is a file; the dataset is a folder: choose another -o")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create dataset folder {root}: {exc.strerror}; choose another -o") from None
    if (root / DATASET_FILE).is_file():
        existing = read_header(root)
        for key in SHARED_FIELDS:
            if existing.get(key) != header[key]:
                raise ConfigError(f"{root} was prepared with {key} {existing.get(key)!r}, not {header[key]!r}; "
                                  "use the same settings or another output folder")
        return
    with atomic_path(root / DATASET_FILE) as tmp:
        tmp.write_text(json.dumps(header, indent=1))


@dataclass
class Summary:
    outcomes: list[Outcome]

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def problems(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status not in ("prepared", "skipped")]


def plan(videos: list[Path], root: Path, settings: PrepareSettings, manifest: Path | None, shard: tuple[int, int]
         ) -> tuple[list[Job], list[Outcome]]:
    """Jobs still to do in this shard, and outcomes known without running (done, missing files)."""
    jobs, known = [], []
    for path in videos:
        try:
            if not path.is_file():
                raise MediaError(f"no such file: {path}; check the path and try again")
            key = clip_key(path)
        except OSError as exc:
            known.append(Outcome(str(path), "", "unreadable", f"cannot read {path}: {exc.strerror}"))
            continue
        except MediaError as exc:
            known.append(Outcome(str(path), "", "unreadable", str(exc)))
            continue
        if not in_shard(key, shard):
            continue
        if (root / key / CLIP_FILE).is_file():
            known.append(Outcome(str(path), key, "skipped", "already prepared"))
            continue
        person = person_of(path, manifest)
        jobs.append(Job(path.resolve(), key, person, split_of(person, settings.val_fraction)))
    return jobs, known


def _probe(job: Job) -> tuple[int | None, Outcome | None]:
    """Frame count from the header; an unreadable file is an outcome now, not a failed worker later."""
    try:
        with open_video(job.path, max_frames=1) as src:
            if src.info.is_image:
                return None, Outcome(str(job.path), job.key, "unreadable", f"{job.path} is a still image, not a video")
            return src.info.frame_count or 0, None
    except MediaError as exc:
        return None, Outcome(str(job.path), job.key, "unreadable", str(exc))


def _analyzer():
    from facegan_video.analysis.pipeline import FaceAnalyzer
    from facegan_video.config import AnalysisConfig
    from facegan_video.plugins import load_registry

    config = AnalysisConfig()
    config.faces = "all"  # every track; prepare_clip picks
    return FaceAnalyzer(config, load_registry())


_WORKER: dict[str, Any] = {}


def _init_worker(progress: mp.Queue) -> None:
    _WORKER["analyzer"] = _analyzer()
    _WORKER["progress"] = progress


def _work(job: Job, root: Path, settings: PrepareSettings) -> Outcome:
    return prepare_clip(job, root, settings, _WORKER["analyzer"], _WORKER["progress"].put)


def prepare_dataset(inputs: list[Path], root: Path, settings: PrepareSettings = PrepareSettings(), *,
                    manifest: Path | None = None, workers: int = 1, shard: tuple[int, int] = (0, 1),
                    quiet: bool = False) -> Summary:
    """Prepare every video of ``inputs`` (files or folders) into the dataset folder ``root``."""
    if workers < 1:
        raise ConfigError("--workers must be >= 1")
    if settings.size < 32 or settings.size % 8:
        raise ConfigError(f"--size must be a multiple of 8 and at least 32, got {settings.size}")
    if not 0 <= settings.val_fraction < 1:
        raise ConfigError(f"--val-fraction must be within 0 and 1 (exclusive), got {settings.val_fraction}")
    videos = find_videos(inputs)
    if not videos:
        raise MediaError(f"no videos in {', '.join(map(str, inputs))}; pass video files or folders holding them")
    ensure_header(root, dataset_header(settings))
    jobs, outcomes = plan(videos, root, settings, manifest, shard)
    sized: list[tuple[int, Job]] = []
    for job in jobs:
        frames, failed = _probe(job)
        if failed:
            outcomes.append(failed)
        else:
            sized.append((frames, job))
    # longest first, so parallel workers finish together instead of waiting on one last long clip
    runnable = [job for _, job in sorted(sized, key=lambda fj: -fj[0])]
    total = 2 * sum(frames for frames, _ in sized)  # two passes per frame
    with frame_progress("prepare (analyse + crop)", total, quiet) as advance:
        if workers == 1 or len(runnable) <= 1:
            analyzer = _analyzer() if runnable else None
            outcomes += [prepare_clip(job, root, settings, analyzer, advance) for job in runnable]
        else:
            outcomes += _run_pool(runnable, root, settings, min(workers, len(runnable)), advance)
    return Summary(outcomes)


def _run_pool(jobs: list[Job], root: Path, settings: PrepareSettings, workers: int, advance: Callable[[int], None]
              ) -> list[Outcome]:
    ctx = mp.get_context("spawn")  # no fork of a process that may hold model or decoder threads
    progress = ctx.Queue()
    done: list[Outcome] = []
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(progress,)) as pool:
        pending: set[Future] = {pool.submit(_work, job, root, settings) for job in jobs}
        try:
            while pending:
                finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(progress, advance)
                done += [f.result() for f in finished]
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        _drain(progress, advance)
    return done


def _drain(progress: mp.Queue, advance: Callable[[int], None]) -> None:
    n = 0
    try:
        while True:
            n += progress.get_nowait()
    except queue.Empty:
        pass
    if n:
        advance(n)


def merge_datasets(sources: list[Path], root: Path, quiet: bool = False) -> tuple[int, int]:
    """Copy the clip folders of ``sources`` that ``root`` lacks into it (hard links where the
    filesystem allows); returns (copied, already there)."""
    roots = [s.expanduser() for s in sources]
    headers = [read_header(r) for r in roots]
    first = check_compatible(headers, roots)
    ensure_header(root, {**first})
    copied = present = 0
    clips = [c for r in roots for c in sorted(r.iterdir()) if c.is_dir() and (c / CLIP_FILE).is_file()
             and not c.name.startswith(".")]
    with frame_progress("merge (clips)", len(clips), quiet) as advance:
        for clip in clips:
            target = root / clip.name
            if target.exists():
                present += 1
            else:
                tmp = root / f".{clip.name}.merge-{os.getpid()}"
                shutil.copytree(clip, tmp, copy_function=_link_or_copy, dirs_exist_ok=True)
                try:
                    os.rename(tmp, target)
                    copied += 1
                except OSError:  # another merge put it there first
                    shutil.rmtree(tmp, ignore_errors=True)
                    present += 1
            advance(1)
    return copied, present


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
