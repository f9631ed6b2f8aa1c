"""Run facegan-video on pip-provided example media and write the results to ./out/.

    python examples/demo.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from facegan_video.errors import MediaError
from facegan_video.sample_media import astronaut_png, carphone_path


def run(*args: object) -> None:
    cmd = [str(Path(sys.executable).with_name("facegan-video")), *map(str, args)]
    print("$ facegan-video", " ".join(map(str, args)), flush=True)
    subprocess.run(cmd, check=True)


def main() -> None:
    out = Path("out")
    out.mkdir(exist_ok=True)
    try:
        clip, face = carphone_path(), astronaut_png(out)
    except MediaError as exc:
        raise SystemExit(f"{exc} (or pip install -e '.[examples]')") from None
    run("reenact", face, clip, "-o", out / "astronaut_carphone_sbs.mp4", "--side-by-side")
    run("edit", face, "--au", "AU26=+3", "--au", "AU45=5", "-o", out / "astronaut_edit.png")
    run("extract", clip, "-o", out / "carphone_aus.csv", "--plot", out / "carphone_aus.png",
        "--overlay", out / "carphone_landmarks.mp4")
    run("extract", face, "-o", out / "astronaut_aus.csv")
    print(f"done: see {out}/astronaut_carphone_sbs.mp4 (source | driving | output), {out}/astronaut_edit.png, "
          f"{out}/carphone_aus.png (AU and head-pose time courses) and {out}/carphone_landmarks.mp4")


if __name__ == "__main__":
    main()
