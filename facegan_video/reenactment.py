"""`reenact` and `edit`: the source face driven by a video's motion, or by edited AUs and pose.

``reenact`` runs named steps: analyse the source face (once per source frame) → stream the driving
video through the analysis stages (or read a motion CSV) → collect a batch of driving frames →
target motion (relative or absolute, channel masks) → ``Renderer`` (landmark transformer →
reenactor → mixer) → H.264 writer with the driving audio. Work is done in batches of frames; memory
is bounded by the batch size (and for large frames by ``RENDER_PIXELS``). Every step reports to the
observers it is given (``facegan_video.observe``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from facegan_video.analysis.pipeline import FaceAnalyzer
from facegan_video.config import AnalysisConfig
from facegan_video.devices import check_device, resolve_device
from facegan_video.errors import ConfigError, NoFaceError
from facegan_video.motion import Edit, combine
from facegan_video.motion_csv import MotionCsv, is_motion_csv
from facegan_video.observe import Observer, Observers, progress_observers
from facegan_video.plugins import Registry, load_registry
from facegan_video.stages import RENDER_STAGES
from facegan_video.types import AU_NAMES, AUS, POSE, FaceRecord, SourceFace
from facegan_video.video import VideoWriter, atomic_path, check_output, is_image_path, open_video, read_image
from facegan_video.video.reader import Frame, FrameSource

AUDIO_CHOICES = ("driving", "none")
#: Pixels of the frames one render call holds (one 2048x2048 frame): a batch of large frames gains
#: nothing, while every fresh (N, H, W, 3) array is paged in anew, at worst with huge-page compaction.
RENDER_PIXELS = 2048 * 2048


def render_batch_size(batch_size: int, shape: tuple[int, ...]) -> int:
    """Frames per render call for frames of ``shape``: ``batch_size``, fewer for large frames."""
    return max(1, min(batch_size, RENDER_PIXELS // (shape[0] * shape[1])))


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
    max_size: int | None = None  # shrink a larger source so its longer side has this many pixels
    fps: float | None = None  # frame rate of a motion CSV (default: from its timestamps)
    quiet: bool = False
    notes: list[str] = field(default_factory=list)


class Renderer:
    """Transformer, reenactor and mixer for one source face, built from the config's choices.

    ``device`` goes to the backends that declare they take one (``auto`` is then resolved, importing
    torch); an explicit device must exist even when no backend uses it.
    """

    def __init__(self, config: AnalysisConfig, device: str = "auto", registry: Registry | None = None,
                 observers: Iterable[Observer] = ()) -> None:
        self.registry = registry or load_registry()
        self.observers = Observers(observers)
        if check_device(device) != "auto":
            resolve_device(device)
        chosen = {stage: self.registry.entry(stage, config.stage(stage).backend).backend for stage in RENDER_STAGES}
        self.needs_driving_landmarks = chosen["transform"].capabilities.driving_landmarks
        self.gives_segmentation = chosen["reenact"].capabilities.segmentation
        self.needs_segmentation = chosen["mix"].capabilities.segmentation
        # the reenactor renders only what the mixer reads when both can say so
        self.renders_region = chosen["reenact"].capabilities.region and chosen["mix"].capabilities.region
        if self.needs_segmentation and not self.gives_segmentation:
            raise ConfigError(f"mixer {chosen['mix'].name!r} needs the face/hair segmentation of the reenacted "
                              f"frames, which reenactor {chosen['reenact'].name!r} does not give; use --reenactor "
                              "facegan or another mixer")
        with self.observers.setup("renderer"):
            self.transformer, self.reenactor, self.mixer = (
                self.registry.create(stage, config.stage(stage).backend, device=device, **config.stage(stage).options)
                for stage in RENDER_STAGES)

    def render(self, image: np.ndarray, face: SourceFace, motion: np.ndarray,
               driving_landmarks: np.ndarray | None = None, background: np.ndarray | None = None) -> np.ndarray:
        """(N, 20) target motion -> (N, H, W, 3) frames of the source."""
        n, obs = len(motion), self.observers
        with obs.stage("transform", n):
            targets = self.transformer.transform(face, motion, driving_landmarks)
        with obs.stage("reenact", n):
            region = {"region": self.mixer.region(image.shape, targets, source_landmarks=face.landmarks)} \
                if self.renders_region else {}
            faces = self.reenactor.reenact(image, face.landmarks, targets, **region)
        faces, segmentation = faces if self.gives_segmentation else (faces, None)
        extra = {"segmentation": segmentation} if self.needs_segmentation else {}
        with obs.stage("mix", n):
            return self.mixer.mix(image, faces, targets, background=background, source_landmarks=face.landmarks,
                                  **extra)


def analysis_config(config: AnalysisConfig, faces: str, smooth: bool = True) -> AnalysisConfig:
    """A copy of ``config`` that keeps the faces ``faces`` (and no smoothing unless ``smooth``)."""
    stages = {k: replace(v, options=dict(v.options)) for k, v in config.stages.items()}
    cfg = replace(config, faces=faces, stages=stages)
    if not smooth:
        cfg.set_backend("smooth", "none")
    return cfg


class SourceAnalyzer:
    """Analyses source stills, each on its own (a fresh stream per image, the models loaded once).

    ``choice``: ``auto`` insists on exactly one face; ``largest`` or ``index:N`` picks one.
    """

    def __init__(self, config: AnalysisConfig, choice: str, registry: Registry | None = None,
                 device: str = "auto") -> None:
        self.choice = choice
        self._analyzer = FaceAnalyzer(analysis_config(config, "all" if choice == "auto" else choice, smooth=False),
                                      registry, device=device)

    def __call__(self, image: np.ndarray, label: str) -> SourceFace:
        self._analyzer.reset()
        _, records = next(self._analyzer.run([Frame(0, 0.0, image)]))
        records = [r for r in records if r.usable]
        if not records:
            raise NoFaceError(f"no face found in {label}; use a clearer, more frontal photo or try --detector mmod")
        if self.choice == "auto" and len(records) > 1:
            raise NoFaceError(f"{len(records)} faces found in {label}; choose one with --source-face largest "
                              "or --source-face index:N (N-th face from the left, from 0)")
        return source_face_of(records[0], image)


def source_face_of(record: FaceRecord, image: np.ndarray) -> SourceFace:
    return SourceFace(record.landmarks, record.motion, (image.shape[1], image.shape[0]))


def fit_size(image: np.ndarray, max_size: int | None) -> np.ndarray:
    """``image`` shrunk so its longer side is at most ``max_size`` pixels (None: as it is)."""
    longest = max(image.shape[:2])
    if max_size is None or longest <= max_size:
        return image
    scale = max_size / longest
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


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


def neutral_warning(reference: np.ndarray) -> str | None:
    """A warning when relative motion would be measured from an expressive or turned first face."""
    strong = [f"{AU_NAMES[i]} {reference[AUS][i]:.1f}" for i in np.argsort(-reference[AUS])[:3]
              if reference[AUS][i] > 3.5]
    turned = np.degrees(np.abs(reference[POSE])).max()
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


# ----------------------------------------------------------------------------- reenact, step by step


class _Source:
    """The source: one still, or a video whose frames are reenacted one per driving frame (its last
    frame is held when the driving video is longer); shrunk to ``max_size`` when given."""

    def __init__(self, path: Path, analyze: SourceAnalyzer, stack: ExitStack, max_size: int | None) -> None:
        self.path = path
        self._analyze = analyze
        self._max_size = max_size
        self._video: FrameSource | None = None
        self._frames: Iterator[Frame] = iter(())
        if is_image_path(path):
            self.image = fit_size(read_image(path), max_size)
        else:
            self._video = stack.enter_context(open_video(path))
            self._frames = iter(self._video)
            self.image = fit_size(next(self._frames).image, max_size)
        self.face = analyze(self.image, str(path))
        self.index = 0  # which source frame is current

    def advance(self) -> None:
        """Move a video source to its next frame (and analyse it); a still stays."""
        nxt = next(self._frames, None)
        if nxt is not None:
            self.image, self.index = fit_size(nxt.image, self._max_size), self.index + 1
            self.face = self._analyze(self.image, f"{self.path} frame {nxt.index}")

    @property
    def warning(self) -> str | None:
        return None if self._video is None else self._video.warning


class _VideoDriver:
    """A driving video: each frame's picture with its first usable face (None without one), analysed
    as it streams."""

    def __init__(self, path: Path, config: AnalysisConfig, opts: ReenactOptions, registry: Registry,
                 obs: Observers, stack: ExitStack) -> None:
        self._analyzer = FaceAnalyzer(analysis_config(config, opts.driving_face), registry, obs, opts.device)
        self._frames = stack.enter_context(open_video(path, max_frames=opts.max_frames))
        self._obs = obs
        info = self._frames.info
        self.fps, self.frame_count = info.fps, info.frame_count
        self.audio = path if opts.audio == "driving" and info.has_audio else None
        self.has_landmarks = True

    def __iter__(self) -> Iterator[tuple[np.ndarray | None, FaceRecord | None]]:
        for frame, record in driving_records(self._obs.timed(self._frames, "decode"), self._analyzer):
            yield frame.image, record

    @property
    def warning(self) -> str | None:
        return self._frames.warning


class _CsvDriver:
    """A motion CSV (``facegan_video.motion_csv``): records without pictures or sound."""

    def __init__(self, path: Path, opts: ReenactOptions) -> None:
        self._motion = MotionCsv(path, opts.driving_face, opts.fps, opts.max_frames)
        self.fps, self.frame_count = self._motion.fps, len(self._motion.records)
        self.audio = None
        self.has_landmarks = self._motion.has_landmarks
        self.warning = None

    def __iter__(self) -> Iterator[tuple[np.ndarray | None, FaceRecord | None]]:
        for record in self._motion.records:
            yield None, record


@dataclass
class _Pending:
    """A driving frame waiting in the batch: its motion and landmarks, and the source frame it drives."""

    driving: np.ndarray | None  # the driving picture (None from a motion CSV)
    motion: np.ndarray
    landmarks: np.ndarray
    image: np.ndarray
    face: SourceFace
    source_index: int


class _Batches:
    """Collects driving frames and renders them a batch at a time onto the source, in order."""

    def __init__(self, renderer: Renderer, writer: VideoWriter, opts: ReenactOptions,
                 background: np.ndarray | None, batch_size: int, observers: Observers) -> None:
        self.renderer, self.writer, self.opts = renderer, writer, opts
        self.background, self.batch_size, self.observers = background, batch_size, observers
        self.reference: np.ndarray | None = None  # the first driving face's motion (relative mode)
        self.pending: list[_Pending] = []

    def add(self, item: _Pending) -> None:
        self.pending.append(item)
        if len(self.pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        for run in self._runs():
            self._render(run)
        self.observers.on_frames(len(self.pending))
        self.pending = []

    def _runs(self) -> list[list[_Pending]]:
        """Consecutive frames that drive the same source frame, rendered in one call."""
        runs: list[list[_Pending]] = []
        for item in self.pending:
            if runs and runs[-1][0].source_index == item.source_index:
                runs[-1].append(item)
            else:
                runs.append([item])
        return runs

    def _render(self, run: list[_Pending]) -> None:
        first, opts = run[0], self.opts
        motion = combine(first.face.motion, np.stack([p.motion for p in run]), self.reference, opts.mode,
                         opts.channels, opts.aus)
        out = self.renderer.render(first.image, first.face, motion, np.stack([p.landmarks for p in run]),
                                   self.background)
        for item, image in zip(run, out):
            if opts.side_by_side:
                image = side_by_side([p for p in (item.image, item.driving, image) if p is not None], image.shape[0])
            self.writer.write(image)


def driving_records(frames: Iterable[Frame], analyzer: FaceAnalyzer) -> Iterator[tuple[Frame, FaceRecord | None]]:
    """Each driving frame with its first usable face (None without one)."""
    for frame, records in analyzer.run(frames):
        good = [r for r in records if r.usable]
        yield frame, (good[0] if good else None)


def check_max_size(max_size: int | None) -> None:
    if max_size is not None and max_size < 16:
        raise ConfigError(f"--max-size must be at least 16 pixels, got {max_size}")


def reenact(source: Path, driving: Path, output: Path, config: AnalysisConfig | None = None,
            options: ReenactOptions | None = None, registry: Registry | None = None,
            observers: Iterable[Observer] = ()) -> ReenactSummary:
    """Write ``output``: the source face performing the motion of the driving video or motion CSV."""
    config = config or AnalysisConfig()
    opts = options or ReenactOptions()
    if opts.audio not in AUDIO_CHOICES:
        raise ConfigError(f"unknown audio choice {opts.audio!r}: use {' or '.join(AUDIO_CHOICES)}")
    from_csv = is_motion_csv(driving)
    if opts.fps is not None and not (from_csv and opts.fps > 0):
        raise ConfigError("--fps sets the frame rate of a motion CSV (a positive number); a driving video keeps "
                          "its own")
    check_max_size(opts.max_size)
    check_output(output, "video")
    registry = registry or load_registry()
    obs = progress_observers(opts.quiet, observers)
    renderer = Renderer(config, opts.device, registry, obs)
    with ExitStack() as stack:
        drv = _CsvDriver(Path(driving), opts) if from_csv else \
            _VideoDriver(Path(driving), config, opts, registry, obs, stack)
        if renderer.needs_driving_landmarks and not drv.has_landmarks:
            raise ConfigError(f"the {config.stage('transform').backend!r} landmark transformer needs driving "
                              f"landmarks, and {driving} has no x_0 ... y_67 columns; use --transform analytic")
        with obs.setup("source"):
            src = _Source(Path(source), SourceAnalyzer(config, opts.source_face, registry, opts.device), stack,
                          opts.max_size)
        background = load_background(opts.background, src.image.shape)
        writer = stack.enter_context(VideoWriter(output, drv.fps, audio_from=drv.audio, observers=obs))
        stack.enter_context(obs.run(f"reenact {Path(driving).name}", drv.frame_count))
        batches = _Batches(renderer, writer, opts, background, render_batch_size(config.batch_size, src.image.shape),
                           obs)
        last: FaceRecord | None = None
        missing = frames = 0
        for picture, rec in obs.timed(drv, "analysis"):
            frames += 1
            if frames > 1:
                src.advance()
            if rec is None:
                missing += 1
            else:
                last = rec
                if batches.reference is None:
                    batches.reference = rec.motion
                    if opts.mode == "relative" and (msg := neutral_warning(rec.motion)):
                        _note(opts, msg)
            # a frame without a face holds the last motion (the source's own before the first face)
            motion, lms = (src.face.motion, src.face.landmarks) if last is None else (last.motion, last.landmarks)
            batches.add(_Pending(picture, motion, lms, src.image, src.face, src.index))
        batches.flush()
        if last is None:  # a motion CSV without a face fails when it is read
            raise NoFaceError(f"no face found in the driving video {driving}; try --detector mmod")
        for warning in filter(None, (drv.warning, src.warning)):
            _note(opts, warning)
    return ReenactSummary(frames, drv.fps, missing, Path(output))


def _note(opts: ReenactOptions, message: str) -> None:
    """A warning for the summary (``opts.notes``) and, unless quiet, for the terminal now."""
    opts.notes.append(message)
    if not opts.quiet:
        print(message, file=sys.stderr)


# ----------------------------------------------------------------------------- edit


def edit_motion(face: SourceFace, edits: list[Edit]) -> np.ndarray:
    motion = face.motion.astype(np.float64).copy()
    for e in edits:
        e.apply(motion)
    return motion.astype(np.float32)


def sweep_motion(base: np.ndarray, sweep: tuple[int, float, float], frames: int) -> np.ndarray:
    """(frames, 20): ``base`` with one AU or pose axis moving linearly from start to end."""
    index, start, end = sweep
    motion = np.repeat(base[None], frames, 0)
    motion[:, index] = np.linspace(start, end, frames)
    return motion


def edit(source: Path, output: Path, edits: list[Edit], config: AnalysisConfig | None = None,
         source_choice: str = "auto", sweep: tuple[int, float, float] | None = None, frames: int = 30,
         fps: float = 25.0, background: Path | None = None, quiet: bool = False, device: str = "auto",
         registry: Registry | None = None, observers: Iterable[Observer] = (), max_size: int | None = None) -> Path:
    """Write ``output``: the source with edited AUs/pose (image or video), or a sweep animation; a
    source larger than ``max_size`` pixels is shrunk first."""
    config = config or AnalysisConfig()
    check_max_size(max_size)
    if not edits and sweep is None:
        raise ConfigError("nothing to edit: give --au AU12=+2, --pose yaw=+0.2 or --sweep AU12=0:5")
    source_is_image = is_image_path(source)
    if sweep is not None and not source_is_image:
        raise ConfigError("--sweep animates a still image; for a video source use --au/--pose")
    if sweep is not None and frames < 2:
        raise ConfigError("--frames must be at least 2 for a sweep")
    # an image in gives an image out; a sweep or a video source gives a video
    check_output(output, "image" if source_is_image and sweep is None else "video")
    registry = registry or load_registry()
    obs = progress_observers(quiet, observers)
    renderer = Renderer(config, device, registry, obs)
    if renderer.needs_driving_landmarks:
        raise ConfigError(f"the {config.stage('transform').backend!r} landmark transformer needs driving landmarks, "
                          "which an edit has none of; use another --transform (e.g. analytic)")
    if not source_is_image:
        return _edit_video(source, output, edits, config, source_choice, renderer, registry, obs, device, max_size,
                           quiet)
    with obs.setup("source"):
        image = fit_size(read_image(source), max_size)
        face = SourceAnalyzer(config, source_choice, registry, device)(image, str(source))
    bg = load_background(background, image.shape)
    base = edit_motion(face, edits)
    if sweep is None:
        write_image(output, renderer.render(image, face, base[None], background=bg)[0])
        return Path(output)
    motion = sweep_motion(base, sweep, frames)
    step = render_batch_size(config.batch_size, image.shape)
    with VideoWriter(output, fps, observers=obs) as writer, obs.run("sweep", frames):
        for start in range(0, frames, step):
            chunk = motion[start:start + step]
            for img in renderer.render(image, face, chunk, background=bg):
                writer.write(img)
            obs.on_frames(len(chunk))
    return Path(output)


def _edit_video(source: Path, output: Path, edits: list[Edit], config: AnalysisConfig, source_choice: str,
                renderer: Renderer, registry: Registry, obs: Observers, device: str, max_size: int | None,
                quiet: bool) -> Path:
    """Every frame of a video source edited; frames without a face are written as they are."""
    faces = "largest" if source_choice == "auto" else source_choice
    analyzer = FaceAnalyzer(analysis_config(config, faces), registry, obs, device)
    with open_video(source) as src:
        audio = source if src.info.has_audio else None
        frames = (replace(f, image=fit_size(f.image, max_size)) for f in obs.timed(src, "decode"))
        with VideoWriter(output, src.info.fps, audio_from=audio, observers=obs) as writer, \
                obs.run(f"edit {Path(source).name}", src.info.frame_count):
            for frame, records in analyzer.run(frames):
                good = [r for r in records if r.usable]
                if not good:
                    writer.write(frame.image)
                else:
                    face = source_face_of(good[0], frame.image)
                    writer.write(renderer.render(frame.image, face, edit_motion(face, edits)[None])[0])
                obs.on_frames(1)
            if src.warning and not quiet:
                print(src.warning, file=sys.stderr)
    return Path(output)


def write_image(path: Path, image: np.ndarray) -> None:
    """Atomic still-image write; the format follows the extension."""
    with atomic_path(check_output(path, "image")) as tmp:
        ok, data = cv2.imencode(Path(path).suffix.lower(), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        if not ok:
            raise ConfigError(f"cannot encode {path}: use .png or .jpg")
        tmp.write_bytes(data.tobytes())

