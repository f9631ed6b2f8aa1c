"""Reenactment and editing on real faces: identity kept, motion followed, video properties preserved."""

from __future__ import annotations

import numpy as np
import pytest

from facegan_video.analysis.detect import HogDetector
from facegan_video.analysis.identity import FaceEmbedder, distance
from facegan_video.analysis.landmarks import Dlib68
from facegan_video.config import AnalysisConfig
from facegan_video.motion import parse_au_edit
from facegan_video.reenact.transform import similarity_align
from facegan_video.reenactment import ReenactOptions, edit, reenact
from facegan_video.video import open_video, read_image

JAW_NOSE = np.r_[0:17, 27:36]


class Faces:
    """Re-detects faces independently of the pipeline under test."""

    def __init__(self):
        self.det, self.lmk, self.emb = HogDetector(), Dlib68(), FaceEmbedder()

    def landmarks(self, image):
        dets = self.det.detect([image])[0]
        if not dets:
            return None
        box = max(dets, key=lambda d: d.score).box
        return self.lmk.landmarks(image, [box])[0]

    def embedding(self, image):
        lm = self.landmarks(image)
        return None if lm is None else self.emb.embed(image, lm)


@pytest.fixture(scope="module")
def faces():
    return Faces()


def lip_gap(lm):
    return (lm[[65, 66, 67], 1].mean() - lm[[61, 62, 63], 1].mean()) / np.linalg.norm(lm[45] - lm[36])


def check_reenactment(faces, source_img, driving, out):
    src_emb = faces.embedding(source_img)
    with open_video(driving) as d, open_video(out) as o:
        assert o.info.frame_count == d.info.frame_count
        assert abs(o.info.fps - d.info.fps) < 0.01
        assert (o.info.width, o.info.height) == (source_img.shape[1] // 2 * 2, source_img.shape[0] // 2 * 2) \
            or (o.info.width, o.info.height) == (source_img.shape[1], source_img.shape[0])
        pairs = list(zip(d, o))
    assert len(pairs) == o.info.frame_count
    dists, g_drv, g_out = [], [], []
    for df, of in pairs:
        lm_o = faces.landmarks(of.image)
        lm_d = faces.landmarks(df.image)
        dists.append(distance(faces.emb.embed(of.image, lm_o), src_emb) if lm_o is not None else 9.0)
        if lm_o is not None and lm_d is not None:
            g_drv.append(lip_gap(lm_d))
            g_out.append(lip_gap(lm_o))
    assert np.mean(np.array(dists) < 0.6) >= 0.9, np.round(dists, 2)
    assert np.corrcoef(g_drv, g_out)[0, 1] >= 0.6


def test_astronaut_driven_by_carphone(faces, astronaut_png, carphone_path, tmp_path):
    out = tmp_path / "out.mp4"
    reenact(astronaut_png, carphone_path, out, options=ReenactOptions(quiet=True))
    check_reenactment(faces, read_image(astronaut_png), carphone_path, out)


def test_large_portrait_driven_by_mead(faces, shared_clips, tmp_path):
    src = shared_clips.parent / "portraits" / "lp_s2.jpg"
    drv = shared_clips / "dt_mead_W009_surprised_level3.mp4"
    out = tmp_path / "out.mp4"
    reenact(src, drv, out, options=ReenactOptions(quiet=True))
    check_reenactment(faces, read_image(src), drv, out)


def test_audio_and_side_by_side(shared_clips, astronaut_png, tmp_path):
    drv = shared_clips / "lia_vox_driving2.mp4"
    out = tmp_path / "sbs.mp4"
    reenact(astronaut_png, drv, out, options=ReenactOptions(side_by_side=True, max_frames=20, quiet=True))
    with open_video(out) as o:
        assert o.info.has_audio and o.info.frame_count == 20
        assert o.info.width > 2.5 * o.info.height  # three panels
    out2 = tmp_path / "silent.mp4"
    reenact(astronaut_png, drv, out2, options=ReenactOptions(audio="none", max_frames=5, quiet=True))
    with open_video(out2) as o:
        assert not o.info.has_audio


@pytest.fixture(scope="module")
def neutral_portrait(shared_clips):
    return shared_clips.parent / "portraits" / "lp_s11.jpg"


def edited(faces, path, change, tmp_path):
    """Landmarks of the source and of its edit, and the identity distance between them."""
    src = read_image(path)
    out = tmp_path / "edited.png"
    edit(path, out, [parse_au_edit(change)], quiet=True)
    res = read_image(out)
    a, b = faces.landmarks(src), faces.landmarks(res)
    return a, b, distance(faces.emb.embed(res, b), faces.emb.embed(src, a))


def test_edit_smile_lifts_lip_corners(faces, neutral_portrait, tmp_path):
    a, b, dist = edited(faces, neutral_portrait, "AU12=+2", tmp_path)
    io = np.linalg.norm(a[45] - a[36])
    lift = ((a[[48, 54], 1].mean() - a[[51, 57], 1].mean()) - (b[[48, 54], 1].mean() - b[[51, 57], 1].mean())) / io
    widen = (np.linalg.norm(b[54] - b[48]) - np.linalg.norm(a[54] - a[48])) / io
    assert lift > 0.02 or widen > 0.05, (lift, widen)
    assert dist < 0.45


def jaw_drop(faces, path, tmp_path):
    a, b, dist = edited(faces, path, "AU26=+3", tmp_path)
    return lip_gap(b) - lip_gap(a), dist


def test_edit_jaw_drop_opens_mouth(faces, neutral_portrait, tmp_path):
    opening, dist = jaw_drop(faces, neutral_portrait, tmp_path)
    assert opening > 0.04  # the inner lips part by > 4 % of the eye distance
    assert dist < 0.45


def test_edit_jaw_drop_on_pip_media(faces, astronaut_png, tmp_path):
    """The astronaut already smiles with parted lips; a jaw drop still opens her mouth further."""
    opening, dist = jaw_drop(faces, astronaut_png, tmp_path)
    assert opening > 0.04
    assert dist < 0.6


def procrustes(a, b):
    aligned = similarity_align(a[None], b, JAW_NOSE)[0][JAW_NOSE]
    ref = b[JAW_NOSE]
    return float(np.sqrt(((aligned - ref) ** 2).sum(1).mean()) / np.sqrt(((ref - ref.mean(0)) ** 2).sum(1).mean()))


PAIRS = [("lp_s11.jpg", "dt_mead_M030_happy_level3.mp4"), ("lia_taylor.png", "lia_vox_driving1.mp4"),
         ("dt_f30.png", "sty_obama_clip1.mp4"), ("lia_macron.png", "dt_mead_W011_surprised_level3.mp4")]


def test_analytic_keeps_face_shape_better_than_direct(faces, shared_clips, tmp_path):
    """Jaw and nose contour of the output vs the source, over cross-identity pairs, default settings."""
    scores = {"analytic": [], "direct": []}
    for portrait, clip in PAIRS:
        src_path = shared_clips.parent / "portraits" / portrait
        src_lm = faces.landmarks(read_image(src_path))
        for name in scores:
            cfg = AnalysisConfig()
            cfg.set_backend("transform", name)
            out = tmp_path / f"{name}.mp4"
            reenact(src_path, shared_clips / clip, out, cfg, ReenactOptions(max_frames=30, quiet=True))
            with open_video(out) as o:
                lms = [faces.landmarks(f.image) for i, f in enumerate(o) if i % 5 == 0]
            scores[name].append(np.mean([procrustes(lm, src_lm) for lm in lms if lm is not None]))
    analytic, direct = np.array(scores["analytic"]), np.array(scores["direct"])
    assert analytic.mean() < direct.mean(), scores
    assert (analytic < direct).sum() >= len(PAIRS) - 1, scores
