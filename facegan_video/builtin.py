"""The built-in plugin's defaults, read from the stage table; answered last so installed plugins can
override them."""

from __future__ import annotations

from facegan_video.hookspecs import hookimpl
from facegan_video.stages import STAGE_TABLE

DEFAULTS = {s.key: s.default for s in STAGE_TABLE}


@hookimpl(trylast=True)
def facegan_video_default_backend(stage: str) -> str | None:
    return DEFAULTS.get(stage)
