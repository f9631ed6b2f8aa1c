"""Every plugin hook is documented in docs/plugin_hooks.md, and the documented stage table is the truth."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from facegan_video import hookspecs
from facegan_video.plugins import Registry, load_registry
from facegan_video.stages import STAGE_TABLE, STAGES

DOCS = Path(__file__).resolve().parents[1] / "docs" / "plugin_hooks.md"

HOOKS = sorted(name for name, obj in vars(hookspecs).items()
               if name.startswith("facegan_video_") and inspect.isfunction(obj))


@pytest.fixture(scope="module")
def builtin_registry() -> Registry:
    """The built-in plugins alone, so installed plugin distributions do not change the documented table."""
    return load_registry(entry_points_too=False)


@pytest.fixture(scope="module")
def plugin_hooks_md() -> str:
    return DOCS.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def headings(plugin_hooks_md: str) -> list[str]:
    return [line[3:].strip() for line in plugin_hooks_md.splitlines() if line.startswith("## ")]


def _table(markdown: str, header: str) -> list[list[str]]:
    """Rows (cells without backticks) of the markdown table whose header row starts with `header`."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.replace(" ", "").startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().replace("`", "") for cell in line.strip().strip("|").split("|")])
    return rows


def test_hookspecs_found():
    assert len(HOOKS) >= len(STAGES) + 2, HOOKS  # one per stage, the default, the CLI commands


@pytest.mark.parametrize("hook", HOOKS)
def test_hookspec_has_docstring(hook: str):
    doc = inspect.getdoc(getattr(hookspecs, hook))
    assert doc and doc.strip(), f"{hook} has no docstring"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented(hook: str, headings: list[str]):
    """A `## facegan_video_x(args)` heading, with the hookspec's own argument names in order."""
    assert any(h.startswith(f"{hook}(") for h in headings), f"docs/plugin_hooks.md has no '## {hook}(' heading"
    args = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert f"{hook}({args})" in headings


STAGE_HOOKS = {s.key: s.hook for s in STAGE_TABLE}


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_has_a_hook(stage: str):
    assert stage in STAGE_HOOKS
    assert STAGE_HOOKS[stage] in HOOKS


def test_stage_hooks_are_hookspecs():
    assert set(STAGE_HOOKS) == set(STAGES)
    assert set(STAGE_HOOKS.values()) <= set(HOOKS)


def test_stage_table_matches_builtins(plugin_hooks_md: str, builtin_registry: Registry):
    """The stage -> hook -> built-in backends -> default table is what the built-in plugins say."""
    rows = _table(plugin_hooks_md, "|stage|hook|")
    assert [r[0] for r in rows] == list(STAGES)
    for stage, hook, backends, default in rows:
        assert hook == STAGE_HOOKS[stage]
        documented = [] if backends == "(none)" else sorted(b.strip() for b in backends.split(","))
        assert documented == sorted(builtin_registry.backends(stage)), stage
        assert default == (builtin_registry.default(stage) or "(none)"), stage


def test_builtin_options_documented(plugin_hooks_md: str, builtin_registry: Registry):
    """The options table lists each built-in backend's declared options: type, default, allowed values."""
    rows = _table(plugin_hooks_md, "|stage|backend|option|")
    expected = []
    for stage in STAGES:
        for name, entry in sorted(builtin_registry.backends(stage).items()):
            if not entry.backend.options:
                expected.append([stage, name, "(none)", "", "", ""])
            for o in entry.backend.options:
                expected.append([stage, name, o.name, o.type_name, o.default_text(), o.describe()])
    assert rows == expected


def test_python_examples_compile(plugin_hooks_md: str):
    blocks = re.findall(r"```python\n(.*?)```", plugin_hooks_md, re.S)
    assert len(blocks) >= len(HOOKS)
    for i, block in enumerate(blocks):
        compile(block, f"docs/plugin_hooks.md[python block {i}]", "exec")


def test_pyproject_example_is_valid_toml(plugin_hooks_md: str):
    from facegan_video.config import tomllib

    block = re.search(r"```toml\n(.*?)```", plugin_hooks_md, re.S).group(1)
    data = tomllib.loads(block)
    assert "facegan_video" in data["project"]["entry-points"]
