"""Plugin loading and the per-stage backend registry.

Built-in backends are entry points of this distribution in the ``facegan_video`` group, loaded the
same way as third-party ones. A plugin that fails to import is recorded and reported by
``facegan-video plugins``; it never stops the program.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

import pluggy

from facegan_video import hookspecs
from facegan_video.errors import ConfigError
from facegan_video.options import parse_options
from facegan_video.types import STAGES, Backend

GROUP = "facegan_video"

#: Hook that collects each stage's backends.
STAGE_HOOKS = {
    "detect": "facegan_video_detectors",
    "track": "facegan_video_trackers",
    "landmarks": "facegan_video_landmarkers",
    "au": "facegan_video_au_estimators",
    "smooth": "facegan_video_smoothers",
    "transform": "facegan_video_landmark_transformers",
    "reenact": "facegan_video_reenactors",
    "mix": "facegan_video_mixers",
}
assert tuple(STAGE_HOOKS) == STAGES

#: The built-in plugins, as declared in pyproject.toml's entry points. Used only when running from
#: a source tree that was never installed (no entry-point metadata).
DEFAULT_PLUGINS = {
    "builtin": "facegan_video.builtin",
    "dlib-detect": "facegan_video.analysis.detect",
    "iou-track": "facegan_video.analysis.track",
    "dlib-landmarks": "facegan_video.analysis.landmarks",
    "geometric-au": "facegan_video.analysis.aus",
    "smoothing": "facegan_video.analysis.smooth",
    "landmark-transform": "facegan_video.reenact.transform",
    "warp-reenact": "facegan_video.reenact.warp",
    "blend-mix": "facegan_video.reenact.blend",
}


@dataclass
class PluginInfo:
    name: str
    module: str
    distribution: str
    version: str
    error: str | None = None


@dataclass
class BackendEntry:
    stage: str
    backend: Backend
    plugin: PluginInfo


class Registry:
    """Loaded plugins and their backends, by stage and name."""

    def __init__(self, pm: pluggy.PluginManager, plugins: list[PluginInfo]) -> None:
        self.pm = pm
        self.plugins = plugins

    def register(self, plugin: Any, name: str) -> None:
        """Register a plugin object directly (scripts, tests, notebooks)."""
        self.pm.register(plugin, name=name)
        self.plugins.append(PluginInfo(name, getattr(plugin, "__module__", "?"), "(registered at run time)", "-"))

    def _plugin_info(self, plugin: Any) -> PluginInfo:
        name = self.pm.get_name(plugin) or "?"
        for info in self.plugins:
            if info.name == name:
                return info
        info = PluginInfo(name, getattr(plugin, "__module__", "?"), "(registered at run time)", "-")
        self.plugins.append(info)
        return info

    def backends(self, stage: str) -> dict[str, BackendEntry]:
        hook = getattr(self.pm.hook, STAGE_HOOKS[stage])
        out: dict[str, BackendEntry] = {}
        for impl in hook.get_hookimpls():
            try:
                backends = impl.function() or []
            except Exception as exc:  # a broken plugin is reported, not fatal
                self._plugin_info(impl.plugin).error = f"{STAGE_HOOKS[stage]}: {type(exc).__name__}: {exc}"
                continue
            for backend in backends:
                out.setdefault(backend.name, BackendEntry(stage, backend, self._plugin_info(impl.plugin)))
        return out

    def default(self, stage: str) -> str | None:
        return self.pm.hook.facegan_video_default_backend(stage=stage)

    def create(self, stage: str, name: str | None = None, **options: Any) -> Any:
        """Build the backend ``name`` (or the default) of ``stage`` with ``options``."""
        if stage not in STAGE_HOOKS:
            raise ConfigError(f"unknown stage {stage!r}; stages are: {', '.join(STAGES)}")
        available = self.backends(stage)
        name = name or self.default(stage)
        if name not in available:
            names = ", ".join(sorted(available)) or "none installed"
            raise ConfigError(f"unknown {stage} backend {name!r}; available: {names} "
                              "(see `facegan-video plugins`)")
        backend = available[name].backend
        kwargs = parse_options(backend.options, options, stage, name)
        try:
            return backend.factory(**kwargs)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{stage} backend {name!r}: {exc}") from None


def _load(pm: pluggy.PluginManager, name: str, module: str, dist: str, version: str) -> PluginInfo:
    info = PluginInfo(name, module, dist, version)
    try:
        obj = importlib.import_module(module) if ":" not in module else _load_attr(module)
        pm.register(obj, name=name)
        unknown = [h.name for h in pm.get_hookcallers(obj) or [] if not h.has_spec()]
        if unknown:  # check_pending() would otherwise fail every command
            pm.unregister(obj)
            raise pluggy.PluginValidationError(obj, f"unknown hook(s) {', '.join(unknown)}")
    except Exception as exc:  # a broken third-party plugin must not stop the program
        info.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return info


def _load_attr(ref: str) -> Any:
    mod, _, attr = ref.partition(":")
    obj = importlib.import_module(mod)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def load_registry() -> Registry:
    """A new registry: hookspecs, the built-in and entry-point plugins, then ``check_pending``."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    plugins: list[PluginInfo] = []
    eps = sorted(entry_points(group=GROUP), key=lambda ep: (ep.dist is None or ep.dist.name != "facegan-video", ep.name))
    for ep in eps:
        if pm.has_plugin(ep.name):
            continue
        dist = ep.dist.name if ep.dist else "?"
        plugins.append(_load(pm, ep.name, ep.value, dist, ep.dist.version if ep.dist else "?"))
    if not any(p.distribution == "facegan-video" for p in plugins):
        from facegan_video import __version__

        for name, module in DEFAULT_PLUGINS.items():
            plugins.append(_load(pm, name, module, "facegan-video (source tree)", __version__))
    pm.check_pending()
    return Registry(pm, plugins)


get_registry = lru_cache(maxsize=1)(load_registry)
