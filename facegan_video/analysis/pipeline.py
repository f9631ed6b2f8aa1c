"""Streaming face analysis: frames in, per-face records (box, landmarks, AUs, pose) out.

Detection runs only when the tracker asks for it; landmarks follow the face in between. AU
estimation is called once per batch of frames. Memory is bounded by the batch size.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from facegan_video.analysis.geometry import landmark_confidence
from facegan_video.config import AnalysisConfig
from facegan_video.errors import ConfigError
from facegan_video.observe import Observer, Observers
from facegan_video.plugins import Registry, load_registry
from facegan_video.types import Analysis, FaceRecord
from facegan_video.video import Frame


class FaceSelector:
    """Which tracked faces to keep: ``all``, ``largest`` (locks on its track), ``index:N`` (N-th
    from the left at first sight), ``id:N`` (track id)."""

    def __init__(self, spec: str) -> None:
        kind, _, arg = spec.partition(":")
        if kind not in ("all", "largest", "index", "id") or (kind in ("index", "id") and not arg.isdigit()):
            raise ConfigError(f"bad face choice {spec!r}: use all, largest, index:N or id:N")
        self.kind, self.arg = kind, int(arg) if arg else 0
        self.locked: int | None = self.arg if kind == "id" else None

    def __call__(self, tracks: list[tuple[int, np.ndarray]]) -> list[tuple[int, np.ndarray]]:
        if self.kind == "all":
            return tracks
        if self.locked is None and tracks:
            if self.kind == "largest":
                self.locked = max(tracks, key=lambda t: (t[1][2] - t[1][0]) * (t[1][3] - t[1][1]))[0]
            elif self.arg < len(tracks):
                self.locked = sorted(tracks, key=lambda t: t[1][0])[self.arg][0]
        return [t for t in tracks if t[0] == self.locked]


class FaceAnalyzer:
    """Builds the analysis stages from a config and runs them over a stream of frames.

    ``registry`` provides the backends (a new one is loaded without it); ``observers`` hear every
    stage call and the setup; ``device`` goes to backends that declare they take one.
    """

    def __init__(self, config: AnalysisConfig | None = None, registry: Registry | None = None,
                 observers: Iterable[Observer] = (), device: str = "auto") -> None:
        self.config = config or AnalysisConfig()
        self.registry = registry or load_registry()
        self.observers = Observers(observers)
        self.device = device
        with self.observers.setup("analyzer"):
            self.detector = self._make("detect")
            self.landmarker = self._make("landmarks")
            self.reset()

    def _make(self, stage: str) -> Any:
        choice = self.config.stage(stage)
        return self.registry.create(stage, choice.backend, device=self.device, **choice.options)

    def reset(self) -> None:
        """Start a new stream: fresh tracks, pose warm starts and filters; the loaded models are kept."""
        self.tracker = self._make("track")
        self.au = self._make("au")
        self._au_wants_frames = self.registry.entry("au", self.config.stage("au").backend).backend.capabilities.frames
        self.smoother = self._make("smooth")
        self.select = FaceSelector(self.config.faces)

    def run(self, frames: Iterable[Frame], batch_size: int | None = None
            ) -> Iterator[tuple[Frame, list[FaceRecord]]]:
        """Yields each frame with its face records, in order."""
        size = batch_size or self.config.batch_size
        batch: list[Frame] = []
        for frame in frames:
            batch.append(frame)
            if len(batch) >= size:
                yield from self._process(batch)
                batch = []
        if batch:
            yield from self._process(batch)

    def _process(self, frames: list[Frame]) -> Iterator[tuple[Frame, list[FaceRecord]]]:
        obs = self.observers
        per_frame: list[list[FaceRecord]] = []
        for frame in frames:
            with obs.stage("track", 1):
                wanted = self.tracker.needs_detection(frame.index)
            dets = None
            if wanted:
                with obs.stage("detect", 1):
                    dets = self.detector.detect([frame.image])[0]
            with obs.stage("track", 0):
                tracks = self.select(self.tracker.update(frame.index, dets))
            records = []
            if tracks:
                with obs.stage("landmarks", len(tracks)):
                    lms = self.landmarker.landmarks(frame.image, [box for _, box in tracks])
                conf = landmark_confidence(lms)
                with obs.stage("track", 0):
                    for (tid, _), lm, c in zip(tracks, lms, conf):
                        self.tracker.observe(tid, lm, float(c))
                for (tid, box), lm, c in zip(tracks, lms, conf):
                    records.append(FaceRecord(frame.index, frame.timestamp, tid, box, lm,
                                              success=bool(c >= 0.5 and np.isfinite(lm).all())))
            per_frame.append(records)
        self._analyse([r for recs in per_frame for r in recs if r.success], frames)
        for frame, records in zip(frames, per_frame):
            with obs.stage("smooth", len(records)):
                smoothed = [self.smoother.smooth(r) for r in records]
            yield frame, smoothed

    def _analyse(self, records: list[FaceRecord], frames: list[Frame]) -> None:
        if not records:
            return
        h, w = frames[0].image.shape[:2]
        extra = {}
        if self._au_wants_frames:
            by_index = {f.index: f.image for f in frames}
            extra["images"] = [by_index[r.frame] for r in records]
        with self.observers.stage("au", len(records)):
            results: list[Analysis] = self.au.estimate(np.stack([r.landmarks for r in records]), (w, h),
                                                       [r.face_id for r in records], **extra)
        for record, analysis in zip(records, results):
            record.analysis = analysis
