"""Run facegan-video on pip-provided example media and write the results to ./out/.

    python examples/demo.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from media import astronaut_png, carphone_path  # noqa: E402


def run(*args: object) -> None:
    cmd = [sys.executable, "-m", "facegan_video.cli", *map(str, args)]
    print("$ facegan-video", " ".join(map(str, args)), flush=True)
    subprocess.run(cmd, check=True)


def main() -> None:
    out = Path("out")
    out.mkdir(exist_ok=True)
    clip = carphone_path()
    run("extract", clip, "-o", out / "carphone_aus.csv", "--plot", out / "carphone_aus.png",
        "--overlay", out / "carphone_landmarks.mp4")
    run("extract", astronaut_png(out), "-o", out / "astronaut_aus.csv")
    print(f"done: see {out}/carphone_aus.png (AU and head-pose time courses) and {out}/carphone_landmarks.mp4")


if __name__ == "__main__":
    main()
