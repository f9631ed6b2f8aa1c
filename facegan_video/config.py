"""Typed configuration: backend names and options per stage, from defaults, a TOML file and the CLI.

TOML layout (every key optional)::

    [backends]            # which backend runs each stage
    detect = "hog"
    au = "geometric"

    [options.detect]      # keyword options of that stage's backend
    max_upsample = 3

    [analysis]
    faces = "all"         # all | largest | index:N | id:N
    batch_size = 32

    [[eval.configs]]      # configurations `facegan-video eval` compares (read by facegan_video.evaluation)
    name = "analytic"
    transform = "analytic"
    reenact = "warp"      # optional, as mix; left out: the [backends] choice or the default
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from facegan_video.errors import ConfigError
from facegan_video.stages import STAGES


@dataclass
class StageChoice:
    backend: str | None = None  # None: the registry's default
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class AnalysisConfig:
    stages: dict[str, StageChoice] = field(default_factory=lambda: {s: StageChoice() for s in STAGES})
    faces: str = "all"
    batch_size: int = 32

    def stage(self, name: str) -> StageChoice:
        return self.stages[name]

    def set_backend(self, stage: str, name: str | None) -> None:
        if name:
            self.stages[stage].backend = name

    def set_option(self, assignment: str) -> None:
        """Apply ``stage.key=value`` (value parsed as TOML, else kept as a string)."""
        key, sep, raw = assignment.partition("=")
        stage, dot, opt = key.strip().partition(".")
        if not sep or not dot or stage not in self.stages or not opt:
            raise ConfigError(f"bad option {assignment!r}: write STAGE.KEY=VALUE with STAGE one of "
                              f"{', '.join(STAGES)}, e.g. track.detect_every=5")
        self.stages[stage].options[opt] = parse_value(raw.strip())


def parse_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def load_config(path: str | Path | None) -> AnalysisConfig:
    """Defaults, overlaid with the TOML file at ``path`` if given."""
    cfg = AnalysisConfig()
    if path is None:
        return cfg
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {p}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config {p}: {exc}") from None
    known = {"backends", "options", "analysis", "eval"}
    if unknown := set(data) - known:
        raise ConfigError(f"config {p}: unknown table(s) {', '.join(sorted(unknown))}; "
                          f"known: {', '.join(sorted(known))}")
    for stage, name in data.get("backends", {}).items():
        if stage not in cfg.stages:
            raise ConfigError(f"config {p}: unknown stage {stage!r} in [backends]; stages: {', '.join(STAGES)}")
        cfg.set_backend(stage, str(name))
    for stage, opts in data.get("options", {}).items():
        if stage not in cfg.stages or not isinstance(opts, dict):
            raise ConfigError(f"config {p}: [options.{stage}] is not a stage; stages: {', '.join(STAGES)}")
        cfg.stages[stage].options.update(opts)
    analysis = data.get("analysis", {})
    cfg.faces = str(analysis.get("faces", cfg.faces))
    cfg.batch_size = int(analysis.get("batch_size", cfg.batch_size))
    return cfg
