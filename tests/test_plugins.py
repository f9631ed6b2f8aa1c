"""The plugin registry with real pluggy and real entry points: built-ins, errors, third-party plugins on disk."""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import numpy as np
import pluggy
import pytest

import facegan_video
from facegan_video import builtin, hookspecs
from facegan_video.config import tomllib
from facegan_video.errors import ConfigError
from facegan_video.hookspecs import hookimpl
from facegan_video.plugins import BUILTIN_PLUGINS, PluginInfo, Registry, load_registry
from facegan_video.stages import STAGES
from facegan_video.types import AUEstimator, Backend, Detector, Landmarker, Smoother, Tracker
from facegan_video.video import read_image

#: Built-in backends and protocol of each analysis stage.
BUILTIN = {
    "detect": ({"hog", "mmod"}, Detector),
    "track": ({"iou"}, Tracker),
    "landmarks": ({"dlib68"}, Landmarker),
    "au": ({"geometric"}, AUEstimator),
    "smooth": ({"one-euro", "none"}, Smoother),
}


@pytest.fixture
def fresh_registry():
    """A registry loaded anew from the entry points."""
    return load_registry()


# --- built-in backends -------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", sorted(BUILTIN))
def test_builtin_backends_listed_and_default_created(stage: str):
    names, protocol = BUILTIN[stage]
    reg = load_registry()
    backends = reg.backends(stage)
    assert names <= set(backends)
    for name in names:
        entry = backends[name]
        assert entry.stage == stage and entry.backend.name == name
        assert isinstance(entry.backend, Backend) and entry.backend.summary
        assert entry.plugin.distribution.startswith("facegan-video")
        assert entry.plugin.version == facegan_video.__version__
        assert entry.plugin.error is None
    default = reg.default(stage)
    assert default in names
    assert isinstance(reg.create(stage), protocol)
    assert isinstance(reg.create(stage, default), protocol)


def test_builtin_plugins_loaded():
    reg = load_registry()
    loaded = {p.name: p for p in reg.plugins}
    for name in ("builtin", "dlib-detect", "iou-track", "dlib-landmarks", "geometric-au", "smoothing"):
        assert loaded[name].error is None, loaded[name]
        assert reg.pm.has_plugin(name)
    # registered from BUILTIN_PLUGINS, with this distribution's name and version
    assert loaded["builtin"].distribution == "facegan-video"


def _manager() -> pluggy.PluginManager:
    """A plugin manager built the way load_registry builds its own."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def test_builtin_plugins_have_one_source():
    """BUILTIN_PLUGINS is the only list of built-ins: pyproject.toml declares no entry points of its own, so a
    stale installed metadata can never change them."""
    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert "facegan_video" not in pyproject["project"].get("entry-points", {})
    assert all(importlib.import_module(module) for module in BUILTIN_PLUGINS.values())


@pytest.fixture(scope="module")
def source_registry() -> Registry:
    """The built-in plugins of this source tree, independent of the installed (possibly stale) metadata."""
    pm = _manager()
    for name, module in BUILTIN_PLUGINS.items():
        pm.register(importlib.import_module(module), name=name)
    pm.check_pending()
    return Registry(pm, [PluginInfo(name, module, "facegan-video", "-") for name, module in BUILTIN_PLUGINS.items()])


@pytest.mark.parametrize("stage, method", [("transform", "transform"), ("reenact", "reenact"), ("mix", "mix")])
def test_generation_stage_defaults_are_built_in(source_registry: Registry, stage: str, method: str):
    default = source_registry.default(stage)
    assert default == builtin.DEFAULTS[stage]
    assert default in source_registry.backends(stage)
    assert callable(getattr(source_registry.create(stage), method))


@pytest.mark.parametrize("stage", STAGES)
def test_stage_without_backends(stage: str):
    """With no plugin at all, every stage says so in one line instead of failing obscurely."""
    empty = Registry(_manager(), [])
    assert empty.backends(stage) == {}
    assert empty.default(stage) is None
    with pytest.raises(ConfigError, match="none installed") as exc:
        empty.create(stage, "anything")
    assert "\n" not in str(exc.value)


def test_aus_backend_declares_what_it_provides():
    entry = load_registry().backends("au")["geometric"]
    assert entry.backend.extra["provides"] == load_registry().create("au").provides


def test_options_reach_the_factory():
    reg = load_registry()
    assert reg.create("track", "iou", detect_every=3).detect_every == 3
    assert reg.create("smooth", strength="strong").preset.pose == (0.5, 6.0)


# --- errors ------------------------------------------------------------------------------------------


def _one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message, message
    return message


def test_unknown_backend_lists_available():
    with pytest.raises(ConfigError) as exc:
        load_registry().create("detect", "nope")
    message = _one_line(exc)
    assert "'nope'" in message and "hog" in message and "mmod" in message


def test_unknown_option_lists_accepted():
    with pytest.raises(ConfigError) as exc:
        load_registry().create("track", "iou", detect_evry=5)
    message = _one_line(exc)
    assert "detect_evry" in message
    for option in ("detect_every", "min_iou", "max_missed", "min_confidence"):
        assert option in message


def test_option_on_backend_without_options():
    with pytest.raises(ConfigError) as exc:
        load_registry().create("smooth", "none", strength="strong")
    assert "strength" in _one_line(exc)


def test_bad_option_value_is_config_error():
    with pytest.raises(ConfigError, match="detect_every") as exc:
        load_registry().create("track", "iou", detect_every=0)
    _one_line(exc)
    with pytest.raises(ConfigError, match="strength"):
        load_registry().create("smooth", "one-euro", strength="extreme")


def test_unknown_stage():
    with pytest.raises(ConfigError) as exc:
        load_registry().create("detection")
    message = _one_line(exc)
    assert all(stage in message for stage in STAGES)


# --- a third-party plugin installed on disk ------------------------------------------------------------

PLUGIN_MODULE = '''
"""A third-party facegan-video plugin, as a separate distribution would ship it."""

import os

import cv2
import numpy as np

from facegan_video.hookspecs import hookimpl
from facegan_video.options import Option
from facegan_video.types import Backend, Detection


def cascade_path():
    base = getattr(getattr(cv2, "data", None), "haarcascades", "") or ""
    path = os.path.join(base, "haarcascade_frontalface_default.xml")
    return path if os.path.isfile(path) else None


class HaarDetector:
    """OpenCV's Haar cascade when the wheel ships it, else dlib's HOG detector called directly."""

    def __init__(self, min_size: int = 24):
        self.min_size = min_size
        path = cascade_path()
        if path:
            self.kind, self._cascade = "haar", cv2.CascadeClassifier(path)
        else:
            import dlib

            self.kind, self._hog = "dlib-hog", dlib.get_frontal_face_detector()

    def detect(self, images):
        out = []
        for image in images:
            if self.kind == "haar":
                grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
                rects = self._cascade.detectMultiScale(grey, 1.1, 5, minSize=(self.min_size, self.min_size))
                boxes = [(x, y, x + w, y + h) for x, y, w, h in rects]
            else:
                boxes = [(r.left(), r.top(), r.right(), r.bottom()) for r in self._hog(image, 0)
                         if min(r.width(), r.height()) >= self.min_size]
            out.append([Detection(box=np.array(b, np.float32), score=1.0) for b in boxes])
        return out


@hookimpl
def facegan_video_detectors():
    return [Backend("test-detector", HaarDetector, "test plugin: OpenCV Haar cascade (dlib HOG fallback)",
                    options=(Option("min_size", int, 24, "smallest face side (px)", low=1),))]


@hookimpl
def facegan_video_default_backend(stage):
    return "test-detector" if stage == "detect" else None


class ObjectPlugin:
    """Loaded through a ``module:attribute`` entry point; tries to take over a built-in name."""

    @hookimpl
    def facegan_video_detectors(self):
        return [Backend("hog", HaarDetector, "impostor: must not replace the built-in hog")]


OBJECT_PLUGIN = ObjectPlugin()
'''

BROKEN_MODULE = '''
raise ImportError("fgv_brokenplug needs the package not-installed-anywhere")
'''


def _distribution(root: Path, name: str, version: str, entry_points: str) -> None:
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points).lstrip())


@pytest.fixture
def third_party(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Two distributions on sys.path: fgv-testplug (a working plugin) and fgv-brokenplug (fails to import)."""
    (tmp_path / "fgv_testplug.py").write_text(PLUGIN_MODULE)
    (tmp_path / "fgv_brokenplug.py").write_text(BROKEN_MODULE)
    _distribution(tmp_path, "fgv-testplug", "0.1", """
        [facegan_video]
        testplug = fgv_testplug
        testplug-object = fgv_testplug:OBJECT_PLUGIN
        """)
    _distribution(tmp_path, "fgv-brokenplug", "0.2", """
        [facegan_video]
        brokenplug = fgv_brokenplug
        missing-attribute = fgv_testplug:NO_SUCH_PLUGIN
        """)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        yield load_registry()
    finally:
        for module in ("fgv_testplug", "fgv_brokenplug"):
            sys.modules.pop(module, None)


def test_third_party_backend_discovered(third_party):
    entry = third_party.backends("detect")["test-detector"]
    assert entry.stage == "detect"
    assert entry.plugin.name == "testplug"
    assert entry.plugin.module == "fgv_testplug"
    assert entry.plugin.distribution == "fgv-testplug"
    assert entry.plugin.version == "0.1"
    assert entry.plugin.error is None
    # the built-in backends are all still there
    assert {"hog", "mmod", "test-detector"} <= set(third_party.backends("detect"))


def test_third_party_backend_detects_a_real_face(third_party, astronaut_png):
    detector = third_party.create("detect", "test-detector", min_size=40)
    assert isinstance(detector, Detector)
    [faces] = detector.detect([read_image(astronaut_png)])
    assert len(faces) == 1
    x0, y0, x1, y1 = faces[0].box
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    # the astronaut's face is centred near (215, 120) in the 512x512 image
    assert np.linalg.norm(centre - (215, 120)) < 40, faces[0].box


def test_third_party_default_overrides_builtin(third_party):
    assert third_party.default("detect") == "test-detector"
    assert type(third_party.create("detect")).__name__ == "HaarDetector"
    # a None answer falls through to the built-in (trylast) defaults
    for stage in STAGES:
        if stage != "detect":
            assert third_party.default(stage) == builtin.DEFAULTS.get(stage), stage


def test_third_party_cannot_replace_builtin_name(third_party):
    """module:attribute entry points load objects; a clashing name keeps the first-registered built-in."""
    loaded = {p.name: p for p in third_party.plugins}
    assert loaded["testplug-object"].error is None
    assert third_party.pm.has_plugin("testplug-object")
    hog = third_party.backends("detect")["hog"]
    assert hog.plugin.distribution == "facegan-video"
    assert type(third_party.create("detect", "hog")).__name__ == "HogDetector"


def test_broken_plugin_reported_not_fatal(third_party):
    loaded = {p.name: p for p in third_party.plugins}
    broken = loaded["brokenplug"]
    assert broken.distribution == "fgv-brokenplug" and broken.version == "0.2"
    assert broken.error == "ImportError: fgv_brokenplug needs the package not-installed-anywhere"
    assert not third_party.pm.has_plugin("brokenplug")
    missing = loaded["missing-attribute"]
    assert missing.error and missing.error.startswith("AttributeError") and "NO_SUCH_PLUGIN" in missing.error
    # everything else loaded: the built-ins and the working plugin
    ok = {name for name, p in loaded.items() if p.error is None}
    assert {"builtin", "dlib-detect", "iou-track", "dlib-landmarks", "geometric-au", "smoothing",
            "testplug", "testplug-object"} <= ok
    assert third_party.create("track") is not None


def test_third_party_gone_when_uninstalled(third_party, monkeypatch):
    monkeypatch.undo()  # tmp_path off sys.path again
    reg = load_registry()
    assert "test-detector" not in reg.backends("detect")
    assert reg.default("detect") == "hog"


# --- hook validation ---------------------------------------------------------------------------------


class MisspelledPlugin:
    @hookimpl
    def facegan_video_detector(self):  # the hook is facegan_video_detectors
        return []


def test_check_pending_rejects_misspelled_hook():
    pm = _manager()
    pm.register(MisspelledPlugin(), name="misspelled")
    with pytest.raises(pluggy.PluginValidationError, match="facegan_video_detector"):
        pm.check_pending()


def test_check_pending_on_the_live_registry():
    reg = load_registry()
    reg.pm.check_pending()
    plugin = MisspelledPlugin()
    reg.pm.register(plugin, name="misspelled")
    try:
        with pytest.raises(pluggy.PluginValidationError, match="unknown hook 'facegan_video_detector'"):
            reg.pm.check_pending()
    finally:
        reg.pm.unregister(plugin)
    reg.pm.check_pending()


def test_hookimpl_with_unknown_argument_rejected_at_register():
    class WrongArgs:
        @hookimpl
        def facegan_video_default_backend(self, stage, backend):
            return None

    with pytest.raises(pluggy.PluginValidationError, match="backend"):
        _manager().register(WrongArgs(), name="wrong-args")


def test_register_at_run_time(fresh_registry):
    class RuntimePlugin:
        @hookimpl
        def facegan_video_smoothers(self):
            return [Backend("runtime-none", lambda: None, "registered by a test")]

    fresh_registry.register(RuntimePlugin(), name="runtime")
    entry = fresh_registry.backends("smooth")["runtime-none"]
    assert entry.plugin.name == "runtime"
    assert entry.plugin.distribution == "(registered at run time)"
    assert {"one-euro", "none"} <= set(fresh_registry.backends("smooth"))


@pytest.mark.parametrize("stage,protocol", [("transform", "LandmarkTransformer"), ("reenact", "Reenactor"),
                                            ("mix", "Mixer")])
def test_render_stage_backends_satisfy_their_protocol(stage, protocol):
    import facegan_video.types as types

    registry = load_registry()
    for name in registry.backends(stage):
        assert isinstance(registry.create(stage, name), getattr(types, protocol)), name
