"""The built-in plugin's defaults; answered last so installed plugins can override them."""

from __future__ import annotations

from facegan_video.hookspecs import hookimpl

DEFAULTS = {
    "detect": "hog",
    "track": "iou",
    "landmarks": "dlib68",
    "au": "geometric",
    "smooth": "one-euro",
    "transform": "analytic",
    "reenact": "warp",
    "mix": "blend",
}


@hookimpl(trylast=True)
def facegan_video_default_backend(stage: str) -> str | None:
    return DEFAULTS.get(stage)
