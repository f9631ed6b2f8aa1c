"""Dispatch to a stage's check (found through the stage table) and runs over the installed backends."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from facegan_video.errors import BackendUnavailableError, ConfigError
from facegan_video.options import Option
from facegan_video.stages import STAGE_TABLE, STAGES
from facegan_video.stages import stage as stage_record
from facegan_video.testing.common import _raises, _require
from facegan_video.testing.fixture import RealFace, real_face
from facegan_video.types import Capabilities


def _load_check(ref: str) -> Callable[..., list[str]]:
    """The function a stage record names as ``"module:function"``."""
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


#: stage key -> its contract check, read from the stage table's ``check`` field.
CHECKS: dict[str, Callable[..., list[str]]] = {s.key: _load_check(s.check) for s in STAGE_TABLE}


def check_backend(stage: str, instance: Any, face: RealFace | None = None,
                  fresh: Callable[[], Any] | None = None, capabilities: Capabilities = Capabilities()) -> list[str]:
    """Run ``stage``'s contract on a new ``instance``; ``fresh`` builds more new ones (stateful stages);
    ``capabilities`` are what the backend declares.

    Returns notes on sub-checks that could not run; raises :class:`ContractError` on a broken rule.
    """
    check = CHECKS[stage_record(stage).key]  # an unknown stage: the stage table's one-line ConfigError
    face = face or real_face()
    return check(instance, face, fresh=fresh, capabilities=capabilities)


def all_backends(registry: Any = None) -> list[tuple[str, str]]:
    """``(stage, name)`` of every installed backend of every stage, for ``pytest.mark.parametrize``."""
    from facegan_video.plugins import load_registry

    reg = registry or load_registry()
    return [(stage, name) for stage in STAGES for name in sorted(reg.backends(stage))]


def check_options(stage: str, name: str, registry: Any = None) -> list[str]:
    """The declared options are the factory's: each is a keyword parameter with the declared default
    (which is a valid value); an undeclared option and a value of the wrong type are one-line
    ``ConfigError``s raised before the factory runs."""
    from facegan_video.plugins import load_registry

    reg = registry or load_registry()
    entry = reg.backends(stage).get(name)
    _require(entry is not None, f"no {stage} backend {name!r} is installed")
    declared = entry.backend.options
    params = inspect.signature(entry.backend.factory).parameters
    for opt in declared:
        _require(isinstance(opt, Option), f"{name}: options must be Option records, got {opt!r}")
        param = params.get(opt.name)
        _require(param is not None, f"{name}: declared option {opt.name!r} is not a parameter of its factory")
        _require(param.default == opt.default or param.default is inspect.Parameter.empty,
                 f"{name}: option {opt.name!r} is declared with default {opt.default!r} but the factory's is "
                 f"{param.default!r}")
        opt.parse(opt.default, stage)
    _raises((ConfigError,), lambda: reg.create(stage, name, contract_no_such_option=1),
            f"creating {stage} backend {name!r} with an unknown option")
    for opt in declared:
        if opt.type in (int, float):
            _raises((ConfigError,), lambda opt=opt: reg.create(stage, name, **{opt.name: "not-a-number"}),
                    f"creating {stage} backend {name!r} with {opt.name}='not-a-number'")
    return []


def check_installed(stage: str, name: str, face: RealFace | None = None, registry: Any = None) -> list[str]:
    """Create installed backend ``name`` of ``stage`` through the registry and run its contract.

    Raises ``BackendUnavailableError`` when it cannot be built here (weights or binary missing).
    """
    from facegan_video.plugins import load_registry

    reg = registry or load_registry()
    notes = check_options(stage, name, reg)
    instance = reg.create(stage, name)
    return notes + check_backend(stage, instance, face, fresh=lambda: reg.create(stage, name),
                                 capabilities=reg.entry(stage, name).backend.capabilities)


@dataclass
class ContractResult:
    stage: str
    name: str
    status: str  # "passed", "failed" or "skipped"
    message: str = ""


def run_contracts(stage: str | None = None, registry: Any = None, face: RealFace | None = None) -> list[ContractResult]:
    """Run the contract of every installed backend (of ``stage``, or of all stages); never raises for a backend."""
    from facegan_video.plugins import load_registry

    reg = registry or load_registry()
    face = face or real_face()
    results = []
    for st, name in all_backends(reg):
        if stage is not None and st != stage:
            continue
        try:
            notes = check_installed(st, name, face, reg)
        except BackendUnavailableError as exc:
            results.append(ContractResult(st, name, "skipped", str(exc)))
        except Exception as exc:  # noqa: BLE001 - one broken backend must not hide the others
            results.append(ContractResult(st, name, "failed", f"{type(exc).__name__}: {exc}"))
        else:
            results.append(ContractResult(st, name, "passed", "; ".join(notes)))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m facegan_video.testing [STAGE]``: a table of every installed backend's contract result."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    results = run_contracts(args[0] if args else None)
    for r in results:
        print(f"{r.stage:10} {r.name:14} {r.status.upper():8} {r.message}")
    return 1 if any(r.status == "failed" for r in results) else 0
