"""The ``facegan`` reenactor and mixer in the pipeline: segmentation across the reenact -> mix boundary,
the renderer's refusal of a mixer that needs what the reenactor does not give, full-length
reenactments of the source person (with the driver's audio) from the shipped weights and from
checkpoints named on the command line, and one-line errors for wrong checkpoint files."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from clihelp import assert_clean_error, cli
from test_reenact import Faces, check_reenactment

pytest.importorskip("torch")

from facegan_video.assets import MIXER_WEIGHTS, REENACTOR_WEIGHTS  # noqa: E402
from facegan_video.config import AnalysisConfig  # noqa: E402
from facegan_video.errors import ConfigError  # noqa: E402
from facegan_video.reenact.crops import Crops  # noqa: E402
from facegan_video.reenactment import Renderer  # noqa: E402
from facegan_video.testing import real_face  # noqa: E402
from facegan_video.types import Segmentation  # noqa: E402
from facegan_video.video import open_video, read_image  # noqa: E402

FACEGAN = ("--reenactor", "facegan", "--mixer", "facegan")


@pytest.fixture(scope="module")
def faces() -> Faces:
    return Faces()


def _config(reenact: str, mix: str) -> AnalysisConfig:
    cfg = AnalysisConfig()
    cfg.set_backend("reenact", reenact)
    cfg.set_backend("mix", mix)
    return cfg


def test_shipped_weights_are_small_fp16_and_have_model_cards() -> None:
    from facegan_video.checkpoint import load_checkpoint

    assert REENACTOR_WEIGHTS.stat().st_size + MIXER_WEIGHTS.stat().st_size < 30 * 2**20
    for path, card in ((REENACTOR_WEIGHTS, "MODEL_CARD_facegan_reenactor.md"),
                       (MIXER_WEIGHTS, "MODEL_CARD_facegan_mixer.md")):
        ckpt = load_checkpoint(path)
        assert {str(t.dtype) for t in ckpt.tensors.values()} == {"torch.float16"}
        assert not any(k.startswith("optim.") or "_disc." in k for k in ckpt.tensors)
        text = (path.parent.parent / card).read_text()
        for words in ("Licen", "validation", "cannot"):
            assert words in text, (card, words)


def test_segmentation_crosses_the_reenact_mix_boundary() -> None:
    face = real_face()
    renderer = Renderer(_config("facegan", "facegan"), "cpu")
    assert renderer.gives_segmentation and renderer.needs_segmentation
    frames, seg = renderer.reenactor.reenact(face.image, face.landmarks, face.targets[:2])
    assert isinstance(seg, Segmentation) and seg.frames.shape == frames.shape and seg.source.shape == face.image.shape
    # face and hair found where the face is: the landmarks' hull covered, plus hair and forehead, not the image
    hull = np.zeros(face.image.shape[:2], np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(face.landmarks.astype(np.int32)), 1)
    found = seg.source[..., 1:].sum(-1) > 127
    assert (found & (hull > 0)).sum() >= 0.9 * hull.sum()
    assert 1.2 * hull.sum() < found.sum() < 4 * hull.sum()
    out = renderer.render(face.image, face.source, face.frame_motion[:2])
    assert out.shape == (2,) + face.image.shape and out.dtype == np.uint8


def test_crops_read_only_their_region_of_a_large_frame() -> None:
    """G_r's warp input is rendered only where the crops read (``Crops.region``): frames blanked
    outside that rectangle give the same crops, at the network's 256 pixels from a 2048x2048 frame."""
    face = real_face()
    big = cv2.resize(face.image, (2048, 2048), interpolation=cv2.INTER_CUBIC)
    targets = face.targets[:3] * 4
    crops = Crops(targets, 256, big.shape)
    x0, y0, x1, y1 = crops.region()
    assert (x1 - x0) * (y1 - y0) < 0.6 * 2048 * 2048
    blanked = np.zeros_like(big)
    blanked[y0:y1, x0:x1] = big[y0:y1, x0:x1]
    for k in range(len(crops)):
        np.testing.assert_array_equal(crops.crop(blanked, k), crops.crop(big, k))


def test_pasting_a_crop_back_puts_it_where_it_was_read() -> None:
    """``Crops.uncrop`` is ``crop``'s inverse: a crop of a real 2048x2048 frame, pasted back in its own dtype,
    matches the frame where the fading window is 1 (to within resampling twice), and the window fades at the
    rectangle's edges."""
    face = real_face()
    big = cv2.resize(face.image, (2048, 2048), interpolation=cv2.INTER_CUBIC)
    crops = Crops(face.targets[:1] * 4, 256, big.shape)
    crop = crops.crop(big, 0)
    where, win, (pasted, as_float) = crops.uncrop(0, crop, crop.astype(np.float32))
    assert pasted.dtype == np.uint8 and as_float.dtype == np.float32 and win.dtype == np.float32
    assert pasted.shape == big[where].shape and win.shape == pasted.shape[:2]
    np.testing.assert_allclose(pasted, as_float, atol=1)  # 8-bit resampling rounds, nothing more
    inner = win > 0.999
    assert 0.5 < inner.mean() < 0.95 and win[0].max() < 0.1 and win[:, -1].max() < 0.1
    # the shrunk crop loses detail, so compare blurred copies of the frame
    smooth = cv2.GaussianBlur(big[where], (0, 0), 4).astype(float)
    err = np.abs(cv2.GaussianBlur(pasted, (0, 0), 4).astype(float) - smooth)[inner]
    assert err.mean() < 2, err.mean()  # 0.8 measured; pasting 4 px off gives 5


def test_a_mixer_needing_segmentation_refuses_a_reenactor_without(astronaut_png: Path, carphone_path: Path,
                                                                   tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs the face/hair segmentation") as info:
        Renderer(_config("warp", "facegan"), "cpu")
    assert "'warp'" in str(info.value) and "'facegan'" in str(info.value)
    assert_clean_error(cli("reenact", astronaut_png, carphone_path, "-o", tmp_path / "o.mp4", "--mixer", "facegan"),
                       "segmentation", "--reenactor facegan")
    # the other way round works: blend ignores what facegan's reenactor gives
    Renderer(_config("facegan", "blend"), "cpu").render(real_face().image, real_face().source,
                                                        real_face().frame_motion[:1])


def test_reenact_with_checkpoints_named_by_options(faces: Faces, astronaut_png: Path, carphone_path: Path,
                                                   tmp_path: Path) -> None:
    g, b = tmp_path / "gr.safetensors", tmp_path / "gb.safetensors"
    shutil.copy(REENACTOR_WEIGHTS, g)
    shutil.copy(MIXER_WEIGHTS, b)
    out = tmp_path / "out.mp4"
    proc = cli("reenact", astronaut_png, carphone_path, "-o", out, *FACEGAN, "--opt", f"reenact.checkpoint={g}",
               "--opt", f"mix.checkpoint={b}", "--device", "cpu", "-q", timeout=900)
    assert proc.returncode == 0, proc.stderr
    check_reenactment(faces, read_image(astronaut_png), carphone_path, out)


def test_reenact_with_the_shipped_weights_keeps_identity_and_audio(faces: Faces, astronaut_png: Path,
                                                                    shared_clips: Path, tmp_path: Path) -> None:
    driving = shared_clips / "lia_vox_driving2.mp4"
    out = tmp_path / "out.mp4"
    proc = cli("reenact", astronaut_png, driving, "-o", out, *FACEGAN, "-q", timeout=900)
    assert proc.returncode == 0, proc.stderr
    with open_video(out) as o:
        assert o.info.has_audio
    check_reenactment(faces, read_image(astronaut_png), driving, out)


def test_wrong_checkpoints_are_one_line_errors(astronaut_png: Path, carphone_path: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "cut.safetensors"
    truncated.write_bytes(REENACTOR_WEIGHTS.read_bytes()[:1000])
    out = tmp_path / "o.mp4"
    assert_clean_error(cli("reenact", astronaut_png, carphone_path, "-o", out, *FACEGAN,
                           "--opt", f"reenact.checkpoint={truncated}"), str(truncated), "corrupt or truncated")
    assert_clean_error(cli("reenact", astronaut_png, carphone_path, "-o", out, *FACEGAN,
                           "--opt", f"reenact.checkpoint={MIXER_WEIGHTS}"), "not one with a reenactor")
    assert_clean_error(cli("reenact", astronaut_png, carphone_path, "-o", out, *FACEGAN,
                           "--opt", f"mix.checkpoint={tmp_path / 'none.safetensors'}"), "none.safetensors")
    assert not out.exists()
