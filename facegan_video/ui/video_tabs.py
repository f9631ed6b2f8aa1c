"""The Reenact and Analyse tabs, and their ``/reenact(source, driving, motion)`` and ``/analyse(video)``
endpoints: the CLI's ``reenact`` and ``extract`` with a progress bar, writing into the session folder."""

from pathlib import Path
from typing import Any

import gradio as gr

from facegan_video.config import AnalysisConfig
from facegan_video.errors import ConfigError
from facegan_video.extract import extract
from facegan_video.motion import CHANNELS, MOTION_MODES
from facegan_video.plugins import Registry
from facegan_video.reenactment import ReenactOptions, reenact
from facegan_video.stages import STAGE_TABLE
from facegan_video.types import AU_NAMES
from facegan_video.ui.handlers import ProgressObserver, user_errors
from facegan_video.ui.session import Sessions

PRIVATE = {"api_visibility": "private"}


def _need(path: str | None, what: str) -> Path:
    if not path:
        raise ConfigError(f"no {what} yet: upload one (or pick the example) first")
    return Path(path)


def build_reenact_tab(registry: Registry, sessions: Sessions, source_example: Path, driving_example: Path) -> None:
    with gr.Tab("Reenact", id="reenact"):
        gr.Markdown("The source face (an image, or a video: each frame reenacted) performs the driving video's "
                    "expressions and head motion.")
        with gr.Row():
            source = gr.File(label="Source image or video", file_types=["image", "video"], type="filepath",
                             height=220, elem_id="reenact-source")
            driving = gr.Video(label="Driving video", sources=["upload"], height=220, elem_id="reenact-driving")
        gr.Examples([[str(source_example), str(driving_example)]], inputs=[source, driving], label="Example")
        motion = gr.Radio(list(MOTION_MODES), value="relative", label="Motion",
                          info="relative: the driver's change since its first frame, added to the source's own "
                               "expression; absolute: the driver's AUs and pose as they are (the paper)")
        with gr.Accordion("Options", open=False):
            with gr.Row():
                channels = gr.Radio(list(CHANNELS), value="all", label="Copy")
                side_by_side = gr.Checkbox(False, label="Side by side (source | driving | output)")
                max_frames = gr.Number(0, precision=0, minimum=0, label="Max frames (0: the whole clip)",
                                       elem_id="reenact-max-frames")
            aus = gr.CheckboxGroup(list(AU_NAMES), label="Copy only these AUs (none ticked: all)")
            with gr.Row():
                backends = {s.key: gr.Dropdown(sorted(registry.backends(s.key)), value=registry.default(s.key),
                                               label=f"{s.title} ({s.key})") for s in STAGE_TABLE}
        run = gr.Button("Reenact", variant="primary", elem_id="reenact-run")
        result = gr.Video(label="Video", interactive=False, height=400, elem_id="reenact-result")
        download = gr.File(label="Download", interactive=False, elem_id="reenact-download")
        api_trigger = gr.Button(visible=False)  # the 3-argument /reenact endpoint for scripts

    def run_reenact(request: gr.Request, progress: gr.Progress, src: str | None, drv: str | None, mode: str,
                    config: AnalysisConfig, **options: Any) -> str:
        output = sessions.get(request.session_hash).output("reenact", ".mp4")
        opts = ReenactOptions(mode=mode, quiet=True, **options)
        reenact(_need(src, "source image or video"), _need(drv, "driving video"), output, config, opts,
                registry=registry, observers=[ProgressObserver(progress)])
        return str(output)

    @user_errors
    def on_run(values: dict, request: gr.Request, progress=gr.Progress()):  # noqa: B008 (Gradio's idiom)
        config = AnalysisConfig()
        for key, dropdown in backends.items():
            config.set_backend(key, values[dropdown])
        path = run_reenact(request, progress, values[source], values[driving], values[motion], config,
                           channels=values[channels], aus=list(values[aus]) or None,
                           side_by_side=bool(values[side_by_side]), max_frames=int(values[max_frames] or 0) or None)
        return path, path

    @user_errors
    def on_api(source: str | None, driving: str | None, motion: str, request: gr.Request,
               progress=gr.Progress()) -> str:  # noqa: B008
        """The source face driven by the driving video; ``motion``: relative or absolute."""
        return run_reenact(request, progress, source, driving, motion, AnalysisConfig())

    run.click(on_run, {source, driving, motion, channels, aus, side_by_side, max_frames, *backends.values()},
              [result, download], **PRIVATE)
    api_trigger.click(on_api, [source, driving, motion], [result], api_name="reenact")


def build_analyse_tab(registry: Registry, sessions: Sessions, example: Path) -> None:
    with gr.Tab("Analyse", id="analyse"):
        gr.Markdown("Per-frame face boxes, 68 landmarks, 17 AU intensities and head pose of a video, as an "
                    "OpenFace-format CSV and a plot of their time courses.")
        with gr.Row():
            with gr.Column():
                video = gr.Video(label="Video", sources=["upload"], height=300, elem_id="analyse-video")
                gr.Examples([[str(example)]], inputs=[video], label="Example")
                run = gr.Button("Analyse", variant="primary", elem_id="analyse-run")
            with gr.Column(scale=2):
                plot = gr.Image(label="Time courses", type="filepath", interactive=False,
                                buttons=["download", "fullscreen"], elem_id="analyse-plot")
                table = gr.File(label="CSV", interactive=False, elem_id="analyse-csv")

    @user_errors
    def on_analyse(video: str | None, request: gr.Request, progress=gr.Progress()):  # noqa: B008
        """One CSV row per frame and face (OpenFace columns) and the AU/pose plot of ``video``."""
        session = sessions.get(request.session_hash)
        src = _need(video, "video")
        csv, png = session.output(src.stem, ".csv"), session.output(f"{src.stem}-plot", ".png")
        extract(src, csv, plot=png, quiet=True, registry=registry, observers=[ProgressObserver(progress)])
        return str(csv), str(png)

    run.click(on_analyse, [video], [table, plot], api_name="analyse")
