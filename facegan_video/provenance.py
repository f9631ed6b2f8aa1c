"""Which code produced a result: the git commit of the checkout, written into reports and benchmarks."""

from __future__ import annotations

import subprocess
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]


def _git(*args: str) -> str | None:
    try:
        res = subprocess.run(["git", *args], cwd=CHECKOUT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() if res.returncode == 0 else None


def git_commit() -> dict[str, str | bool | None]:
    """``{"commit": short hash or None outside a checkout, "dirty": tracked files changed (None if unknown)}``."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"commit": _git("rev-parse", "--short", "HEAD") or None,
            "dirty": bool(status) if status is not None else None}
