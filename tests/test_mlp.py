"""The ``mlp`` transform backend: the shipped weights through the console script, a trained checkpoint
chosen with ``--opt``, every wrong checkpoint a one-line error naming the file, and what the backend
promises beyond the contract kit (tests/test_contracts.py): an unchanged motion is the source itself,
motion changes move the face, batches of any size agree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from clihelp import assert_clean_error, cli

from facegan_video.assets import LT_WEIGHTS
from facegan_video.checkpoint import Checkpoint, CheckpointError, load_checkpoint, module_tensors, save_checkpoint
from facegan_video.nets.landmark import KIND, PREFIX, LandmarkNets, LTConfig
from facegan_video.plugins import load_registry
from facegan_video.reenact.mlp import MLPTransformer
from facegan_video.testing import real_face
from facegan_video.types import AUS, POSE
from facegan_video.video import open_video, read_image


@pytest.fixture(scope="module")
def face():
    return real_face()


def test_shipped_weights_are_small_and_an_lt_checkpoint() -> None:
    assert LT_WEIGHTS.is_file() and LT_WEIGHTS.stat().st_size < 2e6
    ckpt = load_checkpoint(LT_WEIGHTS, kind=KIND)
    assert not any(k.startswith("optim.") for k in ckpt.tensors)  # weights only


def test_unchanged_motion_is_exact_and_batches_agree(face) -> None:
    src = face.source
    t = MLPTransformer(batch_size=3)
    np.testing.assert_allclose(t.transform(src, src.motion[None])[0], src.landmarks, atol=1e-3)
    motion = np.repeat(src.motion[None], 7, 0)
    motion[:, AUS] = np.linspace(0, 5, 7)[:, None]
    one_call = MLPTransformer(batch_size=256).transform(src, motion)
    np.testing.assert_allclose(t.transform(src, motion), one_call, atol=1e-3)  # 3 + 3 + 1 rows
    assert np.abs(one_call[-1] - one_call[0]).max() > 1.0  # AUs 0 -> 5 move the face by pixels


def test_yaw_turns_the_face(face) -> None:
    """A head turn to the subject's left (positive yaw in OpenFace's convention) moves the nose tip towards
    image x of the same sign as the analysis reads it back: the pose channels drive the landmarks."""
    from facegan_video.analysis.aus import GeometricAU

    src = face.source
    motion = np.repeat(src.motion[None], 2, 0)
    motion[0, POSE.start + 1] -= 0.3
    motion[1, POSE.start + 1] += 0.3
    out = MLPTransformer().transform(src, motion)
    yaw = [GeometricAU().estimate(o[None], src.image_size)[0].pose_r[1] for o in out]
    assert yaw[1] - yaw[0] > 0.2, yaw


def test_reenact_with_the_shipped_weights(astronaut_png, carphone_path, tmp_path: Path) -> None:
    out = tmp_path / "o.mp4"
    proc = cli("reenact", astronaut_png, carphone_path, "-o", out, "--max-frames", 8, "--transform", "mlp",
               "--motion", "absolute", "--channels", "expression", "--device", "cpu")
    assert proc.returncode == 0, proc.stderr
    with open_video(out) as o:
        assert o.info.frame_count == 8


def test_checkpoint_option_uses_a_trained_run(astronaut_png, shared_clips, tmp_path_factory, tmp_path: Path) -> None:
    from trainhelp import three_clip_dataset

    data = three_clip_dataset(shared_clips, tmp_path_factory)
    assert data.returncode == 0, data.stderr
    run = tmp_path / "run"
    assert cli("train", "lt", "--data", data.root, "--out", run, "--max-steps", 3, "--device", "cpu", "-q",
               ).returncode == 0
    shipped, trained = tmp_path / "shipped.png", tmp_path / "trained.png"
    common = ("--au", "AU26=+3", "--transform", "mlp", "-q")
    assert cli("edit", astronaut_png, *common, "-o", shipped).returncode == 0
    proc = cli("edit", astronaut_png, *common, "--opt", f"transform.checkpoint={run / 'last.safetensors'}",
               "-o", trained)
    assert proc.returncode == 0, proc.stderr
    # three steps from zero-initialised output layers barely move the face: another network ran
    assert np.abs(read_image(shipped).astype(int) - read_image(trained).astype(int)).max() > 10


def _write(path: Path, kind: str = KIND, config: LTConfig = LTConfig()) -> Path:
    nets = LandmarkNets(config)
    return save_checkpoint(path, Checkpoint(kind, module_tensors(nets, PREFIX), {"model": config.to_dict()}))


def test_wrong_checkpoints_are_one_line_errors_naming_the_file(tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(LT_WEIGHTS.read_bytes()[:5000])
    other_kind = _write(tmp_path / "reenactor.safetensors", kind="reenactor")
    mismatched = _write(tmp_path / "mismatched.safetensors")
    ckpt = load_checkpoint(mismatched)
    ckpt.tensors = {k: (torch.zeros(3) if k.endswith("mlp.0.bias") else v) for k, v in ckpt.tensors.items()}
    save_checkpoint(mismatched, ckpt)
    foreign = tmp_path / "foreign.safetensors"
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(2)}, str(foreign))
    for path, words in ((truncated, "corrupt or truncated"), (other_kind, "'reenactor'"),
                        (mismatched, "does not fit"), (foreign, "without facegan-video metadata")):
        with pytest.raises(CheckpointError) as info:
            load_registry().create("transform", "mlp", device="cpu", checkpoint=path)
        message = str(info.value)
        assert str(path) in message and words in message and "\n" not in message, message


def test_corrupt_checkpoint_on_the_command_line(astronaut_png, tmp_path: Path) -> None:
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{not json" + bytes(100))
    proc = cli("edit", astronaut_png, "--au", "AU12=+1", "--transform", "mlp", "--opt",
               f"transform.checkpoint={bad}", "-o", tmp_path / "o.png")
    assert_clean_error(proc, str(bad))
    assert not (tmp_path / "o.png").exists()
    missing = tmp_path / "missing.safetensors"
    assert_clean_error(cli("edit", astronaut_png, "--au", "AU12=+1", "--transform", "mlp", "--opt",
                           f"transform.checkpoint={missing}", "-o", tmp_path / "o.png"), "missing.safetensors")
