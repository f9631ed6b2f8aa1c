"""Inference weights from a training checkpoint: one network's tensors, optionally in fp16, without
discriminators or optimizer state (what ``facegan_video/data/weights/`` ships)."""

from __future__ import annotations

from pathlib import Path

import torch

from facegan_video.checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint

#: The networks an inference backend loads, and the checkpoint kinds that hold each.
NETWORKS = {"reenactor": ("reenactor", "joint"), "mixer": ("mixer", "joint")}


def export_network(source: str | Path, name: str, out: str | Path, half: bool = True) -> Path:
    """Write network ``name`` of checkpoint ``source`` to ``out`` as a ``name`` checkpoint; returns its path."""
    if name not in NETWORKS:
        raise CheckpointError(f"unknown network {name!r}; export one of {', '.join(NETWORKS)}")
    ckpt = load_checkpoint(source)
    if ckpt.kind not in NETWORKS[name] or name not in ckpt.config.get("model", {}):
        raise CheckpointError(f"{ckpt.path} is a {ckpt.kind!r} checkpoint without a {name}; pass a "
                              f"`train {name}` or `train joint` checkpoint")
    prefix = f"model.{name}."
    tensors = {k: v.half() if half and v.is_floating_point() else v for k, v in ckpt.tensors.items()
               if k.startswith(prefix)}
    state = {"exported_from": {"kind": ckpt.kind, "step": ckpt.step, "task": ckpt.config.get("task", {}),
                               "run": ckpt.state.get("run", {})}, "dtype": str(torch.float16 if half else "as trained")}
    return save_checkpoint(out, Checkpoint(name, tensors, {"model": {name: ckpt.config["model"][name]}},
                                           ckpt.step, ckpt.epoch, ckpt.metrics, state))
