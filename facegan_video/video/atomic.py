"""Atomic output files: a failed or interrupted run never leaves a half-written file at the destination."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from facegan_video.errors import OutputError
from facegan_video.video.formats import OUTPUT_KINDS


def check_writable(path: str | os.PathLike) -> Path:
    """Fail before any expensive work if `path` cannot be created; returns it as an absolute Path.

    A real probe file is created because `os.access` lies for root, ACLs and read-only mounts.
    """
    target = Path(path).expanduser().absolute()
    if target.is_dir():
        raise OutputError(f"output path {target} is a directory; give a file name inside it instead")
    parent = target.parent
    if not parent.is_dir():
        raise OutputError(
            f"cannot write {target}: directory {parent} does not exist; create it or choose another output path"
        )
    try:
        fd, probe = tempfile.mkstemp(dir=parent, prefix=".facegan-probe-")
    except OSError as exc:
        raise OutputError(
            f"cannot write {target}: directory {parent} is not writable ({exc.strerror}); "
            "fix its permissions or choose another output path"
        ) from None
    os.close(fd)
    os.unlink(probe)
    return target


def check_output(path: str | os.PathLike, kind: str, what: str = "output") -> Path:
    """``check_writable`` plus the name: ``kind`` (a key of ``OUTPUT_KINDS``) must match the extension.

    Raises one ``OutputError`` line listing the extensions that work, e.g. for ``-o out.png`` where
    a video is written: "... as an H.264 video: name it .mp4, .m4v, .mov or .mkv (e.g. out.mp4)".
    """
    description, extensions = OUTPUT_KINDS[kind]
    target = Path(path).expanduser()
    if target.suffix.lower() not in extensions and not target.is_dir():
        listed = ", ".join(extensions[:-1]) + f" or {extensions[-1]}" if len(extensions) > 1 else extensions[0]
        raise OutputError(f"cannot write {what} {target.name!r} as {description}: name it {listed} "
                          f"(e.g. {target.stem or 'out'}{extensions[0]})")
    return check_writable(target)


class AtomicTarget:
    """A hidden temp path beside the destination, so the final rename stays on one filesystem (and is atomic)."""

    def __init__(self, path: str | os.PathLike, suffix: str | None = None) -> None:
        self.path = check_writable(path)
        ext = self.path.suffix if suffix is None else suffix
        # Only the name is reserved: the writer creates the file, so it gets the usual umask permissions.
        self.temp = self.path.with_name(f".{self.path.stem}.tmp-{secrets.token_hex(4)}{ext}")

    def commit(self) -> None:
        """Move the finished temp file onto the destination, replacing any old file in one step."""
        try:
            os.replace(self.temp, self.path)
        except OSError as exc:
            self.discard()
            raise OutputError(
                f"cannot write {self.path}: {exc.strerror}; check the output location and try again"
            ) from None

    def discard(self) -> None:
        """Remove the temp file; the destination is left as it was."""
        self.temp.unlink(missing_ok=True)


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yields a temp path beside `path`; renames it onto `path` if the block succeeds, deletes it otherwise."""
    target = AtomicTarget(path, suffix)
    try:
        yield target.temp
    except BaseException:
        target.discard()
        raise
    target.commit()


class CommitOnExit:
    """Context-manager protocol for writers: ``close()`` (commit) on success, ``abort()`` on error."""

    def close(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
