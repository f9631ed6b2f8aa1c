"""Checkpoints: tensors in a safetensors file, everything else as JSON in its metadata.

One file per checkpoint, so weights and their description can never disagree. The metadata key
``facegan_video`` holds ``{"format", "version", "kind", "step", "epoch", "config", "metrics",
"state"}``: ``kind`` names what was trained (``"lt"``, later ``"reenactor"`` ...), ``config`` is what
rebuilds the networks, ``state`` is JSON training state (optimizer hyper-parameters, run options).
Loading uses safetensors only (no pickle), so an untrusted file cannot run code; every failure is
one ``CheckpointError`` line naming the file and what to do. Files are written atomically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save

from facegan_video.errors import FaceganError
from facegan_video.video.atomic import atomic_path

FORMAT = "facegan-video-checkpoint"
FORMAT_VERSION = 1
META_KEY = "facegan_video"
SUFFIX = ".safetensors"


class CheckpointError(FaceganError):
    """A checkpoint is missing, unreadable, corrupt, of the wrong kind, or does not fit the network."""


@dataclass
class Checkpoint:
    kind: str
    tensors: dict[str, torch.Tensor]
    config: dict[str, Any] = field(default_factory=dict)
    step: int = 0
    epoch: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def under(self, prefix: str) -> dict[str, torch.Tensor]:
        """The tensors whose names start with ``prefix``, with it removed."""
        return {k[len(prefix):]: v for k, v in self.tensors.items() if k.startswith(prefix)}


def checkpoint_path(path: str | os.PathLike) -> Path:
    """``path`` with the ``.safetensors`` suffix added when it has none."""
    p = Path(path).expanduser()
    return p if p.suffix == SUFFIX else p.with_name(p.name + SUFFIX)


def save_checkpoint(path: str | os.PathLike, checkpoint: Checkpoint) -> Path:
    """Write ``checkpoint`` to ``path`` (``.safetensors`` added if missing) atomically; returns the path."""
    target = checkpoint_path(path)
    meta = {"format": FORMAT, "version": FORMAT_VERSION, "kind": checkpoint.kind, "step": checkpoint.step,
            "epoch": checkpoint.epoch, "config": checkpoint.config, "metrics": checkpoint.metrics,
            "state": checkpoint.state}
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in checkpoint.tensors.items()}
    data = save(tensors, metadata={META_KEY: json.dumps(meta, allow_nan=True)})
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)  # not save_file: it creates files readable by their owner only
    checkpoint.path = target
    return target


def load_checkpoint(path: str | os.PathLike, kind: str | None = None) -> Checkpoint:
    """Read a checkpoint (on the CPU); with ``kind``, anything else is an error."""
    p = checkpoint_path(path)
    if not p.is_file():
        raise CheckpointError(f"no checkpoint at {p}; check the path (training writes last.safetensors and "
                              "best.safetensors in its --out folder)")
    try:
        with safe_open(str(p), framework="pt", device="cpu") as fh:
            raw = (fh.metadata() or {}).get(META_KEY)
            tensors = {name: fh.get_tensor(name) for name in fh.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(f"{p} is corrupt or truncated ({reason}); copy it again or retrain") from None
    if raw is None:
        raise CheckpointError(f"{p} is a safetensors file without facegan-video metadata; "
                              "pass a checkpoint written by facegan-video training")
    try:
        meta = json.loads(raw)
        if meta.get("format") != FORMAT:
            raise ValueError("not a facegan-video checkpoint")
        ckpt = Checkpoint(str(meta["kind"]), tensors, dict(meta["config"]), int(meta["step"]), int(meta["epoch"]),
                          dict(meta["metrics"]), dict(meta["state"]), p)
        version = int(meta["version"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{p} has unreadable facegan-video metadata ({exc}); copy it again or retrain") from None
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{p} has checkpoint format {version}, newer than this facegan-video reads "
                              f"({FORMAT_VERSION}); upgrade facegan-video")
    if kind is not None and ckpt.kind != kind:
        raise CheckpointError(f"{p} is a {ckpt.kind!r} checkpoint, expected {kind!r}; pass the right file")
    return ckpt


def module_tensors(module: torch.nn.Module, prefix: str) -> dict[str, torch.Tensor]:
    """A module's parameters and buffers named ``prefix + name``, for ``Checkpoint.tensors``."""
    return {prefix + k: v for k, v in module.state_dict().items()}


def load_module(module: torch.nn.Module, checkpoint: Checkpoint, prefix: str, cast: bool = False) -> None:
    """Copy the checkpoint's ``prefix`` tensors into ``module``; missing, extra or misshapen ones are an error.

    Dtypes must match (a training resume must not lose precision silently) unless ``cast``: then
    floating-point tensors are converted to the network's dtype (shipped fp16 weights into fp32 networks).
    """
    stored = checkpoint.under(prefix)
    expected = module.state_dict()
    if cast:
        stored = {k: v.to(expected[k].dtype) if k in expected and v.is_floating_point()
                  and expected[k].is_floating_point() else v for k, v in stored.items()}
    missing = sorted(set(expected) - set(stored))
    extra = sorted(set(stored) - set(expected))
    if missing or extra:
        what = (f"missing {', '.join(missing[:3])}" if missing else "") + ("; " if missing and extra else "") + \
               (f"unexpected {', '.join(extra[:3])}" if extra else "")
        raise CheckpointError(f"{checkpoint.path} does not fit this network ({what}); "
                              "it was written for another network configuration")
    for name, tensor in expected.items():
        if stored[name].shape != tensor.shape or stored[name].dtype != tensor.dtype:
            raise CheckpointError(f"{checkpoint.path} does not fit this network: {prefix}{name} is "
                                  f"{tuple(stored[name].shape)} {stored[name].dtype}, the network has "
                                  f"{tuple(tensor.shape)} {tensor.dtype}; it was written for another configuration")
    module.load_state_dict(stored, strict=True)


def load_network(checkpoint: Checkpoint, name: str, kinds: tuple[str, ...], build: Callable[[dict[str, Any]], Any],
                 command: str) -> torch.nn.Module:
    """Network ``name`` of a checkpoint of one of ``kinds``: built by ``build`` from ``config["model"][name]``,
    its tensors ``model.<name>.*`` cast to the network's dtype, in eval mode (on the CPU). ``command``
    is what writes such checkpoints, for the error lines."""
    if checkpoint.kind not in kinds:
        raise CheckpointError(f"{checkpoint.path} is a {checkpoint.kind!r} checkpoint, not one with a {name} "
                              f"({' or '.join(map(repr, kinds))}); pass a checkpoint written by `{command}`")
    try:
        network = build(dict(checkpoint.config.get("model", {})[name]))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{checkpoint.path}: bad {name} config ({exc}); retrain it with `{command}`") from None
    load_module(network, checkpoint, f"model.{name}.", cast=True)
    return network.eval()
