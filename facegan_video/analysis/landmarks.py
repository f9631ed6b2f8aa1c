"""dlib's 68-point landmark predictor (iBUG 300-W layout)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import dlib
import numpy as np

from facegan_video.assets import SHAPE_68, dlib_model, shape_predictor
from facegan_video.hookspecs import hookimpl
from facegan_video.options import Option
from facegan_video.types import Backend


class Dlib68:
    """Runs the predictor on a grey crop resampled so the face box is ``face_size`` pixels wide.

    dlib returns integer pixel positions; on a small face (a 50-pixel face in a 176x144 video) that
    rounding is several percent of the face, so small faces are enlarged first. Large faces are
    shrunk, which makes a 2048-pixel portrait as cheap as a 256-pixel clip. The predictor (0.8 s to
    load) is loaded at the first face, once per process: a video without faces never loads it.
    """

    def __init__(self, face_size: int = 256) -> None:
        self.face_size = face_size
        dlib_model(SHAPE_68)  # a missing model file is an error now, not at the first face

    def landmarks(self, image: np.ndarray, boxes: Sequence[np.ndarray]) -> np.ndarray:
        out = np.zeros((len(boxes), 68, 2), np.float32)
        h, w = image.shape[:2]
        for i, box in enumerate(boxes):
            x0, y0, x1, y1 = (float(v) for v in box)
            size = max(x1 - x0, y1 - y0, 1.0)
            scale = self.face_size / size
            # crop with a margin of half a box on each side, clipped to the image
            cx0 = int(max(0, np.floor(x0 - size / 2)))
            cy0 = int(max(0, np.floor(y0 - size / 2)))
            cx1 = int(min(w, np.ceil(x1 + size / 2)))
            cy1 = int(min(h, np.ceil(y1 + size / 2)))
            crop = image[cy0:cy1, cx0:cx1]
            if crop.size == 0:
                out[i] = np.nan
                continue
            crop = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
            crop = cv2.resize(crop, None, fx=scale, fy=scale,
                              interpolation=cv2.INTER_AREA if scale < 0.5 else cv2.INTER_LINEAR)
            rect = dlib.rectangle(int(round((x0 - cx0) * scale)), int(round((y0 - cy0) * scale)),
                                  int(round((x1 - cx0) * scale)), int(round((y1 - cy0) * scale)))
            shape = shape_predictor(SHAPE_68)(crop, rect)
            pts = np.array([(p.x, p.y) for p in shape.parts()], np.float32)
            # pixel centres: crop pixel k covers original [k/scale, (k+1)/scale)
            out[i] = (pts + 0.5) / scale - 0.5 + np.array([cx0, cy0], np.float32)
        return out


@hookimpl
def facegan_video_landmarkers() -> list[Backend]:
    return [Backend("dlib68", Dlib68, "dlib 68-point shape predictor (iBUG 300-W), ships on PyPI",
                    options=(Option("face_size", int, 256, "face box width (px) the crop is resampled to", low=64,
                                    high=1024),))]
