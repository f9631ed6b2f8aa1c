"""One process or many: the device this process trains on, and data-parallel setup under torchrun.

``torchrun --nproc_per_node N -m facegan_video.cli train TASK ...`` (or any launcher that sets
``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``) starts N processes;
each trains a replica on its share of the samples and DDP averages the gradients. The backend is
NCCL on CUDA and gloo on the CPU. Only rank 0 writes files and prints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from facegan_video.devices import resolve_device
from facegan_video.errors import ConfigError


@dataclass(frozen=True)
class Context:
    rank: int
    world: int
    local_rank: int
    device: torch.device

    @property
    def main(self) -> bool:
        """Whether this process does the I/O and the printing."""
        return self.rank == 0


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    if not raw.isdigit():
        raise ConfigError(f"environment variable {name}={raw!r} is not a whole number; check the launcher")
    return int(raw)


def pick_device(name: str, local_rank: int, world: int) -> torch.device:
    """``auto``: CUDA (this process's GPU under torchrun), then MPS (one process only), then CPU.
    Explicit devices must exist (``facegan_video.devices``)."""
    if name == "auto" and world > 1:
        name = "cuda" if torch.cuda.is_available() else "cpu"  # data-parallel training has no MPS
    name = resolve_device(name)
    if name == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise ConfigError(f"process {local_rank} has no GPU: {torch.cuda.device_count()} visible; "
                              "start at most that many processes per node")
        return torch.device("cuda", local_rank)
    if name == "mps" and world > 1:
        raise ConfigError("data-parallel training does not run on MPS; use one process or --device cpu")
    return torch.device(name)


def start(device: str) -> Context:
    """This process's rank and device; joins the process group when started by torchrun."""
    world, rank, local = _env_int("WORLD_SIZE", 1), _env_int("RANK", 0), _env_int("LOCAL_RANK", 0)
    dev = pick_device(device, local, world)
    if world > 1 and not dist.is_initialized():
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo", rank=rank, world_size=world)
    return Context(rank, world, local, dev)


def stop(ctx: Context) -> None:
    if ctx.world > 1 and dist.is_initialized():
        dist.destroy_process_group()


def all_sum(values: torch.Tensor, ctx: Context) -> torch.Tensor:
    """Element-wise sum over processes (the tensor itself in one process)."""
    if ctx.world > 1:
        values = values.to(ctx.device)
        dist.all_reduce(values)
    return values


def barrier(ctx: Context) -> None:
    if ctx.world > 1:
        dist.barrier()
