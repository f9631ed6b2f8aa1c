"""The Edit tab's work, without Gradio: analyse a still once per session, then render slider values.

The app, the ``/edit`` endpoint and ``benchmarks/bench_ui.py`` all go through :class:`Editor`, so the
benchmark measures the path a slider release takes.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import cv2
import numpy as np

from facegan_video.config import AnalysisConfig
from facegan_video.errors import ConfigError
from facegan_video.motion import POSE_AXES, Edit, parse_au_edit, parse_pose_edit, parse_sweep
from facegan_video.plugins import Registry
from facegan_video.reenactment import Renderer, SourceAnalyzer, edit_motion, sweep_motion
from facegan_video.types import AU_MAX, AUS
from facegan_video.ui.session import Session, Source, image_key
from facegan_video.video import VideoWriter

#: Sliders move in these steps; their starting values are the measured ones rounded to it.
STEP = 0.01
SWEEP_FPS = 25.0


def parse_changes(text: str) -> list[Edit]:
    """``"AU12=+2 AU26=+1 yaw=+0.1"`` (spaces, commas or semicolons between edits): the CLI's syntax."""
    tokens = [t for t in re.split(r"[\s,;]+", re.sub(r"\s*=\s*", "=", text or "").strip()) if t]
    if not tokens:
        raise ConfigError("no changes given: write e.g. AU12=+2 AU26=+1 yaw=+0.1")
    return [parse_pose_edit(t) if t.partition("=")[0].lower() in POSE_AXES else parse_au_edit(t) for t in tokens]


def slider_values(motion: np.ndarray) -> list[float]:
    """Where the 20 sliders start: AUs within 0-5, all rounded to the slider step."""
    values = np.asarray(motion, np.float64).copy()
    values[AUS] = np.clip(values[AUS], 0.0, AU_MAX)
    return [round(float(v), 2) for v in values]


class Editor:
    """Shared models (loaded once per app) and the per-session analysis cache.

    The dlib models are not safe to call from two threads at once, and Gradio runs handlers in a
    thread pool, so analysis and rendering take one lock.
    """

    def __init__(self, registry: Registry, config: AnalysisConfig | None = None, device: str = "auto") -> None:
        config = config or AnalysisConfig()
        self.analyze = SourceAnalyzer(config, "largest", registry, device)
        self.renderer = Renderer(config, device, registry)
        if self.renderer.needs_driving_landmarks:
            raise ConfigError(f"the {config.stage('transform').backend!r} landmark transformer needs driving "
                              "landmarks, which an edit has none of; use another transform (e.g. analytic)")
        self._lock = threading.Lock()

    def source(self, session: Session, image: np.ndarray, label: str = "the uploaded image") -> Source:
        """The analysed ``image`` (from the session's cache when seen before); it becomes the current one."""
        image = np.ascontiguousarray(image[..., :3])
        key = image_key(image)
        source = session.cached(key)
        if source is None:
            with self._lock:
                source = Source(image, self.analyze(image, label))
            session.remember(key, source)
        session.current = source
        return source

    def render(self, source: Source, motion: np.ndarray, background: np.ndarray | None = None) -> np.ndarray:
        """(20,) or (N, 20) motion -> one (H, W, 3) image, or (N, H, W, 3) frames."""
        many = np.ndim(motion) == 2
        with self._lock:
            out = self.renderer.render(source.image, source.face, np.atleast_2d(motion),
                                       background=fit_background(background, source.image.shape))
        return out if many else out[0]

    def apply(self, session: Session, image: np.ndarray, changes: str) -> np.ndarray:
        """``image`` rendered with ``changes`` (CLI syntax) applied to its measured motion."""
        edits = parse_changes(changes)
        source = self.source(session, image)
        return self.render(source, edit_motion(source.face, edits), session.background)

    def sweep(self, session: Session, axis: str, start: float, end: float, frames: int,
              values: list[float]) -> Path:
        """An MP4 in the session folder: the current source at ``values`` with ``axis`` going start -> end."""
        source = current(session)
        index, a, b = parse_sweep(f"{axis}={start}:{end}")
        if not 2 <= int(frames) <= 250:
            raise ConfigError(f"a sweep needs 2-250 frames, got {frames}")
        motion = sweep_motion(motion_of(source, values), (index, a, b), int(frames))
        path = session.output(f"sweep-{axis}", ".mp4")
        with VideoWriter(path, SWEEP_FPS) as writer:
            for start_frame in range(0, len(motion), 25):
                for frame in self.render(source, motion[start_frame:start_frame + 25], session.background):
                    writer.write(frame)
        return path


def motion_of(source: Source, values: list[float]) -> np.ndarray:
    """The motion of 20 slider values: the measured value wherever a slider is still where it started."""
    motion = source.face.motion.astype(np.float32).copy()
    for i, (value, start) in enumerate(zip(values, slider_values(motion), strict=True)):
        if value is not None and abs(float(value) - start) > STEP / 2:
            motion[i] = float(value)
    motion[AUS] = np.clip(motion[AUS], 0.0, AU_MAX)
    return motion


def current(session: Session) -> Source:
    if session.current is None:
        raise ConfigError("no portrait yet: upload one (or pick the astronaut example) first")
    return session.current


def fit_background(background: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray | None:
    """The background at the source's size (as the CLI's ``--background``)."""
    if background is None or background.shape[:2] == shape[:2]:
        return background
    return cv2.resize(background, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
