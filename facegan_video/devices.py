"""Torch devices by name: ``auto`` picks CUDA, then MPS, then CPU; an unavailable explicit one is an error.

torch is imported only here and only when a device must really be resolved, so the weights-free
pipeline never pays its import time.
"""

from __future__ import annotations

from facegan_video.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda", "mps")
#: Network precisions a torch backend accepts (``inference.autocast_dtype`` says what each means).
PRECISIONS = ("auto", "float32", "bfloat16", "float16")


def check_device(name: str) -> str:
    """The name, if it is one of ``DEVICES`` or an indexed CUDA device (``cuda:1``)."""
    if name not in DEVICES and not (name.startswith("cuda:") and name[5:].isdigit()):
        raise ConfigError(f"unknown device {name!r}: use {', '.join(DEVICES)} (or cuda:N)")
    return name


def resolve_device(name: str) -> str:
    """``auto`` -> the best available device; an explicit device must exist on this machine."""
    check_device(name)
    if name == "cpu":
        return name
    import torch

    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if name == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if name.startswith("cuda") and not (cuda and (name == "cuda" or int(name[5:]) < torch.cuda.device_count())):
        raise ConfigError(f"device {name!r} is not available on this machine; use --device cpu or auto")
    if name == "mps" and not mps:
        raise ConfigError("device 'mps' is not available on this machine; use --device cpu or auto")
    return name
