"""``facegan-video train reenactor|mixer|joint`` on a dataset prepared from real clips: real pairs and
steps, every network learning, overfitting a small real set, checkpoints and sample grids, exact
resumption, one-line errors and two data-parallel processes under torchrun."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from clihelp import assert_clean_error, cli
from trainhelp import run_metrics, three_clip_root

pytest.importorskip("facegan_video_training")

from facegan_video.checkpoint import load_checkpoint  # noqa: E402
from facegan_video.nets.mixer import MixerConfig  # noqa: E402
from facegan_video.nets.reenactor import ReenactorConfig, reenactor_from_checkpoint  # noqa: E402
from facegan_video.nets.unet import UNetConfig  # noqa: E402
from facegan_video_training.dataset import FaceDataset  # noqa: E402
from facegan_video_training.image_losses import l1  # noqa: E402
from facegan_video_training.pairs import ImagePairs, crop_to_crop  # noqa: E402
from facegan_video_training.tasks.image import GRID_ROWS, ImageTaskConfig, Pairs  # noqa: E402
from facegan_video_training.tasks.joint import JointTask  # noqa: E402
from facegan_video_training.tasks.mixer import MixerTask, mixer_inputs  # noqa: E402
from facegan_video_training.tasks.reenactor import ReenactorTask, run_reenactor  # noqa: E402
from facegan_video_training.trainer import TrainOptions, fit  # noqa: E402

#: Small networks for the tests that train many steps.
SMALL = UNetConfig((8, 16, 32))


@pytest.fixture(scope="module")
def dataset(shared_clips, tmp_path_factory) -> Path:
    return three_clip_root(shared_clips, tmp_path_factory)


def test_train_help_lists_every_task() -> None:
    proc = cli("train", "--help")
    assert proc.returncode == 0
    for task in ("lt", "reenactor", "mixer", "joint"):
        assert f" {task} " in proc.stdout, proc.stdout


def test_pairs_are_real_frames_of_one_track_in_the_target_crop(dataset: Path) -> None:
    pairs = ImagePairs(FaceDataset(dataset), "train", warp=True)
    i = np.array([0, 5])
    j = pairs.partners(i, np.random.default_rng(0))
    assert (pairs.owner[i] == pairs.owner[j]).all()
    batch = pairs.batch(i, j, 64)
    assert batch.source.shape == batch.target.shape == batch.warped.shape == (2, 64, 64, 3)
    assert batch.source.dtype == np.uint8 and set(np.unique(batch.target_seg)) <= {0, 1, 2}
    track = pairs.tracks[0]
    assert np.allclose(batch.target_landmarks[0], track.sample(int(j[0]), 64).landmarks)
    m = crop_to_crop(pairs.crops[0][0], pairs.crops[0][int(j[0])], 0.25)  # the source's landmarks followed along
    assert np.allclose(batch.source_landmarks[0], track.sample(0, 64).landmarks @ m[:, :2].T + m[:, 2], atol=1e-4)
    flipped = pairs.batch(i, j, 64, np.array([True, False]))
    assert np.array_equal(flipped.target[0], batch.target[0][:, ::-1]) and np.array_equal(flipped.target[1],
                                                                                          batch.target[1])
    assert np.allclose(flipped.target_landmarks[0, 36, 0], 63 - batch.target_landmarks[0, 45, 0])  # eye corners swap


@pytest.mark.parametrize("shipped", [False, True])
def test_one_step_changes_every_networks_weights(dataset: Path, tmp_path: Path, shipped: bool) -> None:
    """One joint step moves every weight of G_r, G_b and both discriminators; the shipped variants'
    zero-initialised correction heads pass no gradient to the U-Net bodies on the first step (by
    design: they start as the warp and as pasting the face), so there it takes two."""
    cfg = ImageTaskConfig(resolution=64, reenactor=ReenactorConfig(SMALL, warp=shipped),
                          mixer=MixerConfig(SMALL, residual=shipped))
    task = JointTask(FaceDataset(dataset), cfg)
    torch.manual_seed(0)
    before = {k: {n: p.detach().clone() for n, p in m.named_parameters()} for k, m in task.build(
        torch.device("cpu")).items()}
    result = fit(task, TrainOptions(out=tmp_path / "run", max_steps=2 if shipped else 1, batch_size=2, device="cpu",
                                    quiet=True))
    after = load_checkpoint(result.last)
    assert set(before) == {"reenactor", "mixer", "reenactor_disc", "mixer_disc"}
    for net, params in before.items():
        for name, value in params.items():
            stored = after.tensors[f"model.{net}.{name}"]
            assert not torch.equal(stored, value), f"{net}.{name} did not change"


def _overfit(task, tmp_path: Path, steps: int, measure) -> tuple[float, float]:
    torch.manual_seed(0)  # what the trainer does before building (seed 0)
    models = task.build(torch.device("cpu"))
    i, j = task.fixed
    pairs = Pairs.of(task.train.batch(i, j, task.cfg.resolution), task.cfg.resolution, torch.device("cpu"))
    with torch.no_grad():
        before = measure(models, pairs)
    # epochs=steps: the run's length is ``steps`` (the default 10 epochs of this small dataset would cap it)
    result = fit(task, TrainOptions(out=tmp_path / "run", epochs=steps, max_steps=steps, batch_size=len(i), lr=1e-3,
                                    device="cpu", quiet=True))
    ckpt = load_checkpoint(result.last)
    for name, model in models.items():
        model.load_state_dict(ckpt.under(f"model.{name}."))
    with torch.no_grad():
        return before, measure(models, pairs)


def test_overfitting_16_real_pairs_lowers_the_l1_threefold(dataset: Path, tmp_path: Path) -> None:
    """The paper's G_r (learning the face outright) and G_b (I_c and M outright) each fit 16 fixed
    real pairs at 64 px with their full losses: the L1 to the ground truth (eq. 5 for G_r, the whole
    frame for G_b) falls at least 3x. The shipped variants start at the warp and at pasting the face,
    already near their floor on same-track pairs, so they are not the ones this measures; the U-Nets
    are twice the shipped width at the first level, since 16 channels at half resolution blur too
    much to memorise faces within a test's steps."""
    ds = FaceDataset(dataset)
    wide = UNetConfig((32, 64, 128))
    cfg = ImageTaskConfig(resolution=64, overfit=16, reenactor=ReenactorConfig(wide, warp=False),
                          mixer=MixerConfig(wide, residual=False))

    def face_l1(models, pairs):
        rgb, _ = run_reenactor(models["reenactor"], pairs)
        return float(l1(rgb * pairs.target_fg, pairs.target * pairs.target_fg).mean())

    before, after = _overfit(ReenactorTask(ds, cfg), tmp_path / "gr", 300, face_l1)
    assert after < before / 3, (before, after)

    def frame_l1(models, pairs):
        out = models["mixer"](*mixer_inputs(pairs, pairs.target, pairs.target_fg))[0]
        return float(l1(out, pairs.target).mean())

    before, after = _overfit(MixerTask(ds, cfg), tmp_path / "gb", 250, frame_l1)
    assert after < before / 3, (before, after)


@pytest.mark.parametrize("task", ["reenactor", "mixer"])
def test_five_steps_at_64_write_checkpoints_and_a_sample_grid(dataset: Path, tmp_path: Path, task: str) -> None:
    run = tmp_path / task
    proc = cli("train", task, "--data", dataset, "--out", run, "--max-steps", 5, "--resolution", 64,
               "--device", "cpu", "--batch-size", 2, "--sample-every", 3)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    last = load_checkpoint(run / "last.safetensors", kind=task)
    assert last.step == 5 and last.config["task"]["resolution"] == 64
    assert any(k.startswith(f"model.{task}.") for k in last.tensors)
    grids = sorted((run / "samples").glob("*.png"))
    assert [g.name for g in grids] == ["step_0000003.png", "step_0000005.png"]
    grid = cv2.imread(str(grids[-1]))
    assert grid.shape[1] == 6 * 64 and grid.shape[0] % 64 == 0 and 1 <= grid.shape[0] // 64 <= GRID_ROWS
    assert grid[:, :64].std() > 10  # real faces, not an empty picture


def test_progressive_resolution_and_exact_resume(dataset: Path, tmp_path: Path) -> None:
    """Two steps at 32 then two at 64 (--progressive-steps 2); stopping after 3 and resuming gives
    bit-identical networks and optimizer state; checkpoints load as inference networks."""
    common = ("--data", dataset, "--resolution", 64, "--progressive-steps", 2, "--batch-size", 2, "--device", "cpu",
              "-q", "--sample-every", 0)
    assert cli("train", "reenactor", *common, "--out", tmp_path / "a", "--max-steps", 4).returncode == 0
    assert cli("train", "reenactor", *common, "--out", tmp_path / "b", "--max-steps", 3).returncode == 0
    proc = cli("train", "reenactor", *common, "--out", tmp_path / "b", "--max-steps", 4, "--resume")
    assert proc.returncode == 0, proc.stderr
    a, b = (load_checkpoint(tmp_path / x / "last.safetensors") for x in "ab")
    assert a.step == b.step == 4 and set(a.tensors) == set(b.tensors)
    for name in a.tensors:
        assert torch.equal(a.tensors[name], b.tensors[name]), name
    assert reenactor_from_checkpoint(a).config.warp  # the default: G_r reads the warp too


def test_image_training_errors_are_one_line(dataset: Path, tmp_path: Path) -> None:
    assert_clean_error(cli("train", "reenactor", "--data", dataset, "--out", tmp_path / "r", "--resolution", 100),
                       "--resolution")
    assert_clean_error(cli("train", "mixer", "--data", dataset, "--out", tmp_path / "r", "--adversarial", "wgan"),
                       "--adversarial")
    bad = tmp_path / "vgg.pth"
    bad.write_bytes(b"junk")
    assert_clean_error(cli("train", "reenactor", "--data", dataset, "--out", tmp_path / "r", "--vgg-weights", bad),
                       "--vgg-weights")
    lt = tmp_path / "lt"
    assert cli("train", "lt", "--data", dataset, "--out", lt, "--max-steps", 1, "-q").returncode == 0
    assert_clean_error(cli("train", "mixer", "--data", dataset, "--out", tmp_path / "m", "--reenactor",
                           lt / "last.safetensors"), "'lt'")


def test_two_processes_under_torchrun(dataset: Path, tmp_path: Path) -> None:
    run = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "facegan_video.cli", "train", "reenactor", "--data", str(dataset), "--out", str(run),
           "--max-steps", "2", "--val-every", "2", "--resolution", "64", "--batch-size", "2", "--device", "cpu"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ckpt = load_checkpoint(run / "last.safetensors", kind="reenactor")
    assert ckpt.state["run"]["world_size"] == 2 and ckpt.step == 2
    assert proc.stderr.count("step 2 (epoch") == 1  # only rank 0 reports
    vals = [m for m in run_metrics(run) if m["split"] == "val"]
    assert len(vals) == 1 and np.isfinite(vals[0]["l1"]) and np.isfinite(vals[0]["warp_l1"])
    assert len(list((run / "samples").glob("*.png"))) == 1  # rank 0 draws
