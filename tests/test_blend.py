"""The blend mixer on a real face: skimage's astronaut, landmarks from dlib, "reenacted" by real shifts."""

from __future__ import annotations

import cv2
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
from facegan_video.reenact import blend
from facegan_video.reenact.blend import BlendMixer, face_mask
from facegan_video.types import Backend


@pytest.fixture(scope="module")
def source() -> np.ndarray:
    return data.astronaut()


@pytest.fixture(scope="module")
def face(source: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(box, landmarks) of the astronaut's face, found the way the pipeline finds faces."""
    box = HogDetector().detect([source])[0][0].box
    return box, Dlib68().landmarks(source, [box])[0]


def find_face(image: np.ndarray) -> np.ndarray:
    """Landmarks of the largest face, as the pipeline would give them (HOG detector + dlib 68 points)."""
    found = HogDetector().detect([image])[0]
    box = max(found, key=lambda d: float(np.prod(d.box[2:] - d.box[:2]))).box
    return Dlib68().landmarks(image, [box])[0]


def Mixer(**options) -> BlendMixer:  # noqa: N802 - stands for the class in these tests
    """A blend mixer that finds the source face itself when a test passes no source landmarks."""
    return BlendMixer(find_face=find_face, **options)


def shifted(image: np.ndarray, landmarks: np.ndarray, dx: float, dy: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A "reenacted" frame: the whole source moved by (dx, dy), so the face moved and the background with it."""
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    frame = cv2.warpAffine(image, m, image.shape[1::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return frame, (landmarks + np.float32([dx, dy])).astype(np.float32)


def far_from(boxes: list[np.ndarray], margin: float, shape: tuple[int, ...]) -> np.ndarray:
    """True where a pixel is more than ``margin`` x face size away from every box."""
    keep = np.ones(shape[:2], bool)
    for x0, y0, x1, y1 in boxes:
        pad = margin * max(x1 - x0, y1 - y0)
        keep[max(0, int(y0 - pad)):int(np.ceil(y1 + pad)), max(0, int(x0 - pad)):int(np.ceil(x1 + pad))] = False
    return keep


def patch(image: np.ndarray, centre: np.ndarray, radius: int = 8) -> np.ndarray:
    x, y = np.round(centre).astype(int)
    return image[y - radius:y + radius + 1, x - radius:x + radius + 1].astype(np.int16)


@pytest.fixture(scope="module")
def moved(source, face) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(reenacted frame, target landmarks, output on the source's own background) for a 10-px move right."""
    frame, target = shifted(source, face[1], 10)
    return frame, target, Mixer().mix(source, frame[None], target[None])[0]


def test_face_mask_is_one_inside_zero_outside_with_a_smooth_edge(source, face):
    _, lm = face
    mask = face_mask(lm, source.shape[:2])
    assert mask.dtype == np.float32 and mask.shape == source.shape[:2]
    for point in (lm[30], lm[36:42].mean(0), lm[42:48].mean(0), lm[48:68].mean(0)):  # nose, eyes, mouth
        assert mask[int(point[1]), int(point[0])] > 0.99
    size = np.ptp(lm, axis=0).max()
    assert mask[far_from([np.r_[lm.min(0), lm.max(0)]], 0.6, mask.shape)].max() < 0.01
    # a row through the nose, from the face centre out past the jaw: falls steadily, no step
    y, x_nose = int(lm[30, 1]), int(lm[30, 0])
    row = mask[y, int(lm[30, 0] - size):x_nose][::-1]
    assert np.all(np.diff(row) <= 1e-4) and row[-1] < 0.01
    assert np.abs(np.diff(row)).max() < 0.1
    jaw_x = int(round(np.interp(y, lm[0:8, 1], lm[0:8, 0])))
    assert 0.3 < mask[y, jaw_x] < 0.7  # the hull's edge sits on the feather's middle


def test_mix_keeps_the_background_far_from_the_face(source, face, moved):
    box, _ = face
    _, _, out = moved
    far = far_from([box, box + np.float32([10, 0, 10, 0])], 0.6, source.shape)
    assert np.abs(out[far].astype(np.int16) - source[far]).max() <= 2


def test_mix_shows_the_reenacted_face_at_its_centre(moved):
    frame, target, out = moved
    diff = np.abs(patch(out, target[30]) - patch(frame, target[30]))
    assert diff.mean() < 1.0 and diff.max() <= 4


def test_no_ghost_where_the_face_moved_away(source, face):
    """Where the old face was and the new one is not, the output shows the reenacted frame, not the old face."""
    _, lm = face
    frame, target = shifted(source, lm, 50)
    out = Mixer().mix(source, frame[None], target[None], source_landmarks=lm)[0]
    old_face_only = (face_mask(lm, source.shape[:2]) > 0.95) & (face_mask(target, source.shape[:2]) < 0.05)
    assert old_face_only.sum() > 500
    to_frame = np.abs(out[old_face_only].astype(np.int16) - frame[old_face_only]).mean()
    to_source = np.abs(out[old_face_only].astype(np.int16) - source[old_face_only]).mean()
    assert to_frame < 4 and to_source > 20


def test_colour_match_undoes_shading_drift(source, face):
    _, lm = face
    frame, target = shifted(source, lm, 10)
    drifted = np.clip(frame * np.float32([0.8, 0.85, 0.9]) + 10, 0, 255).astype(np.uint8)  # darker, bluer
    out = Mixer().mix(source, drifted[None], target[None], source_landmarks=lm)[0]
    plain = Mixer(color_match=False).mix(source, drifted[None], target[None], source_landmarks=lm)[0]
    cheek = target[[1, 2, 3, 31]].mean(0)
    error = np.abs(patch(out, cheek) - patch(frame, cheek)).mean()
    assert error < 4 and error < np.abs(patch(plain, cheek) - patch(frame, cheek)).mean() / 3


def test_batch_equals_single_frames_and_is_deterministic(source, face):
    _, lm = face
    frames, targets = zip(*(shifted(source, lm, dx, dy) for dx, dy in ((0, 0), (10, 0), (-6, 8))))
    batch = Mixer().mix(source, np.stack(frames), np.stack(targets))
    assert batch.shape == (3,) + source.shape and batch.dtype == np.uint8
    mixer = Mixer()
    singles = np.stack([mixer.mix(source, f[None], t[None])[0] for f, t in zip(frames, targets)])
    np.testing.assert_array_equal(batch, singles)
    np.testing.assert_array_equal(batch, Mixer().mix(source, np.stack(frames), np.stack(targets)))
    on_coffee = [Mixer().mix(source, frames[1][None], targets[1][None], data.coffee()) for _ in range(2)]
    np.testing.assert_array_equal(*on_coffee)


def test_given_source_landmarks_match_detection(source, face, moved):
    frame, target, out = moved
    given = Mixer().mix(source, frame[None], target[None], source_landmarks=face[1])[0]
    np.testing.assert_array_equal(given, out)


def test_a_new_source_or_background_replaces_the_cached_one(source, face, moved):
    frame, target, _ = moved
    mirrored, mirrored_frame = source[:, ::-1].copy(), frame[:, ::-1].copy()
    mirrored_target = target.copy()
    mirrored_target[:, 0] = source.shape[1] - 1 - target[:, 0]
    mixer = Mixer()
    mixer.mix(source, frame[None], target[None], data.coffee())
    np.testing.assert_array_equal(mixer.mix(mirrored, mirrored_frame[None], mirrored_target[None]),
                                  Mixer().mix(mirrored, mirrored_frame[None], mirrored_target[None]))
    np.testing.assert_array_equal(mixer.mix(mirrored, mirrored_frame[None], mirrored_target[None], data.chelsea()),
                                  Mixer().mix(mirrored, mirrored_frame[None], mirrored_target[None],
                                                   data.chelsea()))


def test_an_edited_source_with_the_same_landmarks_replaces_the_cached_one(source, face, moved):
    """Only the pixels the cached facts came from are compared: the face's rectangle, and the whole
    source once a background was given."""
    frame, target, _ = moved
    lm = face[1]
    x0, y0 = np.floor(lm.min(0)).astype(int)
    darker = source.copy()
    darker[y0:, x0:] //= 2
    cleared = darker.copy()
    cleared[:40] = 0
    mixer = Mixer()
    for edited, background in ((source, None), (darker, None), (cleared, data.coffee()), (darker, data.coffee()),
                               (cleared, None)):
        np.testing.assert_array_equal(mixer.mix(edited, frame[None], target[None], background, source_landmarks=lm),
                                      Mixer().mix(edited, frame[None], target[None], background, source_landmarks=lm))


@pytest.mark.parametrize("rect, size", [((3, 5, 50, 41), (12, 7)), ((10, 10, 70, 70), (20, 20)),
                                        ((0, 0, 512, 512), (512, 512)), ((100, 37, 499, 400), (29, 31))])
def test_grid_shrink_is_the_area_filter(source, rect, size):
    grid = blend._Grid(rect, size)
    for image in (source, source[..., 0]):
        np.testing.assert_array_equal(grid.shrink(image), cv2.resize(image[grid.slices], size,
                                                                     interpolation=cv2.INTER_AREA))


def test_frames_without_target_landmarks_take_the_source_face_region(source, face, moved):
    box, lm = face
    frame, _, _ = moved
    mixer = Mixer(color_match=False)
    out = mixer.mix(source, frame[None], np.full((1, 68, 2), np.nan), source_landmarks=lm)[0]
    far = far_from([box], 0.6, source.shape)
    assert np.abs(out[far].astype(np.int16) - source[far]).max() <= 2
    assert np.abs(patch(out, lm[30]) - patch(frame, lm[30])).mean() < 1.0


def test_poisson_mode_blends_the_face_and_keeps_the_background(source, face, moved):
    box, lm = face
    frame, target, _ = moved
    out = Mixer(mode="poisson").mix(source, frame[None], target[None], source_landmarks=lm)[0]
    far = far_from([box, box + np.float32([10, 0, 10, 0])], 0.6, source.shape)
    assert np.abs(out[far].astype(np.int16) - source[far]).max() <= 2
    # gradient-domain blending keeps the reenacted face's detail, up to a smooth colour offset
    diff = patch(out, target[30]) - patch(frame, target[30])
    assert np.abs(diff - np.median(diff, axis=(0, 1))).mean() < 3 and np.abs(diff).mean() < 20


def _embedding(image: np.ndarray, box: np.ndarray) -> np.ndarray:
    rect = dlib.rectangle(*(int(round(v)) for v in box))
    shape = dlib.shape_predictor(dlib_model(SHAPE_68))(image, rect)
    embedder = dlib.face_recognition_model_v1(dlib_model(FACE_EMBEDDER))
    return np.array(embedder.compute_face_descriptor(image, shape))


@pytest.mark.parametrize("mode", ["feather", "poisson"])
def test_other_background_gets_the_face_and_keeps_its_corners(source, face, moved, mode):
    box, lm = face
    frame, target, _ = moved
    coffee = data.coffee()  # 400x600: resized to the source's 512x512 by the mixer
    out = Mixer(mode=mode).mix(source, frame[None], target[None], coffee, source_landmarks=lm)[0]
    expected = cv2.resize(coffee, source.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    for corner in (np.s_[:80, :80], np.s_[:80, -80:], np.s_[-80:, :80], np.s_[-80:, -80:]):
        np.testing.assert_array_equal(out[corner], expected[corner])
    assert np.abs(out.astype(np.int16) - expected).mean() > 5  # something was put on it

    found = HogDetector().detect([out])[0]
    moved_box = box + np.float32([10, 0, 10, 0])
    assert found, "no face detected in the composite"
    best = max(found, key=lambda d: _iou(d.box, moved_box))
    assert _iou(best.box, moved_box) > 0.5
    distance = np.linalg.norm(_embedding(out, best.box) - _embedding(source, box))
    assert distance < 0.4


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return float(w * h / union)


def test_bad_mode_is_a_one_line_config_error():
    with pytest.raises(ConfigError) as err:
        Mixer(mode="laplacian")
    message = str(err.value)
    assert "\n" not in message and "feather" in message and "poisson" in message


@pytest.mark.parametrize("background", [
    np.zeros((512, 512), np.uint8),  # grey
    np.zeros((512, 512, 3), np.float32),  # not uint8
    np.zeros((512, 512, 4), np.uint8),  # RGBA
])
def test_bad_background_is_a_config_error(source, moved, background):
    frame, target, _ = moved
    with pytest.raises(ConfigError):
        Mixer().mix(source, frame[None], target[None], background)


def test_hook_offers_the_blend_backend():
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(blend)
    (backends,) = pm.hook.facegan_video_mixers()
    assert [b.name for b in backends] == ["blend"] and isinstance(backends[0], Backend)
    assert isinstance(backends[0].factory(mode="poisson"), BlendMixer)
