"""Where the data and weight files live: this package's own (``DATA_DIR``) and the dlib models shipped in a
PyPI package, located without downloading anything at run time."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from facegan_video.errors import BackendUnavailableError

DATA_DIR = Path(__file__).with_name("data")


@lru_cache(maxsize=None)
def dlib_model(filename: str) -> str:
    """Path of a dlib model inside ``face_recognition_models``.

    The package is located without importing it: its ``__init__`` needs ``pkg_resources``, which
    recent setuptools no longer provides.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        raise BackendUnavailableError(
            "dlib models are missing: run `pip install face_recognition_models`"
        )
    path = Path(spec.origin).parent / "models" / filename
    if not path.is_file():
        raise BackendUnavailableError(f"dlib model {filename} not found in {path.parent}; reinstall face_recognition_models")
    return str(path)


MMOD_DETECTOR = "mmod_human_face_detector.dat"
SHAPE_68 = "shape_predictor_68_face_landmarks.dat"
FACE_EMBEDDER = "dlib_face_recognition_resnet_model_v1.dat"
