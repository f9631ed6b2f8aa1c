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
    face = astronaut_png(out)
    run("reenact", face, clip, "-o", out / "astronaut_carphone_sbs.mp4", "--side-by-side")
    run("edit", face, "--au", "AU26=+3", "--au", "AU45=5", "-o", out / "astronaut_edit.png")
    run("extract", clip, "-o", out / "carphone_aus.csv", "--plot", out / "carphone_aus.png",
        "--overlay", out / "carphone_landmarks.mp4")
    run("extract", face, "-o", out / "astronaut_aus.csv")
    print(f"done: see {out}/astronaut_carphone_sbs.mp4 (source | driving | output), {out}/astronaut_edit.png, "
          f"{out}/carphone_aus.png (AU and head-pose time courses) and {out}/carphone_landmarks.mp4")


if __name__ == "__main__":
    main()
