"""Side-by-side samples of warp + blend against the facegan reenactor and mixer, for docs/eval/facegan.

    python docs/eval/facegan/make_samples.py [VALIDATION_CLIPS_DIR]

Writes ``astronaut_edits.png`` (scikit-image's astronaut, ``edit --pose yaw=+0.3`` and ``--au
AU26=+3``: source | warp + blend | facegan + facegan) and, given a folder of clips of validation
persons, ``self_reenactment.png`` (each clip's first frame reenacted with a later frame's motion,
absolute: source | driving frame, the ground truth | warp + blend | facegan + facegan). Both use the
analytic landmark transformer, so only the image stages differ; the shipped weights, CPU. Each PNG
is reduced to a 256-colour palette so it stays under ~300 KB.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from facegan_video.config import AnalysisConfig
from facegan_video.errors import NoFaceError
from facegan_video.motion import parse_au_edit, parse_pose_edit
from facegan_video.reenactment import Renderer, SourceAnalyzer, edit_motion
from facegan_video.sample_media import astronaut
from facegan_video.video import open_video

HERE = Path(__file__).resolve().parent
PANEL = 256
CONFIGS = {"warp + blend": ("warp", "blend"), "facegan + facegan": ("facegan", "facegan")}
#: Clips of three validation persons (not trained on), and the frame whose motion drives each first frame
#: (or the first one after it where a face is found).
SELF_CLIPS = (("dt_mead_W009_surprised_level3.mp4", 60), ("sty_nice_clip1.mp4", 40), ("lp_d10.mp4", 80))


def renderers() -> dict[str, Renderer]:
    out = {}
    for name, (reenact, mix) in CONFIGS.items():
        cfg = AnalysisConfig()
        cfg.set_backend("reenact", reenact)
        cfg.set_backend("mix", mix)
        out[name] = Renderer(cfg, "cpu")
    return out


def face_crop(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """A square around the face (twice its landmark extent), resized to the panel size."""
    lo, hi = landmarks.min(0), landmarks.max(0)
    centre, half = (lo + hi) / 2, max(hi - lo) * 1.0
    x0, y0 = np.clip(np.round(centre - half).astype(int), 0, None)
    x1, y1 = np.round(centre + half).astype(int)
    return cv2.resize(np.ascontiguousarray(image[y0:y1, x0:x1]), (PANEL, PANEL), interpolation=cv2.INTER_AREA)


def labelled(panel: np.ndarray, text: str) -> np.ndarray:
    out = panel.copy()
    cv2.rectangle(out, (0, 0), (PANEL, 22), (0, 0, 0), -1)
    cv2.putText(out, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def save(rows: list[list[np.ndarray]], name: str) -> None:
    grid = np.concatenate([np.concatenate(r, 1) for r in rows], 0)
    path = HERE / name
    Image.fromarray(grid).quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        path, optimize=True)
    print(f"{path}: {path.stat().st_size // 1024} KB")


def astronaut_edits(render: dict[str, Renderer]) -> None:
    image = astronaut()
    face = SourceAnalyzer(AnalysisConfig(), "auto")(image, "astronaut")
    rows = []
    for label, edit in (("yaw=+0.3", parse_pose_edit("yaw=+0.3")), ("AU26=+3", parse_au_edit("AU26=+3"))):
        motion = edit_motion(face, [edit])[None]
        row = [labelled(face_crop(image, face.landmarks), f"source ({label})")]
        for name, renderer in render.items():
            row.append(labelled(face_crop(renderer.render(image, face, motion)[0], face.landmarks), name))
        rows.append(row)
    save(rows, "astronaut_edits.png")


def self_reenactment(render: dict[str, Renderer], clips: Path) -> None:
    analyze = SourceAnalyzer(AnalysisConfig(), "largest")
    rows = []
    for clip, first in SELF_CLIPS:
        with open_video(clips / clip, max_frames=first + 30) as video:
            frames = [f.image for f in video]
        source, face = frames[0], analyze(frames[0], clip)
        for index in range(first, len(frames)):  # the first frame from ``first`` on with a face found
            try:
                driving = frames[index]
                target = analyze(driving, f"{clip} frame {index}")
                break
            except NoFaceError:
                continue
        row = [labelled(face_crop(source, face.landmarks), f"source {clip[:18]}"),
               labelled(face_crop(driving, face.landmarks), f"frame {index} (truth)")]
        for name, renderer in render.items():
            out = renderer.render(source, face, target.motion[None], target.landmarks[None])[0]
            row.append(labelled(face_crop(out, face.landmarks), name))
        rows.append(row)
    save(rows, "self_reenactment.png")


if __name__ == "__main__":
    render = renderers()
    astronaut_edits(render)
    if len(sys.argv) > 1:
        self_reenactment(render, Path(sys.argv[1]))
