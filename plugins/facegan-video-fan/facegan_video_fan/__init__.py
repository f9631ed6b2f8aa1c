"""face-alignment (2D-FAN) landmarks for facegan-video: ``--landmarker fan``.

face-alignment is an optional extra (``pip install 'facegan-video-fan[fan]'``); its weights are read
from the user's torch hub cache and are never downloaded unless ``FACEGAN_ALLOW_DOWNLOADS`` is set.
"""

__version__ = "0.1.0"
