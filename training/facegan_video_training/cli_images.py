"""``train reenactor``, ``train mixer`` and ``train joint``: the image networks' commands, with every
option ``train lt`` has plus resolution, progressive training, losses and sample grids."""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from pathlib import Path

import typer

from facegan_video.errors import ConfigError
from facegan_video_training.cli import (
    DataOpt,
    DeviceOpt,
    EpochsOpt,
    LrOpt,
    MaxStepsOpt,
    OutOpt,
    QuietOpt,
    ResumeOpt,
    Run,
    SeedOpt,
    ValEveryOpt,
    _report,
    err,
)

Images = "Images and losses"
BatchOpt = typer.Option(None, "--batch-size", help="Pairs per step and process (default 8; the paper uses 1 on a "
                        "GPU).", rich_help_panel=Run)
SampleEveryOpt = typer.Option(500, "--sample-every", help="Write a sample grid (source | target heatmap | output | "
                              "ground truth | segmentation | mask) to OUT/samples/ every N steps and at the end; "
                              "0: at the end only.", rich_help_panel=Run)
ResolutionOpt = typer.Option(128, "--resolution", help="Crop side the networks train at (a multiple of 32; the "
                             "paper's final size is 256).", rich_help_panel=Images)
ProgressiveOpt = typer.Option(0, "--progressive-steps", help="Train the first N steps at half --resolution "
                              "(the paper: 128, then 256).", rich_help_panel=Images)
AdversarialOpt = typer.Option("lsgan", "--adversarial", help="Adversarial loss: lsgan or hinge.",
                              rich_help_panel=Images)
VggOpt = typer.Option(None, "--vgg-weights", exists=True, dir_okay=False, help="A torchvision-format VGG19 state "
                      "dict (vgg19-dcbb9e9d.pth or .safetensors) for the perceptual loss; without it, "
                      "discriminator feature matching (pix2pixHD).", rich_help_panel=Images)
AugmentOpt = typer.Option(True, "--augment/--no-augment", help="Mirror pairs left-right.", rich_help_panel=Images)
OverfitOpt = typer.Option(0, "--overfit", help="Train on this many fixed pairs, no augmentation (a check that the "
                          "networks can fit the data).", rich_help_panel=Images)
WarpOpt = typer.Option(True, "--warp-input/--no-warp-input", help="G_r also reads the warp reenactor's output and "
                       "learns a correction to it (a deviation from the paper that trains far better on little data).",
                       rich_help_panel=Images)


def _resolved(path: Path | None) -> str | None:
    return None if path is None else str(path.resolve())


@dataclass
class ImageRun:
    """The options every image command takes, in the order ``--help`` lists them (before the command's
    own), and the training run they describe."""

    data: list[Path] = DataOpt
    out: Path = OutOpt
    epochs: int = EpochsOpt
    max_steps: int | None = MaxStepsOpt
    batch_size: int | None = BatchOpt
    lr: float | None = LrOpt
    device: str = DeviceOpt
    seed: int | None = SeedOpt
    resume: bool = ResumeOpt
    val_every: int = ValEveryOpt
    sample_every: int = SampleEveryOpt
    quiet: bool = QuietOpt
    resolution: int = ResolutionOpt
    progressive_steps: int = ProgressiveOpt
    adversarial: str = AdversarialOpt
    vgg_weights: Path | None = VggOpt
    augment: bool = AugmentOpt
    overfit: int = OverfitOpt

    def dataset(self):
        from facegan_video_training.dataset import FaceDataset

        return FaceDataset(*self.data)

    def config(self, reenactor=None):
        from facegan_video_training.tasks.image import ImageTaskConfig

        try:
            extra = {} if reenactor is None else {"reenactor": reenactor}
            return ImageTaskConfig(resolution=self.resolution, progressive_steps=self.progressive_steps,
                                   adversarial=self.adversarial, vgg_weights=_resolved(self.vgg_weights),
                                   augment=self.augment, overfit=self.overfit, **extra)
        except ValueError as exc:
            raise ConfigError(f"{exc}; check --resolution, --progressive-steps, --adversarial and --overfit") from None

    def fit(self, task) -> None:
        from facegan_video_training.trainer import TrainOptions, fit

        options = TrainOptions(out=self.out, epochs=self.epochs, max_steps=self.max_steps, batch_size=self.batch_size,
                               lr=self.lr, seed=self.seed, device=self.device, resume=self.resume,
                               val_every=self.val_every, sample_every=self.sample_every, quiet=self.quiet)
        _report(fit(task, options), self.quiet)


def _image_command(command):
    """``command(run: ImageRun, **own)`` as typer reads a command: ``ImageRun``'s options, then its own."""
    shared = list(inspect.signature(ImageRun, eval_str=True).parameters.values())
    own = list(inspect.signature(command, eval_str=True).parameters.values())[1:]

    @functools.wraps(command)
    def run(**options) -> None:
        command(ImageRun(**{p.name: options.pop(p.name) for p in shared}), **options)

    run.__signature__ = inspect.Signature(shared + own, return_annotation=None)
    return run


def _reenactor_config(path: Path | None, warp: bool):
    """The G_r configuration: the one a given checkpoint was trained with, else the default with ``warp``."""
    from facegan_video.checkpoint import load_checkpoint
    from facegan_video.nets.reenactor import ReenactorConfig, reenactor_from_checkpoint

    if path is None:
        return ReenactorConfig(warp=warp)
    return reenactor_from_checkpoint(load_checkpoint(path)).config


@_image_command
def train_reenactor(run: ImageRun, warp_input: bool = WarpOpt) -> None:
    """Train the face reenactor G_r with its segmentation head and three discriminators (paper Section 3.2,
    eq. 5-8).

    Example: `facegan-video train reenactor --data data/faces --out runs/gr --resolution 256 --progressive-steps 4000`
    """
    from facegan_video_training.tasks.reenactor import ReenactorTask

    cfg = run.config(_reenactor_config(None, warp_input))
    run.fit(ReenactorTask(run.dataset(), cfg))


@_image_command
def train_mixer(
    run: ImageRun,
    reenactor: Path | None = typer.Option(None, "--reenactor", exists=True, dir_okay=False, help="A trained G_r "
                                          "checkpoint whose faces G_b learns to mix (default: the driving frame's "
                                          "own face, as from a perfect reenactor).", rich_help_panel=Images),
) -> None:
    """Train the background mixer G_b with its mask and discriminators (paper Section 3.3, eq. 9-11).

    Example: `facegan-video train mixer --data data/faces --out runs/gb --resolution 128`
    """
    from facegan_video_training.tasks.mixer import MixerTask

    cfg = run.config(_reenactor_config(reenactor, True) if reenactor else None)
    run.fit(MixerTask(run.dataset(), cfg, _resolved(reenactor)))


@_image_command
def train_joint(
    run: ImageRun, warp_input: bool = WarpOpt,
    reenactor: Path | None = typer.Option(None, "--reenactor", exists=True, dir_okay=False, help="Start G_r from this "
                                          "`train reenactor` checkpoint (its configuration wins over "
                                          "--warp-input).", rich_help_panel=Images),
    mixer: Path | None = typer.Option(None, "--mixer", exists=True, dir_okay=False, help="Start G_b from this "
                                      "`train mixer` checkpoint.", rich_help_panel=Images),
) -> None:
    """Train G_r and G_b together, end to end (paper Section 4), usually from separately trained networks.

    Example: `facegan-video train joint --data data/faces --out runs/joint --reenactor runs/gr/best.safetensors
    --mixer runs/gb/best.safetensors`
    """
    from facegan_video_training.tasks.joint import JointTask

    cfg = run.config(_reenactor_config(reenactor, warp_input))
    run.fit(JointTask(run.dataset(), cfg, _resolved(reenactor), _resolved(mixer)))


def export(
    checkpoint: Path = typer.Argument(..., exists=True, dir_okay=False, help="A `train reenactor`, `train mixer` or "
                                      "`train joint` checkpoint (best.safetensors or last.safetensors)."),
    network: str = typer.Option(..., "--network", help="reenactor or mixer."),
    output: Path = typer.Option(..., "-o", "--output", help="Weights file to write (.safetensors added if missing)."),
    half: bool = typer.Option(True, "--half/--full", help="Store fp16 (half the size; loading casts back)."),
) -> None:
    """Write one network of a training checkpoint as inference weights (no discriminators or optimizer
    state), for `--opt reenact.checkpoint=PATH` / `--opt mix.checkpoint=PATH`.

    Example: `facegan-video train export runs/joint/best.safetensors --network mixer -o gb.safetensors`
    """
    from facegan_video_training.export import export_network

    path = export_network(checkpoint, network, output, half)
    err.print(f"{network} -> {path} ({path.stat().st_size / 2**20:.1f} MiB)", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the image commands to the ``train`` group (once, however often the plugin hook runs)."""
    known = {c.name for c in app.registered_commands}
    for name, command in (("reenactor", train_reenactor), ("mixer", train_mixer), ("joint", train_joint),
                          ("export", export)):
        if name not in known:
            app.command(name)(command)
