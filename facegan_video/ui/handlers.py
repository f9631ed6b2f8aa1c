"""Glue between the pipelines and Gradio: user errors shown in the page, progress forwarded to the bar."""

import functools
import html
from collections.abc import Callable
from typing import Any

import gradio as gr

from facegan_video.errors import FaceganError
from facegan_video.observe import Observer


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``fn``; a ``FaceganError`` (no face, unreadable file, bad value) becomes ``gr.Error``, which
    the page shows as its one-line message. ``functools.wraps`` keeps the signature Gradio inspects
    for ``gr.Request`` and ``gr.Progress`` parameters."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except FaceganError as exc:
            # the page renders the message as HTML: escape it, so a file name shows as written
            raise gr.Error(html.escape(str(exc), quote=False), print_exception=False) from None

    return wrapper


class ProgressObserver(Observer):
    """Frames finished by a pipeline, shown on Gradio's progress bar."""

    def __init__(self, progress: gr.Progress) -> None:
        self.progress = progress
        self.label, self.total, self.done = "", None, 0

    def on_start(self, label: str, total: int | None) -> None:
        self.label, self.total, self.done = label, total, 0
        self.progress((0, total), desc=label, unit="frames")

    def on_frames(self, count: int) -> None:
        self.done += count
        done = self.done if self.total is None else min(self.done, self.total)
        self.progress((done, self.total), desc=self.label, unit="frames")
