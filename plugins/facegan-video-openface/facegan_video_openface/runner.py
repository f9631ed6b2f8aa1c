"""Finding and running OpenFace's ``FeatureExtraction`` binary.

The binary is always run with an argument list (never through a shell), with a timeout, and its
outputs go to temporary directories that are removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from facegan_video.errors import BackendUnavailableError, FaceganError, MediaError, OutputError
from facegan_video.openface_csv import OpenFaceRow, parse_openface_csv

ENV_VAR = "FACEGAN_OPENFACE_BIN"
BINARY_NAME = "FeatureExtraction"
INSTALL_HINT = (
    "install OpenFace 2.x: build it from https://github.com/TadasBaltrusaitis/OpenFace and put "
    f"{BINARY_NAME} on PATH or set {ENV_VAR}=/path/to/{BINARY_NAME} (or the backend option binary=PATH)"
)
#: FeatureExtraction outputs we need: 2D landmarks, head pose, AUs.
OUTPUT_FLAGS = ("-2Dfp", "-pose", "-aus")
#: Lines of stderr quoted in the error when FeatureExtraction fails.
STDERR_TAIL = 5


class OpenFaceError(FaceganError):
    """FeatureExtraction ran but failed (non-zero exit, timeout, no CSV written)."""


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _resolve(value: str, origin: str) -> Path:
    """An explicit setting: a path, or a bare name looked up on PATH; wrong -> one-line error."""
    path = Path(value).expanduser()
    if _executable(path):
        return path.absolute()
    if os.sep not in value and (found := shutil.which(value)):
        return Path(found).absolute()
    raise BackendUnavailableError(f"OpenFace binary {value!r} from {origin} is not an executable file; {INSTALL_HINT}")


def find_binary(option: str | os.PathLike | None = None) -> Path:
    """FeatureExtraction's path: the ``binary`` option, else ``$FACEGAN_OPENFACE_BIN``, else PATH."""
    if option:
        return _resolve(os.fspath(option), "the binary option")
    if env := os.environ.get(ENV_VAR, "").strip():
        return _resolve(env, ENV_VAR)
    if found := shutil.which(BINARY_NAME):
        return Path(found).absolute()
    raise BackendUnavailableError(f"OpenFace {BINARY_NAME} not found (no binary option, {ENV_VAR} unset, "
                                  f"not on PATH); {INSTALL_HINT}")


def build_command(binary: Path, inputs: Sequence[Path], out_dir: Path) -> list[str]:
    """FeatureExtraction's argument list: ``-f FILE`` per video/image, ``-fdir DIR`` per image folder."""
    args = [os.fspath(binary)]
    for path in inputs:
        args += ["-fdir" if Path(path).is_dir() else "-f", os.fspath(path)]
    return args + ["-out_dir", os.fspath(out_dir), *OUTPUT_FLAGS]


def run_feature_extraction(binary: Path, inputs: Sequence[Path], out_dir: Path, timeout: float = 600.0) -> Path:
    """Run FeatureExtraction on ``inputs``, writing ``<stem>.csv`` per input into ``out_dir``; returns ``out_dir``."""
    if not inputs:
        raise ValueError("run_feature_extraction needs at least one input")
    for path in inputs:
        if not Path(path).exists():
            raise MediaError(f"OpenFace input {path} does not exist; check the path")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = build_command(Path(binary), [Path(p) for p in inputs], out_dir)
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace",
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise OpenFaceError(f"OpenFace {Path(binary).name} did not finish within {timeout:g} s on "
                            f"{len(inputs)} input(s) and was stopped; raise the timeout option "
                            "(e.g. --opt au.timeout=1200)") from None
    except OSError as exc:  # vanished, not executable, bad interpreter
        raise BackendUnavailableError(f"cannot run OpenFace binary {binary}: {exc.strerror or exc}; "
                                      f"{INSTALL_HINT}") from None
    if proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stderr or proc.stdout or "").splitlines() if ln.strip()]
        tail = " | ".join(lines[-STDERR_TAIL:]) or "no error output"
        raise OpenFaceError(f"OpenFace {Path(binary).name} failed with exit code {proc.returncode}: {tail}")
    return out_dir


def output_csv(out_dir: Path, input_path: Path) -> Path:
    """The CSV FeatureExtraction writes for an input: ``<stem>.csv`` (a folder's name for ``-fdir``)."""
    path = Path(out_dir) / f"{Path(input_path).stem}.csv"
    if not path.is_file():
        raise OpenFaceError(f"OpenFace wrote no {path.name} for {input_path} in {out_dir}; "
                            "is the binary OpenFace 2.x FeatureExtraction?")
    return path


def analyse_images(binary: Path, images: Sequence[np.ndarray], timeout: float = 600.0) -> list[list[OpenFaceRow]]:
    """Run FeatureExtraction once on RGB images (as a folder of PNG frames); rows per image, in order."""
    import cv2

    if not images:
        return []
    with tempfile.TemporaryDirectory(prefix="facegan-openface-") as tmp:
        frames_dir, out_dir = Path(tmp) / "frames", Path(tmp) / "out"
        frames_dir.mkdir()
        for i, image in enumerate(images):
            target = frames_dir / f"frame_{i + 1:06d}.png"
            if not cv2.imwrite(os.fspath(target), cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR)):
                raise OutputError(f"cannot write temporary frame {target}; check free disk space")
        run_feature_extraction(binary, [frames_dir], out_dir, timeout)
        rows = parse_openface_csv(output_csv(out_dir, frames_dir))
    per_image: list[list[OpenFaceRow]] = [[] for _ in images]
    for row in rows:  # -fdir frames are numbered 1..N in file-name order
        if 1 <= row.frame <= len(images):
            per_image[row.frame - 1].append(row)
    return per_image
