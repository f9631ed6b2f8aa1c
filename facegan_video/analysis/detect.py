"""dlib face detectors: HOG (fast, CPU) and MMOD CNN (more robust to pose, slower)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from facegan_video.assets import MMOD_DETECTOR, cnn_face_detector, hog_detector
from facegan_video.hookspecs import hookimpl
from facegan_video.options import Option
from facegan_video.types import Backend, Detection


def _resize(image: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return image
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=interp)


class _ScaledDetector:
    """Runs a detector at a working resolution: shrunk to the faces it found, upsampled while it finds none.

    Large frames are shrunk to ``max_size`` (faces in them are big); small ones (e.g. 176x144) are
    doubled up to ``max_upsample`` times until a face appears, but only while the doubled frame
    stays within ``max_upsampled`` pixels, so a frame without a face (a cutaway, a damaged frame)
    costs a few passes over a bounded image. Once faces are found, the next frame of the same size
    is searched first at the scale that makes the smallest of them ``face_size`` pixels wide (or at
    the scale that found them, if that is smaller): tracking re-detections of a 250-pixel face run
    on a frame shrunk 2.5 times. When that pass finds nothing, the full search follows.
    """

    def __init__(self, max_size: int, max_upsample: int, threshold: float, max_upsampled: int,
                 face_size: int) -> None:
        self.max_size = max_size
        self.max_upsample = max_upsample
        self.threshold = threshold
        self.max_upsampled = max_upsampled
        self.face_size = face_size
        self._hint: tuple[tuple[int, ...], float] | None = None  # frame shape, scale to try first

    def _run(self, image: np.ndarray) -> tuple[list[np.ndarray], list[float]]:
        raise NotImplementedError

    def _scales(self, shape: tuple[int, ...]) -> list[float]:
        longest = max(shape[:2])
        base = min(1.0, self.max_size / longest)
        scales = [base * 2**k for k in range(self.max_upsample + 1)
                  if k == 0 or base * 2**k * longest <= self.max_upsampled]
        if self._hint is not None and self._hint[0] == shape[:2]:
            hint = self._hint[1]
            scales = [hint] + [s for s in scales if s != hint]
        return scales

    def _remember(self, shape: tuple[int, ...], scale: float, found: list[Detection]) -> None:
        smallest = max(min(float(d.box[2] - d.box[0]) for d in found), 1.0)
        fitted = self.face_size / smallest if self.face_size else scale  # makes that face face_size wide
        self._hint = (shape[:2], min(scale, fitted))

    def detect(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        out = []
        for image in images:
            found: list[Detection] = []
            for scale in self._scales(image.shape):
                boxes, scores = self._run(_resize(image, scale))
                found = [Detection(box=b / scale, score=s) for b, s in zip(boxes, scores) if s >= self.threshold]
                if found:
                    self._remember(image.shape, scale, found)
                    break
            else:
                self._hint = None
            out.append(found)
        return out


class HogDetector(_ScaledDetector):
    """dlib's HOG + linear SVM frontal face detector (a copy ships in ``facegan_video/data``).

    ``threshold`` 0.2 drops the weak hits dlib reports on textures (badges, patterns); real faces
    in the shared clips score 0.45 or more.
    """

    def __init__(self, max_size: int = 640, max_upsample: int = 3, threshold: float = 0.2,
                 max_upsampled: int = 720, face_size: int = 120) -> None:
        super().__init__(max_size, max_upsample, threshold, max_upsampled, face_size)
        self._detector = hog_detector()

    def _run(self, image):
        rects, scores, _ = self._detector.run(image, 0, min(self.threshold, 0.0))
        return [np.array([r.left(), r.top(), r.right(), r.bottom()], np.float32) for r in rects], list(scores)


class MmodDetector(_ScaledDetector):
    """dlib's MMOD CNN face detector (weights from ``face_recognition_models``)."""

    def __init__(self, max_size: int = 640, max_upsample: int = 2, threshold: float = 0.0,
                 max_upsampled: int = 720, face_size: int = 120) -> None:
        super().__init__(max_size, max_upsample, threshold, max_upsampled, face_size)
        self._detector = cnn_face_detector(MMOD_DETECTOR)

    def _run(self, image):
        dets = self._detector(image, 0)
        boxes = [np.array([d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom()], np.float32) for d in dets]
        return boxes, [float(d.confidence) for d in dets]


def _options(max_upsample: int, threshold: float) -> tuple[Option, ...]:
    return (
        Option("max_size", int, 640, "larger frames are shrunk to this many pixels before detection", low=32),
        Option("max_upsample", int, max_upsample, "how many times a frame without a face is doubled and searched again",
               low=0, high=4),
        Option("max_upsampled", int, 720, "a frame is doubled only while its longer side stays within this many "
               "pixels (bounds the work on frames without a face)", low=32),
        Option("face_size", int, 120, "once faces are found, re-detection runs first on the frame shrunk so the "
               "smallest is this many pixels wide (0: never shrink)", low=0),
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
