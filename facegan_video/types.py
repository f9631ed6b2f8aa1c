"""Data passed between stages, and the interface each stage's backends implement.

Arrays, not video files, cross these interfaces, so every backend can be tested on tensors alone.
Landmarks are (68, 2) float32 pixel coordinates in the iBUG 300-W order; boxes are
(x0, y0, x1, y1) float pixel coordinates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from facegan_video.options import Option

#: The 17 OpenFace 2.x intensity Action Units, in OpenFace's column order.
AU_NAMES: tuple[str, ...] = (
    "AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU09", "AU10", "AU12",
    "AU14", "AU15", "AU17", "AU20", "AU23", "AU25", "AU26", "AU45",
)
#: Head rotation columns (radians, OpenFace conventions): pitch, yaw, roll.
POSE_NAMES: tuple[str, ...] = ("pose_Rx", "pose_Ry", "pose_Rz")
#: The paper's 20-d motion code: 17 AU intensities (0-5) followed by pitch, yaw, roll.
MOTION_NAMES: tuple[str, ...] = tuple(f"{a}_r" for a in AU_NAMES) + POSE_NAMES
#: Where the AUs and the head rotation sit in a motion code (``motion[..., AUS]``).
AUS = slice(0, len(AU_NAMES))
POSE = slice(len(AU_NAMES), len(AU_NAMES) + len(POSE_NAMES))
#: AU intensities run from 0 to this (OpenFace's scale).
AU_MAX = 5.0
#: The classes of a face segmentation, in the order of its channels (and of the training labels 0, 1, 2).
SEGMENT_CLASSES: tuple[str, ...] = ("background", "face", "hair")


@dataclass
class Detection:
    box: np.ndarray  # (4,) x0, y0, x1, y1
    score: float


@dataclass
class Analysis:
    """AU intensities and head pose of one face in one frame."""

    aus: np.ndarray  # (17,) float32, 0-5, NaN where the backend does not provide the AU
    pose_t: np.ndarray  # (3,) translation in mm, camera frame (x right, y down, z forward)
    pose_r: np.ndarray  # (3,) pitch, yaw, roll in radians
    confidence: float  # 0-1: how well the landmarks fit a face


@dataclass
class FaceRecord:
    """Everything the analysis stages know about one face in one frame."""

    frame: int
    timestamp: float
    face_id: int
    box: np.ndarray
    landmarks: np.ndarray
    analysis: Analysis | None = None
    success: bool = True

    @property
    def usable(self) -> bool:
        """Landmarks that look like a face, and their AUs and pose: what reenactment can use."""
        return self.success and self.analysis is not None

    @property
    def motion(self) -> np.ndarray:
        """The paper's 20-vector (17 AUs then pitch, yaw, roll)."""
        assert self.analysis is not None
        return np.concatenate([self.analysis.aus, self.analysis.pose_r]).astype(np.float32)


@dataclass
class SourceFace:
    """What the generation stages know of the source face."""

    landmarks: np.ndarray  # (68, 2) pixels
    motion: np.ndarray  # (20,) the AU stage's 17 AUs + pitch, yaw, roll
    image_size: tuple[int, int]  # (w, h)


@runtime_checkable
class Detector(Protocol):
    """Finds faces; called on the frames where the tracker asks for detection."""

    def detect(self, images: Sequence[np.ndarray]) -> list[list[Detection]]: ...


@runtime_checkable
class Landmarker(Protocol):
    """Places 68 landmarks inside given boxes of one image."""

    def landmarks(self, image: np.ndarray, boxes: Sequence[np.ndarray]) -> np.ndarray:
        """Returns (len(boxes), 68, 2) float32."""
        ...


@runtime_checkable
class Tracker(Protocol):
    """Keeps face identities over time and decides when detection must run."""

    def needs_detection(self, frame_index: int) -> bool: ...

    def update(self, frame_index: int, detections: list[Detection] | None) -> list[tuple[int, np.ndarray]]:
        """Returns (track_id, box) of the faces to process in this frame."""
        ...

    def observe(self, track_id: int, landmarks: np.ndarray, confidence: float) -> None:
        """Feeds back landmarks so the box can follow the face until the next detection."""
        ...


@runtime_checkable
class AUEstimator(Protocol):
    """Estimates the 17 AU intensities and head pose from landmarks."""

    #: AU names (as in AU_NAMES) this backend measures; others come back NaN.
    provides: tuple[str, ...]

    def estimate(self, landmarks: np.ndarray, image_size: tuple[int, int],
                 track_ids: Sequence[int] | None = None) -> list[Analysis]:
        """landmarks: (N, 68, 2) of N faces (frames of a stream, in order); image_size: (w, h)."""
        ...


@runtime_checkable
class Smoother(Protocol):
    """Removes jitter from a face track over time; keeps state per track id."""

    def smooth(self, record: FaceRecord) -> FaceRecord: ...


@runtime_checkable
class LandmarkTransformer(Protocol):
    """Source landmarks + target motion -> target landmarks that keep the source's face shape."""

    def transform(self, source: SourceFace, target_motion: np.ndarray,
                  driving_landmarks: np.ndarray | None = None) -> np.ndarray:
        """target_motion (N, 20), driving_landmarks (N, 68, 2) or None -> (N, 68, 2) float32.

        A backend whose ``Capabilities.driving_landmarks`` is set needs them and raises a
        ``FaceganError`` without them."""
        ...


@dataclass
class Segmentation:
    """Where face, hair and background are, in reenacted frames and in their source frame: per-pixel
    probabilities of ``SEGMENT_CLASSES`` as uint8 (0-255, summing to about 255), full-frame sized.

    A reenactor that declares ``Capabilities.segmentation`` returns one with its frames; a mixer that
    declares it is given one (a background mixer must know what to remove from the source and what of
    the reenacted frame is face and hair)."""

    frames: np.ndarray  # (N, H, W, 3) of the reenacted frames
    source: np.ndarray  # (H, W, 3) of the source frame


#: A rectangle of a frame: x0, y0, x1, y1 in pixels, end exclusive.
Rect = tuple[int, int, int, int]


@runtime_checkable
class Reenactor(Protocol):
    """Renders the source face at target landmarks."""

    def reenact(self, source: np.ndarray, source_landmarks: np.ndarray,
                target_landmarks: np.ndarray) -> np.ndarray | tuple[np.ndarray, Segmentation]:
        """HxWx3 uint8 source, (68, 2) and (N, 68, 2) landmarks -> (N, H, W, 3) uint8 frames; with
        ``Capabilities.segmentation``, ``(frames, Segmentation)``. With ``Capabilities.region`` it also
        takes ``region=Rect``: only the pixels inside must be right, the others may hold anything."""
        ...


@runtime_checkable
class Mixer(Protocol):
    """Puts the reenacted face onto the source frame or another background."""

    def mix(self, source: np.ndarray, reenacted: np.ndarray, target_landmarks: np.ndarray,
            background: np.ndarray | None = None, *, source_landmarks: np.ndarray | None = None,
            segmentation: Segmentation | None = None) -> np.ndarray:
        """(N, H, W, 3) uint8 reenacted frames -> (N, H, W, 3) uint8 output frames. A mixer declaring
        ``Capabilities.segmentation`` is called with the reenactor's ``segmentation``; others never are.
        A mixer declaring ``Capabilities.region`` also has ``region(shape, target_landmarks, *,
        source_landmarks) -> Rect``: the rectangle of the reenacted frames that ``mix`` reads."""
        ...


@dataclass(frozen=True)
class Capabilities:
    """What a backend needs from the pipeline, declared so pipelines never inspect signatures.

    ``device``: the factory takes ``device=`` (a torch device string the pipeline resolves from
    ``--device``); ``frames``: an AU backend's ``estimate`` takes ``images=`` (the RGB frame of each
    face row), for appearance-based analysers; ``driving_landmarks``: a landmark transformer needs
    the driving landmarks, so it cannot serve ``edit``; ``segmentation``: a reenactor returns a
    ``Segmentation`` with its frames, a mixer needs one (the pipeline refuses a mixer that needs it
    with a reenactor that gives none); ``region``: a mixer reads only a rectangle of each reenacted
    frame and says which (``region()``), a reenactor can render only a rectangle (``region=``): when
    both declare it, the reenactor renders only what the mixer reads (on a 2048x2048 portrait the
    warp's region is about half the warp's own). Network batching is each backend's own ``batch_size`` option.
    """

    device: bool = False
    frames: bool = False
    driving_landmarks: bool = False
    segmentation: bool = False
    region: bool = False


@dataclass
class Backend:
    """A named implementation of one stage, contributed by a plugin.

    ``factory(**options)`` builds the backend; ``options`` declares every keyword it takes (type,
    default, allowed values), and the registry checks what the CLI (``--opt stage.key=value``), the
    TOML config or a caller gives against it before calling the factory. ``capabilities`` says what
    it needs from the pipeline. ``extra`` may hold stage-specific facts (e.g. which AUs an AU
    backend gives).
    """

    name: str
    factory: Callable[..., Any]
    summary: str
    options: tuple[Option, ...] = ()
    capabilities: Capabilities = Capabilities()
    extra: dict[str, Any] = field(default_factory=dict)
