"""Declared backend options: name, type, default and allowed values, checked before a backend is built.

Every way a value arrives — ``--opt stage.key=value``, ``[options.stage]`` in the TOML file, the web
app, a Python caller — goes through :meth:`Option.parse`, so a bad value always reads the same:
``transform.expression_gain must be a number within 0–3, got 'abc'``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facegan_video.errors import ConfigError

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
_TYPE_NAMES = {bool: "true/false", int: "integer", float: "number", str: "text", Path: "path"}


def _num(v: float) -> str:
    return f"{v:g}"


@dataclass(frozen=True)
class Option:
    """One keyword option of a backend factory.

    ``type`` is ``bool``, ``int``, ``float``, ``str`` or ``Path``; ``default`` is what the factory
    uses when the option is not given (``None``: the factory decides, e.g. from a preset).
    ``low``/``high`` bound numbers (``low_open``: strictly above ``low``); ``choices`` lists the
    allowed strings; a ``Path`` option with ``exists`` must name an existing file.
    """

    name: str
    type: type
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[str, ...] = ()
    exists: bool = False

    @property
    def type_name(self) -> str:
        return _TYPE_NAMES[self.type]

    def describe(self) -> str:
        """The allowed values in words: 'a number within 0–3', 'one of light, medium, strong'."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.type is bool:
            return "true or false"
        if self.type is Path:
            return "the path of an existing file" if self.exists else "a file path"
        if self.type is str:
            return "text"
        what = "a whole number" if self.type is int else "a number"
        if self.low is not None and self.high is not None and not self.low_open:
            return f"{what} within {_num(self.low)}–{_num(self.high)}"
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '≥'} {_num(self.low)}")
        if self.high is not None:
            parts.append(f"≤ {_num(self.high)}")
        return " ".join([what, " and ".join(parts)]) if parts else what

    def parse(self, value: Any, stage: str) -> Any:
        """``value`` converted to this option's type, or a one-line ``ConfigError`` naming ``stage.name``."""
        if value is None and self.default is None:
            return None
        bad = ConfigError(f"{stage}.{self.name} must be {self.describe()}, got {value!r}")
        if self.type is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
                return value.strip().lower() in _TRUE
            raise bad
        if self.type in (int, float):
            number = _to_number(value, self.type)
            if number is None:
                raise bad
            if self.low is not None and (number <= self.low if self.low_open else number < self.low):
                raise bad
            if self.high is not None and number > self.high:
                raise bad
            return number
        if self.type is Path:
            if not isinstance(value, (str, Path)) or not str(value).strip():
                raise bad
            path = Path(value).expanduser()
            if self.exists and not path.is_file():
                raise ConfigError(f"{stage}.{self.name}: no file at {path}; give the path of an existing file")
            return path
        if not isinstance(value, str) or (self.choices and value not in self.choices):
            raise bad
        return value

    def default_text(self) -> str:
        """The default as the CLI and TOML write it."""
        if self.default is None:
            return "(auto)"
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        if isinstance(self.default, float):
            return _num(self.default)
        return str(self.default)


def _to_number(value: Any, kind: type) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    if kind is int:
        return int(value) if float(value).is_integer() else None
    return float(value)


def parse_options(declared: tuple[Option, ...], given: dict[str, Any], stage: str, backend: str) -> dict[str, Any]:
    """Check ``given`` against the declarations: unknown names and bad values are one-line ConfigErrors."""
    by_name = {o.name: o for o in declared}
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        accepted = ", ".join(by_name) or "none"
        raise ConfigError(f"{stage} backend {backend!r} has no option {', '.join(unknown)}; its options: {accepted} "
                          "(see `facegan-video plugins`)")
    return {key: by_name[key].parse(value, stage) for key, value in given.items()}
