"""`facegan-video extract`: per-frame faces, landmarks, AUs and head pose of a video or image."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facegan_video.analysis.pipeline import FaceAnalyzer
from facegan_video.config import AnalysisConfig
from facegan_video.extract_output import CsvWriter, OverlayWriter, plot_time_courses, read_openface_csv
from facegan_video.observe import Observer, progress_observers
from facegan_video.plugins import Registry
from facegan_video.types import FaceRecord
from facegan_video.video import check_output, open_video


@dataclass
class ExtractSummary:
    frames: int
    rows: int
    frames_with_face: int
    faces: int
    warnings: list[str] = field(default_factory=list)  # also printed to stderr unless quiet


def _no_face_row(frame) -> FaceRecord:
    """OpenFace writes a success=0 row for frames without a face; so do we."""
    return FaceRecord(frame.index, frame.timestamp, 0, np.zeros(4, np.float32),
                      np.zeros((68, 2), np.float32), success=False)


def extract(source: str | Path, csv_path: str | Path, *, config: AnalysisConfig | None = None,
            plot: str | Path | None = None, overlay: str | Path | None = None,
            max_frames: int | None = None, quiet: bool = False, device: str = "auto",
            registry: Registry | None = None, observers: Iterable[Observer] = ()) -> ExtractSummary:
    """Analyse every frame of ``source`` and write the OpenFace-format CSV (plus optional plot/overlay).

    Frames without a face get a ``success = 0`` row, as in OpenFace; a video without any face gives
    a CSV of such rows and a warning. Outputs are committed only at the end, so a failed run writes
    nothing.
    """
    for out, kind in ((csv_path, "csv"), (plot, "plot"), (overlay, "video")):
        if out is not None:
            check_output(out, kind, {"csv": "output", "plot": "plot", "video": "overlay"}[kind])
    obs = progress_observers(quiet, observers)
    analyzer = FaceAnalyzer(config, registry, obs, device)
    frames = rows = with_face = 0
    ids: Counter[int] = Counter()
    with ExitStack() as stack:
        src = stack.enter_context(open_video(source, max_frames=max_frames))
        csv = stack.enter_context(CsvWriter(csv_path))
        video = stack.enter_context(OverlayWriter(overlay, src.info.fps, observers=obs)) if overlay else None
        stack.enter_context(obs.run(f"extract {Path(source).name}", src.info.frame_count))
        for frame, records in analyzer.run(obs.timed(src, "decode")):
            good = [r for r in records if r.success]
            with obs.stage("csv", len(records)):
                for record in records or [_no_face_row(frame)]:
                    csv.write(record)
                    rows += 1
            if video is not None:
                video.write(frame.image, good)
            frames += 1
            with_face += bool(good)
            ids.update(r.face_id for r in good)
            obs.on_frames(1)
        warnings = [src.warning] if src.warning else []
        if not with_face:
            warnings.append(f"warning: no face found in {source}; every row has success = 0 (try --detector mmod, "
                            "or check the input shows a face)")
    if plot is not None:
        plot_time_courses(read_openface_csv(csv_path), plot, title=Path(source).name,
                          face_id=ids.most_common(1)[0][0] if ids else 0)
    if not quiet:
        for line in warnings:
            print(line, file=sys.stderr)
    return ExtractSummary(frames, rows, with_face, len(ids), warnings)
