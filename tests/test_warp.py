"""The warp reenactor on a real face (skimage's astronaut), judged by dlib re-detecting the result."""

from __future__ import annotations

import dlib
import numpy as np
import pluggy
import pytest
from skimage import data

from facegan_video import hookspecs
from facegan_video.analysis.detect import HogDetector
from facegan_video.analysis.landmarks import Dlib68
from facegan_video.assets import FACE_EMBEDDER, SHAPE_68, dlib_model
from facegan_video.errors import ConfigError
from facegan_video.plugins import load_registry
from facegan_video.reenact import warp
from facegan_video.reenact.blend import BlendMixer
from facegan_video.reenact.warp import WarpReenactor

SHIFT = 8.0
OPEN = 0.15  # mouth opening, fraction of the face height


@pytest.fixture(scope="module")
def face() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The astronaut image, its detected face box and its dlib landmarks."""
    image = data.astronaut()
    box = HogDetector().detect([image])[0][0].box
    return image, box, Dlib68().landmarks(image, [box])[0]


@pytest.fixture(scope="module")
def moved(face) -> tuple[np.ndarray, np.ndarray]:
    """A target with the mouth opened, the eyes closed and the head shifted, and its warp."""
    image, _, lm = face
    target = _expression(lm, OPEN, eyes_closed=True) + (SHIFT, 0.0)
    return target, WarpReenactor().reenact(image, lm, target[None])[0]


def _expression(lm: np.ndarray, opening: float, eyes_closed: bool = False, brows: float = 0.0) -> np.ndarray:
    """Lower lip and jaw moved down by ``opening`` x face height at the chin, less further out;
    optionally upper lids onto the lower lids and brows raised by ``brows`` x face height."""
    out = lm.astype(np.float64).copy()
    height, width = np.ptp(lm[:, 1]), np.ptp(lm[:, 0])
    moving = np.r_[5:12, 55:60, 65:68]
    out[moving, 1] += opening * height * np.exp(-(((lm[moving, 0] - lm[8, 0]) / (0.35 * width)) ** 2))
    if eyes_closed:
        out[[37, 38, 43, 44]] = out[[41, 40, 47, 46]]
    out[17:27, 1] -= brows * height
    return out


def _redetect(image: np.ndarray) -> np.ndarray:
    found = HogDetector().detect([image])[0]
    assert found, "no face found in the warped image"
    return Dlib68().landmarks(image, [found[0].box])[0]


def _mouth_gap(lm: np.ndarray) -> float:
    return float(lm[65:68, 1].mean() - lm[61:64, 1].mean())


def _eye_gap(lm: np.ndarray) -> float:
    return float((lm[[41, 40, 47, 46], 1] - lm[[37, 38, 43, 44], 1]).mean())


def test_identity_target_returns_the_source(face) -> None:
    image, _, lm = face
    out = WarpReenactor().reenact(image, lm, lm[None])
    assert out.shape == (1,) + image.shape
    assert np.abs(out[0].astype(np.int16) - image).mean() < 1.0


def test_redetected_landmarks_follow_the_target(face, moved) -> None:
    image, _, lm = face
    target, out = moved
    before, after = _redetect(image), _redetect(out)
    applied = _mouth_gap(target) - _mouth_gap(lm)
    assert _mouth_gap(after) - _mouth_gap(before) > 0.4 * applied
    assert abs(after[30, 0] - before[30, 0] - SHIFT) < 3.0
    assert abs(after[30, 1] - before[30, 1]) < 3.0
    assert _eye_gap(after) < 0.6 * _eye_gap(before)


def test_identity_is_kept(face, moved) -> None:
    image, _, _ = face
    _, out = moved
    predictor = dlib.shape_predictor(dlib_model(SHAPE_68))
    embedder = dlib.face_recognition_model_v1(dlib_model(FACE_EMBEDDER))

    def descriptor(img: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = (int(round(v)) for v in HogDetector().detect([img])[0][0].box)
        shape = predictor(img, dlib.rectangle(x0, y0, x1, y1))
        return np.array(embedder.compute_face_descriptor(img, shape))

    assert np.linalg.norm(descriptor(image) - descriptor(out)) < 0.45


def test_background_far_from_the_face_is_untouched(face) -> None:
    """A lower-face expression and a blink leave everything beyond the ring of control points as it was.

    (Raised brows also lift the forehead, and the forehead band reaches the ring, which with the
    default margin lies about half a face size above dlib's box.)"""
    image, box, lm = face
    target = _expression(lm, 0.05, eyes_closed=True)
    target[[48, 54], 0] += np.array([-0.05, 0.05]) * np.ptp(lm[:, 0])  # a wider smile
    out = WarpReenactor().reenact(image, lm, target[None])[0]
    size = box[2] - box[0]
    ys, xs = np.mgrid[: image.shape[0], : image.shape[1]]
    far = (xs < box[0] - size / 2) | (xs > box[2] + size / 2) | (ys < box[1] - size / 2) | (ys > box[3] + size / 2)
    diff = np.abs(out.astype(np.int16) - image)
    assert diff[far].max() <= 1
    assert diff[~far].max() > 10  # the face did change


def test_batch_equals_single_calls_and_is_deterministic(face) -> None:
    image, _, lm = face
    targets = np.stack([_expression(lm, 0.05), _expression(lm, OPEN, eyes_closed=True) + (SHIFT, 0.0),
                        _expression(lm, 0.1, brows=0.03) - (4.0, 2.0)]).astype(np.float32)
    reenactor = WarpReenactor()
    batch = reenactor.reenact(image, lm, targets)
    assert batch.shape == (3, 512, 512, 3) and batch.dtype == np.uint8
    singles = np.stack([reenactor.reenact(image, lm, t[None])[0] for t in targets])
    np.testing.assert_array_equal(batch, singles)
    np.testing.assert_array_equal(batch, reenactor.reenact(image, lm, targets))


def test_rendering_only_what_the_blend_mixer_reads_changes_no_output_pixel(face) -> None:
    """The renderer passes the mixer's region to the warp (both declare ``Capabilities.region``): the
    warp then remaps a fraction of its ROI, and the mixed frames are bit-identical."""
    image, _, lm = face
    targets = np.stack([_expression(lm, OPEN, eyes_closed=True) + (SHIFT, 0.0),
                        _expression(lm, 0.1, brows=0.03) - (4.0, 2.0)])
    reenactor, mixer = WarpReenactor(), BlendMixer()
    region = mixer.region(image.shape, targets, source_landmarks=lm)
    whole = mixer.mix(image, reenactor.reenact(image, lm, targets), targets, source_landmarks=lm)
    part = mixer.mix(image, reenactor.reenact(image, lm, targets, region=region), targets, source_landmarks=lm)
    np.testing.assert_array_equal(part, whole)
    x0, y0, x1, y1 = reenactor._source.roi
    assert (region[2] - region[0]) * (region[3] - region[1]) < 0.8 * (x1 - x0) * (y1 - y0)
    chosen = load_registry(entry_points_too=False)
    assert chosen.entry("reenact", "warp").backend.capabilities.region
    assert chosen.entry("mix", "blend").backend.capabilities.region


def test_an_edited_source_with_the_same_landmarks_is_rendered_afresh(face) -> None:
    """The per-source cache keeps only the face's pixels: an edit inside the face (its colours) or far
    from it (pixels the warp reads from each call's source) renders as a new reenactor would."""
    image, _, lm = face
    target = _expression(lm, OPEN, eyes_closed=True)[None]
    reenactor = WarpReenactor()
    reenactor.reenact(image, lm, target)
    x0, y0 = np.floor(lm.min(0)).astype(int)
    darker = image.copy()
    darker[y0:, x0:] //= 2  # the face's colours change
    cleared = darker.copy()
    cleared[:40] = 0  # above the face
    for edited in (darker, cleared):
        np.testing.assert_array_equal(reenactor.reenact(edited, lm, target),
                                      WarpReenactor().reenact(edited, lm, target))


def test_extreme_motion_stays_inside_the_frame(face) -> None:
    """A target far outside any real expression (jaw above the nose, head far away) must not smear the
    background: the mesh folds are clamped and everything beyond the fixed frame is the source."""
    image, box, lm = face
    target = lm.astype(np.float64).copy()
    target[:17, 1] -= 0.8 * np.ptp(lm[:, 1])
    target += (120.0, 60.0)
    out = WarpReenactor().reenact(image, lm, target[None])[0]
    size = box[2] - box[0]
    x0, y0, x1, y1 = box + np.array([-1.5, -1.5, 1.5, 1.5]) * size
    outside = np.ones(image.shape[:2], bool)
    outside[max(int(y0), 0):int(y1), max(int(x0), 0):int(x1)] = False
    assert np.array_equal(out[outside], image[outside])


def test_without_mouth_interior_the_stretched_lips_show(face) -> None:
    image, _, lm = face
    target = _expression(lm, OPEN)
    painted = WarpReenactor().reenact(image, lm, target[None])[0]
    plain = WarpReenactor(mouth_interior=False).reenact(image, lm, target[None])[0]
    mouth = np.round(target[[62, 66]].mean(0)).astype(int)
    assert painted[mouth[1], mouth[0]].mean() < plain[mouth[1], mouth[0]].mean() - 20


def test_missing_target_points_give_the_source(face) -> None:
    image, _, lm = face
    target = lm.astype(np.float64).copy()
    target[48:] = np.nan
    np.testing.assert_array_equal(WarpReenactor().reenact(image, lm, target[None])[0], image)


def test_face_at_the_image_edge(face) -> None:
    """A face half out of the frame (the mesh reaches past the border) still follows its target."""
    image, _, lm = face
    shifted = np.ascontiguousarray(np.roll(image, -170, axis=0))
    lm = lm - (0.0, 170.0)
    target = _expression(lm, OPEN) + (4.0, 0.0)
    out = WarpReenactor().reenact(shifted, lm, target[None])[0]
    assert out.shape == shifted.shape
    assert np.array_equal(out[300:], shifted[300:])
    assert np.abs(out[:60].astype(np.int16) - shifted[:60]).mean() > 1.0


def test_control_points_must_lie_off_the_landmarks() -> None:
    with pytest.raises(ConfigError):
        WarpReenactor(margin=0.0)


def test_plugin_hook_offers_the_warp_backend() -> None:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(warp)
    backends = [b for group in pm.hook.facegan_video_reenactors() for b in group]
    assert [b.name for b in backends] == ["warp"]
    assert isinstance(backends[0].factory(margin=0.3), WarpReenactor)
