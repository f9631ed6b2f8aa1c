"""facegan-video plugin: adds the ``prepare`` and ``train`` commands to the command line."""

from __future__ import annotations

import typer

from facegan_video.hookspecs import hookimpl


@hookimpl
def facegan_video_register_commands(app: typer.Typer) -> None:
    from facegan_video_training.cli import prepare, train_app  # typer only; heavy imports happen per command
    from facegan_video_training.cli_images import register

    register(train_app)
    app.command(name="prepare")(prepare)
    app.add_typer(train_app, name="train")
