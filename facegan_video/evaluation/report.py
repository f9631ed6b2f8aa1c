"""What ``eval`` writes: metrics.json, a markdown report beside the paper's figures, and two plots."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from facegan_video.analysis.identity import SAME_PERSON
from facegan_video.evaluation.metrics import METRICS
from facegan_video.provenance import git_commit
from facegan_video.video import atomic_path

#: Columns of the report's main table (the rest go in a second table).
TABLE_METRICS = ("mse", "psnr", "ssim", "csim", "psim", "ed", "lsim", "identity_pass", "mouth_r", "yaw_r")

#: The paper's FaceForensics++ figures (Table 2), for orientation only: other data, other networks.
PAPER_FIGURES: dict[str, dict[str, float]] = {
    "FACEGAN (paper)": {"mse": 0.018, "csim": 0.747, "psim": 0.811, "ed": 0.012, "lsim": 0.021},
    "FACEGAN without L_T (paper)": {"mse": 0.015, "csim": 0.623, "psim": 0.885, "ed": 0.014},
    "FOM (paper)": {"mse": 0.012, "csim": 0.676, "psim": 0.825, "lsim": 0.035},
}


def _fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def _table(keys: tuple[str, ...] | list[str], rows: list[tuple[str, dict[str, Any]]]) -> list[str]:
    head = "| configuration | " + " | ".join(f"{METRICS[k][0]} {'↑' if METRICS[k][1] else '↓'}" for k in keys) + " |"
    lines = [head, "|---|" + "---:|" * len(keys)]
    for name, vals in rows:
        lines.append(f"| {name} | " + " | ".join(_fmt(vals.get(k)) for k in keys) + " |")
    return lines


def render_report(metrics: dict[str, dict[str, dict[str, Any]]], inputs: dict[str, Any],
                  counts: dict[str, int], commit: str | None) -> str:
    ours = [(name, {k: m["value"] for k, m in vals.items()}) for name, vals in metrics.items()]
    paper = [(name, vals) for name, vals in PAPER_FIGURES.items()]
    extra = [k for k in METRICS if k not in TABLE_METRICS]
    lines = ["# facegan-video evaluation", "",
             f"Commit: `{commit}`" if commit else "Commit: unknown (not a git checkout)", "",
             "## Results (Table 2 layout)", "",
             *_table(TABLE_METRICS, ours + paper), "",
             "Rows ending in “(paper)” are the FACEGAN paper's FaceForensics++ figures (256², trained "
             "networks), quoted for orientation only: different data, different models, not comparable "
             "number for number.", "",
             "More measures:", "", *_table(extra, ours), "",
             "Samples per metric (count):", "",
             "| configuration | " + " | ".join(METRICS[k][0] for k in METRICS) + " |",
             "|---|" + "---:|" * len(METRICS)]
    for name, vals in metrics.items():
        lines.append(f"| {name} | " + " | ".join(str(vals[k]["count"]) for k in METRICS) + " |")
    lines += ["", "## Protocol", "",
              "- MSE/PSNR/SSIM: self-reenactment (source = first frame of each clip, later frames drive it, "
              "absolute motion), RGB in [0, 1]; self landmark err: the output re-analysed, mean landmark "
              "distance to the real frame's over its eye-centre distance.",
              f"- CSIM, PSIM, ED, identity pass, mouth r, yaw r: cross-reenactment ({inputs['cross_mode']} "
              "motion), outputs re-analysed from scratch; ED on AUs / 5; identity pass = embedding "
              f"distance < {SAME_PERSON}.",
              "- LSIM: mean squared distance of landmarks (centroid at origin, inter-ocular distance 1) "
              "between output and B, A driven (absolute) by the other-identity frame with AUs closest to B.",
              "", "## Inputs", "",
              f"- sources: `{inputs['sources']}`; driving: `{inputs['driving']}`",
              f"- max_frames {inputs['max_frames']}, frame_step {inputs['frame_step']}, "
              f"max_pairs {inputs['max_pairs']}",
              "- counts: " + ", ".join(f"{k} {v}" for k, v in counts.items()),
              "- portraits: " + (", ".join(inputs["portraits"]) or "none"),
              "- clips: " + (", ".join(inputs["clips"]) or "none"),
              "- cross pairs: " + (", ".join(inputs["cross_pairs"]) or "none"),
              "- LSIM pairs: " + (", ".join(inputs["lsim_pairs"]) or "none"), ""]
    return "\n".join(lines)


def _plot_metrics(path: Path, metrics: dict[str, dict[str, dict[str, Any]]]) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    keys = list(METRICS)
    cols = 5
    rows = math.ceil(len(keys) / cols)
    fig = Figure(figsize=(3.2 * cols, 2.6 * rows), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    names = list(metrics)
    for i, key in enumerate(keys):
        ax = fig.add_subplot(rows, cols, i + 1)
        vals = [metrics[n][key]["value"] for n in names]
        ax.bar(range(len(names)), [np.nan if v is None else v for v in vals], color=f"C{i % 10}")
        ax.set_xticks(range(len(names)), names, fontsize=8)
        title, up = METRICS[key]
        ax.set_title(f"{title} {'↑' if up else '↓'}", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
        if all(v is None for v in vals):
            ax.text(0.5, 0.5, "no samples", ha="center", va="center", transform=ax.transAxes, color="grey")
            ax.set_yticks([])
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")


def _plot_curves(path: Path, curves: dict[str, tuple[str, list[int], list[float], list[float]]]) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    title = "no cross-reenactment pair"
    for i, (name, (pair, frames, drv, out)) in enumerate(curves.items()):
        if i == 0:
            ax.plot(frames, drv, "k-o", label="driving")
            title = f"mouth opening, {pair}"
        ax.plot(frames, out, "--o", color=f"C{i}", label=f"output ({name})")
    ax.set_xlabel("driving frame")
    ax.set_ylabel("inner-lip gap / inter-ocular distance")
    ax.set_title(title, fontsize=10)
    if curves:
        ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")


def write_outputs(out_dir: Path, metrics: dict, inputs: dict[str, Any], counts: dict[str, int], curves: dict) -> None:
    """metrics.json, report.md, metrics.png and curves.png, each written atomically into ``out_dir``."""
    with atomic_path(out_dir / "metrics.json") as tmp:
        tmp.write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")
    with atomic_path(out_dir / "report.md") as tmp:
        tmp.write_text(render_report(metrics, inputs, counts, git_commit()["commit"]), encoding="utf-8")
    _plot_metrics(out_dir / "metrics.png", metrics)
    _plot_curves(out_dir / "curves.png", curves)
