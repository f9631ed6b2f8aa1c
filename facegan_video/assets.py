"""Where the data and weight files live: this package's own (``DATA_DIR``) and the dlib models shipped in a
PyPI package, located without downloading anything at run time; and the dlib model objects, loaded once.

A dlib model object is immutable once loaded, so one per file and process is shared by every analyzer
(``reenact`` builds a source and a driving analyzer; a second copy of the 68-point predictor would cost
another 0.8 s). The objects are not thread-safe; the pipelines call them from one thread.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from typing import Any

import dlib

from facegan_video.errors import BackendUnavailableError

DATA_DIR = Path(__file__).with_name("data")
#: dlib's HOG frontal face detector as ``detector.save()`` writes it (see MODEL_CARD_hog_detector.md).
HOG_DETECTOR = DATA_DIR / "frontal_face_detector.svm"
#: Trained network weights shipped with the package, each with a model card beside them in ``DATA_DIR``.
WEIGHTS_DIR = DATA_DIR / "weights"
#: The landmark transformer L_T and AU regressor L_a of the ``mlp`` transform (MODEL_CARD_lt_mlp.md).
LT_WEIGHTS = WEIGHTS_DIR / "lt_mlp.safetensors"
#: G_r of the ``facegan`` reenactor and G_b of the ``facegan`` mixer (MODEL_CARD_facegan_reenactor.md,
#: MODEL_CARD_facegan_mixer.md), fp16.
REENACTOR_WEIGHTS = WEIGHTS_DIR / "facegan_reenactor.safetensors"
MIXER_WEIGHTS = WEIGHTS_DIR / "facegan_mixer.safetensors"


@cache
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
        raise BackendUnavailableError(f"dlib model {filename} not found in {path.parent}; "
                                      "reinstall face_recognition_models")
    return str(path)


@cache
def hog_detector() -> Any:
    """dlib's HOG face detector from its serialised copy (15 ms), not ``get_frontal_face_detector()``,
    which decodes the same detector from a string compiled into dlib (0.6 s); the latter if the copy
    does not load in this dlib build."""
    try:
        return dlib.fhog_object_detector(str(HOG_DETECTOR))
    except RuntimeError:
        return dlib.get_frontal_face_detector()


@cache
def shape_predictor(filename: str) -> Any:
    """The shape predictor in ``face_recognition_models`` called ``filename``, loaded once per process."""
    return dlib.shape_predictor(dlib_model(filename))


@cache
def cnn_face_detector(filename: str) -> Any:
    return dlib.cnn_face_detection_model_v1(dlib_model(filename))


@cache
def face_recognition_model(filename: str) -> Any:
    return dlib.face_recognition_model_v1(dlib_model(filename))


MMOD_DETECTOR = "mmod_human_face_detector.dat"
SHAPE_68 = "shape_predictor_68_face_landmarks.dat"
FACE_EMBEDDER = "dlib_face_recognition_resnet_model_v1.dat"
