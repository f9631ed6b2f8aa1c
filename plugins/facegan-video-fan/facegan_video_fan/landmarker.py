"""The ``fan`` landmarker: face-alignment's 2D-FAN run on the tracker's boxes.

The face boxes come from facegan-video's own detector/tracker, so face-alignment's detector is not
used (it is built as the weightless ``folder`` detector); only the 2D-FAN weights are needed.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facegan_video.errors import BackendUnavailableError

#: Setting this environment variable (to anything but "", "0", "false", "no") lets face-alignment
#: download missing weights into the torch hub cache.
ALLOW_DOWNLOADS_ENV = "FACEGAN_ALLOW_DOWNLOADS"
INSTALL_HINT = "the fan landmark backend needs face-alignment: pip install 'facegan-video-fan[fan]'"
#: 2D-FAN weight URLs of the face-alignment releases we know, used when the installed package does
#: not expose ``face_alignment.api.models_urls`` (1.4.x ships a TorchScript zip, 1.5+ a state dict).
KNOWN_2DFAN_URLS = (
    "https://www.adrianbulat.com/downloads/python-fan/2DFAN4-cd938726ad.zip",
    "https://www.adrianbulat.com/downloads/python-fan/2DFAN4-11f355bf06.pth.tar",
)
#: Errors from a failed download (urllib's URLError and HTTPError are OSErrors).
_NETWORK_ERRORS = (OSError, ConnectionError, TimeoutError)


def downloads_allowed() -> bool:
    return os.environ.get(ALLOW_DOWNLOADS_ENV, "").strip().lower() not in ("", "0", "false", "no")


def boxes_to_fa(boxes: Sequence[np.ndarray]) -> list[np.ndarray]:
    """facegan-video boxes ``(x0, y0, x1, y1)`` -> face-alignment detections ``[x0, y0, x1, y1, score=1.0]``."""
    out = []
    for box in boxes:
        b = np.asarray(box, np.float32).reshape(-1)
        if b.shape != (4,):
            raise ValueError(f"a box must be (x0, y0, x1, y1), got shape {np.shape(box)}")
        out.append(np.array([b[0], b[1], b[2], b[3], 1.0], np.float32))
    return out


def to_landmark_array(preds: Any, n: int) -> np.ndarray:
    """face-alignment's output for ``n`` boxes -> ``(n, 68, 2) float32``.

    ``preds`` is None (no face at all) or a list with one entry per box: a ``(68, 2)`` or ``(68, 3)``
    array (the depth column is dropped), or None. A face it failed on (None, wrong shape, missing
    entry, non-finite points) becomes a NaN row.
    """
    out = np.full((n, 68, 2), np.nan, np.float32)
    if preds is None:
        return out
    for i, p in enumerate(list(preds)[:n]):
        if p is None:
            continue
        a = np.asarray(p, np.float32)
        if a.ndim != 2 or a.shape[0] != 68 or a.shape[1] not in (2, 3):
            continue
        a = a[:, :2]
        if np.isfinite(a).all():
            out[i] = a
    return out


def _hub_checkpoints() -> Path:
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def required_weights(fa_module: Any) -> list[str]:
    """File names of the 2D-FAN weights the installed face-alignment loads (any one of them suffices)."""
    try:
        urls = [importlib.import_module(fa_module.__name__ + ".api").models_urls["2DFAN-4"]]
    except Exception:  # older/newer layouts: fall back to the names we know
        urls = list(KNOWN_2DFAN_URLS)
    return [u.rsplit("/", 1)[-1].split("?", 1)[0] for u in urls]


def check_weights(fa_module: Any) -> None:
    """Raise ``BackendUnavailableError`` if the 2D-FAN weights are not in the torch hub cache (downloads off)."""
    if downloads_allowed():
        return
    folder = _hub_checkpoints()
    names = required_weights(fa_module)
    if any((folder / name).is_file() for name in names):
        return
    raise BackendUnavailableError(
        f"the fan landmark backend needs the 2D-FAN weights {' or '.join(names)}, not found in {folder}: "
        f"put the file there (from https://www.adrianbulat.com/downloads/python-fan/), "
        f"or set {ALLOW_DOWNLOADS_ENV}=1 to let face-alignment fetch it")


class FanLandmarker:
    """face-alignment 2D-FAN landmarks for the given boxes, all boxes of a frame in one call.

    Options: ``device`` ("cpu", "cuda", "cuda:1"...), ``flip_input`` (average with the mirrored
    crop: slower, slightly steadier), ``batch_size`` (crops per network pass, face-alignment>=1.5).
    """

    def __init__(self, device: str = "cpu", flip_input: bool = False, batch_size: int = 8) -> None:
        if not isinstance(device, str) or not device:
            raise ValueError(f"device must be a torch device string such as 'cpu' or 'cuda', got {device!r}")
        batch_size = int(batch_size)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.device, self.flip_input, self.batch_size = device, bool(flip_input), batch_size
        try:
            import face_alignment
        except ImportError:
            raise BackendUnavailableError(INSTALL_HINT) from None
        check_weights(face_alignment)
        kwargs: dict[str, Any] = {"device": device, "flip_input": self.flip_input, "face_detector": "folder"}
        params = inspect.signature(face_alignment.FaceAlignment).parameters
        if "max_batch_size" in params:
            kwargs["max_batch_size"] = batch_size
        if "compile" in params:
            kwargs["compile"] = False  # torch.compile's warm-up and cache are not worth it here
        lt = face_alignment.LandmarksType
        landmarks_type = getattr(lt, "TWO_D", None) or lt._2D
        try:
            self._fa = face_alignment.FaceAlignment(landmarks_type, **kwargs)
        except _NETWORK_ERRORS as exc:
            raise BackendUnavailableError(
                f"the fan landmark backend could not load or download the 2D-FAN weights "
                f"({type(exc).__name__}: {exc}); put them in {_hub_checkpoints()}".splitlines()[0]) from None

    def landmarks(self, image: np.ndarray, boxes: Sequence[np.ndarray]) -> np.ndarray:
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"image must be HxWx3 uint8 RGB, got {image.dtype} {image.shape}")
        dets = boxes_to_fa(boxes)
        if not dets:
            return np.zeros((0, 68, 2), np.float32)
        preds: list[Any] = []
        for start in range(0, len(dets), self.batch_size):
            chunk = dets[start:start + self.batch_size]
            got = self._fa.get_landmarks_from_image(image.copy(), detected_faces=chunk)
            got = [None] * len(chunk) if got is None else list(got)
            preds.extend((got + [None] * len(chunk))[:len(chunk)])
        return to_landmark_array(preds, len(dets))
