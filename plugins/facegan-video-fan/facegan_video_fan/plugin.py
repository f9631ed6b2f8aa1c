"""The ``fan`` landmark backend (hook implementation); face-alignment is imported by the factory only."""

from __future__ import annotations

from facegan_video.hookspecs import hookimpl
from facegan_video.options import Option
from facegan_video.types import Backend, Capabilities


@hookimpl
def facegan_video_landmarkers() -> list[Backend]:
    from facegan_video_fan.landmarker import FanLandmarker

    return [Backend("fan", FanLandmarker,
                    "face-alignment 2D-FAN, 68 points, batched, CPU/CUDA; weights from the user's torch hub cache",
                    options=(
                        Option("flip_input", bool, False, "average with the mirrored crop (slower, steadier)"),
                        Option("batch_size", int, 8, "face crops per network pass", low=1),
                    ),
                    capabilities=Capabilities(device=True))]
