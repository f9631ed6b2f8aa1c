"""Every hook a facegan-video plugin can implement.

A plugin is a module (or object) registered under the ``facegan_video`` entry-point group. The
built-in backends are plugins too, registered through the same group, so a third-party backend is a
peer of the built-in one: it is listed by ``facegan-video plugins`` and chosen by name, e.g.
``--detector NAME`` or ``[backends] detect = "NAME"`` in the TOML config.

Stage hooks are collecting hooks: every plugin contributes its backends and the user picks one per
stage by name. ``facegan_video_default_backend`` is a ``firstresult`` hook: the first plugin with an
opinion picks the default; the built-in one answers last.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import typer

    from facegan_video.types import Backend

PROJECT = "facegan_video"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def facegan_video_detectors() -> list[Backend]:
    """Face detectors (stage ``detect``).

    Each factory returns an object with ``detect(images) -> list[list[Detection]]`` taking a batch of
    HxWx3 uint8 RGB images.
    """


@hookspec
def facegan_video_trackers() -> list[Backend]:
    """Face trackers (stage ``track``).

    Each factory returns a ``Tracker``: it says on which frames detection must run, associates
    detections with track ids, and moves boxes with the landmarks between detections.
    """


@hookspec
def facegan_video_landmarkers() -> list[Backend]:
    """68-point landmark predictors (stage ``landmarks``), iBUG 300-W point order.

    Each factory returns an object with ``landmarks(image, boxes) -> (N, 68, 2) float32``.
    """


@hookspec
def facegan_video_au_estimators() -> list[Backend]:
    """Action Unit and head-pose estimators (stage ``au``).

    Each factory returns an ``AUEstimator``: ``estimate(landmarks, image_size) -> list[Analysis]``
    with the 17 OpenFace intensity AUs (0-5, NaN where not provided) and pose in OpenFace's
    conventions. ``Backend.extra["provides"]`` lists the AUs it measures. A backend that reads
    appearance may add an ``images`` keyword to ``estimate``: the pipeline then also passes the
    RGB frame of each face.
    """


@hookspec
def facegan_video_smoothers() -> list[Backend]:
    """Temporal filters over a face track (stage ``smooth``): boxes, landmarks, pose and AUs.

    Each factory returns a ``Smoother`` with ``smooth(record) -> record``, keeping state per face id.
    """


@hookspec
def facegan_video_landmark_transformers() -> list[Backend]:
    """Landmark transformers (stage ``transform``): source landmarks + driving AUs/pose -> target landmarks.

    The target keeps the SOURCE face's shape; the paper's L_T is one such backend.
    """


@hookspec
def facegan_video_reenactors() -> list[Backend]:
    """Face reenactors (stage ``reenact``): source image + target landmarks -> reenacted face."""


@hookspec
def facegan_video_mixers() -> list[Backend]:
    """Background mixers (stage ``mix``): reenacted face + source frame (or another background) -> output frame."""


@hookspec(firstresult=True)
def facegan_video_default_backend(stage: str) -> str | None:
    """Name of the backend used for ``stage`` when the user names none.

    The first non-None answer wins; the built-in plugin answers last, so an installed plugin can
    make its backend the default (for example a trained landmark transformer).
    """


@hookspec
def facegan_video_register_commands(app: typer.Typer) -> None:
    """Add sub-commands to the ``facegan-video`` command line."""
