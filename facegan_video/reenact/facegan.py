"""The ``facegan`` reenactor and mixer: the paper's G_r and G_b (Sections 3.2-3.3) on face crops.

Reenactor: every target face is cropped as the networks were trained (``reenact.crops``); the
source frame is cropped where the target face will be, the target landmarks become the heatmap H_t,
and the warp variant also gets the built-in ``warp`` reenactor's frame in that crop. G_r's face and
hair (its own segmentation) are pasted over the source frame, and the frames come back with a
``Segmentation``: G_r's classes for each frame, and for the source those of G_r run on the source
at its own landmarks (once per source), which the mixer needs to remove the old face.

Mixer: in each target crop, G_b gets the reenacted face and hair (by the reenactor's segmentation)
and the background (the source frame, or ``background``) without the source's face and hair, and
returns I_c and the mask M. eq. 9 is applied at the frame's resolution, so where M is 0 the
background's own pixels are kept sharp; outside the crops nothing changes.

Both run batched through ``inference.TorchRunner`` on the chosen device (autocast on CUDA).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facegan_video.assets import MIXER_WEIGHTS, REENACTOR_WEIGHTS
from facegan_video.devices import PRECISIONS
from facegan_video.errors import BackendUnavailableError, ConfigError, FaceganError
from facegan_video.hookspecs import hookimpl
from facegan_video.options import Option
from facegan_video.reenact import check_source, same_image
from facegan_video.reenact.crops import Crops
from facegan_video.types import Backend, Capabilities, Segmentation

#: Crop side the networks run at unless ``resolution`` says otherwise (the paper's 256).
RESOLUTION = 256
#: Crops per network call unless ``batch_size`` says otherwise.
BATCH_SIZE = 8
#: Probabilities (0-1) of "background" outside every crop.
_BACKGROUND = np.array([1.0, 0.0, 0.0], np.float32)


def _weights(checkpoint: Path | None, shipped: Path) -> Path:
    """The checkpoint to load: the user's, else the shipped one (its absence makes the backend unavailable)."""
    if checkpoint is None and not shipped.is_file():
        raise BackendUnavailableError(f"the shipped weights {shipped.name} are not installed; pass a checkpoint "
                                      "with --opt reenact.checkpoint=PATH / --opt mix.checkpoint=PATH")
    return checkpoint or shipped


def _check_resolution(resolution: int, multiple: int) -> None:
    if resolution % multiple:
        raise ConfigError(f"facegan: resolution must be a multiple of {multiple}, got {resolution}")


class _Network:
    """A network from a checkpoint (default: the ``shipped`` weights), run batched through ``TorchRunner``
    at crops of side ``resolution``; ``_load`` says how the checkpoint becomes the network."""

    shipped: Path

    def __init__(self, checkpoint: Path | None = None, resolution: int = RESOLUTION, batch_size: int = BATCH_SIZE,
                 precision: str = "auto", device: str = "cpu") -> None:
        # torch is imported here, not with the plugin, so commands that never build these backends start fast
        from facegan_video.checkpoint import load_checkpoint
        from facegan_video.inference import TorchRunner

        self.resolution = resolution
        network, inference = self._load(load_checkpoint(_weights(checkpoint, self.shipped)))
        _check_resolution(resolution, network.config.unet.multiple)
        self.runner = TorchRunner(inference, device, batch_size, precision)


class FaceganReenactor(_Network):
    """G_r from a ``train reenactor`` or ``train joint`` checkpoint (default: the shipped weights)."""

    shipped = REENACTOR_WEIGHTS

    def _load(self, checkpoint):
        """G_r and its inference module; the warp variant also reads the warp reenactor's frames."""
        from facegan_video.nets.reenactor import ReenactorInference, reenactor_from_checkpoint
        from facegan_video.reenact.warp import WarpReenactor

        network = reenactor_from_checkpoint(checkpoint)
        self._warp = WarpReenactor(work_size=self.resolution) if network.config.warp else None
        self._source: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # image, landmarks, segmentation
        return network, ReenactorInference(network)

    def reenact(self, source: np.ndarray, source_landmarks: np.ndarray, target_landmarks: np.ndarray
                ) -> tuple[np.ndarray, Segmentation]:
        """HxWx3 uint8 source, (68, 2) and (N, 68, 2) landmarks -> (N, H, W, 3) frames and their ``Segmentation``."""
        check_source(source)
        lms = np.asarray(source_landmarks, np.float32).reshape(68, 2)
        targets = np.asarray(target_landmarks, np.float32).reshape(-1, 68, 2)
        if not (np.isfinite(lms).all() and np.isfinite(targets).all()):
            raise ValueError("landmarks must be finite")
        frames, probs = self._render(source, lms, targets)
        return frames, Segmentation(probs, self._source_segmentation(source, lms))

    def _render(self, source: np.ndarray, lms: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        crops = Crops(targets, self.resolution, source.shape)
        # the warp G_r is conditioned on, rendered only where the crops read it
        warped = self._warp.reenact(source, lms, targets, region=crops.region()) if self._warp is not None else None
        src = np.stack([crops.crop(source, k) for k in range(len(crops))])
        wrp = np.stack([crops.crop(warped[k], k) for k in range(len(crops))]) if warped is not None else src
        rgb, classes = self.runner(src, crops.landmarks(targets), wrp)
        frames = np.repeat(source[None], len(crops), 0)
        probs = np.empty(frames.shape, np.uint8)
        probs[:] = (_BACKGROUND * 255).astype(np.uint8)
        # rounded to uint8 at crop size, so the full-resolution pasting is OpenCV's 8-bit resampling and blending
        rgb, classes = _to_uint8(rgb), _to_uint8(classes * 255)
        for k in range(len(crops)):
            pasted = crops.uncrop(k, rgb[k], classes[k])
            if pasted is None:
                continue
            where, win, (face, cls) = pasted
            alpha = (255 - cls[..., 0]) * (win / 255)  # face or hair, faded out at the crop's edge
            frames[k][where] = cv2.blendLinear(face, np.ascontiguousarray(frames[k][where]), alpha, 1 - alpha)
            probs[k][where] = cv2.blendLinear(cls, np.ascontiguousarray(probs[k][where]), win, 1 - win)
        return frames, probs

    def _source_segmentation(self, source: np.ndarray, lms: np.ndarray) -> np.ndarray:
        """G_r's classes of the source at its own landmarks, kept while the same source comes."""
        known = self._source
        if not (known is not None and np.array_equal(known[1], lms) and same_image(known[0], source)):
            self._source = (source.copy(), lms.copy(), self._render(source, lms, lms[None])[1][0])
        return self._source[2]


class FaceganMixer(_Network):
    """G_b from a ``train mixer`` or ``train joint`` checkpoint (default: the shipped weights)."""

    shipped = MIXER_WEIGHTS

    @staticmethod
    def _load(checkpoint):
        from facegan_video.nets.mixer import MixerInference, mixer_from_checkpoint

        network = mixer_from_checkpoint(checkpoint)
        return network, MixerInference(network)

    def mix(self, source: np.ndarray, reenacted: np.ndarray, target_landmarks: np.ndarray,
            background: np.ndarray | None = None, *, source_landmarks: np.ndarray | None = None,
            segmentation: Segmentation | None = None) -> np.ndarray:
        """(N, H, W, 3) uint8 reenacted frames with their ``segmentation`` -> (N, H, W, 3) uint8 frames."""
        check_source(source)
        targets = np.asarray(target_landmarks, np.float32).reshape(-1, 68, 2)
        if reenacted.ndim != 4 or reenacted.shape[1:] != source.shape or len(reenacted) != len(targets):
            raise ValueError(f"reenacted frames must be (N, H, W, 3) of the source's size {source.shape} with one "
                             f"target per frame, got {reenacted.shape} and {len(targets)} targets")
        if segmentation is None:
            raise FaceganError("the facegan mixer needs the face/hair segmentation of the facegan reenactor")
        if segmentation.frames.shape != reenacted.shape or segmentation.source.shape != source.shape:
            raise ValueError("segmentation must be of the reenacted frames' and the source's sizes")
        base = source if background is None else background
        if base.shape != source.shape:
            raise ValueError(f"background must be of the source's size {source.shape}, got {base.shape}")
        crops = Crops(targets, self.resolution, source.shape)
        n = len(crops)
        face = np.stack([crops.crop(reenacted[k], k) for k in range(n)])
        # class probabilities cropped, then summed: the crops' pixels, not the whole frames'
        fg = np.stack([_foreground(crops.crop(segmentation.frames[k], k)) for k in range(n)])
        back = np.stack([crops.crop(base, k) for k in range(n)])
        holes = np.stack([_foreground(crops.crop(segmentation.source, k)) for k in range(n)])
        colour, mask = self.runner(face, fg, back, holes)
        colour = _to_uint8(colour)
        out = np.repeat(base[None], n, 0)
        for k in range(n):
            pasted = crops.uncrop(k, colour[k], np.ascontiguousarray(mask[k], np.float32))
            if pasted is None:
                continue
            where, win, (c, m) = pasted
            m = m * win
            hole = _foreground(segmentation.source[where]) * win
            rect = np.ascontiguousarray(base[where])
            kept = cv2.blendLinear(rect, np.zeros_like(rect), 1 - hole, hole)  # I_b at frame resolution
            out[k][where] = cv2.blendLinear(c, kept, m, 1 - m)  # eq. 9
        return out


def _to_uint8(values: np.ndarray) -> np.ndarray:
    return np.clip(values + 0.5, 0, 255).astype(np.uint8)


def _foreground(probs: np.ndarray) -> np.ndarray:
    """(..., H, W) face-or-hair probability in 0-1 from uint8 class probabilities."""
    return (probs[..., 1].astype(np.float32) + probs[..., 2]) / 255.0


def _backend(factory: type, kind: str, description: str) -> list[Backend]:
    """The ``facegan`` backend of ``kind`` (reenactor or mixer): its options (the shipped weights' model
    card is MODEL_CARD_facegan_KIND.md), on a device, with a segmentation from reenactor to mixer."""
    options = (
        Option("checkpoint", Path, None, f"a checkpoint from `facegan-video train {kind}` or `train joint` "
               f"(default: the shipped weights, MODEL_CARD_facegan_{kind}.md)", exists=True),
        Option("resolution", int, RESOLUTION, "crop side the network runs at (a multiple of 32; it was trained "
               "at 256)", low=32, high=1024),
        Option("batch_size", int, BATCH_SIZE, "crops per network call", low=1),
        Option("precision", str, "auto", "autocast dtype: auto is bfloat16 (or float16) on CUDA, float32 elsewhere",
               choices=PRECISIONS),
    )
    return [Backend("facegan", factory, description, options=options,
                    capabilities=Capabilities(device=True, segmentation=True))]


@hookimpl
def facegan_video_reenactors() -> list[Backend]:
    return _backend(FaceganReenactor, "reenactor", "the paper's G_r: a U-Net on the source crop, the target-landmark "
                    "heatmap and (shipped) the warp, with a face/hair/background segmentation head")


@hookimpl
def facegan_video_mixers() -> list[Backend]:
    return _backend(FaceganMixer, "mixer", "the paper's G_b: a U-Net that fills the background the face uncovers "
                    "and composes I_r = M*I_c + (1-M)*I_b (eq. 9); needs the facegan reenactor's segmentation")
