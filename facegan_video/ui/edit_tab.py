"""The Edit tab: one slider per AU and pose axis, starting at the values measured on the portrait;
the preview re-renders when a slider is released. Also the ``/edit(image, changes)`` endpoint."""

from pathlib import Path

import gradio as gr
import numpy as np

from facegan_video.errors import ConfigError
from facegan_video.extract_output import AU_DESCRIPTIONS
from facegan_video.motion import MAX_POSE
from facegan_video.reenactment import edit_motion
from facegan_video.types import AU_MAX, AU_NAMES
from facegan_video.ui.editing import STEP, Editor, current, motion_of, parse_changes, slider_values
from facegan_video.ui.handlers import user_errors
from facegan_video.ui.session import Sessions
from facegan_video.video import read_image

POSE_AXES = ("pitch", "yaw", "roll")
AXES = (*AU_NAMES, *POSE_AXES)
PRIVATE = {"api_visibility": "private"}


def _sliders() -> list[gr.Slider]:
    """17 AU sliders (0-5) in three columns, then pitch, yaw and roll in radians."""
    sliders: list[gr.Slider] = []
    with gr.Row():
        for chunk in (AU_NAMES[:6], AU_NAMES[6:12], AU_NAMES[12:]):
            with gr.Column(min_width=220):
                sliders += [gr.Slider(0, AU_MAX, value=0, step=STEP, label=f"{name} {AU_DESCRIPTIONS[name]}",
                                      buttons=[], elem_id=f"slider-{name}") for name in chunk]
        with gr.Column(min_width=220):
            sliders += [gr.Slider(-MAX_POSE, MAX_POSE, value=0, step=STEP, label=f"{axis} (radians)",
                                  buttons=[], elem_id=f"slider-{axis}") for axis in POSE_AXES]
    return sliders


def build_edit_tab(editor: Editor, sessions: Sessions, example: Path) -> None:
    with gr.Tab("Edit", id="edit"):
        gr.Markdown("Upload a portrait (or pick the astronaut): the sliders start at the Action Units and head "
                    "pose measured on it; release one to update the preview.")
        with gr.Row():
            with gr.Column():
                source = gr.Image(label="Portrait", type="numpy", image_mode="RGB", sources=["upload", "clipboard"],
                                  height=340, elem_id="edit-source")
                gr.Examples([[str(example)]], inputs=[source], label="Example")
                with gr.Accordion("Background (optional)", open=False):
                    background = gr.Image(label="The face is put onto this image", type="filepath",
                                          sources=["upload"], height=140, elem_id="edit-background")
            with gr.Column():
                preview = gr.Image(label="Preview", type="filepath", interactive=False,
                                   buttons=["download"], height=340, elem_id="edit-preview")
                status = gr.Markdown(elem_id="edit-status")
                reset = gr.Button("Reset to the measured values")
        sliders = _sliders()
        with gr.Row(equal_height=True):
            changes = gr.Textbox(label="Changes as text (the CLI's syntax)", placeholder="AU12=+2 AU26=+1 yaw=+0.1",
                                 scale=4, elem_id="edit-changes")
            apply = gr.Button("Apply", scale=1)
        with gr.Accordion("Sweep one slider into a video", open=False):
            with gr.Row(equal_height=True):
                axis = gr.Dropdown(list(AXES), value="AU12", label="Slider")
                start = gr.Number(0.0, label="From")
                end = gr.Number(5.0, label="To")
                frames = gr.Number(30, precision=0, minimum=2, maximum=250, label="Frames")
                sweep = gr.Button("Render MP4")
            sweep_video = gr.Video(label="Sweep", interactive=False, elem_id="edit-sweep")

    @user_errors
    def on_source(image: np.ndarray | None, request: gr.Request):
        session = sessions.get(request.session_hash)
        if image is None:
            session.current = None
            return None, "", *(gr.update() for _ in sliders)
        src = editor.source(session, image)
        values = slider_values(src.face.motion)
        strongest = sorted(zip(AU_NAMES, values, strict=False), key=lambda kv: -kv[1])[:3]
        note = (f"Face found ({src.image.shape[1]}x{src.image.shape[0]}); strongest AUs: "
                + ", ".join(f"{name} {value:.1f}" for name, value in strongest) + ".")
        return session.preview(editor.render(src, src.face.motion, session.background)), note, *values

    @user_errors
    def on_slider(request: gr.Request, *values: float):
        session = sessions.get(request.session_hash)
        src = current(session)
        return session.preview(editor.render(src, motion_of(src, values), session.background))

    @user_errors
    def on_background(request: gr.Request, path: str | None, *values: float):
        session = sessions.get(request.session_hash)
        session.background = read_image(path) if path else None
        if session.current is None:
            return gr.update()
        return session.preview(editor.render(session.current, motion_of(session.current, values), session.background))

    @user_errors
    def on_reset(request: gr.Request):
        session = sessions.get(request.session_hash)
        src = current(session)
        return session.preview(editor.render(src, src.face.motion, session.background)), *slider_values(src.face.motion)

    @user_errors
    def on_apply(image: np.ndarray | None, changes: str, request: gr.Request) -> str:
        """The image with ``changes`` (e.g. ``AU12=+2 AU26=+1 yaw=+0.1``) applied to its measured AUs and pose."""
        if image is None:
            raise ConfigError("no portrait yet: upload one (or pick the astronaut example) first")
        session = sessions.get(request.session_hash)
        return str(session.preview(editor.apply(session, image, changes)))

    @user_errors
    def sliders_after_apply(changes: str, request: gr.Request):
        src = current(sessions.get(request.session_hash))
        return slider_values(edit_motion(src.face, parse_changes(changes)))

    @user_errors
    def on_sweep(request: gr.Request, name: str, a: float, b: float, n: float, *values: float):
        return str(editor.sweep(sessions.get(request.session_hash), name, a, b, int(n), values))

    def sweep_range(name: str):
        """A range that suits the chosen slider: 0 to 5 for an AU, ±0.4 rad for a pose axis."""
        return (-0.4, 0.4) if name in POSE_AXES else (0.0, AU_MAX)

    source.change(on_source, [source], [preview, status, *sliders], **PRIVATE)
    for slider in sliders:
        slider.release(on_slider, sliders, [preview], trigger_mode="always_last", show_progress="minimal", **PRIVATE)
    background.change(on_background, [background, *sliders], [preview], **PRIVATE)
    reset.click(on_reset, None, [preview, *sliders], **PRIVATE)
    apply.click(on_apply, [source, changes], [preview], api_name="edit").success(
        sliders_after_apply, [changes], sliders, **PRIVATE)
    axis.change(sweep_range, [axis], [start, end], **PRIVATE)
    sweep.click(on_sweep, [axis, start, end, frames, *sliders], [sweep_video], **PRIVATE)
