"""Start ``facegan-video ui`` in a child process on a free 127.0.0.1 port and stop it again: what the
tests, the benchmark and the screenshot script use to talk to a real running app."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

READY = re.compile(r"open (http://\S+) \(Ctrl-C stops it\); temporary files in (\S+)")


@dataclass
class LocalApp:
    url: str
    root: Path  # the app's temporary folder (session folders, Gradio's cache)
    process: subprocess.Popen
    log: Path


def free_port() -> int:
    """A port nobody listens on now (the OS picks it), on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def local_app(log: Path, *args: str, timeout: float = 180.0, env: dict[str, str] | None = None) -> Iterator[LocalApp]:
    """The app serving on a free port until the block ends (then SIGTERM, which removes its folders).

    ``log`` receives its output; a start that fails or takes longer than ``timeout`` seconds raises
    ``RuntimeError`` with the end of that log.
    """
    script = Path(sys.executable).with_name("facegan-video")  # the console script users run, when installed
    cmd = [str(script)] if script.is_file() else [sys.executable, "-m", "facegan_video.cli"]
    cmd += ["ui", "--port", str(free_port()), *args]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    try:
        app = _wait_ready(proc, log, time.monotonic() + timeout)
        yield app
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def _wait_ready(proc: subprocess.Popen, log: Path, deadline: float) -> LocalApp:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"facegan-video ui exited with {proc.returncode}: {log.read_text()[-2000:]}")
        match = READY.search(log.read_text())
        if match:
            with urllib.request.urlopen(match.group(1), timeout=10) as page:
                if page.status == 200:
                    return LocalApp(match.group(1), Path(match.group(2)), proc, log)
        time.sleep(0.25)
    raise RuntimeError(f"facegan-video ui did not start in time: {log.read_text()[-2000:]}")
