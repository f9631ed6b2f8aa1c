"""G_r, G_b and the discriminators on tensors: output shapes, eq. 9, the heatmap, each image loss on
inputs worked out by hand, the VGG19 loader, batch against single, and checkpoints (round trip,
fp16 weights cast on loading, wrong files)."""

from __future__ import annotations

from pathlib import Path

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
from facegan_video.nets.discriminator import DiscriminatorConfig, MultiScaleDiscriminator  # noqa: E402
from facegan_video.nets.mixer import BackgroundMixer, MixerConfig, compose, mixer_from_checkpoint  # noqa: E402
from facegan_video.nets.reenactor import (  # noqa: E402
    FaceReenactor,
    ReenactorConfig,
    heatmap,
    reenactor_from_checkpoint,
)
from facegan_video.nets.unet import UNetConfig  # noqa: E402

SMALL = UNetConfig((8, 16, 16))


def _images(b: int, s: int, c: int = 3) -> torch.Tensor:
    return torch.rand(b, c, s, s, generator=torch.Generator().manual_seed(b * s + c))


@pytest.mark.parametrize("size", [64, 128])
def test_output_shapes(size: int) -> None:
    src, heat = _images(2, size), _images(2, size, 1)
    for warp in (False, True):
        rgb, logits = FaceReenactor(ReenactorConfig(SMALL, warp=warp))(src, heat, src if warp else None)
        assert rgb.shape == (2, 3, size, size) and logits.shape == (2, 3, size, size)
    out, colour, mask = BackgroundMixer(MixerConfig(SMALL))(src, heat, src, heat)
    assert out.shape == colour.shape == (2, 3, size, size) and mask.shape == (2, 1, size, size)
    assert 0 <= float(mask.detach().min()) and float(mask.detach().max()) <= 1
    scales = MultiScaleDiscriminator(DiscriminatorConfig(inputs=4, width=8))(torch.cat([src, heat], 1))
    assert len(scales) == 3 and [s[-1].shape[1] for s in scales] == [1, 1, 1]
    assert scales[0][-1].shape[-1] > scales[1][-1].shape[-1] > scales[2][-1].shape[-1]


def test_sizes_that_do_not_fit_the_unet_are_refused() -> None:
    with pytest.raises(ValueError, match="multiples of 8"):
        FaceReenactor(ReenactorConfig(SMALL, warp=False))(_images(1, 60), _images(1, 60, 1))
    with pytest.raises(ValueError, match="needs the warped source"):
        FaceReenactor(ReenactorConfig(SMALL, warp=True))(_images(1, 64), _images(1, 64, 1))


def test_untrained_warp_variant_returns_the_warp() -> None:
    """The correction head starts at zero: before training, G_r's warp variant is the warp reenactor."""
    warped = _images(2, 64)
    rgb, _ = FaceReenactor(ReenactorConfig(SMALL, warp=True))(_images(2, 64), _images(2, 64, 1), warped)
    assert torch.equal(rgb, warped)


def test_eq9_composition_is_exact() -> None:
    mask = torch.tensor([[[[0.0, 1.0], [0.25, 0.5]]]])
    colour = torch.full((1, 3, 2, 2), 0.8)
    background = torch.full((1, 3, 2, 2), 0.2)
    out = compose(mask, colour, background)
    expected = torch.tensor([[0.2, 0.8], [0.2 + 0.25 * 0.6, 0.5]]).expand(1, 3, 2, 2)
    assert torch.allclose(out, expected, atol=1e-7)
    # the network's output is eq. 9 of its own I_c and M over the I_b it was given
    net = BackgroundMixer(MixerConfig(SMALL))
    face, fg, back, hole = _images(2, 64), _images(2, 64, 1), _images(2, 64), _images(2, 64, 1)
    out, colour, mask = net(face, fg, back, hole)
    assert torch.equal(out, mask * colour + (1 - mask) * back)


def test_heatmap_peaks_at_the_landmarks() -> None:
    lm = torch.full((1, 68, 2), 0.9)
    lm[0, 0] = torch.tensor([0.25, 0.5])  # x, y
    heat = heatmap(lm, 64)
    assert heat.shape == (1, 1, 64, 64) and float(heat.max()) <= 1
    assert float(heat[0, 0, 32, 16]) == pytest.approx(1.0, abs=1e-6)  # row y = 0.5 * 64, column x = 0.25 * 64
    assert float(heat[0, 0, 32, 24]) < 1e-6  # 8 px = 12.5 sigma away
    near = float(heat[0, 0, 32, 17])  # one pixel = 1/64 = 1.5625 sigma
    assert near == pytest.approx(float(torch.exp(torch.tensor(-0.5 * 1.5625 ** 2))), rel=1e-5)


def test_batch_equals_single() -> None:
    torch.manual_seed(0)
    g, b = FaceReenactor(ReenactorConfig(SMALL)).eval(), BackgroundMixer(MixerConfig(SMALL)).eval()
    src, heat = _images(4, 64), _images(4, 64, 1)
    with torch.no_grad():
        rgb, logits = g(src, heat, src)
        out = b(src, heat, src, heat)[0]
        for i in range(4):
            one = g(src[i:i + 1], heat[i:i + 1], src[i:i + 1])
            assert torch.allclose(one[0], rgb[i:i + 1], atol=1e-5)
            assert torch.allclose(one[1], logits[i:i + 1], atol=1e-5)
            assert torch.allclose(b(src[i:i + 1], heat[i:i + 1], src[i:i + 1], heat[i:i + 1])[0], out[i:i + 1],
                                  atol=1e-5)


# ----------------------------------------------------------------------------------------- losses

L = pytest.importorskip("facegan_video_training.image_losses")


def test_l1_and_segmentation_ce_by_hand() -> None:
    a, b = torch.zeros(2, 3, 2, 2), torch.zeros(2, 3, 2, 2)
    b[0, 0, 0, 0] = 1.2  # one of 12 entries of sample 0
    assert torch.allclose(L.l1(a, b), torch.tensor([0.1, 0.0]))
    logits = torch.zeros(1, 3, 1, 2)
    logits[0, 1, 0, 0] = 2.0  # pixel 0: face favoured; pixel 1: uniform
    labels = torch.tensor([[[1, 2]]])
    p_face = torch.exp(torch.tensor(2.0)) / (torch.exp(torch.tensor(2.0)) + 2)
    expected = (-torch.log(p_face) - torch.log(torch.tensor(1 / 3))) / 2
    assert torch.allclose(L.segmentation_ce(logits, labels), expected.view(1))


def _features(*scores: float, feature: float = 0.0) -> list[list[torch.Tensor]]:
    return [[torch.full((1, 2, 2, 2), feature), torch.full((1, 1, 2, 2), s)] for s in scores]


def test_adversarial_losses_by_hand() -> None:
    fake, real = _features(0.5, -1.0), _features(2.0, 0.0)
    # LSGAN: G (0.5-1)^2 + (-1-1)^2; D (2-1)^2 + 0.5^2 + (0-1)^2 + (-1)^2
    assert torch.allclose(L.generator_adversarial(fake, "lsgan"), torch.tensor([0.25 + 4.0]))
    assert torch.allclose(L.discriminator_adversarial(real, fake, "lsgan"), torch.tensor([1 + 0.25 + 1 + 1.0]))
    # hinge: G -(0.5) - (-1); D relu(1-2) + relu(1+0.5) + relu(1-0) + relu(1-1)
    assert torch.allclose(L.generator_adversarial(fake, "hinge"), torch.tensor([-0.5 + 1.0]))
    assert torch.allclose(L.discriminator_adversarial(real, fake, "hinge"), torch.tensor([0 + 1.5 + 1 + 0.0]))
    with pytest.raises(ValueError, match="lsgan"):
        L.generator_adversarial(fake, "wasserstein")


def test_feature_matching_by_hand() -> None:
    """Mean over scales and layers (scores left out) of the mean absolute feature difference."""
    fake = [[torch.full((1, 2, 2, 2), 1.0), torch.full((1, 4, 1, 1), 3.0), torch.zeros(1, 1, 1, 1)],
            [torch.full((1, 2, 2, 2), 0.5), torch.zeros(1, 4, 1, 1), torch.ones(1, 1, 1, 1)]]
    real = [[torch.zeros(1, 2, 2, 2), torch.full((1, 4, 1, 1), 1.0), torch.ones(1, 1, 1, 1)],
            [torch.zeros(1, 2, 2, 2), torch.zeros(1, 4, 1, 1), torch.zeros(1, 1, 1, 1)]]
    assert torch.allclose(L.feature_matching(fake, real), torch.tensor([(1.0 + 2.0 + 0.5 + 0.0) / 4]))


def test_mask_terms_eq10_by_hand() -> None:
    mask = torch.tensor([[[[0.0, 1.0], [0.0, 0.5]]]])
    # horizontal: (1-0)^2, (0.5-0)^2 -> mean 0.625; vertical: 0, (0.5-1)^2 -> mean 0.125
    assert torch.allclose(L.mask_tv(mask), torch.tensor([0.75]))
    assert torch.allclose(L.mask_l2(mask), torch.tensor([(1 + 0.25) / 4]))


def test_vgg19_from_a_torchvision_state_dict(tmp_path: Path) -> None:
    vgg = pytest.importorskip("facegan_video_training.vgg")
    from facegan_video.errors import ConfigError

    torch.manual_seed(0)
    reference = vgg._features()  # torchvision's layer numbering: features.0 ... features.34
    state = {f"features.{k}": v for k, v in reference.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(2, 2)  # a full VGG19 state dict also has the classifier
    path = tmp_path / "vgg19.pth"
    torch.save(state, path)
    net = vgg.load_vgg19(path)
    x = torch.rand(1, 3, 32, 32)
    taps = net(x)
    assert [t.shape[1] for t in taps] == [64, 128, 256, 512, 512]
    y = (x - net.mean) / net.std
    for layer in reference[:vgg.TAPS[0] + 1]:
        y = layer(y)
    assert torch.allclose(taps[0], y)  # relu1_1 of the same weights
    assert float(net.loss(x, x)) == 0 and float(net.loss(x, torch.rand(1, 3, 32, 32))) > 0
    assert not any(p.requires_grad for p in net.parameters())
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a state dict")
    for wrong in (bad, tmp_path / "missing.pth"):
        with pytest.raises(ConfigError) as info:
            vgg.load_vgg19(wrong)
        assert "\n" not in str(info.value) and "--vgg-weights" in str(info.value)


# ----------------------------------------------------------------------------------------- checkpoints


def _save(tmp_path: Path, kind: str, name: str, net: torch.nn.Module, config: dict, half: bool = False) -> Path:
    tensors = module_tensors(net, f"model.{name}.")
    if half:
        tensors = {k: v.half() for k, v in tensors.items()}
    return save_checkpoint(tmp_path / kind, Checkpoint(kind, tensors, {"model": {name: config}}))


@pytest.mark.parametrize("half", [False, True])
def test_checkpoint_round_trip_and_fp16_cast(tmp_path: Path, half: bool) -> None:
    torch.manual_seed(1)
    g = FaceReenactor(ReenactorConfig(SMALL, warp=False)).eval()
    b = BackgroundMixer(MixerConfig(SMALL)).eval()
    g2 = reenactor_from_checkpoint(load_checkpoint(_save(tmp_path, "reenactor", "reenactor", g,
                                                         g.config.to_dict(), half)))
    b2 = mixer_from_checkpoint(load_checkpoint(_save(tmp_path, "mixer", "mixer", b, b.config.to_dict(), half)))
    assert g2.config == g.config and b2.config == b.config and not g2.training
    assert all(p.dtype == torch.float32 for p in g2.parameters())
    src, heat = _images(1, 64), _images(1, 64, 1)
    with torch.no_grad():
        if half:  # fp16 weights lose precision, nothing else
            assert torch.allclose(g2(src, heat)[0], g(src, heat)[0], atol=5e-3)
        else:
            assert torch.equal(g2(src, heat)[0], g(src, heat)[0])
            assert torch.equal(b2(src, heat, src, heat)[0], b(src, heat, src, heat)[0])


def test_wrong_checkpoints_are_one_line_errors(tmp_path: Path) -> None:
    g = FaceReenactor(ReenactorConfig(SMALL, warp=False))
    path = _save(tmp_path, "reenactor", "reenactor", g, g.config.to_dict())
    for call, words in ((lambda: mixer_from_checkpoint(load_checkpoint(path)), "not one with a mixer"),
                        (lambda: load_module(FaceReenactor(ReenactorConfig(UNetConfig((8, 16)), warp=False)),
                                             load_checkpoint(path), "model.reenactor."), "does not fit")):
        with pytest.raises(CheckpointError) as info:
            call()
        assert words in str(info.value) and "\n" not in str(info.value) and str(path) in str(info.value)
    half = save_checkpoint(tmp_path / "half", Checkpoint("reenactor", {k: v.half() for k, v in
                                                                       module_tensors(g, "model.reenactor.").items()}))
    with pytest.raises(CheckpointError, match="float16"):  # training resumes insist on the saved dtype
        load_module(g, load_checkpoint(half), "model.reenactor.")
    odd = save_checkpoint(tmp_path / "odd", Checkpoint("reenactor", module_tensors(g, "model.reenactor."),
                                                       {"model": {"reenactor": {"unet": {"channels": [8]}}}}))
    with pytest.raises(CheckpointError, match="bad reenactor config"):
        reenactor_from_checkpoint(load_checkpoint(odd))
