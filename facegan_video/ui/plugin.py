"""Built-in plugin adding ``facegan-video ui``; Gradio is imported only when the command runs, so the
CLI works without the ``ui`` extra and says how to install it."""

from typing import TYPE_CHECKING

from facegan_video.hookspecs import hookimpl

if TYPE_CHECKING:
    import typer


@hookimpl
def facegan_video_register_commands(app: "typer.Typer") -> None:
    import typer  # here, not at the top: every registry load imports this module

    @app.command()
    def ui(
        ctx: typer.Context,
        host: str = typer.Option("127.0.0.1", "--host", help="Address to serve on; the default is this machine "
                                 "only, 0.0.0.0 lets other machines reach the app."),
        port: int = typer.Option(7860, "--port", help="Port to serve on."),
        max_upload_mb: float = typer.Option(200.0, "--max-upload-mb", help="Largest upload accepted, in MB."),
    ) -> None:
        """A local web app: AU sliders on a portrait, reenactment and analysis, in the browser.

        Serves on http://127.0.0.1:7860 by default (never a public share link). Scripts can call its
        `/edit`, `/reenact` and `/analyse` endpoints with `gradio_client` (docs/ui.md).

        Example: `facegan-video ui --port 7860`, then open http://127.0.0.1:7860
        """
        from facegan_video.plugins import Registry, load_registry
        from facegan_video.ui.app import serve

        registry = ctx.obj if isinstance(ctx.obj, Registry) else load_registry()
        serve(registry, host=host, port=port, max_upload_mb=max_upload_mb)
