"""The ``facegan-video`` command line.

One registry is loaded per invocation (in :func:`main`) and reaches every command through Typer's
context object; plugins add commands through ``facegan_video_register_commands``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from facegan_video import __version__
from facegan_video.config import AnalysisConfig, load_config
from facegan_video.errors import ConfigError, FaceganError
from facegan_video.plugins import Registry, load_registry
from facegan_video.stages import STAGES, stage

app = typer.Typer(
    name="facegan-video",
    help="Animate a face with the motion of a driving video and edit faces through Facial Action Units.\n\n"
         "Start with `facegan-video reenact portrait.png talk.mp4 -o out.mp4 --side-by-side`, "
         "`facegan-video edit portrait.png --au AU12=+2 -o smile.png`, or "
         "`facegan-video extract talk.mp4 -o aus.csv --plot aus.png` to see what the analysis reads; "
         "`facegan-video plugins` lists every stage's backends and their options.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)

SMOOTHING = ("off", "light", "medium", "strong")
PIPELINE = "Pipeline"
REENACT = "Reenactment"


def _registry(ctx: typer.Context) -> Registry:
    """The invocation's registry (``main`` passes it as the context object; a test runner may not)."""
    if not isinstance(ctx.obj, Registry):
        ctx.obj = load_registry()
    return ctx.obj


def _backend_option(key: str, panel: str) -> typer.models.OptionInfo:
    s = stage(key)
    return typer.Option(None, s.flag, help=f"{s.title.capitalize()} backend (default {s.default}; "
                        f"`facegan-video plugins {key}` lists them).", rich_help_panel=panel)


def pipeline_config(config: Path | None, backends: dict[str, str | None], *, faces: str | None = None,
                    smoothing: str | None = None, options: list[str] | None = None,
                    batch_size: int | None = None) -> AnalysisConfig:
    """CLI options over the TOML config over the defaults; ``backends`` maps stage keys to --flags' values."""
    cfg = load_config(config)
    if faces:
        cfg.faces = faces
    for key, name in backends.items():
        cfg.set_backend(key, name)
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


def _positive(value: int | None, flag: str) -> None:
    if value is not None and value < 1:
        raise ConfigError(f"{flag} must be >= 1")


ConfigOpt = typer.Option(None, "--config", help="TOML file with [backends], [options.STAGE], [analysis] tables.",
                         rich_help_panel=PIPELINE)
FacesOpt = typer.Option(None, "--faces", help="Faces to analyse: all, largest, index:N (N-th from the left), id:N.",
                        rich_help_panel=PIPELINE)
DetectorOpt = _backend_option("detect", PIPELINE)
TrackerOpt = _backend_option("track", PIPELINE)
LandmarkerOpt = _backend_option("landmarks", PIPELINE)
AUOpt = _backend_option("au", PIPELINE)
SmoothOpt = typer.Option(None, "--smoothing", help="Temporal smoothing: off, light, medium (default), strong.",
                         rich_help_panel=PIPELINE)
OptionOpt = typer.Option(None, "--opt", help="Backend option STAGE.KEY=VALUE, repeatable, e.g. track.detect_every=5 "
                         "or au.calibration=video (`facegan-video plugins` lists them).", rich_help_panel=PIPELINE)
BatchOpt = typer.Option(None, "--batch-size", help="Frames per batch (memory is bounded by it).",
                        rich_help_panel=PIPELINE)
DeviceOpt = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:N or mps, for backends that run on torch.",
                         rich_help_panel=PIPELINE)
QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress bar or summary.")
TransformOpt = _backend_option("transform", REENACT)
ReenactorOpt = _backend_option("reenact", REENACT)
MixerOpt = _backend_option("mix", REENACT)
BackgroundOpt = typer.Option(None, "--background", help="Put the face on this background image instead of the "
                             "source's own.", rich_help_panel=REENACT)
SourceFaceOpt = typer.Option("auto", "--source-face", help="Face in the source: auto (exactly one), largest, index:N.",
                             rich_help_panel=REENACT)
MaxSizeOpt = typer.Option(None, "--max-size", help="Shrink a larger source so its longer side has N pixels (a "
                          "smaller, faster output).", rich_help_panel=REENACT)


@app.command()
def extract(
    ctx: typer.Context,
    source: Path = typer.Argument(..., metavar="INPUT", help="Video (any FFmpeg-readable file) or still image."),
    output: Path = typer.Option(..., "-o", "--output", help="CSV to write, OpenFace FeatureExtraction columns."),
    plot: Path | None = typer.Option(None, "--plot", help="Also draw AU and head-pose time courses (.png, .svg, "
                                        ".pdf)."),
    overlay: Path | None = typer.Option(None, "--overlay", help="Also write the video with landmarks drawn (MP4)."),
    max_frames: int | None = typer.Option(None, "--max-frames", help="Stop after this many frames."),
    quiet: bool = QuietOpt,
    config: Path | None = ConfigOpt, faces: str | None = FacesOpt, detector: str | None = DetectorOpt,
    tracker: str | None = TrackerOpt, landmarker: str | None = LandmarkerOpt,
    au_backend: str | None = AUOpt, smoothing: str | None = SmoothOpt,
    opt: list[str] | None = OptionOpt, batch_size: int | None = BatchOpt, device: str = DeviceOpt,
) -> None:
    """Per-frame face boxes, 68 landmarks, 17 AU intensities and head pose, as an OpenFace-style CSV.

    One row per frame and face: `frame, face_id, timestamp, confidence, success, pose_Tx..pose_Rz,
    x_0..x_67, y_0..y_67, AU01_r..AU45_r` (pose in radians and mm, OpenFace conventions), so tools
    written for OpenFace read it. Frames without a face get a `success = 0` row.

    Example: `facegan-video extract talk.mp4 -o talk.csv --plot talk.png --overlay talk_landmarks.mp4`
    """
    from facegan_video.extract import extract as run_extract
    from facegan_video.memory import reuse_large_buffers

    reuse_large_buffers()
    cfg = pipeline_config(config, {"detect": detector, "track": tracker, "landmarks": landmarker, "au": au_backend},
                          faces=faces, smoothing=smoothing, options=opt, batch_size=batch_size)
    _positive(max_frames, "--max-frames")
    summary = run_extract(source, output, config=cfg, plot=plot, overlay=overlay, max_frames=max_frames, quiet=quiet,
                          device=device, registry=_registry(ctx))
    if not quiet:
        err.print(f"{summary.frames} frames, face found in {summary.frames_with_face} "
                  f"({100 * summary.frames_with_face / summary.frames:.0f}%), {summary.rows} rows -> {output}"
                  + (f", plot -> {plot}" if plot else "") + (f", overlay -> {overlay}" if overlay else ""))


@app.command()
def reenact(
    ctx: typer.Context,
    source: Path = typer.Argument(..., metavar="SOURCE", help="Source portrait (image) or video whose face is "
                                  "animated."),
    driving: Path = typer.Argument(..., metavar="DRIVING", help="Driving video whose expressions and head motion are "
                                   "copied, or a motion CSV in OpenFace's format (what `extract` writes)."),
    output: Path = typer.Option(..., "-o", "--output", help="Video to write (.mp4, .m4v, .mov, .mkv; H.264, the "
                                "driving clip's fps and length, or one frame per CSV frame)."),
    motion: str = typer.Option("relative", "--motion", help="relative: the driver's change since its first frame "
                               "added to the source's own expression; absolute: the driver's AUs and pose as they are "
                               "(the paper).", rich_help_panel=REENACT),
    channels: str = typer.Option("all", "--channels", help="Copy all, expression only, or pose only.",
                                 rich_help_panel=REENACT),
    aus: str | None = typer.Option(None, "--aus", help="Copy only these AUs, e.g. AU12,AU25,AU26.",
                                      rich_help_panel=REENACT),
    source_face: str = SourceFaceOpt,
    driving_face: str = typer.Option("largest", "--driving-face", help="Face in the driving video or CSV: largest, "
                                     "index:N, id:N (a CSV's face_id).", rich_help_panel=REENACT),
    fps: float | None = typer.Option(None, "--fps", help="Frame rate of the output of a motion CSV (default: "
                                        "from its timestamps).", rich_help_panel=REENACT),
    max_size: int | None = MaxSizeOpt,
    audio: str = typer.Option("driving", "--audio", help="driving (mux the driving clip's sound) or none."),
    sbs: bool = typer.Option(False, "--side-by-side", help="Write source | driving | output panels."),
    background: Path | None = BackgroundOpt,
    transform: str | None = TransformOpt, reenactor: str | None = ReenactorOpt, mixer: str | None = MixerOpt,
    max_frames: int | None = typer.Option(None, "--max-frames", help="Stop after this many driving frames."),
    quiet: bool = QuietOpt,
    config: Path | None = ConfigOpt, detector: str | None = DetectorOpt,
    tracker: str | None = TrackerOpt, landmarker: str | None = LandmarkerOpt,
    au_backend: str | None = AUOpt, smoothing: str | None = SmoothOpt,
    opt: list[str] | None = OptionOpt, batch_size: int | None = BatchOpt, device: str = DeviceOpt,
) -> None:
    """Animate the SOURCE face with the DRIVING video's expressions and head motion.

    The source keeps its identity, face shape and background; the output has the driving clip's
    frame count, fps and (with `--audio driving`) sound. DRIVING may also be a CSV of recorded motion
    in OpenFace's format (`extract`'s or OpenFace's, AU curves edited or not): one output frame per
    CSV frame, `success = 0` rows hold the previous motion, no sound.

    Examples: `facegan-video reenact portrait.png talk.mp4 -o out.mp4 --side-by-side`,
    `facegan-video reenact portrait.png talk.csv -o out.mp4`
    """
    from facegan_video.memory import reuse_large_buffers
    from facegan_video.reenactment import ReenactOptions
    from facegan_video.reenactment import reenact as run_reenact

    reuse_large_buffers()
    cfg = pipeline_config(config, {"detect": detector, "track": tracker, "landmarks": landmarker, "au": au_backend,
                                   "transform": transform, "reenact": reenactor, "mix": mixer},
                          smoothing=smoothing, options=opt, batch_size=batch_size)
    _positive(max_frames, "--max-frames")
    opts = ReenactOptions(mode=motion, channels=channels, aus=aus.split(",") if aus else None,
                          source_face=source_face, driving_face=driving_face, audio=audio, side_by_side=sbs,
                          background=background, device=device, max_frames=max_frames, max_size=max_size, fps=fps,
                          quiet=quiet)
    summary = run_reenact(source, driving, output, cfg, opts, registry=_registry(ctx))
    if not quiet:
        err.print(f"{summary.frames} frames at {summary.fps:.2f} fps -> {output}"
                  + (f" ({summary.driving_without_face} driving frames without a face held the last motion)"
                     if summary.driving_without_face else ""))


@app.command()
def edit(
    ctx: typer.Context,
    source: Path = typer.Argument(..., metavar="SOURCE", help="Image or video with a face."),
    output: Path = typer.Option(..., "-o", "--output", help="Image (.png/.jpg) for an image, a video (.mp4) for a "
                                "video or a sweep."),
    au: list[str] | None = typer.Option(None, "--au", help="AU12=+2 raises AU12 by 2, AU12=-1 lowers it, AU45=5 "
                                           "sets it (0-5). Names as OpenFace: AU12 or AU12_r. Repeatable."),
    pose: list[str] | None = typer.Option(None, "--pose", help="yaw=+0.2, pitch=-0.1, roll=0 (radians; + relative, "
                                             "plain value absolute). Repeatable."),
    sweep: str | None = typer.Option(None, "--sweep", help="Animate one AU or pose axis, e.g. AU12=0:5 or "
                                     "yaw=-0.3:0.3."),
    frames: int = typer.Option(30, "--frames", help="Frames of a --sweep animation."),
    fps: float = typer.Option(25.0, "--fps", help="Frame rate of a --sweep animation."),
    source_face: str = SourceFaceOpt,
    background: Path | None = BackgroundOpt,
    max_size: int | None = MaxSizeOpt,
    transform: str | None = TransformOpt, reenactor: str | None = ReenactorOpt, mixer: str | None = MixerOpt,
    quiet: bool = QuietOpt,
    config: Path | None = ConfigOpt, detector: str | None = DetectorOpt,
    landmarker: str | None = LandmarkerOpt, au_backend: str | None = AUOpt,
    opt: list[str] | None = OptionOpt, device: str = DeviceOpt,
) -> None:
    """Change chosen Action Units or the head pose of a face (image or every frame of a video).

    Examples: `facegan-video edit face.png --au AU12=+2 -o smile.png`,
    `facegan-video edit face.png --sweep AU26=0:4 --frames 40 -o open_mouth.mp4`
    """
    from facegan_video.memory import reuse_large_buffers
    from facegan_video.motion import parse_au_edit, parse_pose_edit, parse_sweep
    from facegan_video.reenactment import edit as run_edit

    reuse_large_buffers()
    edits = [parse_au_edit(a) for a in au or []] + [parse_pose_edit(p) for p in pose or []]
    parsed_sweep = parse_sweep(sweep) if sweep else None
    if fps <= 0:
        raise ConfigError("--fps must be positive")
    cfg = pipeline_config(config, {"detect": detector, "landmarks": landmarker, "au": au_backend,
                                   "transform": transform, "reenact": reenactor, "mix": mixer}, options=opt)
    out = run_edit(source, output, edits, cfg, source_face, parsed_sweep, frames, fps, background, quiet,
                   device=device, registry=_registry(ctx), max_size=max_size)
    if not quiet:
        err.print(f"-> {out}")


@app.command(name="eval")
def evaluate(
    ctx: typer.Context,
    sources: Path = typer.Option(..., "--sources", help="Folder of source portraits (.png/.jpg)."),
    driving: Path = typer.Option(..., "--driving", help="Folder of driving clips (.mp4)."),
    output: Path = typer.Option(..., "-o", "--output", help="Report folder: metrics.json, report.md, PNG plots."),
    transforms: str | None = typer.Option(None, "--transforms", help="Landmark transformers to compare, e.g. "
                                             "analytic,direct (default: the config's [[eval.configs]], else every "
                                             "installed one)."),
    max_frames: int = typer.Option(30, "--max-frames", help="Frames read from each driving clip."),
    frame_step: int = typer.Option(5, "--frame-step", help="Use every N-th of those frames."),
    max_pairs: int = typer.Option(6, "--max-pairs", help="Cross-reenactment pairs (source x clip of another person)."),
    cross_mode: str = typer.Option("relative", "--cross-mode", help="Motion mode for cross-reenactment: relative, "
                                   "or absolute as in the paper."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    config: Path | None = ConfigOpt, device: str = DeviceOpt,
) -> None:
    """Score configurations with the paper's protocol: MSE/PSNR/SSIM (self-reenactment), CSIM, PSIM, ED
    (cross-reenactment), LSIM, identity pass rate and motion correlations.

    Identities come from a MANIFEST.tsv `person_label` column next to the inputs when present.

    Example: `facegan-video eval --sources portraits/ --driving clips/ -o report/`
    """
    from facegan_video.evaluation import EvalConfig, configs_from_toml, default_configs, run_eval

    registry = _registry(ctx)
    configs = ([EvalConfig(name.strip(), name.strip()) for name in transforms.split(",") if name.strip()]
               if transforms else configs_from_toml(config) or default_configs(registry))
    run_eval(sources, driving, output, configs, max_frames=max_frames, frame_step=frame_step, quiet=quiet,
             max_pairs=max_pairs, cross_mode=cross_mode, device=device, config=load_config(config), registry=registry)
    if not quiet:
        err.print(f"report -> {output / 'report.md'}")


@app.command()
def plugins(
    ctx: typer.Context,
    only: str | None = typer.Argument(None, metavar="[STAGE]", help=f"Only this stage ({', '.join(STAGES)})."),
) -> None:
    """List every stage, its backends, the plugin distribution providing each, the default, and each
    backend's options (set them with `--opt STAGE.KEY=VALUE` or `[options.STAGE]` in the TOML config).

    Example: `facegan-video plugins transform`
    """
    reg = _registry(ctx)
    stages = [stage(only).key] if only else list(STAGES)
    table = Table(title="facegan-video backends", show_lines=False)
    for col in ("stage", "backend", "default", "provided by", "description"):
        table.add_column(col)
    options = Table(title="backend options (--opt STAGE.KEY=VALUE)")
    for col in ("option", "type", "default", "allowed", "meaning"):
        options.add_column(col)
    for key in stages:
        entries = reg.backends(key)
        default = reg.default(key)
        if not entries:
            table.add_row(key, "(none installed)", "", "", "")
        for name, entry in sorted(entries.items()):
            table.add_row(key, name, "yes" if name == default else "",
                          f"{entry.plugin.distribution} {entry.plugin.version}", entry.backend.summary)
            for o in entry.backend.options:
                options.add_row(f"{key}.{o.name} ({name})", o.type_name, o.default_text(), o.describe(), o.help)
    out = Console(width=max(Console().width, 140))
    out.print(table)
    out.print(options)
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
    """Console entry point.

    Typer runs in standalone mode, so usage errors (unknown option or command, missing argument)
    print Typer's own usage text and exit 2 whatever click Typer bundles; errors of ours
    (``FaceganError``: bad input, configuration, environment) become one line and a non-zero exit.
    """
    try:
        registry = load_registry()
        registry.pm.hook.facegan_video_register_commands(app=app)
        app(prog_name="facegan-video", obj=registry)
    except FaceganError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted; no output was written")
        sys.exit(130)

if __name__ == "__main__":
    main()
