"""The one wrapper between numpy pipelines and tensor-only networks: device, dtype, autocast, batching.

Backends that run a network build a :class:`TorchRunner` around it and call it with numpy arrays;
the runner moves each batch to the device, runs the module under ``torch.inference_mode`` (with
bf16/fp16 autocast on CUDA when asked), and returns numpy arrays on the CPU. Networks stay
tensor-only (``facegan_video.nets``); nothing else in a pipeline touches torch.
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import torch

from facegan_video.devices import PRECISIONS, resolve_device
from facegan_video.errors import ConfigError


def autocast_dtype(device: torch.device, precision: str) -> torch.dtype | None:
    """The autocast dtype for ``precision`` on ``device``: ``auto`` is bf16 on CUDA where supported
    (else fp16) and full precision elsewhere; None means no autocast."""
    if precision not in PRECISIONS:
        raise ConfigError(f"unknown precision {precision!r}: use {', '.join(PRECISIONS)}")
    if precision == "float32" or (precision == "auto" and device.type != "cuda"):
        return None
    if precision == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type != "cuda":
        raise ConfigError(f"precision {precision} runs on CUDA only; use precision=float32 on {device.type}")
    return getattr(torch, precision)


class TorchRunner:
    """Runs ``module`` on ``device`` over numpy arrays, ``batch_size`` rows at a time.

    ``module(*tensors)`` returns a tensor or a tuple of tensors whose first dimension is the batch;
    the runner concatenates them over batches and returns float32 numpy arrays.
    """

    def __init__(self, module: torch.nn.Module, device: str = "cpu", batch_size: int = 32,
                 precision: str = "auto") -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        self.device = torch.device(resolve_device(device))
        self.dtype = autocast_dtype(self.device, precision)
        self.batch_size = batch_size
        self.module = module.to(self.device).eval()

    def __call__(self, *arrays: np.ndarray) -> np.ndarray | tuple[np.ndarray, ...]:
        n = len(arrays[0])
        if any(len(a) != n for a in arrays):
            raise ValueError(f"inputs of different lengths: {[len(a) for a in arrays]}")
        outputs: list[tuple[torch.Tensor, ...]] = []
        autocast = (torch.autocast(self.device.type, dtype=self.dtype) if self.dtype is not None else nullcontext())
        with torch.inference_mode(), autocast:
            for start in range(0, n, self.batch_size):
                rows = slice(start, start + self.batch_size)
                batch = [torch.from_numpy(_writable(a[rows])).to(self.device, non_blocking=True) for a in arrays]
                out = self.module(*batch)
                outputs.append(out if isinstance(out, tuple) else (out,))
        if not outputs:
            raise ValueError("nothing to run: the inputs are empty")
        joined = tuple(torch.cat([o[i] for o in outputs]).float().cpu().numpy() for i in range(len(outputs[0])))
        return joined if len(joined) > 1 else joined[0]


def _writable(a: np.ndarray) -> np.ndarray:
    """``a`` as a C-contiguous float32 array torch may wrap: a read-only input (a frozen caller array, a
    broadcast view) is copied, since torch cannot wrap one safely."""
    out = np.ascontiguousarray(a, np.float32)
    return out if out.flags.writeable else out.copy()
