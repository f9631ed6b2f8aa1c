"""`reenact` and `edit`: the source face driven by a video's motion, or by edited AUs and pose.

Stages: analyse the source face once (landmarks, AUs, pose) → stream the driving video through the
analysis stages → target motion (relative or absolute, channel masks) → landmark transformer →
reenactor → mixer → H.264 writer with the driving audio. Work is done in batches of frames.
"""

from __future__ import annotations

import inspect
import sys
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator

import cv2
import numpy as np

from facegan_video.analysis.pipeline import FaceAnalyzer
from facegan_video.config import AnalysisConfig
from facegan_video.errors import ConfigError, NoFaceError
from facegan_video.motion import Edit, combine
from facegan_video.plugins import get_registry
from facegan_video.progress import frame_progress
from facegan_video.reenact.transform import SourceFace
from facegan_video.types import AU_NAMES, FaceRecord
from facegan_video.video import VideoWriter, atomic_path, check_output, is_image_path, open_video, read_image
from facegan_video.video.reader import Frame

DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass
class ReenactOptions:
    mode: str = "relative"  # relative | absolute
    channels: str = "all"  # all | expression | pose
    aus: list[str] | None = None  # limit the expression to these AUs
    source_face: str = "auto"  # auto (exactly one face) | largest | index:N
    driving_face: str = "largest"
    audio: str = "driving"  # driving | none
    side_by_side: bool = False
    background: Path | None = None
    device: str = "auto"
    max_frames: int | None = None
    quiet: bool = False
    notes: list[str] = field(default_factory=list)


def resolve_device(name: str) -> str:
    """``auto`` picks CUDA, then MPS, then CPU; an unavailable explicit choice is an error."""
    if name not in DEVICES:
        raise ConfigError(f"unknown device {name!r}: use {', '.join(DEVICES)}")
    if name == "cpu":
        return name
    import torch  # only here: the default backends run without it, and it takes a second to import
    available = {"cpu": True, "cuda": torch.cuda.is_available(),
                 "mps": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())}
    if name == "auto":
        return "cuda" if available["cuda"] else "mps" if available["mps"] else "cpu"
    if not available[name]:
        raise ConfigError(f"device {name!r} is not available on this machine; use --device cpu or auto")
    return name


class Renderer:
    """Transformer, reenactor and mixer for one source face, built from the config's choices."""

    def __init__(self, config: AnalysisConfig, device: str) -> None:
        """``auto`` is resolved (importing torch) only if a chosen backend takes a device."""
        reg = get_registry()
        if device != "auto":
            resolve_device(device)  # an explicit choice must exist, used or not

        def make(stage: str) -> Any:
            choice = config.stage(stage)
            options = dict(choice.options)
            name = choice.backend or reg.default(stage)
            entry = reg.backends(stage).get(name)
            if entry is not None and "device" in inspect.signature(entry.backend.factory).parameters:
                options.setdefault("device", resolve_device(device))
            return reg.create(stage, name, **options)

        self.transformer = make("transform")
        self.reenactor = make("reenact")
        self.mixer = make("mix")

    def render(self, image: np.ndarray, face: SourceFace, motion: np.ndarray,
               driving_landmarks: np.ndarray | None = None, background: np.ndarray | None = None) -> np.ndarray:
        """(N, 20) target motion -> (N, H, W, 3) frames of the source."""
        targets = self.transformer.transform(face, motion, driving_landmarks)
        faces = self.reenactor.reenact(image, face.landmarks, targets)
        return self.mixer.mix(image, faces, targets, background=background, source_landmarks=face.landmarks)


def _analysis_config(config: AnalysisConfig, faces: str, smooth: bool = True) -> AnalysisConfig:
    cfg = replace(config, faces=faces, stages={k: replace(v, options=dict(v.options)) for k, v in config.stages.items()})
    if not smooth:
        cfg.set_backend("smooth", "none")
    return cfg


def source_analyzer(config: AnalysisConfig, choice: str) -> FaceAnalyzer:
    """The analyzer for still sources; reuse it (``source_face(..., analyzer=)``) over many images."""
    return FaceAnalyzer(_analysis_config(config, "all" if choice == "auto" else choice, smooth=False))


def source_face(image: np.ndarray, config: AnalysisConfig, choice: str, label: str,
                analyzer: FaceAnalyzer | None = None) -> SourceFace:
    """Analyse a still source; ``auto`` insists on exactly one face."""
    if analyzer is None:
        analyzer = source_analyzer(config, choice)
    else:
        analyzer.reset()  # each source image is analysed on its own
    _, records = next(analyzer.run([Frame(0, 0.0, image)]))
    records = [r for r in records if r.success and r.analysis is not None]
    if not records:
        raise NoFaceError(f"no face found in {label}; use a clearer, more frontal photo or try --detector mmod")
    if choice == "auto" and len(records) > 1:
        raise NoFaceError(f"{len(records)} faces found in {label}; choose one with --source-face largest "
                          "or --source-face index:N (N-th face from the left, from 0)")
    rec = records[0]
    return SourceFace(rec.landmarks, rec.motion, (image.shape[1], image.shape[0]))


def load_background(path: Path | None, shape: tuple[int, ...]) -> np.ndarray | None:
    if path is None:
        return None
    bg = read_image(path)
    return cv2.resize(bg, (shape[1], shape[0]), interpolation=cv2.INTER_AREA) if bg.shape[:2] != shape[:2] else bg


def side_by_side(panels: list[np.ndarray], height: int) -> np.ndarray:
    """Panels scaled to one height (even widths) and placed left to right."""
    out = []
    for p in panels:
        w = max(2, int(round(p.shape[1] * height / p.shape[0] / 2)) * 2)
        out.append(cv2.resize(p, (w, height), interpolation=cv2.INTER_AREA))
    return np.concatenate(out, axis=1)


def _neutral_warning(reference: np.ndarray) -> str | None:
    strong = [f"{AU_NAMES[i]} {reference[i]:.1f}" for i in np.argsort(-reference[:17])[:3] if reference[i] > 3.5]
    turned = np.degrees(np.abs(reference[17:20])).max()
    if strong or turned > 25:
        what = ", ".join(strong) if strong else f"head turned {turned:.0f}°"
        return (f"warning: the driving clip's first face is not neutral ({what}); relative motion is measured "
                "from it, so consider --motion absolute or a clip that starts with a relaxed face")
    return None


@dataclass
class ReenactSummary:
    frames: int
    fps: float
    driving_without_face: int
    output: Path


def _driving_motion(frames: Iterator[Frame], analyzer: FaceAnalyzer) -> Iterator[tuple[Frame, FaceRecord | None]]:
    for frame, records in analyzer.run(frames):
        good = [r for r in records if r.success and r.analysis is not None]
        yield frame, (good[0] if good else None)


def reenact(source: Path, driving: Path, output: Path, config: AnalysisConfig | None = None,
            options: ReenactOptions | None = None) -> ReenactSummary:
    """Write ``output``: the source face performing the driving video's motion."""
    config = config or AnalysisConfig()
    opts = options or ReenactOptions()
    if opts.audio not in ("driving", "none"):
        raise ConfigError(f"unknown audio choice {opts.audio!r}: use driving or none")
    check_output(output, "video")
    renderer = Renderer(config, opts.device)
    drive_analyzer = FaceAnalyzer(_analysis_config(config, opts.driving_face))
    source_is_video = not is_image_path(source)
    with ExitStack() as stack:
        drv = stack.enter_context(open_video(driving, max_frames=opts.max_frames))
        src_frames = None
        src_analyzer = source_analyzer(config, opts.source_face)
        if source_is_video:
            src_video = stack.enter_context(open_video(source))
            src_frames = iter(src_video)
            src_image = next(src_frames).image
        else:
            src_image = read_image(source)
        face = source_face(src_image, config, opts.source_face, str(source), src_analyzer)
        background = load_background(opts.background, src_image.shape)
        audio = driving if opts.audio == "driving" and drv.info.has_audio else None
        writer = stack.enter_context(VideoWriter(output, drv.info.fps, audio_from=audio))
        progress = stack.enter_context(frame_progress(f"reenact {Path(driving).name}", drv.info.frame_count, opts.quiet))
        reference: np.ndarray | None = None
        last: FaceRecord | None = None
        missing = frames = 0
        batch: list[tuple[Frame, np.ndarray, np.ndarray, np.ndarray, SourceFace]] = []

        def flush() -> None:
            if not batch:
                return
            # consecutive frames share a source face unless the source is a video
            groups: list[list[int]] = []
            for i, item in enumerate(batch):
                if groups and batch[groups[-1][0]][4] is item[4]:
                    groups[-1].append(i)
                else:
                    groups.append([i])
            for idx in groups:
                f = batch[idx[0]][4]
                motion = combine(f.motion, np.stack([batch[i][1] for i in idx]), reference, opts.mode,
                                 opts.channels, opts.aus)
                lms = np.stack([batch[i][2] for i in idx])
                out = renderer.render(batch[idx[0]][3], f, motion, lms, background)
                for i, img in zip(idx, out):
                    drive_img = batch[i][0].image
                    writer.write(side_by_side([batch[i][3], drive_img, img], img.shape[0])
                                 if opts.side_by_side else img)
            progress(len(batch))
            batch.clear()

        for frame, rec in _driving_motion(iter(drv), drive_analyzer):
            frames += 1
            if rec is None:
                missing += 1
            else:
                last = rec
                if reference is None:
                    reference = rec.motion
                    if opts.mode == "relative" and (msg := _neutral_warning(reference)):
                        opts.notes.append(msg)
                        if not opts.quiet:
                            print(msg, file=sys.stderr)
            if src_frames is not None and frames > 1:
                nxt = next(src_frames, None)
                if nxt is not None:
                    src_image = nxt.image
                    face = source_face(src_image, config, opts.source_face, f"{source} frame {nxt.index}",
                                       src_analyzer)
            if last is None:
                motion, lms = face.motion, face.landmarks
            else:
                motion, lms = last.motion, last.landmarks
            batch.append((frame, motion, lms, src_image, face))
            if len(batch) >= config.batch_size:
                flush()
        flush()
        if last is None:
            raise NoFaceError(f"no face found in the driving video {driving}; try --detector mmod")
    return ReenactSummary(frames, drv.info.fps, missing, Path(output))


def edit_motion(face: SourceFace, edits: list[Edit]) -> np.ndarray:
    motion = face.motion.astype(np.float64).copy()
    for e in edits:
        e.apply(motion)
    return motion.astype(np.float32)


def edit(source: Path, output: Path, edits: list[Edit], config: AnalysisConfig | None = None,
         source_choice: str = "auto", sweep: tuple[int, float, float] | None = None, frames: int = 30,
         fps: float = 25.0, background: Path | None = None, quiet: bool = False) -> Path:
    """Write ``output``: the source with edited AUs/pose (image or video), or a sweep animation."""
    config = config or AnalysisConfig()
    if not edits and sweep is None:
        raise ConfigError("nothing to edit: give --au AU12=+2, --pose yaw=+0.2 or --sweep AU12=0:5")
    source_is_image = is_image_path(source)
    if sweep is not None and not source_is_image:
        raise ConfigError("--sweep animates a still image; for a video source use --au/--pose")
    if sweep is not None and frames < 2:
        raise ConfigError("--frames must be at least 2 for a sweep")
    # an image in gives an image out; a sweep or a video source gives a video
    check_output(output, "image" if source_is_image and sweep is None else "video")
    renderer = Renderer(config, "cpu")
    if source_is_image:
        image = read_image(source)
        face = source_face(image, config, source_choice, str(source))
        bg = load_background(background, image.shape)
        base = edit_motion(face, edits)
        if sweep is None:
            result = renderer.render(image, face, base[None], background=bg)[0]
            write_image(output, result)
            return Path(output)
        index, start, end = sweep
        motion = np.repeat(base[None], frames, 0)
        motion[:, index] = np.linspace(start, end, frames)
        with VideoWriter(output, fps) as writer, frame_progress("sweep", frames, quiet) as progress:
            for chunk in np.array_split(motion, max(1, frames // config.batch_size + 1)):
                for img in renderer.render(image, face, chunk, background=bg):
                    writer.write(img)
                progress(len(chunk))
        return Path(output)
    with open_video(source) as src, VideoWriter(output, src.info.fps, audio_from=source if src.info.has_audio else None) as writer, \
            frame_progress(f"edit {Path(source).name}", src.info.frame_count, quiet) as progress:
        analyzer = FaceAnalyzer(_analysis_config(config, "largest" if source_choice == "auto" else source_choice))
        for frame, records in analyzer.run(src):
            good = [r for r in records if r.success and r.analysis is not None]
            if not good:
                writer.write(frame.image)
            else:
                face = SourceFace(good[0].landmarks, good[0].motion, (frame.image.shape[1], frame.image.shape[0]))
                writer.write(renderer.render(frame.image, face, edit_motion(face, edits)[None])[0])
            progress(1)
    return Path(output)


def write_image(path: Path, image: np.ndarray) -> None:
    """Atomic still-image write; the format follows the extension."""
    with atomic_path(check_output(path, "image")) as tmp:
        ok, data = cv2.imencode(Path(path).suffix.lower(), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        if not ok:
            raise ConfigError(f"cannot encode {path}: use .png or .jpg")
        tmp.write_bytes(data.tobytes())
