"""The ``prepare`` and ``train`` commands (registered on ``facegan-video`` by ``plugin``)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from facegan_video.errors import ConfigError, MediaError
from facegan_video_training.settings import EPOCHS, TRAIN_DEFAULTS, EditSettings, PrepareSettings

err = Console(stderr=True)
_PREP = PrepareSettings()
_EDITS = EditSettings()


def prepare(
    inputs: list[Path] = typer.Argument(..., metavar="VIDEO_OR_DIR...", help="Videos, or folders searched for "
                                        "videos (.mp4 .m4v .mov .mkv .avi .webm); with --merge, datasets."),
    output: Path = typer.Option(..., "-o", "--output", help="Dataset folder (created; a second run adds to it and "
                                "skips the clips already there)."),
    manifest: Path | None = typer.Option(None, "--manifest", help="TSV with `file` and `person_label` columns "
                                            "(default: a MANIFEST.tsv beside each video or one folder up; "
                                            "else each file is its own person)."),
    workers: int = typer.Option(1, "--workers", help="Processes preparing clips in parallel."),
    shard: str | None = typer.Option(None, "--shard", help="K/N: only shard K (0-based) of N, by a hash of each "
                                        "clip, e.g. SLURM_ARRAY_TASK_ID/N; shards may write into one folder."),
    size: int = typer.Option(_PREP.size, "--size", help="Crop side in pixels."),
    all_tracks: bool = typer.Option(_PREP.all_tracks, "--all-tracks", help="Keep every face track long enough, "
                                    "not only the longest."),
    val_fraction: float = typer.Option(_PREP.val_fraction, "--val-fraction", help="Share of PERSONS (by a hash of "
                                       "the label) in the validation split."),
    min_face: float = typer.Option(_PREP.min_face, "--min-face", help="Reject frames whose inter-ocular distance "
                                   "is below this many source pixels."),
    min_confidence: float = typer.Option(_PREP.min_confidence, "--min-confidence", help="Reject frames whose "
                                         "landmark fit is less confident than this (0-1)."),
    merge: bool = typer.Option(False, "--merge", help="Merge the datasets given as inputs into -o instead of "
                               "preparing videos."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
) -> None:
    """Turn talking-head videos into a training dataset of steady face crops with landmarks, AUs + pose
    (the 20-d motion code) and face/hair/background labels, split into train/validation by person.

    Each video's longest face track is cropped with the eye mid-point at a fixed place and a fixed
    inter-ocular distance (no rotation). Resumable: finished clips are skipped.

    Example: `facegan-video prepare clips/ -o data/faces --workers 4`
    """
    from facegan_video_training.prepare import merge_datasets, parse_shard, prepare_dataset

    if merge:
        copied, present = merge_datasets(inputs, output, quiet)
        if not quiet:
            err.print(f"merged: {copied} clip folders copied, {present} already in {output}", highlight=False)
        return
    settings = PrepareSettings(size=size, val_fraction=val_fraction, min_face=min_face, min_confidence=min_confidence,
                        all_tracks=all_tracks)
    summary = prepare_dataset(inputs, output, settings, manifest=manifest, workers=workers,
                              shard=parse_shard(shard), quiet=quiet)
    for o in summary.problems:
        err.print(f"{o.status}: {o.path}" + (f" ({o.detail})" if o.detail else ""), highlight=False, soft_wrap=True)
    done = [o for o in summary.outcomes if o.status == "prepared"]
    if summary.outcomes and len(summary.problems) == len(summary.outcomes):
        raise MediaError(f"none of the {len(summary.outcomes)} videos could be prepared (see above)")
    if not quiet:
        err.print(f"{len(summary.outcomes)} videos: {len(done)} prepared ({sum(o.kept_frames for o in done)} frames "
                  f"in {sum(o.tracks for o in done)} tracks), {summary.count('skipped')} skipped (already prepared), "
                  f"{len(summary.problems)} not usable -> {output}", highlight=False)


train_app = typer.Typer(
    help="Train FACEGAN networks on a dataset written by `facegan-video prepare`.\n\n"
         "Every task shares the options below; run several processes with "
         "`torchrun --nproc_per_node N -m facegan_video.cli train TASK ...` "
         "(data parallel; NCCL on CUDA, gloo on CPU).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

Run = "Run"
DataOpt = typer.Option(..., "--data", help="Dataset folder from `prepare` (repeatable: several read as one).",
                       rich_help_panel=Run)
OutOpt = typer.Option(..., "--out", help="Run folder: last/best .safetensors, metrics.jsonl, tensorboard/.",
                      rich_help_panel=Run)
EpochsOpt = typer.Option(EPOCHS, "--epochs", help="Epochs to train in all (one epoch: every training sample once).",
                         rich_help_panel=Run)
MaxStepsOpt = typer.Option(None, "--max-steps", help="Stop after this many optimisation steps in all.",
                           rich_help_panel=Run)
BatchOpt = typer.Option(None, "--batch-size",
                        help=f"Samples per step and process (default {TRAIN_DEFAULTS['batch_size']}, as the paper).",
                        rich_help_panel=Run)
LrOpt = typer.Option(None, "--lr", help=f"Adam learning rate (default {TRAIN_DEFAULTS['lr']:g}, as the paper).",
                     rich_help_panel=Run)
DeviceOpt = typer.Option("auto", "--device", help="auto, cpu, cuda or mps (under torchrun: this process's GPU).",
                         rich_help_panel=Run)
SeedOpt = typer.Option(None, "--seed",
                       help=f"Seed of initialisation, sample order, augmentation (default {TRAIN_DEFAULTS['seed']}).",
                       rich_help_panel=Run)
ResumeOpt = typer.Option(False, "--resume", help="Continue the run in --out from its last checkpoint, exactly.",
                         rich_help_panel=Run)
ValEveryOpt = typer.Option(0, "--val-every", help="Also validate every N steps (validation always runs at the end "
                           "of each epoch).", rich_help_panel=Run)
QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress bar or lines.", rich_help_panel=Run)


def _options(out: Path, epochs: int, max_steps: int | None, batch_size: int | None, lr: float | None,
             device: str, seed: int | None, resume: bool, val_every: int, quiet: bool):
    from facegan_video_training.trainer import TrainOptions

    return TrainOptions(out=out, epochs=epochs, max_steps=max_steps, batch_size=batch_size, lr=lr, seed=seed,
                        device=device, resume=resume, val_every=val_every, quiet=quiet)


def _report(result, quiet: bool) -> None:
    if quiet or not result.main:
        return
    scores = ", ".join(f"{k} {v:.4g}" for k, v in result.metrics.items())
    err.print(f"step {result.step} (epoch {result.epoch})" + (f": {scores}" if scores else "") + f" -> {result.last}"
              + (f", best -> {result.best}" if result.best else ""), highlight=False)


@train_app.command("lt")
def train_lt(
    data: list[Path] = DataOpt, out: Path = OutOpt, epochs: int = EpochsOpt, max_steps: int | None = MaxStepsOpt,
    batch_size: int | None = BatchOpt, lr: float | None = LrOpt, device: str = DeviceOpt,
    seed: int | None = SeedOpt, resume: bool = ResumeOpt, val_every: int = ValEveryOpt, quiet: bool = QuietOpt,
    augment: bool = typer.Option(True, "--augment/--no-augment", help="Mirror pairs and give them random face "
                                 "shapes (identity augmentation)."),
    overfit: int = typer.Option(0, "--overfit", help="Train on this many fixed pairs, no augmentation (a check that "
                                "the networks can fit the data)."),
    edits: float = typer.Option(_EDITS.edits, "--edits", help="Synthetic AU edits per real pair (the source's own "
                                "motion with some AUs changed; eq. 2 against the analysis's own AU reading); "
                                "0: none."),
    edit_aus: int = typer.Option(_EDITS.edit_aus, "--edit-aus", help="At most this many AUs changed per edit."),
    edit_range: float = typer.Option(_EDITS.edit_range, "--edit-range", help="Largest AU change of an edit (0-5)."),
) -> None:
    """Train the landmark transformer L_T and its AU regressor L_a (paper Section 3.1, eq. 1-4).

    Example: `facegan-video train lt --data data/faces --out runs/lt --epochs 20`
    """
    from facegan_video_training.dataset import FaceDataset
    from facegan_video_training.tasks.lt import LTTask, LTTaskConfig
    from facegan_video_training.trainer import fit

    try:
        cfg = LTTaskConfig(augment=augment, overfit=overfit, edits=edits, edit_aus=edit_aus, edit_range=edit_range)
    except ValueError:
        raise ConfigError("--overfit and --edits must be >= 0, --edit-aus >= 1 and --edit-range within (0, 5]"
                          ) from None
    task = LTTask(FaceDataset(*data), cfg)
    _report(fit(task, _options(out, epochs, max_steps, batch_size, lr, device, seed, resume, val_every, quiet)), quiet)
