"""IoU tracker: detect every N frames, follow the face with its own landmarks in between."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facegan_video.hookspecs import hookimpl
from facegan_video.options import Option
from facegan_video.types import Backend, Detection


def iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def _landmark_frame(landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    """Centre and size of a landmark set, used to carry a box from frame to frame."""
    lo, hi = np.nanmin(landmarks, 0), np.nanmax(landmarks, 0)
    return (lo + hi) / 2, float(max(hi - lo))


@dataclass
class _Track:
    box: np.ndarray
    missed: int = 0
    # box relative to the landmark frame, learnt when a detection and its landmarks coincide
    offset: np.ndarray | None = None
    rel_size: float | None = None
    fresh: bool = True  # box came from a detection, landmarks not yet seen


class IouTracker:
    """Associates detections to tracks by IoU and moves boxes with the landmarks between detections.

    Detection runs every ``detect_every`` frames while faces are tracked. When none is (or one was
    just lost: a landmark confidence below ``min_confidence``), it runs on the next frame, and while
    detection rounds keep finding no plausible face the gap between them grows by ``backoff`` up to
    ``detect_every``: a cutaway, an intro or a damaged stretch costs a detection every few frames,
    not every frame. A track that is not re-detected ``max_missed`` detection rounds in a row, or
    whose landmarks stay implausible, is dropped.
    """

    def __init__(self, detect_every: int = 10, min_iou: float = 0.3, max_missed: int = 2,
                 min_confidence: float = 0.5, backoff: float = 2.0) -> None:
        if detect_every < 1:
            raise ValueError("detect_every must be >= 1")
        if backoff < 1:
            raise ValueError("backoff must be >= 1")
        self.detect_every = detect_every
        self.min_iou = min_iou
        self.max_missed = max_missed
        self.min_confidence = min_confidence
        self.backoff = backoff
        self.tracks: dict[int, _Track] = {}
        self._next_id = 0
        self._last_detection: int | None = None
        self._redetect = False
        self._gap = 1.0  # frames from one detection to the next while no face is tracked
        self._seen = False  # plausible landmarks since the last detection round

    def needs_detection(self, frame_index: int) -> bool:
        if self._last_detection is None:
            return True
        since = frame_index - self._last_detection
        if self.tracks and not self._redetect:
            return since >= self.detect_every
        return since >= self._gap

    def update(self, frame_index: int, detections: list[Detection] | None) -> list[tuple[int, np.ndarray]]:
        if detections is not None:
            self._gap = 1.0 if self._seen else min(self._gap * self.backoff, float(self.detect_every))
            self._seen = False
            self._associate(detections)
            self._last_detection = frame_index
            self._redetect = False
        return [(tid, t.box.copy()) for tid, t in sorted(self.tracks.items())]

    def _associate(self, detections: list[Detection]) -> None:
        pairs = sorted(((iou(t.box, d.box), tid, di) for tid, t in self.tracks.items()
                        for di, d in enumerate(detections)), reverse=True)
        used_t: set[int] = set()
        used_d: set[int] = set()
        for score, tid, di in pairs:
            if score < self.min_iou or tid in used_t or di in used_d:
                continue
            used_t.add(tid)
            used_d.add(di)
            track = self.tracks[tid]
            track.box, track.missed, track.fresh = detections[di].box.astype(np.float32), 0, True
        new = [det for di, det in enumerate(detections) if di not in used_d]
        for tid in list(self.tracks):
            if tid not in used_t:
                track = self.tracks[tid]
                track.missed += 1
                # a drifted track over a face that is detected again would become a duplicate: the
                # detection takes over the track (keeping its id)
                overlap = [d for d in new if iou(track.box, d.box) > 0.1]
                if overlap:
                    det = max(overlap, key=lambda d: iou(track.box, d.box))
                    new.remove(det)
                    track.box, track.missed, track.fresh = det.box.astype(np.float32), 0, True
                elif track.missed > self.max_missed:
                    del self.tracks[tid]
        for det in new:
            self.tracks[self._next_id] = _Track(box=det.box.astype(np.float32))
            self._next_id += 1

    def observe(self, track_id: int, landmarks: np.ndarray, confidence: float) -> None:
        track = self.tracks.get(track_id)
        if track is None:
            return
        if confidence < self.min_confidence or not np.isfinite(landmarks).all():
            self._redetect = True
            if not track.fresh:  # implausible landmarks from a propagated box: the face is lost
                del self.tracks[track_id]
            return
        self._seen = True
        centre, size = _landmark_frame(landmarks)
        if track.fresh:
            box_c = (track.box[:2] + track.box[2:]) / 2
            track.offset = (box_c - centre) / size
            track.rel_size = float(max(track.box[2:] - track.box[:2])) / size
            track.fresh = False
        half = track.rel_size * size / 2
        c = centre + track.offset * size
        track.box = np.array([c[0] - half, c[1] - half, c[0] + half, c[1] + half], np.float32)


@hookimpl
def facegan_video_trackers() -> list[Backend]:
    return [Backend("iou", IouTracker, "IoU association, detection every N frames, boxes follow landmarks", options=(
        Option("detect_every", int, 10, "run the detector every N frames (and whenever a face is lost)", low=1),
        Option("min_iou", float, 0.3, "overlap a detection needs to continue a track", low=0, high=1),
        Option("max_missed", int, 2, "detection rounds a track may miss before it is dropped", low=0),
        Option("min_confidence", float, 0.5, "landmark confidence below which the face is re-detected", low=0, high=1),
        Option("backoff", float, 2.0, "while no face is found, the gap between detections grows by this factor, "
               "up to detect_every (1: detect on every faceless frame)", low=1),
    ))]
