"""L_T / L_a networks, their losses on hand-computed inputs, augmentations, the crop geometry and
checkpoint files (round trip, and every way a file can be wrong)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("safetensors")

from facegan_video.checkpoint import (  # noqa: E402
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    load_module,
    module_tensors,
    save_checkpoint,
)
from facegan_video.ibug import EDGES, MIRROR  # noqa: E402
from facegan_video.nets.crop import (  # noqa: E402
    EYE_CENTRE,
    FACE_SCALE,
    apply_transform,
    crop_image,
    crop_transform,
    invert_transform,
)
from facegan_video.nets.landmark import (  # noqa: E402
    KIND,
    PREFIX,
    LandmarkNets,
    LTConfig,
    denormalise_motion,
    landmark_nets_from_checkpoint,
    normalise_motion,
    transform_landmarks,
)

# ----------------------------------------------------------------------------------------- losses

losses = pytest.importorskip("facegan_video_training.losses")


def test_reconstruction_loss_by_hand() -> None:
    source = torch.zeros(1, 68, 2)
    delta = torch.zeros(1, 68, 2)
    delta[..., 0] = 0.01
    driving = torch.zeros(1, 68, 2)
    got = losses.reconstruction_loss(source + delta, delta, driving, reg=0.5)
    # mean |l_t - l_d| over 136 coordinates = 68 * 0.01 / 136; ||dl||_2 = 0.01 * sqrt(68)
    assert got.shape == (1,)
    assert got.item() == pytest.approx(0.005 + 0.5 * 0.01 * math.sqrt(68), rel=1e-6)


def test_au_loss_by_hand_skips_unmeasured_aus() -> None:
    motion = torch.full((1, 20), 0.2)
    motion[0, 3] = float("nan")
    # the 19 measured entries: |0.3 - 0.2|
    assert losses.au_loss(torch.full((1, 20), 0.3), motion).item() == pytest.approx(0.1, rel=1e-5)


def test_edit_au_loss_is_relative_to_the_source_reading() -> None:
    """An edit's eq. 2 asks for the source's reading, clipped to the AU range, plus the change."""
    change = torch.full((1, 20), 0.2)
    change[0, 3] = float("nan")
    au_source = torch.full((1, 20), 0.1)
    au_source[0, 0] = -0.5  # reads below the range: the analysis would report 0
    got = losses.edit_au_loss(torch.full((1, 20), 0.25), au_source, change)
    # entry 0: target 0 + 0.2, |0.25 - 0.2|; the 18 others measured: target 0.3, |0.25 - 0.3|
    assert got.item() == pytest.approx((0.05 + 18 * 0.05) / 19, rel=1e-5)
    asked = torch.zeros(1, 20)
    asked[0, 5] = 0.4
    weighted = losses.edit_au_loss(torch.zeros(1, 20), torch.zeros(1, 20), asked, asked=3.0)
    assert weighted.item() == pytest.approx(3 * 0.4 / 20, rel=1e-5)  # only the asked AU is off, weighted 3


def test_bounded_l1_at_the_ends_of_the_au_range() -> None:
    target = torch.zeros(1, 20)
    target[0, 1] = 1.0  # AU at its top
    target[0, 18] = 0.0  # yaw: not an AU, no bound
    pred = torch.full((1, 20), -0.3)
    pred[0, 1] = 1.2
    err = losses.bounded_l1(pred, target)
    assert err[0, 0].item() == 0.0  # below an AU label of 0: what the analysis reports as 0
    assert err[0, 1].item() == 0.0  # above a label of 1 (AU 5)
    assert err[0, 18].item() == pytest.approx(0.3)
    assert losses.bounded_l1(torch.full((1, 20), 0.1), target)[0, 0].item() == pytest.approx(0.1)
    assert losses.au_loss(pred, target).item() == pytest.approx(3 * 0.3 / 20, rel=1e-5)  # pitch, yaw, roll


def test_connectivity_loss_by_hand() -> None:
    assert EDGES.shape == (63, 2)
    driving = torch.zeros(1, 68, 2)
    target = driving.clone()
    target[0, 0] = torch.tensor([1.0, 0.0])  # jaw end: one edge (0-1) changes by 1 in x
    target[0, 36] = torch.tensor([0.0, 2.0])  # eye corner on a closed contour: edges 36-37 and 41-36, by 2 in y
    got = losses.connectivity_loss(target, driving)
    assert got.item() == pytest.approx((1 + 2 + 2) / (63 * 2), rel=1e-6)
    # the loss sees shape, not position
    assert losses.connectivity_loss(driving + 0.3, driving).item() == pytest.approx(0.0, abs=1e-7)


def test_weighted_sum_eq4() -> None:
    g = torch.Generator().manual_seed(1)
    source, delta, driving = (torch.rand(4, 68, 2, generator=g) for _ in range(3))
    au_t, au_d, au_s, motion = (torch.rand(4, 20, generator=g) for _ in range(4))
    w = losses.LTWeights(reg=0.1, reconstruction=2.0, au=0.5, connectivity=3.0)
    terms = losses.lt_losses(source, delta, driving, au_t, au_d, motion, w)
    expected = (2.0 * losses.reconstruction_loss(source + delta, delta, driving, 0.1)
                + 0.5 * (losses.au_loss(au_t, motion) + losses.au_loss(au_d, motion))
                + 3.0 * losses.connectivity_loss(source + delta, driving))
    assert terms["loss"].shape == (4,)
    torch.testing.assert_close(terms["loss"], expected)
    change = motion - au_s
    edit = losses.edit_losses(source, delta, au_t, au_s, change, w)
    expected = (0.5 * losses.edit_au_loss(au_t, au_s, change, w.edit_asked) + 0.1 * delta.flatten(1).norm(dim=1)
                + w.edit_connectivity * losses.connectivity_loss(source + delta, source))
    torch.testing.assert_close(edit["edit_loss"], expected)


# ----------------------------------------------------------------------------------------- networks


def test_untrained_lt_returns_the_source_and_la_sizes() -> None:
    nets = LandmarkNets(LTConfig())
    source = torch.rand(5, 68, 2)
    motion, own = torch.rand(5, 20) * 3, torch.rand(5, 20) * 3
    torch.testing.assert_close(transform_landmarks(nets.lt, source, motion, own), source)
    delta, au_t, au_s, au_real = nets(source - 0.5, normalise_motion(own), normalise_motion(motion),
                                      torch.rand(5, 68, 2) - 0.5)
    assert delta.shape == (5, 68, 2) and au_t.shape == au_s.shape == au_real.shape == (5, 20)
    # small enough to ship inside the package
    assert sum(p.numel() for p in nets.parameters()) * 4 < 2e6


def test_lt_moves_by_the_change_of_motion_and_la_learns_from_real_landmarks_only() -> None:
    """l_t = l_s + L_T(l_s, AU_t) - L_T(l_s, AU_s): the source's own motion gives back the source exactly
    for any weights; L_a's reading of l_t trains L_T, not L_a."""
    torch.manual_seed(0)
    nets = LandmarkNets(LTConfig(hidden=32, layers=2, au_hidden=16, au_layers=1))
    for p in nets.parameters():
        torch.nn.init.normal_(p, std=0.3)
    source, own = torch.rand(4, 68, 2), torch.rand(4, 20) * 3
    torch.testing.assert_close(transform_landmarks(nets.lt, source, own, own), source)
    assert (transform_landmarks(nets.lt, source, own + 1, own) - source).abs().max() > 1e-3
    delta, au_t, au_s, au_real = nets(source - 0.5, normalise_motion(own), normalise_motion(own + 1), source - 0.5)
    au_t.sum().backward()
    assert all(p.grad is None for p in nets.la.parameters())
    assert all(p.grad is not None for p in nets.lt.parameters())
    nets.zero_grad()
    au_real.sum().backward()
    assert all(p.grad is not None for p in nets.la.parameters())


def test_motion_normalisation_round_trip() -> None:
    motion = torch.cat([torch.rand(3, 17) * 5, torch.rand(3, 3) - 0.5], 1)
    torch.testing.assert_close(denormalise_motion(normalise_motion(motion)), motion)
    assert normalise_motion(torch.zeros(1, 20))[0, 17:].tolist() == pytest.approx([0.5] * 3)


@pytest.mark.parametrize("bad", [{"hidden": 0}, {"layers": 2.5}, {"width": 3}])
def test_bad_config_is_rejected(bad: dict) -> None:
    with pytest.raises(ValueError):
        LTConfig.from_dict(bad)


# ----------------------------------------------------------------------------------------- augmentation

augment = pytest.importorskip("facegan_video_training.augment")


def test_mirror_is_an_involution_and_flips_yaw_and_roll() -> None:
    assert (MIRROR[MIRROR] == np.arange(68)).all()
    lm = torch.rand(3, 68, 2)
    motion = torch.rand(3, 20)
    flip = torch.tensor([True, False, True])
    m_lm, m_motion = augment.mirror(lm, motion, flip)
    torch.testing.assert_close(m_lm[1], lm[1])
    assert m_motion[0, 18].item() == pytest.approx(-motion[0, 18].item())  # yaw
    assert m_motion[0, 19].item() == pytest.approx(-motion[0, 19].item())  # roll
    torch.testing.assert_close(m_motion[0, :18], motion[0, :18])  # AUs and pitch
    # the right eye's outer corner (36) lands where the left eye's (45) was, reflected
    assert m_lm[0, 45, 0].item() == pytest.approx(2 * EYE_CENTRE[0] - lm[0, 36, 0].item())
    back, back_motion = augment.mirror(m_lm, m_motion, flip)
    torch.testing.assert_close(back, lm)
    torch.testing.assert_close(back_motion, motion)


def test_identity_jitter_changes_both_faces_alike() -> None:
    lm = torch.rand(4, 68, 2)
    a, b = augment.jitter_identity((lm, lm.clone()), np.random.default_rng(0), 0.05)
    torch.testing.assert_close(a, b)  # same input, same new identity
    assert (a - lm).abs().max() > 1e-3
    same, _ = augment.jitter_identity((lm, lm), np.random.default_rng(0), 0.0)
    torch.testing.assert_close(same, lm)


# ----------------------------------------------------------------------------------------- crop geometry


def _face(iod: float, eye_mouth: float) -> np.ndarray:
    lm = np.full((68, 2), 100.0)
    lm[36:42] = [70, 100]
    lm[42:48] = [70 + iod, 100]
    lm[48] = [60 + iod / 2, 100 + eye_mouth]
    lm[54] = [80 + iod / 2, 100 + eye_mouth]
    return lm


def test_crop_puts_the_eyes_in_place() -> None:
    lm = _face(60, 50)
    t = crop_transform(lm)
    u = apply_transform(lm, t)
    assert u[36:48].mean(0) == pytest.approx(EYE_CENTRE)
    assert u[42, 0] - u[36, 0] == pytest.approx(FACE_SCALE)
    np.testing.assert_allclose(apply_transform(u, invert_transform(t)), lm)
    # a turned face (eyes close together) keeps its size: the eye-mouth distance sets the scale
    turned = apply_transform(_face(20, 70), crop_transform(_face(20, 70)))
    assert turned[42, 0] - turned[36, 0] < FACE_SCALE / 2


@pytest.mark.parametrize("transform", [(0.126, -60.0, -40.0), (0.253, -200.3, -150.7), (0.61, -500.2, -300.1),
                                       (1.5, -900.0, -800.0)])
def test_a_crop_samples_the_frame_where_its_transform_says_and_reads_only_its_part(transform) -> None:
    """On a 2048x2048 colour ramp each crop pixel holds the ramp's value at its frame position (within
    a level), and pixels farther from the crop than two of its shrunk pixels do not change it."""
    yy, xx = np.mgrid[0:2048, 0:2048].astype(np.float64)
    ramp = np.stack([xx / 2048 * 250, yy / 2048 * 250, (xx + yy) / 4096 * 250], -1).astype(np.uint8)
    s, tx, ty = transform
    crop = crop_image(ramp, np.array(transform), 256).astype(np.float64)
    q = np.arange(256) + 0.0
    px, py = (q - tx) / s, (q - ty) / s
    inside_x, inside_y = (px > 8) & (px < 2040), (py > 8) & (py < 2040)
    assert np.abs(crop[0, inside_x, 0] - px[inside_x] / 2048 * 250).mean() < 1
    assert np.abs(crop[inside_y, 0, 1] - py[inside_y] / 2048 * 250).mean() < 1
    blanked = np.zeros_like(ramp)
    x0, y0 = (int(np.floor(-t / s - 2 / s - 2)) for t in (tx, ty))
    x1, y1 = (int(np.ceil((256 - t) / s + 2 / s + 2)) for t in (tx, ty))
    blanked[max(y0, 0):y1, max(x0, 0):x1] = ramp[max(y0, 0):y1, max(x0, 0):x1]
    np.testing.assert_array_equal(crop_image(blanked, np.array(transform), 256), crop.astype(np.uint8))


# ----------------------------------------------------------------------------------------- checkpoints


def _checkpoint(config: LTConfig = LTConfig(hidden=64, layers=2)) -> tuple[Checkpoint, LandmarkNets]:
    torch.manual_seed(3)
    nets = LandmarkNets(config)
    for p in nets.parameters():
        p.data.normal_()
    tensors = module_tensors(nets, PREFIX)
    tensors |= {"optim.step": torch.tensor(7.0), "counts": torch.arange(5), "half": torch.rand(3).half()}
    return Checkpoint(KIND, tensors, {"model": config.to_dict(), "task": {"x": [1, 2]}}, step=12, epoch=3,
                      metrics={"landmark_px": 1.25}, state={"best": 1.25, "inf": math.inf}), nets


def test_checkpoint_round_trip_is_exact(tmp_path: Path) -> None:
    ckpt, nets = _checkpoint()
    path = save_checkpoint(tmp_path / "last", ckpt)
    assert path.name == "last.safetensors"
    back = load_checkpoint(path, kind=KIND)
    assert set(back.tensors) == set(ckpt.tensors)
    for name, tensor in ckpt.tensors.items():
        assert back.tensors[name].dtype == tensor.dtype and torch.equal(back.tensors[name], tensor), name
    assert (back.config, back.step, back.epoch, back.metrics) == (ckpt.config, 12, 3, {"landmark_px": 1.25})
    assert back.state == {"best": 1.25, "inf": math.inf}
    rebuilt = landmark_nets_from_checkpoint(back)
    assert rebuilt.config == nets.config and not rebuilt.training
    x, m = torch.rand(2, 68, 2), torch.rand(2, 20)
    assert torch.equal(rebuilt.lt(x, m), nets.lt(x, m))


def _one_line_error(path: Path, *words: str, **kwargs) -> str:
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, **kwargs)
    text = str(info.value)
    assert "\n" not in text and str(path) in text
    for w in words:
        assert w in text, text
    return text


def test_missing_truncated_and_corrupt_checkpoints(tmp_path: Path) -> None:
    ckpt, _ = _checkpoint()
    path = save_checkpoint(tmp_path / "c", ckpt)
    data = path.read_bytes()
    _one_line_error(tmp_path / "nothing.safetensors", "no checkpoint")
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(data[: len(data) // 2])
    _one_line_error(truncated, "corrupt or truncated")
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)))
    _one_line_error(corrupt, "corrupt or truncated")
    header_cut = tmp_path / "header.safetensors"
    header_cut.write_bytes(data[:40])
    _one_line_error(header_cut, "corrupt or truncated")


def test_foreign_and_wrong_kind_checkpoints(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(plain))
    _one_line_error(plain, "without facegan-video metadata")
    ckpt, _ = _checkpoint()
    ckpt.kind = "reenactor"
    path = save_checkpoint(tmp_path / "g", ckpt)
    _one_line_error(path, "'reenactor'", "expected 'lt'", kind="lt")
    with pytest.raises(CheckpointError, match="not a landmark transformer"):
        landmark_nets_from_checkpoint(load_checkpoint(path))


def test_checkpoint_of_another_size_does_not_load(tmp_path: Path) -> None:
    ckpt, _ = _checkpoint(LTConfig(hidden=64, layers=2))
    path = save_checkpoint(tmp_path / "small", ckpt)
    with pytest.raises(CheckpointError) as info:
        load_module(LandmarkNets(LTConfig(hidden=128, layers=2)), load_checkpoint(path), PREFIX)
    assert str(path) in str(info.value) and "does not fit" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(CheckpointError, match="does not fit"):
        load_module(LandmarkNets(LTConfig(hidden=64, layers=3)), load_checkpoint(path), PREFIX)
