"""Plugin loading and the per-stage backend registry.

A registry is built explicitly (``load_registry()``) and passed to whatever needs backends: the CLI
builds one per invocation; scripts, tests and notebooks build their own or register plugin objects
on one. The built-in backends are plugins registered from ``BUILTIN_PLUGINS`` (the one list of
them), first, in the same way as third-party plugins, which come from the ``facegan_video``
entry-point group. A plugin that fails to import is recorded and reported by
``facegan-video plugins``; it never stops the program.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pluggy

from facegan_video import __version__, hookspecs
from facegan_video.devices import resolve_device
from facegan_video.errors import ConfigError
from facegan_video.options import parse_options
from facegan_video.stages import stage as stage_record
from facegan_video.types import Backend

GROUP = "facegan_video"
DISTRIBUTION = "facegan-video"

#: The built-in plugins: name -> module. Registered before any entry point, so a third-party
#: backend can never take a built-in backend's name.
BUILTIN_PLUGINS = {
    "builtin": "facegan_video.builtin",
    "dlib-detect": "facegan_video.analysis.detect",
    "iou-track": "facegan_video.analysis.track",
    "dlib-landmarks": "facegan_video.analysis.landmarks",
    "geometric-au": "facegan_video.analysis.aus",
    "smoothing": "facegan_video.analysis.smooth",
    "landmark-transform": "facegan_video.reenact.transform",
    "mlp-transform": "facegan_video.reenact.mlp",
    "warp-reenact": "facegan_video.reenact.warp",
    "blend-mix": "facegan_video.reenact.blend",
    "facegan-nets": "facegan_video.reenact.facegan",
    "ui": "facegan_video.ui.plugin",
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
        """Every backend of ``stage`` by name; the first plugin to offer a name keeps it."""
        hook_name = stage_record(stage).hook
        out: dict[str, BackendEntry] = {}
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            try:
                backends = impl.function() or []
            except Exception as exc:  # a broken plugin is reported, not fatal
                self._plugin_info(impl.plugin).error = f"{hook_name}: {type(exc).__name__}: {exc}"
                continue
            for backend in backends:
                out.setdefault(backend.name, BackendEntry(stage, backend, self._plugin_info(impl.plugin)))
        return out

    def default(self, stage: str) -> str | None:
        return self.pm.hook.facegan_video_default_backend(stage=stage)

    def entry(self, stage: str, name: str | None = None) -> BackendEntry:
        """The backend ``name`` (or the default) of ``stage``: its declaration, before building it."""
        available = self.backends(stage)
        name = name or self.default(stage)
        if name not in available:
            names = ", ".join(sorted(available)) or "none installed"
            raise ConfigError(f"unknown {stage} backend {name!r}; available: {names} "
                              "(see `facegan-video plugins`)")
        return available[name]

    def create(self, stage: str, name: str | None = None, *, device: str = "auto", **options: Any) -> Any:
        """Build the backend ``name`` (or the default) of ``stage`` with ``options``.

        A backend that declares ``Capabilities.device`` also gets ``device`` resolved (``auto``:
        CUDA, then MPS, then CPU); the others never import torch for it.
        """
        backend = self.entry(stage, name).backend
        kwargs = parse_options(backend.options, options, stage, backend.name)
        if backend.capabilities.device:
            kwargs["device"] = resolve_device(device)
        try:
            return backend.factory(**kwargs)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{stage} backend {backend.name!r}: {exc}") from None


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


def load_registry(entry_points_too: bool = True) -> Registry:
    """A new registry: the built-in plugins, then (unless told not to) every entry-point plugin,
    then ``check_pending``."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    plugins = [_load(pm, name, module, DISTRIBUTION, __version__) for name, module in BUILTIN_PLUGINS.items()]
    if entry_points_too:
        for ep in sorted(entry_points(group=GROUP), key=lambda ep: ep.name):
            if pm.has_plugin(ep.name):
                continue
            dist = ep.dist.name if ep.dist else "?"
            plugins.append(_load(pm, ep.name, ep.value, dist, ep.dist.version if ep.dist else "?"))
    pm.check_pending()
    return Registry(pm, plugins)
