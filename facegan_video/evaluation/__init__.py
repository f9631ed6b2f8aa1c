"""``eval``: the paper's evaluation protocol (Section 5, Tables 1-2) on a folder of portraits and clips.

Every configuration (a landmark-transform backend, and the reenact and mix backends it names or the
config's / default ones) is run on the same, deterministically chosen inputs:

* **Self-reenactment** (per driving clip): the source is the clip's first frame; every
  ``frame_step``-th later frame (below ``max_frames``) drives it in *absolute* mode (the driving
  frame's own AUs and pose) and the output is compared with the real frame: **MSE** (RGB in [0, 1]),
  **PSNR** (dB, 10·log10(1/MSE)) and **SSIM** (scikit-image, channel_axis=2, data_range=1); the
  output is re-analysed and its landmarks compared with the real frame's: **self landmark err**,
  the mean point distance over the real frame's eye-centre distance (↓).
* **Cross-reenactment**: each source portrait × each driving clip of *another* identity (the first
  ``max_pairs`` such pairs, spread over portraits and clips), *relative* mode (the default ``reenact`` path). Each
  output frame is re-analysed from scratch (detect, landmarks, geometric AUs, no smoothing):
  **CSIM** cosine of dlib face embeddings output vs source (↑); **PSIM** cosine of the head-pose
  angle vectors (pitch, yaw, roll) output vs driving (↑, the paper's definition; unstable for
  near-frontal heads, so the mean absolute yaw and pitch errors in degrees are reported too);
  **ED** Euclidean distance of the 17 AU vectors output vs driving with AUs scaled by 1/5 (↓; AUs a
  backend does not give, NaN, are left out); **identity pass** share of outputs whose embedding
  distance to the source is below dlib's 0.6; **mouth r** / **yaw r** Pearson correlation over
  frames between driving and output of mouth opening (mean inner-lip gap divided by the
  inter-ocular distance) and of yaw, per pair, averaged over pairs.
* **LSIM**: pairs A, B of one identity (the first and the last sampled frame of each clip, and
  every two portraits with the same ``person_label``); among the sampled driving frames of *other*
  identities the one whose AUs are closest to B's (Euclidean) drives A in absolute mode; LSIM is
  the mean over the 68 points of the squared distance between the output's and B's landmarks, each
  set normalised by translating its centroid to the origin and dividing by its inter-ocular distance
  (distance between the two eye centres, the means of points 36-41 and 42-47). ↓.

Identities: ``person_label`` from a ``MANIFEST.tsv`` in the input folder or its parent (keys such as
``portraits/x.png`` or ``clips/y.mp4``); without one every file is its own identity. Outputs, all
written atomically into ``out_dir``: ``metrics.json`` ({config: {metric: {"value", "count"}}}),
``report.md`` (a Table-2-like table with the paper's FaceForensics++ figures beside it),
``metrics.png`` (one bar chart per metric) and ``curves.png`` (per-frame mouth opening, driving vs
output, for the first cross-reenactment pair). There is no randomness: inputs are sorted.

The steps live in ``protocol`` (``run_eval`` and what it runs in order), the measures in ``metrics``,
reading and analysing the media in ``inputs`` and the written outputs in ``report``.
"""

from facegan_video.evaluation.inputs import IMAGE_EXTS, VIDEO_EXTS, ImageAnalyzer, read_labels
from facegan_video.evaluation.metrics import (
    METRICS,
    au_distance,
    image_metrics,
    inter_ocular,
    landmark_error,
    lsim,
    normalise_landmarks,
    pearson,
    ssim,
)
from facegan_video.evaluation.protocol import EvalConfig, configs_from_toml, default_configs, run_eval
from facegan_video.evaluation.report import PAPER_FIGURES, TABLE_METRICS, render_report
from facegan_video.ibug import mouth_opening

__all__ = [
    "IMAGE_EXTS",
    "METRICS",
    "PAPER_FIGURES",
    "TABLE_METRICS",
    "VIDEO_EXTS",
    "EvalConfig",
    "ImageAnalyzer",
    "au_distance",
    "configs_from_toml",
    "default_configs",
    "image_metrics",
    "inter_ocular",
    "landmark_error",
    "lsim",
    "mouth_opening",
    "normalise_landmarks",
    "pearson",
    "read_labels",
    "render_report",
    "run_eval",
    "ssim",
]
