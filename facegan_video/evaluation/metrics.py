"""The measures of the protocol: image similarity, landmark and AU distances, correlations."""

from __future__ import annotations

import math

import numpy as np

from facegan_video.ibug import eye_centre_distance

#: metric key -> (column title, higher is better)
METRICS: dict[str, tuple[str, bool]] = {
    "mse": ("MSE", False),
    "psnr": ("PSNR", True),
    "ssim": ("SSIM", True),
    "csim": ("CSIM", True),
    "psim": ("PSIM", True),
    "ed": ("ED", False),
    "lsim": ("LSIM", False),
    "identity_pass": ("identity-pass", True),
    "mouth_r": ("mouth-r", True),
    "yaw_r": ("yaw-r", True),
    "yaw_err_deg": ("yaw err °", False),
    "pitch_err_deg": ("pitch err °", False),
    "self_landmark_err": ("self landmark err", False),
    "output_face_rate": ("face found", True),
}


def inter_ocular(lm: np.ndarray) -> float:
    """The eye-centre distance: the face scale of the protocol's landmark measures."""
    return float(eye_centre_distance(lm))


def normalise_landmarks(lm: np.ndarray) -> np.ndarray:
    """Centroid at the origin, inter-ocular distance 1."""
    return (lm - lm.mean(0)) / max(inter_ocular(lm), 1e-6)


def landmark_error(out: np.ndarray, real: np.ndarray) -> float:
    """Mean distance between two (68, 2) landmark sets in image pixels, over ``real``'s eye-centre distance:
    how far a self-reenacted face's landmarks are from the real frame's, in face scales."""
    return float(np.linalg.norm(out - real, axis=1).mean() / max(inter_ocular(real), 1e-6))


def lsim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean squared distance between two normalised (68, 2) landmark sets."""
    d = normalise_landmarks(a) - normalise_landmarks(b)
    return float((d ** 2).sum(1).mean())


def au_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance of AU vectors scaled by 1/5, over the AUs both give (NaN if none)."""
    ok = np.isfinite(a) & np.isfinite(b)
    if not ok.any():
        return math.nan
    return float(np.linalg.norm((a[ok] - b[ok]) / 5.0))


def pearson(x: list[float], y: list[float]) -> float:
    """Pearson r; NaN with fewer than 3 points or a constant series."""
    xa, ya = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(xa) < 3 or xa.std() < 1e-9 or ya.std() < 1e-9:
        return math.nan
    return float(np.corrcoef(xa, ya)[0, 1])


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 1.0, win_size: int = 7) -> float:
    """Mean SSIM of two HxWxC float images, computed as scikit-image's ``structural_similarity``
    does by default (uniform 7x7 window, sample covariance, K1 0.01, K2 0.03, borders of half a window
    left out, channels averaged), without depending on it."""
    import cv2

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    n = win_size * win_size
    cov_norm = n / (n - 1)
    pad = (win_size - 1) // 2
    scores = []
    for ch in range(a.shape[2]):
        x, y = np.ascontiguousarray(a[..., ch], np.float64), np.ascontiguousarray(b[..., ch], np.float64)

        def box(img: np.ndarray) -> np.ndarray:
            return cv2.boxFilter(img, cv2.CV_64F, (win_size, win_size), borderType=cv2.BORDER_REFLECT)

        ux, uy = box(x), box(y)
        vx = cov_norm * (box(x * x) - ux * ux)
        vy = cov_norm * (box(y * y) - uy * uy)
        vxy = cov_norm * (box(x * y) - ux * uy)
        s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
        scores.append(s[pad:s.shape[0] - pad, pad:s.shape[1] - pad].mean())
    return float(np.mean(scores))


def image_metrics(out: np.ndarray, real: np.ndarray) -> tuple[float, float, float]:
    """MSE, PSNR (dB) and SSIM of two uint8 RGB images, on [0, 1]."""
    a = out.astype(np.float64) / 255.0
    b = real.astype(np.float64) / 255.0
    mse = float(((a - b) ** 2).mean())
    psnr = 10.0 * math.log10(1.0 / max(mse, 1e-10))
    return mse, psnr, ssim(a, b)
