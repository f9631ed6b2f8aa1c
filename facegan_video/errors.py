"""User-facing errors: the CLI prints these as one line and exits non-zero, never a traceback."""


class FaceganError(Exception):
    """Base for errors caused by input, configuration or environment, not by a bug."""

    exit_code = 2


class MediaError(FaceganError):
    """A video or image is missing, unreadable, corrupt or truncated."""


class OutputError(FaceganError):
    """An output path cannot be written."""


class NoFaceError(FaceganError):
    """No usable face where one was needed."""

    exit_code = 3


class ConfigError(FaceganError):
    """Unknown backend, bad option value, bad config file."""


class BackendUnavailableError(FaceganError):
    """A backend's weights, binary or package is missing on this machine."""
