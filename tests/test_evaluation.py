"""``run_eval``: the paper's evaluation protocol on a tiny set of shared portraits and MEAD clips."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from facegan_video.errors import ConfigError, MediaError
from facegan_video.evaluation import (
    EvalConfig,
    default_configs,
    landmark_error,
    lsim,
    mouth_opening,
    normalise_landmarks,
    read_labels,
    run_eval,
)
from facegan_video.plugins import load_registry

PORTRAITS = {"lia_macron.png": "pub_emmanuel_macron", "lia_taylor.png": "pub_taylor_swift"}
CLIPS = {"dt_mead_M030_angry_level3.mp4": "mead_M030_man", "dt_mead_W009_happy_level3.mp4": "mead_W009_woman"}
CORE = ("mse", "psnr", "ssim", "csim", "psim", "ed", "lsim")


@pytest.fixture(scope="module")
def eval_set(shared_clips: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Symlinks (no copies) to 2 portraits and 2 MEAD clips of different actors, with a MANIFEST.tsv."""
    root = tmp_path_factory.mktemp("evalset")
    portraits_src = shared_clips.parent / "portraits"
    (root / "portraits").mkdir()
    (root / "clips").mkdir()
    rows = ["file\tperson_label"]
    for name, label in PORTRAITS.items():
        if not (portraits_src / name).is_file():
            pytest.skip(f"{portraits_src / name} missing")
        (root / "portraits" / name).symlink_to(portraits_src / name)
        rows.append(f"portraits/{name}\t{label}")
    for name, label in CLIPS.items():
        if not (shared_clips / name).is_file():
            pytest.skip(f"{shared_clips / name} missing")
        (root / "clips" / name).symlink_to(shared_clips / name)
        rows.append(f"clips/{name}\t{label}")
    (root / "MANIFEST.tsv").write_text("\n".join(rows) + "\n")
    return root


@pytest.fixture(scope="module")
def first_run(eval_set: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("eval_out")
    metrics = run_eval(eval_set / "portraits", eval_set / "clips", out, max_frames=15, frame_step=5, quiet=True)
    return out, metrics


def test_default_configs_cover_installed_transforms() -> None:
    names = [c.transform for c in default_configs(load_registry())]
    assert "direct" in names and "analytic" in names
    assert names[0] == "analytic"  # the default backend first


def test_metrics_json(first_run: tuple[Path, dict]) -> None:
    out, metrics = first_run
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk == metrics
    assert {c.name for c in default_configs(load_registry())} <= set(metrics)
    assert "direct" in metrics
    for name, vals in metrics.items():
        for key in CORE:
            v = vals[key]["value"]
            assert v is not None and math.isfinite(v), (name, key, vals[key])
            assert vals[key]["count"] >= 1
        assert 0.0 <= vals["mse"]["value"] <= 1.0
        assert vals["psnr"]["value"] > 0
        assert -1.0 <= vals["ssim"]["value"] <= 1.0
        assert -1.0 <= vals["csim"]["value"] <= 1.0
        assert -1.0 <= vals["psim"]["value"] <= 1.0
        assert vals["ed"]["value"] >= 0
        assert 0.0 <= vals["lsim"]["value"] < 1.0
        assert 0.0 <= vals["identity_pass"]["value"] <= 1.0
        # 2 portraits × 2 clips of other identities, 3 sampled frames each
        assert vals["csim"]["count"] <= 12 and vals["output_face_rate"]["count"] == 12
        assert vals["mse"]["count"] == 4  # frames 5 and 10 of each clip
        for key in ("mouth_r", "yaw_r"):
            v = vals[key]["value"]
            assert v is None or -1.0 <= v <= 1.0


def test_report_and_plots(first_run: tuple[Path, dict]) -> None:
    out, _ = first_run
    report = (out / "report.md").read_text()
    assert "| configuration | MSE ↓ | PSNR ↑ | SSIM ↑ | CSIM ↑ | PSIM ↑ | ED ↓ | LSIM ↓" in report
    assert "| direct |" in report and "| analytic |" in report
    for figure in ("0.018", "0.747", "0.811", "0.012", "0.021", "0.623", "0.885", "0.676", "0.825", "0.035"):
        assert figure in report
    assert "lia_macron.png × dt_mead_M030_angry_level3.mp4" in report
    for png in ("metrics.png", "curves.png"):
        data = (out / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left


def test_deterministic(first_run: tuple[Path, dict], eval_set: Path, tmp_path: Path) -> None:
    out, _ = first_run
    run_eval(eval_set / "portraits", eval_set / "clips", tmp_path, max_frames=15, frame_step=5, quiet=True)
    assert (tmp_path / "metrics.json").read_bytes() == (out / "metrics.json").read_bytes()


def test_labels_from_parent_manifest(eval_set: Path) -> None:
    labels = read_labels(eval_set / "clips")
    assert labels["clips/dt_mead_M030_angry_level3.mp4"] == "mead_M030_man"


def test_errors(tmp_path: Path, eval_set: Path) -> None:
    with pytest.raises(MediaError):
        run_eval(tmp_path / "missing", eval_set / "clips", tmp_path / "out", quiet=True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(MediaError):
        run_eval(eval_set / "portraits", tmp_path / "empty", tmp_path / "out", quiet=True)
    with pytest.raises(ConfigError):
        run_eval(eval_set / "portraits", eval_set / "clips", tmp_path / "out",
                 configs=[EvalConfig("x", "no-such-transform")], quiet=True)


def test_landmark_measures() -> None:
    rng_free = np.stack(np.meshgrid(np.arange(17.0), np.arange(4.0)), -1).reshape(-1, 2)[:68] * 3 + 7
    assert normalise_landmarks(rng_free).mean(0) == pytest.approx([0, 0], abs=1e-9)
    moved = rng_free * 2.5 + 40  # translation and scale do not count
    assert lsim(rng_free, moved) == pytest.approx(0.0, abs=1e-12)
    assert mouth_opening(rng_free) == pytest.approx(mouth_opening(moved))
    # self landmark error: every point 3 px off, over an eye-centre distance of 30 px
    face = np.zeros((68, 2))
    face[42:48, 0] = 30
    assert landmark_error(face + [3, 0], face) == pytest.approx(0.1)


def test_configurations_from_toml(tmp_path):
    from facegan_video.evaluation import configs_from_toml

    cfg = tmp_path / "eval.toml"
    cfg.write_text('[[eval.configs]]\nname = "ours"\ntransform = "analytic"\n\n'
                   '[[eval.configs]]\ntransform = "direct"\n')
    got = configs_from_toml(cfg)
    assert [(c.name, c.transform) for c in got] == [("ours", "analytic"), ("direct", "direct")]
    assert configs_from_toml(None) is None
    bad = tmp_path / "bad.toml"
    bad.write_text('[[eval.configs]]\nname = "x"\n')
    with pytest.raises(ConfigError, match="transform"):
        configs_from_toml(bad)


def test_configurations_name_reenact_and_mix(tmp_path):
    """A configuration may name the reenact and mix backends too; left out, the base config's stay."""
    from facegan_video.config import AnalysisConfig
    from facegan_video.evaluation import configs_from_toml

    cfg = tmp_path / "eval.toml"
    cfg.write_text('[[eval.configs]]\nname = "nets"\ntransform = "direct"\nreenact = "warp"\nmix = "blend"\n\n'
                   '[[eval.configs]]\ntransform = "analytic"\n')
    nets, plain = configs_from_toml(cfg)
    assert (nets.name, nets.transform, nets.reenact, nets.mix) == ("nets", "direct", "warp", "blend")
    assert (plain.reenact, plain.mix) == (None, None)
    base = AnalysisConfig()
    base.set_backend("reenact", "from-base")
    built = plain.analysis_config(base)
    assert built.stage("transform").backend == "analytic" and built.stage("reenact").backend == "from-base"
    assert base.stage("transform").backend is None  # the base is copied, not changed
    assert nets.analysis_config(base).stage("reenact").backend == "warp"
    typo = tmp_path / "typo.toml"
    typo.write_text('[[eval.configs]]\ntransform = "analytic"\nreenactor = "warp"\n')
    with pytest.raises(ConfigError, match="reenactor"):
        configs_from_toml(typo)


def test_unknown_reenact_backend_is_a_config_error(tmp_path: Path, eval_set: Path) -> None:
    with pytest.raises(ConfigError, match="unknown reenact backend 'no-such'"):
        run_eval(eval_set / "portraits", eval_set / "clips", tmp_path / "out",
                 configs=[EvalConfig("x", "analytic", reenact="no-such")], quiet=True)
