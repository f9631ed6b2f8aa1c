"""The 20-d motion code: parsing AU/pose edits and combining source and driving motion.

Index 0-16 are the AU intensities in ``AU_NAMES`` order, 17-19 pitch, yaw, roll (radians).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from facegan_video.errors import ConfigError
from facegan_video.types import AU_MAX, AU_NAMES, AUS, POSE

_PITCH, _YAW, _ROLL = range(POSE.start, POSE.stop)
POSE_AXES = {"pitch": _PITCH, "yaw": _YAW, "roll": _ROLL, "rx": _PITCH, "ry": _YAW, "rz": _ROLL}
#: Head rotations beyond this (radians, about 46 degrees) leave the range a 2D warp can render.
MAX_POSE = 0.8
MOTION_MODES = ("relative", "absolute")
CHANNELS = ("all", "expression", "pose")


@dataclass(frozen=True)
class Edit:
    index: int
    relative: bool
    value: float

    def apply(self, motion: np.ndarray) -> None:
        motion[self.index] = motion[self.index] + self.value if self.relative else self.value
        if self.index < AUS.stop:
            motion[self.index] = np.clip(motion[self.index], 0.0, AU_MAX)


_EDIT = re.compile(r"^\s*([A-Za-z0-9_]+)\s*=\s*([+-]?)\s*([0-9]*\.?[0-9]+)\s*$")


def au_index(name: str) -> int:
    """Index of an AU given as ``AU12``, ``AU12_r``, ``au12`` or ``12``."""
    key = name.strip().upper().removesuffix("_R")
    if key.isdigit():
        key = f"AU{int(key):02d}"
    if key not in AU_NAMES:
        raise ConfigError(f"unknown AU {name!r}; known AUs: {', '.join(AU_NAMES)}")
    return AU_NAMES.index(key)


def parse_au_edit(text: str) -> Edit:
    """``AU12=+2`` (relative), ``AU12=-1`` (relative), ``AU45=5`` (absolute, 0-5)."""
    m = _EDIT.match(text)
    if not m:
        raise ConfigError(f"bad AU edit {text!r}: write AU12=+2 (raise by 2), AU12=-1 or AU45=5 (set to 5)")
    name, sign, number = m.groups()
    value = float(number)
    if value > AU_MAX:
        raise ConfigError(f"AU edit {text!r} is out of range: AU intensities run from 0 to 5")
    return Edit(au_index(name), bool(sign), -value if sign == "-" else value)


def parse_pose_edit(text: str) -> Edit:
    """``yaw=+0.2`` (radians, relative), ``pitch=0`` (absolute); axes pitch, yaw, roll."""
    m = _EDIT.match(text)
    if not m or m.group(1).lower() not in POSE_AXES:
        raise ConfigError(f"bad pose edit {text!r}: write yaw=+0.2, pitch=-0.1 or roll=0 (radians)")
    name, sign, number = m.groups()
    value = -float(number) if sign == "-" else float(number)
    if abs(value) > MAX_POSE:
        raise ConfigError(f"pose edit {text!r} is out of range: keep rotations within ±{MAX_POSE} rad (±46°)")
    return Edit(POSE_AXES[name.lower()], bool(sign), value)


def parse_sweep(text: str) -> tuple[int, float, float]:
    """``AU12=0:5`` -> (index, start, end)."""
    name, _, span = text.partition("=")
    start, colon, end = span.partition(":")
    try:
        a, b = float(start), float(end)
    except ValueError:
        a = b = float("nan")
    if not colon or not np.isfinite([a, b]).all():
        raise ConfigError(f"bad sweep {text!r}: write AU12=0:5 or yaw=-0.3:0.3")
    if name.strip().lower() in POSE_AXES:
        if max(abs(a), abs(b)) > MAX_POSE:
            raise ConfigError(f"sweep {text!r} is out of range: keep rotations within ±{MAX_POSE} rad")
        return POSE_AXES[name.strip().lower()], a, b
    if not (0 <= a <= AU_MAX and 0 <= b <= AU_MAX):
        raise ConfigError(f"sweep {text!r} is out of range: AU intensities run from 0 to 5")
    return au_index(name), a, b


def combine(source: np.ndarray, driving: np.ndarray, reference: np.ndarray | None, mode: str = "relative",
            channels: str = "all", aus: list[str] | None = None) -> np.ndarray:
    """Target motion (N, 20) for the source from driving motion (N, 20).

    ``relative``: the driving change since ``reference`` (its first frame) added to the source's own
    motion; ``absolute``: the driving values themselves (the paper). ``channels`` keeps only the
    expression or only the pose from the driver; ``aus`` limits the expression to those AUs. A value
    the driver does not give (NaN: an AU its backend lacks, a CSV without pose columns) keeps the
    source's own.
    """
    if mode not in MOTION_MODES:
        raise ConfigError(f"unknown motion mode {mode!r}: use {' or '.join(MOTION_MODES)}")
    if channels not in CHANNELS:
        raise ConfigError(f"unknown motion channels {channels!r}: use {', '.join(CHANNELS)}")
    driving = np.atleast_2d(driving).astype(np.float64)
    if mode == "relative":
        ref = driving[0] if reference is None else reference
        target = source[None, :] + (driving - ref[None, :])
    else:
        target = driving.copy()
    target = np.where(np.isfinite(target), target, source[None, :])
    target[:, AUS] = np.clip(target[:, AUS], 0.0, AU_MAX)
    keep = np.ones(20, bool)
    if channels == "expression":
        keep[POSE] = False
    elif channels == "pose":
        keep[AUS] = False
    if aus:
        chosen = {au_index(a) for a in aus}
        keep[AUS] &= np.isin(np.arange(AUS.stop), list(chosen))
    target[:, ~keep] = source[None, ~keep]
    return target.astype(np.float32)
