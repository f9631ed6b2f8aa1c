"""facegan-video plugin: the ``median3`` smoother (stage ``smooth``).

Registered through the ``facegan_video`` entry-point group (see ``pyproject.toml``). The hook is
cheap: it imports one small numpy-only module and returns the backend; nothing is built until the
registry calls the factory.
"""

from __future__ import annotations

from facegan_video.hookspecs import hookimpl
from facegan_video.options import Option
from facegan_video.types import Backend

__version__ = "0.1.0"


@hookimpl
def facegan_video_smoothers():
    from facegan_video_jitter.median import Median3Smoother

    return [Backend("median3", Median3Smoother,
                    "3-frame temporal median per face of box, landmarks, AUs and pose; removes one-frame spikes",
                    options=(Option("max_gap", float, 0.5, "a longer pause (seconds) between two records of a face "
                                    "restarts its window", low=0, low_open=True),))]
