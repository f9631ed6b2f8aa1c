"""The stage table: one record per pipeline stage, and the source every per-stage fact is read from.

The hook that collects a stage's backends, the protocol its objects follow, the built-in default,
the command-line flag that picks a backend and the contract check of ``facegan_video.testing``
are all looked up here; nothing else keeps a list of stages.
"""

from __future__ import annotations

from dataclasses import dataclass

from facegan_video.errors import ConfigError
from facegan_video.types import (
    AUEstimator,
    Detector,
    Landmarker,
    LandmarkTransformer,
    Mixer,
    Reenactor,
    Smoother,
    Tracker,
)


@dataclass(frozen=True)
class Stage:
    """One stage of the pipeline."""

    key: str  # what configs and --opt use: "detect"
    hook: str  # the hookspec collecting its backends
    protocol: type  # what its backend objects implement (facegan_video.types)
    default: str  # the built-in default backend
    flag: str | None  # the CLI option that picks the backend (None: the stage has its own option)
    title: str  # what the stage does, for help texts
    check: str  # its contract check in the testing kit: "module:function"


STAGE_TABLE: tuple[Stage, ...] = (
    Stage("detect", "facegan_video_detectors", Detector, "hog", "--detector", "face detector",
          "facegan_video.testing.detect:check_detector"),
    Stage("track", "facegan_video_trackers", Tracker, "iou", "--tracker", "face tracker",
          "facegan_video.testing.track:check_tracker"),
    Stage("landmarks", "facegan_video_landmarkers", Landmarker, "dlib68", "--landmarker", "68-point landmarks",
          "facegan_video.testing.landmarks:check_landmarker"),
    Stage("au", "facegan_video_au_estimators", AUEstimator, "geometric", "--au-backend", "AU + head-pose estimator",
          "facegan_video.testing.au:check_au_estimator"),
    Stage("smooth", "facegan_video_smoothers", Smoother, "one-euro", None, "temporal smoothing",
          "facegan_video.testing.smooth:check_smoother"),
    Stage("transform", "facegan_video_landmark_transformers", LandmarkTransformer, "analytic", "--transform",
          "landmark transformer", "facegan_video.testing.transform:check_transformer"),
    Stage("reenact", "facegan_video_reenactors", Reenactor, "warp", "--reenactor", "face reenactor",
          "facegan_video.testing.reenact:check_reenactor"),
    Stage("mix", "facegan_video_mixers", Mixer, "blend", "--mixer", "background mixer",
          "facegan_video.testing.mix:check_mixer"),
)
#: Stage keys in pipeline order.
STAGES: tuple[str, ...] = tuple(s.key for s in STAGE_TABLE)
#: The stages that turn motion into frames (reenact and edit), after the analysis stages.
RENDER_STAGES: tuple[str, ...] = ("transform", "reenact", "mix")
_BY_KEY = {s.key: s for s in STAGE_TABLE}


def stage(key: str) -> Stage:
    """The record of stage ``key``; an unknown key is a one-line ConfigError listing the stages."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise ConfigError(f"unknown stage {key!r}; stages are: {', '.join(STAGES)}") from None
