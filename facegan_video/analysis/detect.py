"""dlib face detectors: HOG (fast, CPU) and MMOD CNN (more robust to pose, slower)."""

from __future__ import annotations

from typing import Sequence

import cv2
import dlib
import numpy as np

from facegan_video.hookspecs import hookimpl
from facegan_video.assets import MMOD_DETECTOR, dlib_model
from facegan_video.options import Option
from facegan_video.types import Backend, Detection


def _resize(image: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return image
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=interp)


class _ScaledDetector:
    """Runs a detector at a working resolution, upsampling when no face is found.

    Large frames are shrunk to ``max_size`` (faces in them are big); small ones (e.g. 176x144) are
    doubled up to ``max_upsample`` times until a face appears. The scale that last found a face is
    tried first next time, so tracking re-detections on a small video cost one pass.
    """

    def __init__(self, max_size: int, max_upsample: int, threshold: float) -> None:
        self.max_size = max_size
        self.max_upsample = max_upsample
        self.threshold = threshold
        self._last_scale: float | None = None

    def _run(self, image: np.ndarray) -> tuple[list[np.ndarray], list[float]]:
        raise NotImplementedError

    def _scales(self, shape: tuple[int, ...]) -> list[float]:
        base = min(1.0, self.max_size / max(shape[:2]))
        scales = [base * 2**k for k in range(self.max_upsample + 1)]
        if self._last_scale in scales:
            scales.remove(self._last_scale)
            scales.insert(0, self._last_scale)
        return scales

    def detect(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        out = []
        for image in images:
            found: list[Detection] = []
            for scale in self._scales(image.shape):
                boxes, scores = self._run(_resize(image, scale))
                found = [Detection(box=b / scale, score=s) for b, s in zip(boxes, scores) if s >= self.threshold]
                if found:
                    self._last_scale = scale
                    break
            out.append(found)
        return out


class HogDetector(_ScaledDetector):
    """dlib's HOG + linear SVM frontal face detector (ships inside dlib).

    ``threshold`` 0.2 drops the weak hits dlib reports on textures (badges, patterns); real faces
    in the shared clips score 0.45 or more.
    """

    def __init__(self, max_size: int = 640, max_upsample: int = 3, threshold: float = 0.2) -> None:
        super().__init__(max_size, max_upsample, threshold)
        self._detector = dlib.get_frontal_face_detector()

    def _run(self, image):
        rects, scores, _ = self._detector.run(image, 0, min(self.threshold, 0.0))
        return [np.array([r.left(), r.top(), r.right(), r.bottom()], np.float32) for r in rects], list(scores)


class MmodDetector(_ScaledDetector):
    """dlib's MMOD CNN face detector (weights from ``face_recognition_models``)."""

    def __init__(self, max_size: int = 640, max_upsample: int = 2, threshold: float = 0.0) -> None:
        super().__init__(max_size, max_upsample, threshold)
        self._detector = dlib.cnn_face_detection_model_v1(dlib_model(MMOD_DETECTOR))

    def _run(self, image):
        dets = self._detector(image, 0)
        boxes = [np.array([d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom()], np.float32) for d in dets]
        return boxes, [float(d.confidence) for d in dets]


def _options(max_upsample: int, threshold: float) -> tuple[Option, ...]:
    return (
        Option("max_size", int, 640, "larger frames are shrunk to this many pixels before detection", low=32),
        Option("max_upsample", int, max_upsample, "how many times a frame without a face is doubled and searched again",
               low=0, high=4),
        Option("threshold", float, threshold, "lowest detection score kept"),
    )


@hookimpl
def facegan_video_detectors() -> list[Backend]:
    return [
        Backend("hog", HogDetector, "dlib HOG detector; fast on CPU, frontal faces; auto-upsamples small faces",
                options=_options(max_upsample=3, threshold=0.2)),
        Backend("mmod", MmodDetector, "dlib MMOD CNN detector; handles more head pose, slower on CPU",
                options=_options(max_upsample=2, threshold=0.0)),
    ]
