"""The Blocks app (Edit, Reenact, Analyse tabs) and how it is served: on 127.0.0.1 unless told
otherwise, never through a share link, with an upload limit and per-session temporary folders
deleted when the session's tab closes (and all of them when the app stops)."""

import importlib.util
import os
import signal

from facegan_video.errors import BackendUnavailableError, ConfigError
from facegan_video.plugins import Registry
from facegan_video.sample_media import astronaut_png, carphone_path
from facegan_video.ui.session import Sessions

TITLE = "facegan-video"
INSTALL_HINT = "the web app needs Gradio: pip install 'facegan-video[ui]'"
#: Gradio's own cache of uploads and results: files older than an hour go, checked every 10 minutes.
DELETE_CACHE = (600, 3600)


def build_app(registry: Registry, sessions: Sessions):
    """The ``gr.Blocks`` app; its example media are written into ``sessions.root``."""
    import gradio as gr

    from facegan_video.ui.edit_tab import build_edit_tab
    from facegan_video.ui.editing import Editor
    from facegan_video.ui.video_tabs import build_analyse_tab, build_reenact_tab

    examples = sessions.root / "examples"
    examples.mkdir(exist_ok=True)
    portrait, clip = astronaut_png(examples), carphone_path()
    editor = Editor(registry)
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=DELETE_CACHE) as demo:
        gr.Markdown(f"# {TITLE}\nAnimate a face with a driving video's motion, and edit it through Facial "
                    "Action Units.")
        with gr.Tabs():
            build_edit_tab(editor, sessions, portrait)
            build_reenact_tab(registry, sessions, portrait, clip)
            build_analyse_tab(registry, sessions, clip)

        def close_session(request: gr.Request) -> None:
            sessions.close(request.session_hash)

        demo.unload(close_session)
    return demo


def serve(registry: Registry, host: str = "127.0.0.1", port: int = 7860, max_upload_mb: float = 200) -> None:
    """Build the app and serve it until interrupted (Ctrl-C or SIGTERM); then remove every temporary folder."""
    if not 0 < port < 65536:
        raise ConfigError(f"--port must be within 1-65535, got {port}")
    if not max_upload_mb > 0:
        raise ConfigError(f"--max-upload-mb must be positive, got {max_upload_mb}")
    if importlib.util.find_spec("gradio") is None:
        raise BackendUnavailableError(INSTALL_HINT)
    sessions = Sessions()
    # Gradio reads these when it is imported: its cache goes into our folder, and nothing phones home.
    os.environ["GRADIO_TEMP_DIR"] = str(sessions.root / "gradio")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        demo = build_app(registry, sessions)
        demo.queue(default_concurrency_limit=1)
        try:
            demo.launch(server_name=host, server_port=port, share=False, max_file_size=int(max_upload_mb * 2**20),
                        allowed_paths=[str(carphone_path())], ssr_mode=False, mcp_server=False,
                        footer_links=["api"], quiet=True, show_error=False, prevent_thread_lock=True)
        except OSError:
            raise ConfigError(f"cannot serve on {host}:{port}: the port is taken or the address is not this "
                              "machine's; choose another --port or --host") from None
        print(f"facegan-video ui: open {demo.local_url} (Ctrl-C stops it); temporary files in {sessions.root}",
              flush=True)
        demo.block_thread()
    finally:
        sessions.close_all()


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM ends the app as Ctrl-C does, so the temporary folders are still removed."""
    raise KeyboardInterrupt
