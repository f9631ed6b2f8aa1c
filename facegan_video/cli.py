"""The ``facegan-video`` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from facegan_video import __version__
from facegan_video.config import AnalysisConfig, load_config
from facegan_video.errors import ConfigError, FaceganError
from facegan_video.plugins import STAGE_HOOKS, get_registry

app = typer.Typer(
    name="facegan-video",
    help="Animate a face with the motion of a driving video and edit faces through Facial Action Units.\n\n"
         "Start with `facegan-video extract VIDEO -o aus.csv --plot aus.png` to see what the analysis reads, "
         "and `facegan-video plugins` to see every stage's backends.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)

SMOOTHING = ("off", "light", "medium", "strong")


def analysis_config(config: Optional[Path], faces: Optional[str], detector: Optional[str],
                    tracker: Optional[str], landmarker: Optional[str], au_backend: Optional[str],
                    smoothing: Optional[str], options: Optional[List[str]], batch_size: Optional[int]
                    ) -> AnalysisConfig:
    """CLI options over the TOML config over the defaults."""
    cfg = load_config(config)
    if faces:
        cfg.faces = faces
    for stage, name in (("detect", detector), ("track", tracker), ("landmarks", landmarker), ("au", au_backend)):
        cfg.set_backend(stage, name)
    if smoothing:
        if smoothing not in SMOOTHING:
            raise ConfigError(f"unknown smoothing {smoothing!r}: use one of {', '.join(SMOOTHING)}")
        if smoothing == "off":
            cfg.set_backend("smooth", "none")
        else:
            cfg.set_backend("smooth", "one-euro")
            cfg.stages["smooth"].options["strength"] = smoothing
    for assignment in options or []:
        cfg.set_option(assignment)
    if batch_size is not None:
        if batch_size < 1:
            raise ConfigError("--batch-size must be >= 1")
        cfg.batch_size = batch_size
    return cfg


ConfigOpt = typer.Option(None, "--config", help="TOML file with [backends], [options.STAGE], [analysis] tables.",
                         rich_help_panel="Pipeline")
FacesOpt = typer.Option(None, "--faces", help="Faces to analyse: all, largest, index:N (N-th from the left), id:N.",
                        rich_help_panel="Pipeline")
DetectorOpt = typer.Option(None, "--detector", help="Face detector backend (default hog).", rich_help_panel="Pipeline")
TrackerOpt = typer.Option(None, "--tracker", help="Tracker backend (default iou).", rich_help_panel="Pipeline")
LandmarkerOpt = typer.Option(None, "--landmarker", help="Landmark backend (default dlib68).", rich_help_panel="Pipeline")
AUOpt = typer.Option(None, "--au-backend", help="AU + head-pose backend (default geometric).", rich_help_panel="Pipeline")
SmoothOpt = typer.Option(None, "--smoothing", help="Temporal smoothing: off, light, medium (default), strong.",
                         rich_help_panel="Pipeline")
OptionOpt = typer.Option(None, "--opt", help="Backend option STAGE.KEY=VALUE, repeatable, e.g. track.detect_every=5 "
                         "or au.calibration=video.", rich_help_panel="Pipeline")
BatchOpt = typer.Option(None, "--batch-size", help="Frames per batch (memory is bounded by it).",
                        rich_help_panel="Pipeline")


@app.command()
def extract(
    source: Path = typer.Argument(..., help="Video (any FFmpeg-readable file) or still image."),
    output: Path = typer.Option(..., "-o", "--output", help="CSV to write, OpenFace FeatureExtraction columns."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Also draw AU and head-pose time courses to this PNG."),
    overlay: Optional[Path] = typer.Option(None, "--overlay", help="Also write the video with landmarks drawn (MP4)."),
    max_frames: Optional[int] = typer.Option(None, "--max-frames", help="Stop after this many frames."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
    config: Optional[Path] = ConfigOpt, faces: Optional[str] = FacesOpt, detector: Optional[str] = DetectorOpt,
    tracker: Optional[str] = TrackerOpt, landmarker: Optional[str] = LandmarkerOpt,
    au_backend: Optional[str] = AUOpt, smoothing: Optional[str] = SmoothOpt,
    opt: Optional[List[str]] = OptionOpt, batch_size: Optional[int] = BatchOpt,
) -> None:
    """Per-frame face boxes, 68 landmarks, 17 AU intensities and head pose, as an OpenFace-style CSV.

    One row per frame and face: `frame, face_id, timestamp, confidence, success, pose_Tx..pose_Rz,
    x_0..x_67, y_0..y_67, AU01_r..AU45_r` (pose in radians and mm, OpenFace conventions), so tools
    written for OpenFace read it. Frames without a face get a `success = 0` row.

    Example: `facegan-video extract talk.mp4 -o talk.csv --plot talk.png --overlay talk_landmarks.mp4`
    """
    from facegan_video.extract import extract as run_extract

    cfg = analysis_config(config, faces, detector, tracker, landmarker, au_backend, smoothing, opt, batch_size)
    if max_frames is not None and max_frames < 1:
        raise ConfigError("--max-frames must be >= 1")
    summary = run_extract(source, output, config=cfg, plot=plot, overlay=overlay, max_frames=max_frames, quiet=quiet)
    if not quiet:
        err.print(f"{summary.frames} frames, face found in {summary.frames_with_face} "
                  f"({100 * summary.frames_with_face / summary.frames:.0f}%), {summary.rows} rows -> {output}"
                  + (f", plot -> {plot}" if plot else "") + (f", overlay -> {overlay}" if overlay else ""))


@app.command()
def plugins() -> None:
    """List every stage, its backends, the plugin distribution providing each, and the default."""
    reg = get_registry()
    table = Table(title="facegan-video backends", show_lines=False)
    for col in ("stage", "backend", "default", "provided by", "description"):
        table.add_column(col)
    for stage in STAGE_HOOKS:
        entries = reg.backends(stage)
        default = reg.default(stage)
        if not entries:
            table.add_row(stage, "(none installed)", "", "", "")
        for name, entry in sorted(entries.items()):
            table.add_row(stage, name, "yes" if name == default else "",
                          f"{entry.plugin.distribution} {entry.plugin.version}", entry.backend.summary)
    out = Console(width=max(Console().width, 140))
    out.print(table)
    loaded = Table(title="plugins")
    for col in ("plugin", "module", "distribution", "status"):
        loaded.add_column(col)
    for p in reg.plugins:
        loaded.add_row(p.name, p.module, f"{p.distribution} {p.version}", f"FAILED: {p.error}" if p.error else "loaded")
    out.print(loaded)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"facegan-video {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    pass


def main() -> None:
    """Console entry point: user errors become one line on stderr and a non-zero exit."""
    for plugin_hook in (get_registry().pm.hook.facegan_video_register_commands,):
        plugin_hook(app=app)
    try:
        app(standalone_mode=False)
    except FaceganError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except KeyboardInterrupt:
        err.print("interrupted; no output was written")
        sys.exit(130)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
