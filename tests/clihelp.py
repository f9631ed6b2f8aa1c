"""Running the installed ``facegan-video`` console script, as a user does, and checking its errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

#: The console script pip installed beside this interpreter: the tests run what users run, so a
#: broken entry point or a missing dependency of the CLI layer fails them.
SCRIPT = Path(sys.executable).with_name("facegan-video")


def cli(*args, check: bool = False, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    assert SCRIPT.is_file(), f"the facegan-video console script is not installed at {SCRIPT}; pip install -e ."
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, check=check,
                          timeout=timeout, env=env)


def assert_clean_error(proc: subprocess.CompletedProcess, *words: str) -> None:
    """A non-zero exit with one line on stderr holding each of ``words``, and no traceback."""
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for w in words:
        assert w in proc.stderr, proc.stderr
