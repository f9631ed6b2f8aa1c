"""Per-session state of the web app: a temporary folder and the analysed sources, keyed by Gradio's
session hash, so a slider change only renders and one user's files never reach another's folder."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import cv2
import numpy as np

from facegan_video.errors import MediaError
from facegan_video.types import SourceFace


@dataclass
class Source:
    """An analysed source still: the image and what the edit path needs of its face."""

    image: np.ndarray
    face: SourceFace


class Session:
    """One browser tab (or ``gradio_client.Client``): its folder, its sources and its background."""

    #: Analysed sources kept per session; a new upload beyond this forgets the oldest.
    SOURCES = 4
    #: Preview files kept (Gradio copies each into its cache as soon as the handler returns).
    PREVIEWS = 4

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sources: OrderedDict[str, Source] = OrderedDict()
        self.current: Source | None = None  # what the sliders edit
        self.background: np.ndarray | None = None  # resized to ``current``'s image
        self._names = count(1)
        self._previews: deque[Path] = deque()

    def cached(self, key: str) -> Source | None:
        source = self.sources.get(key)
        if source is not None:
            self.sources.move_to_end(key)
        return source

    def remember(self, key: str, source: Source) -> None:
        self.sources[key] = source
        while len(self.sources) > self.SOURCES:
            self.sources.popitem(last=False)

    def output(self, stem: str, suffix: str) -> Path:
        """A fresh file name in the session folder (each result keeps its own name for downloads)."""
        return self.folder / f"{stem}-{next(self._names)}{suffix}"

    def preview(self, image: np.ndarray) -> Path:
        """``image`` as a PNG in the session folder; older previews beyond ``PREVIEWS`` are deleted.

        OpenCV's PNG encoder takes ~8 ms on a 512x512 image, PIL's (what Gradio uses for an array) ~65 ms:
        a third of the latency budget of a slider change.
        """
        ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        if not ok:
            raise MediaError("cannot encode the preview as PNG")
        path = self.output("preview", ".png")
        path.write_bytes(data.tobytes())
        self._previews.append(path)
        while len(self._previews) > self.PREVIEWS:
            self._previews.popleft().unlink(missing_ok=True)
        return path


def image_key(image: np.ndarray) -> str:
    """Content hash of an image, so re-sending the same picture (an API client does) skips analysis."""
    digest = hashlib.blake2b(np.ascontiguousarray(image).data, digest_size=16)
    digest.update(repr(image.shape).encode())
    return digest.hexdigest()


class Sessions:
    """Every live session under one root folder; closing a session deletes its folder, closing all
    deletes the root. At most ``capacity`` sessions are kept (the least recently used is closed)."""

    def __init__(self, root: Path | None = None, capacity: int = 64) -> None:
        self.root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="facegan-ui-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.capacity = capacity
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session_hash: str) -> Session:
        with self._lock:
            session = self._sessions.get(session_hash)
            if session is None:
                folder = Path(tempfile.mkdtemp(prefix="session-", dir=self.root))
                session = self._sessions[session_hash] = Session(folder)
            self._sessions.move_to_end(session_hash)
            evicted = [self._sessions.popitem(last=False)[1] for _ in range(len(self._sessions) - self.capacity)]
        for old in evicted:
            shutil.rmtree(old.folder, ignore_errors=True)
        return session

    def close(self, session_hash: str) -> None:
        """The session's tab is gone: forget its sources and delete its folder."""
        with self._lock:
            session = self._sessions.pop(session_hash, None)
        if session is not None:
            shutil.rmtree(session.folder, ignore_errors=True)

    def __contains__(self, session_hash: str) -> bool:
        return session_hash in self._sessions

    def close_all(self) -> None:
        with self._lock:
            self._sessions.clear()
        shutil.rmtree(self.root, ignore_errors=True)
