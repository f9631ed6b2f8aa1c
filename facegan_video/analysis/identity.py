"""Face identity embeddings (dlib's 128-d ResNet, 99.38 % on LFW) for identity checks and CSIM."""

from __future__ import annotations

import dlib
import numpy as np

from facegan_video.assets import FACE_EMBEDDER, face_recognition_model

#: dlib's own decision threshold: distances below it are the same person.
SAME_PERSON = 0.6


class FaceEmbedder:
    """128-d embeddings of faces given their 68 landmarks (the aligned chip is cut from them)."""

    def __init__(self) -> None:
        self._net = face_recognition_model(FACE_EMBEDDER)

    def embed(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """(128,) float32 embedding of the face with ``landmarks`` (68, 2) in RGB ``image``."""
        pts = [dlib.point(int(round(x)), int(round(y))) for x, y in landmarks]
        lo, hi = landmarks.min(0), landmarks.max(0)
        rect = dlib.rectangle(int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1]))
        shape = dlib.full_object_detection(rect, pts)
        return np.asarray(self._net.compute_face_descriptor(np.ascontiguousarray(image), shape), np.float32)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
