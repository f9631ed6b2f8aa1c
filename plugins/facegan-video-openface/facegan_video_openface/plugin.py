"""The ``openface`` AU/pose and landmark backends (hook implementations).

Both run OpenFace 2.x FeatureExtraction on the frames themselves (OpenFace reads appearance), so the
AU backend takes the ``images=`` keyword that facegan-video's FaceAnalyzer passes to AU backends
declaring it. Runs are cached per frame content, so with ``--landmarker openface --au-backend
openface`` each frame goes through OpenFace once.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from facegan_video.errors import ConfigError
from facegan_video.hookspecs import hookimpl
from facegan_video.openface_csv import OpenFaceRow
from facegan_video.options import Option
from facegan_video.types import AU_NAMES, Analysis, Backend, Capabilities
from facegan_video_openface.runner import ENV_VAR, analyse_images, find_binary

#: Frames whose OpenFace rows are kept for the other stage (landmarks then AUs on the same frame).
CACHE_SIZE = 256


class _RunCache:
    """OpenFace rows per (binary, frame content); runs FeatureExtraction only on unseen frames."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._rows: OrderedDict[tuple[str, str], list[OpenFaceRow]] = OrderedDict()

    @staticmethod
    def _key(binary: Path, image: np.ndarray) -> tuple[str, str]:
        digest = hashlib.sha1(np.ascontiguousarray(image).data, usedforsecurity=False)
        digest.update(repr(image.shape).encode())
        return str(binary), digest.hexdigest()

    def rows(self, binary: Path, images: Sequence[np.ndarray], timeout: float) -> list[list[OpenFaceRow]]:
        keys = [self._key(binary, im) for im in images]
        todo: dict[tuple[str, str], np.ndarray] = {}
        for key, image in zip(keys, images):
            if key not in self._rows and key not in todo:
                todo[key] = image
        if todo:
            for key, rows in zip(todo, analyse_images(binary, list(todo.values()), timeout)):
                self._rows[key] = rows
        out = []
        for key in keys:
            self._rows.move_to_end(key)
            out.append(self._rows[key])
        while len(self._rows) > max(self.size, len(set(keys))):
            self._rows.popitem(last=False)
        return out

    def clear(self) -> None:
        self._rows.clear()


CACHE = _RunCache()


def _nearest(rows: list[OpenFaceRow], centre: np.ndarray, max_dist: float) -> OpenFaceRow | None:
    """The row whose landmark centroid is nearest ``centre``, if within ``max_dist`` pixels."""
    best, best_d = None, max_dist
    for row in rows:
        c = np.nanmean(row.landmarks, 0)
        d = float(np.hypot(*(c - centre)))
        if np.isfinite(d) and d <= best_d:
            best, best_d = row, d
    return best


def _check(binary: str | None, timeout: float) -> tuple[Path, float]:
    timeout = float(timeout)
    if not timeout > 0:
        raise ConfigError(f"OpenFace timeout must be > 0 seconds, got {timeout:g}")
    return find_binary(binary), timeout


class OpenFaceAU:
    """17 AU intensities and head pose from OpenFace FeatureExtraction run on the frames.

    ``estimate`` needs ``images`` (the RGB frame of each face row); each row is matched to the
    OpenFace face whose landmark centroid is nearest its own (within half the face's size).
    Unmatched faces get NaN AUs and pose with confidence 0.
    """

    provides = AU_NAMES

    def __init__(self, binary: str | None = None, timeout: float = 600.0) -> None:
        self.binary, self.timeout = _check(binary, timeout)

    def estimate(self, landmarks: np.ndarray, image_size: tuple[int, int],
                 track_ids: Sequence[int] | None = None,
                 images: Sequence[np.ndarray] | None = None) -> list[Analysis]:
        landmarks = np.asarray(landmarks, np.float32).reshape(-1, 68, 2)
        if images is None:
            raise ConfigError("the openface AU backend needs the frames (estimate(..., images=...)); "
                              "update facegan-video so its FaceAnalyzer passes images to AU backends")
        if len(images) != len(landmarks):
            raise ValueError(f"got {len(images)} images for {len(landmarks)} faces; pass one image per face row")
        per_face = CACHE.rows(self.binary, images, self.timeout)
        out = []
        for lm, rows in zip(landmarks, per_face):
            size = float(np.hypot(*(np.nanmax(lm, 0) - np.nanmin(lm, 0)))) if np.isfinite(lm).any() else 0.0
            row = _nearest(rows, np.nanmean(lm, 0), 0.5 * size) if size > 0 else None
            if row is None:
                nan3 = np.full(3, np.nan, np.float32)
                out.append(Analysis(np.full(len(AU_NAMES), np.nan, np.float32), nan3, nan3.copy(), 0.0))
            else:
                out.append(Analysis(aus=row.aus.copy(), pose_t=row.pose_t.copy(), pose_r=row.pose_r.copy(),
                                    confidence=float(np.clip(row.confidence, 0.0, 1.0))))
        return out


class OpenFaceLandmarker:
    """68 landmarks from OpenFace FeatureExtraction: per box, the OpenFace face nearest the box centre."""

    def __init__(self, binary: str | None = None, timeout: float = 600.0) -> None:
        self.binary, self.timeout = _check(binary, timeout)

    def landmarks(self, image: np.ndarray, boxes: Sequence[np.ndarray]) -> np.ndarray:
        out = np.full((len(boxes), 68, 2), np.nan, np.float32)
        if not len(boxes):
            return out
        rows = CACHE.rows(self.binary, [image], self.timeout)[0]
        for i, box in enumerate(boxes):
            x0, y0, x1, y1 = np.asarray(box, np.float64)
            row = _nearest(rows, np.array([(x0 + x1) / 2, (y0 + y1) / 2]), 0.5 * float(np.hypot(x1 - x0, y1 - y0)))
            if row is not None:
                out[i] = row.landmarks
        return out


#: Options of both backends: where FeatureExtraction is and how long one run may take.
OPTIONS = (
    Option("binary", str, None, f"FeatureExtraction executable (path or name on PATH); default ${ENV_VAR}, then PATH"),
    Option("timeout", float, 600.0, "seconds one FeatureExtraction run may take", low=0, low_open=True),
)


@hookimpl
def facegan_video_au_estimators() -> list[Backend]:
    return [Backend("openface", OpenFaceAU,
                    "17 AUs + head pose from OpenFace 2.x FeatureExtraction run on the frames (needs the binary)",
                    options=OPTIONS, capabilities=Capabilities(frames=True), extra={"provides": AU_NAMES})]


@hookimpl
def facegan_video_landmarkers() -> list[Backend]:
    return [Backend("openface", OpenFaceLandmarker,
                    "68 landmarks from OpenFace 2.x FeatureExtraction (needs the binary)", options=OPTIONS)]
