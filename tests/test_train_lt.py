"""``facegan-video train lt`` on a dataset prepared from real clips: real training steps, checkpoints,
exact resumption, clean errors, and two data-parallel processes under torchrun."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from clihelp import assert_clean_error, cli
from trainhelp import run_metrics, three_clip_root

pytest.importorskip("facegan_video_training")

from facegan_video.checkpoint import load_checkpoint  # noqa: E402
from facegan_video.nets.landmark import (  # noqa: E402
    KIND,
    LandmarkNets,
    landmark_nets_from_checkpoint,
    normalise_landmarks,
    normalise_motion,
)
from facegan_video_training.dataset import FaceDataset  # noqa: E402
from facegan_video_training.losses import lt_losses  # noqa: E402
from facegan_video_training.tasks.lt import LTTask, LTTaskConfig  # noqa: E402
from facegan_video_training.trainer import TrainOptions, fit  # noqa: E402


@pytest.fixture(scope="module")
def dataset(shared_clips, tmp_path_factory) -> Path:
    return three_clip_root(shared_clips, tmp_path_factory)


def test_overfitting_64_real_pairs_lowers_the_loss_tenfold(dataset: Path, tmp_path: Path) -> None:
    ds = FaceDataset(dataset)
    cfg = LTTaskConfig(overfit=64)
    task = LTTask(ds, cfg)
    i, j = task.fixed
    lm, motion, owner = ds.landmarks_and_motion("train")
    assert (owner[i] == owner[j]).all()  # pairs come from one track

    def loss(nets: LandmarkNets) -> float:
        src, drv = normalise_landmarks(torch.as_tensor(lm[i])), normalise_landmarks(torch.as_tensor(lm[j]))
        own, mot = normalise_motion(torch.as_tensor(motion[i])), normalise_motion(torch.as_tensor(motion[j]))
        with torch.no_grad():
            delta, au_t, _, au_d = nets(src, own, mot, drv)
            return lt_losses(src, delta, drv, au_t, au_d, mot, cfg.weights)["loss"].mean().item()

    torch.manual_seed(0)  # what the trainer does before building the networks (seed 0)
    before = loss(LandmarkNets(cfg.model))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a small MLP: faster on one thread, and steady when other jobs load the cores
    try:
        result = fit(task, TrainOptions(out=tmp_path / "run", epochs=1000, max_steps=1000, batch_size=64, lr=1e-3,
                                        device="cpu", quiet=True))
    finally:
        torch.set_num_threads(threads)
    assert result.step == 1000
    after = loss(landmark_nets_from_checkpoint(load_checkpoint(result.last, kind=KIND)))
    assert after < before / 10, (before, after)


def test_train_one_epoch_then_resume(dataset: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    proc = cli("train", "lt", "--data", dataset, "--out", run, "--epochs", 1, "--device", "cpu")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    last = load_checkpoint(run / "last.safetensors", kind=KIND)
    steps = last.step
    assert steps == last.state["run"]["steps_per_epoch"] and last.epoch == 1
    assert {"landmark_px", "unchanged_px", "loss"} <= set(last.metrics)  # validated on the validation person
    best = load_checkpoint(run / "best.safetensors", kind=KIND)
    assert not any(k.startswith("optim.") for k in best.tensors)  # weights only
    landmark_nets_from_checkpoint(best)
    if importlib.util.find_spec("tensorboard"):  # the training distribution's optional extra (CI installs it)
        assert list((run / "tensorboard").iterdir()), "no TensorBoard event file"
    else:
        assert not (run / "tensorboard").exists()

    again = cli("train", "lt", "--data", dataset, "--out", run, "--epochs", 2, "--device", "cpu", "--resume")
    assert again.returncode == 0, again.stderr
    resumed = load_checkpoint(run / "last.safetensors", kind=KIND)
    assert resumed.step == 2 * steps and resumed.epoch == 2
    assert f"from step {steps} to {2 * steps}" in again.stderr
    val_steps = [m["step"] for m in run_metrics(run) if m["split"] == "val"]
    assert val_steps == [steps, 2 * steps]


def test_resumed_run_equals_uninterrupted_run(dataset: Path, tmp_path: Path) -> None:
    """Stopping at step 7 and resuming to 13 (across the epoch boundary at step 10, with its
    validation) gives bit-identical networks and optimizer state."""
    common = ("--data", dataset, "--epochs", 5, "--device", "cpu", "-q")
    assert cli("train", "lt", *common, "--out", tmp_path / "a", "--max-steps", 13).returncode == 0
    assert cli("train", "lt", *common, "--out", tmp_path / "b", "--max-steps", 7).returncode == 0
    proc = cli("train", "lt", *common, "--out", tmp_path / "b", "--max-steps", 13, "--resume")
    assert proc.returncode == 0, proc.stderr
    a, b = (load_checkpoint(tmp_path / x / "last.safetensors") for x in "ab")
    assert a.step == b.step == 13
    assert set(a.tensors) == set(b.tensors) and any(k.startswith("optim.") for k in a.tensors)
    for name in a.tensors:
        assert torch.equal(a.tensors[name], b.tensors[name]), name
    assert a.state["optimizers"] == b.state["optimizers"]


def test_training_errors_are_one_line(dataset: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert cli("train", "lt", "--data", dataset, "--out", run, "--max-steps", 2, "-q").returncode == 0
    assert_clean_error(cli("train", "lt", "--data", dataset, "--out", run, "--max-steps", 3), "--resume")
    assert_clean_error(cli("train", "lt", "--data", dataset, "--out", run, "--max-steps", 3, "--resume",
                           "--lr", "0.1"), "--lr")
    assert_clean_error(cli("train", "lt", "--data", tmp_path / "nowhere", "--out", tmp_path / "r2"), "no dataset")
    assert_clean_error(cli("train", "lt", "--data", dataset, "--out", tmp_path / "r3", "--device", "tpu"), "tpu")
    (tmp_path / "a_file").write_text("")
    assert_clean_error(cli("train", "lt", "--data", dataset, "--out", tmp_path / "a_file"), "a_file", "--out")
    last = run / "last.safetensors"
    data = last.read_bytes()
    last.write_bytes(data[: len(data) // 3])
    assert_clean_error(cli("train", "lt", "--data", dataset, "--out", run, "--resume"), str(last), "truncated")
    last.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}" + data[:100])
    assert_clean_error(cli("train", "lt", "--data", dataset, "--out", run, "--resume"), str(last))


def test_two_processes_under_torchrun(dataset: Path, tmp_path: Path) -> None:
    run = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "facegan_video.cli", "train", "lt", "--data", str(dataset), "--out", str(run), "--epochs", "1",
           "--device", "cpu"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ckpt = load_checkpoint(run / "last.safetensors", kind=KIND)
    n_train = len(FaceDataset(dataset).landmarks_and_motion("train")[0])
    per_rank = -(-n_train // 2)
    assert ckpt.state["run"]["world_size"] == 2
    assert ckpt.step == -(-per_rank // 32)  # each process did its half of the epoch
    assert proc.stderr.count("(epoch 1)") == 1  # only rank 0 reports
    vals = [m for m in run_metrics(run) if m["split"] == "val"]
    assert len(vals) == 1 and np.isfinite(vals[0]["landmark_px"])
