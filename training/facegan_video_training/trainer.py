"""A training loop any FACEGAN network can use: the task says what to train, the trainer runs it.

A ``Task`` builds its networks and optimizers, knows how many training and validation samples
there are, does one optimisation step on a batch of sample numbers and scores a batch of
validation samples. The trainer owns everything else: devices and data parallelism (DDP under
torchrun, each process a disjoint share of every epoch's samples, like ``DistributedSampler``),
epochs and steps, validation each epoch on the validation persons, ``last`` and ``best``
checkpoints, exact resumption, logging.

Determinism and resumption: the sample order of an epoch is a permutation seeded by (seed, epoch),
and every step's random numbers (a numpy generator handed to the task, and torch's global seed)
are seeded by (seed, step, rank). The step number is therefore the whole RNG state, and a run
resumed from ``last`` (networks, optimizer state, step) repeats exactly what the uninterrupted run
would have done, given the same hardware, thread count and world size.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from facegan_video.checkpoint import (
    Checkpoint,
    CheckpointError,
    checkpoint_path,
    load_checkpoint,
    load_module,
    module_tensors,
    save_checkpoint,
)
from facegan_video.errors import ConfigError, OutputError
from facegan_video_training import distributed
from facegan_video_training.distributed import Context
from facegan_video_training.runlog import RunLog
from facegan_video_training.settings import EPOCHS, TRAIN_DEFAULTS

LAST, BEST = "last", "best"
SAMPLES_DIR = "samples"
MODEL_PREFIX, OPTIM_PREFIX = "model.", "optim."
#: Hyper-parameters a resumed run must share with the run it continues (None: take the saved one).
RESUMED = tuple(TRAIN_DEFAULTS)
#: Train metrics are averaged and logged every this many steps.
LOG_EVERY = 10


class Task(Protocol):
    """What one network (or set of networks) needs from the trainer.

    Optional members, used when a task has them: ``defaults`` (a dict overriding ``TRAIN_DEFAULTS``
    for new runs), ``begin_step(step)`` (called before every step, so schedules such as progressive
    resolution follow the step number and resume exactly) and ``write_samples(models, path)`` (a
    PNG of progress, written every ``sample_every`` steps and at the end).
    """

    kind: str  # checkpoint kind, e.g. "lt"
    best_metric: str  # validation metric (lower is better) that picks ``best``

    def config(self) -> dict[str, Any]:
        """JSON that rebuilds the networks (``"model"``) and describes the task; a resume must match it."""
        ...

    def build(self, device: torch.device) -> dict[str, nn.Module]:
        """Fresh networks on ``device`` (the trainer seeds torch first)."""
        ...

    def optimizers(self, models: dict[str, nn.Module], lr: float) -> dict[str, torch.optim.Optimizer]: ...

    def train_size(self) -> int: ...

    def val_size(self) -> int: ...

    def train_step(self, models: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer],
                   indices: np.ndarray, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """One optimisation step on training samples ``indices``; returns scalar losses (detached)."""
        ...

    def validate(self, models: dict[str, nn.Module], indices: np.ndarray) -> dict[str, torch.Tensor]:
        """Per-sample metric values (each (len(indices),)) of validation samples ``indices``."""
        ...



@dataclass(frozen=True)
class TrainOptions:
    out: Path
    epochs: int = EPOCHS
    max_steps: int | None = None
    batch_size: int | None = None  # per process; None: TRAIN_DEFAULTS, or the resumed run's
    lr: float | None = None
    seed: int | None = None
    device: str = "auto"
    resume: bool = False
    val_every: int = 0  # also validate every N steps (0: only at the end of each epoch)
    sample_every: int = 0  # tasks that draw samples: also every N steps (0: only at the end)
    quiet: bool = False


@dataclass
class RunResult:
    step: int
    epoch: int
    metrics: dict[str, float]
    last: Path
    best: Path | None
    main: bool  # whether this process is rank 0 (the one that reports)


def fit(task: Task, options: TrainOptions) -> RunResult:
    """Train ``task`` as ``options`` say; in every process of a torchrun job."""
    ctx = distributed.start(options.device)
    try:
        return _Run(task, options, ctx).fit()
    finally:
        distributed.stop(ctx)


def _json(value: Any) -> Any:
    """``value`` as it comes back from JSON, so saved and fresh configs compare equal."""
    return json.loads(json.dumps(value))


def optimizer_state(name: str, optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """An optimizer's state split into tensors (for safetensors) and JSON (param groups, scalars)."""
    sd = optimizer.state_dict()
    tensors, scalars = {}, {}
    for pid, state in sd["state"].items():
        for key, value in state.items():
            if torch.is_tensor(value):
                tensors[f"{OPTIM_PREFIX}{name}.{pid}.{key}"] = value
            else:
                scalars.setdefault(str(pid), {})[key] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def restore_optimizer(name: str, optimizer: torch.optim.Optimizer, ckpt: Checkpoint, saved: dict[str, Any]) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, tensor in ckpt.under(f"{OPTIM_PREFIX}{name}.").items():
        pid, _, field = key.partition(".")
        state.setdefault(int(pid), {})[field] = tensor
    for pid, values in saved["scalars"].items():
        state.setdefault(int(pid), {}).update(values)
    try:
        optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
    except (ValueError, KeyError, RuntimeError) as exc:
        raise CheckpointError(f"{ckpt.path}: optimizer {name!r} state does not fit ({exc}); "
                              "start a new run with another --out") from None


class _Run:
    def __init__(self, task: Task, options: TrainOptions, ctx: Context) -> None:
        self.task, self.options, self.ctx = task, options, ctx
        self.out = options.out.expanduser()
        self.last_path, self.best_path = checkpoint_path(self.out / LAST), checkpoint_path(self.out / BEST)
        if options.epochs < 1:
            raise ConfigError("--epochs must be >= 1")
        if options.max_steps is not None and options.max_steps < 1:
            raise ConfigError("--max-steps must be >= 1")
        if options.val_every < 0:
            raise ConfigError("--val-every must be >= 0")
        if options.sample_every < 0:
            raise ConfigError("--sample-every must be >= 0")
        resumed = self._resumable()
        self.hp = self._hyperparameters(resumed)
        torch.manual_seed(self.hp["seed"])
        self.models = task.build(ctx.device)
        self.optimizers = task.optimizers(self.models, self.hp["lr"])
        self.step, self.best = 0, math.inf
        self.resumed_world: int | None = None
        if resumed is not None:
            self._restore(resumed)
        self.train_models = {k: DistributedDataParallel(m) if ctx.world > 1 else m for k, m in self.models.items()}
        per_rank = math.ceil(task.train_size() / ctx.world)
        self.steps_per_epoch = math.ceil(per_rank / self.hp["batch_size"])
        self.total = min(options.epochs * self.steps_per_epoch, options.max_steps or math.inf)

    # ------------------------------------------------------------------ setup

    def _resumable(self) -> Checkpoint | None:
        if self.options.resume:
            return load_checkpoint(self.last_path, kind=self.task.kind)
        if self.last_path.exists():
            raise ConfigError(f"{self.out} already holds a run ({self.last_path.name}); pass --resume to continue it "
                              "or choose another --out")
        if self.out.exists() and not self.out.is_dir():
            raise OutputError(f"--out {self.out} is a file; a run is a folder: choose another --out")
        if self.ctx.main:
            try:
                self.out.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OutputError(f"cannot create run folder {self.out}: {exc.strerror}; "
                                  "choose another --out") from None
        return None

    def _hyperparameters(self, resumed: Checkpoint | None) -> dict[str, Any]:
        asked = {k: getattr(self.options, k) for k in RESUMED}
        if resumed is None:
            defaults = {**TRAIN_DEFAULTS, **getattr(self.task, "defaults", {})}
            hp = {k: defaults[k] if v is None else v for k, v in asked.items()}
        else:
            saved = resumed.state.get("run", {})
            for key, value in asked.items():
                if value is not None and value != saved.get(key):
                    raise ConfigError(f"{self.last_path} was trained with --{key.replace('_', '-')} {saved.get(key)}; "
                                      "resume with the same value (or leave it out) or start a new --out")
            hp = {k: saved[k] for k in RESUMED}
        if hp["batch_size"] < 1 or hp["lr"] <= 0:
            raise ConfigError("--batch-size must be >= 1 and --lr > 0")
        return hp

    def _restore(self, ckpt: Checkpoint) -> None:
        if _json(self.task.config()) != ckpt.config:
            raise ConfigError(f"{ckpt.path} was trained with another task configuration ({ckpt.config}); resume "
                              "with the same task options or start a new --out")
        for name, model in self.models.items():
            load_module(model, ckpt, f"{MODEL_PREFIX}{name}.")
        saved = ckpt.state.get("optimizers", {})
        for name, opt in self.optimizers.items():
            if name not in saved:
                raise CheckpointError(f"{ckpt.path} has no optimizer state {name!r}; "
                                      "start a new run with another --out")
            restore_optimizer(name, opt, ckpt, saved[name])
        self.step, self.best = ckpt.step, float(ckpt.state.get("best", math.inf))
        self.resumed_world = int(ckpt.state.get("run", {}).get("world_size", self.ctx.world))

    # ------------------------------------------------------------------ loop

    def _epoch_batches(self, epoch: int) -> list[np.ndarray]:
        """This process's batches of an epoch: a (seed, epoch) permutation padded to a multiple of
        the world size (as DistributedSampler), every world-th sample from this rank on."""
        n, world = self.task.train_size(), self.ctx.world
        order = np.random.default_rng([self.hp["seed"], epoch]).permutation(n)
        order = np.resize(order, math.ceil(n / world) * world)[self.ctx.rank::world]
        size = self.hp["batch_size"]
        return [order[i:i + size] for i in range(0, len(order), size)]

    def _seed_step(self) -> np.random.Generator:
        seq = np.random.SeedSequence([self.hp["seed"], self.step, self.ctx.rank])
        torch.manual_seed(int(seq.generate_state(1, np.uint64)[0] >> np.uint64(1)))
        return np.random.default_rng(seq)

    def fit(self) -> RunResult:
        task, ctx = self.task, self.ctx
        if task.train_size() == 0:
            raise ConfigError("the dataset has no training samples; prepare more videos or lower --val-fraction")
        metrics: dict[str, float] = {}
        with RunLog(self.out, f"train {task.kind}", int(self.total), self.step, quiet=self.options.quiet,
                    enabled=ctx.main) as log:
            if self.resumed_world not in (None, ctx.world):
                log.say(f"note: resuming a {self.resumed_world}-process run with {ctx.world}; "
                        "the result will differ from an uninterrupted run")
            if task.val_size() == 0:
                log.say("note: the dataset has no validation persons; no validation, and no best checkpoint")
            log.say(f"train {task.kind}: {task.train_size()} samples, {task.val_size()} validation, "
                    f"{self.steps_per_epoch} steps per epoch x {ctx.world} process(es), batch {self.hp['batch_size']}, "
                    f"from step {self.step} to {int(self.total)} on {ctx.device}")
            sums: dict[str, torch.Tensor] = {}  # summed on the device; read back only when logged
            count = 0
            saved_at = self.step if self.options.resume else -1
            while self.step < self.total:
                epoch, offset = divmod(self.step, self.steps_per_epoch)
                for batch in self._epoch_batches(epoch)[offset:]:
                    if hasattr(task, "begin_step"):
                        task.begin_step(self.step)
                    losses = task.train_step(self.train_models, self.optimizers, batch, self._seed_step())
                    self.step += 1
                    for k, v in losses.items():
                        sums[k] = sums[k] + v if k in sums else v
                    count += 1
                    if self.step % LOG_EVERY == 0 or self.step == self.total:
                        means = {k: float(v) / count for k, v in sums.items()}
                        log.scalars("train", self.step, epoch + 1, means)
                        log.advance(self.step, f"loss {means.get('loss', 0.0):.4g}")
                        sums, count = {}, 0
                    end_of_epoch = self.step % self.steps_per_epoch == 0
                    if end_of_epoch or (self.options.val_every and self.step % self.options.val_every == 0):
                        metrics = self._validate(epoch + 1, log)
                    if end_of_epoch:
                        self._save(epoch + 1, metrics)
                        saved_at = self.step
                    if self._sample_step():
                        self._samples()
                    if self.step >= self.total:
                        break
            if saved_at != self.step:
                self._save(self.step // self.steps_per_epoch, metrics)
            if not self._sample_step():
                self._samples()
        return RunResult(self.step, self.step // self.steps_per_epoch, metrics, self.last_path,
                         self.best_path if self.best_path.exists() else None, ctx.main)

    def _validate(self, epoch: int, log: RunLog) -> dict[str, float]:
        """Metrics over the validation samples, each process scoring a share; improves ``best``."""
        n, ctx = self.task.val_size(), self.ctx
        if n == 0:
            return {}
        mine = np.arange(ctx.rank, n, ctx.world)
        sums: dict[str, torch.Tensor] = {}
        with self._evaluating():
            for i in range(0, len(mine), self.hp["batch_size"] * 8):
                for k, v in self.task.validate(self.models, mine[i:i + self.hp["batch_size"] * 8]).items():
                    sums[k] = sums.get(k, 0) + v.double().sum()
        names = sorted(sums)
        totals = distributed.all_sum(torch.stack([sums[k] for k in names]), ctx).tolist()
        metrics = {k: v / n for k, v in zip(names, totals)}
        log.scalars("val", self.step, epoch, metrics)
        log.say(f"epoch {epoch} step {self.step}: " + ", ".join(f"val {k} {v:.4g}" for k, v in metrics.items()))
        value = metrics[self.task.best_metric]
        if value < self.best:
            self.best = value
            if ctx.main:
                self._write(self.best_path, epoch, metrics, with_optimizer=False)
        return metrics

    def _samples(self) -> None:
        """The task's picture of progress at this step (rank 0; tasks without one draw nothing)."""
        if not (self.ctx.main and hasattr(self.task, "write_samples")):
            return
        with self._evaluating():
            self.task.write_samples(self.models, self.out / SAMPLES_DIR / f"step_{self.step:07d}.png")

    def _sample_step(self) -> bool:
        return bool(self.options.sample_every) and self.step % self.options.sample_every == 0

    @contextmanager
    def _evaluating(self) -> Iterator[None]:
        """The models in eval mode without gradients, back in training mode after."""
        for m in self.models.values():
            m.eval()
        try:
            with torch.no_grad():
                yield
        finally:
            for m in self.models.values():
                m.train()

    # ------------------------------------------------------------------ checkpoints

    def _write(self, path: Path, epoch: int, metrics: dict[str, float], with_optimizer: bool) -> None:
        tensors: dict[str, torch.Tensor] = {}
        for name, model in self.models.items():
            tensors.update(module_tensors(model, f"{MODEL_PREFIX}{name}."))
        state: dict[str, Any] = {"run": {**self.hp, "world_size": self.ctx.world,
                                         "steps_per_epoch": self.steps_per_epoch},
                                 "best": self.best, "best_metric": self.task.best_metric}
        if with_optimizer:
            state["optimizers"] = {}
            for name, opt in self.optimizers.items():
                opt_tensors, opt_json = optimizer_state(name, opt)
                tensors.update(opt_tensors)
                state["optimizers"][name] = opt_json
        save_checkpoint(path, Checkpoint(self.task.kind, tensors, _json(self.task.config()), self.step, epoch,
                                         metrics, _json(state)))

    def _save(self, epoch: int, metrics: dict[str, float]) -> None:
        if self.ctx.main:
            self._write(self.last_path, epoch, metrics, with_optimizer=True)
        distributed.barrier(self.ctx)
