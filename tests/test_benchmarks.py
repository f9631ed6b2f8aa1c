"""The benchmarks run end to end and report every stage, network and batch asked for (no speed thresholds)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
#: decode, detection, tracking, landmarks, AU + pose, smoothing, CSV writing
STAGES = {"decode", "detect", "track", "landmarks", "au_pose", "smooth", "csv"}


@pytest.mark.benchmark
def test_bench_extract_reports_every_stage(carphone_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_extract", str(carphone_path), "--frames", "30",
         "--json", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text())

    assert results["machine"]["cpu_count"] >= 1
    assert {"torch", "dlib", "av", "numpy"} <= set(results["versions"])
    [clip] = results["clips"]
    assert clip["clip"] == carphone_path.name
    assert (clip["width"], clip["height"]) == (176, 144)
    assert clip["frames"] == 30
    assert clip["frames_with_face"] > 0

    assert set(clip["stages"]) == STAGES
    for key, stage in clip["stages"].items():
        assert math.isfinite(stage["ms_per_frame"]) and stage["ms_per_frame"] > 0, key
        assert stage["calls"] > 0, key
    assert 1 <= clip["stages"]["detect"]["frames_run"] <= 30

    e2e = clip["end_to_end"]
    assert e2e["fps"] > 0 and e2e["fps_incl_model_load"] > 0
    assert all(f > 0 for f in e2e["runs_fps"])
    assert clip["peak_rss_mb"] > 0


#: decode, driving analysis (total and its parts), transform, warp, blend, encode
REENACT_STAGES = {"decode", "analysis", "detect", "track", "landmarks", "au_pose", "smooth",
                  "transform", "reenact", "mix", "encode"}


@pytest.mark.benchmark
def test_bench_reenact_reports_every_stage(shared_clips: Path, tmp_path: Path) -> None:
    clip = shared_clips / "lp_d3.mp4"
    if not clip.is_file():
        pytest.skip(f"{clip} is missing")
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_reenact", "--driving", str(clip), "--frames", "20",
         "--repeats", "1", "--json", str(out), "--quiet"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text())

    assert results["benchmark"] == "reenact"
    assert results["machine"]["cpu_count"] >= 1
    assert {"torch", "dlib", "av", "numpy"} <= set(results["versions"])
    [case] = results["cases"]
    assert case["driving"] == clip.name
    assert case["source_size"] == [512, 512]
    assert case["frames"] == 20

    assert set(case["stages"]) == REENACT_STAGES
    for key, stage in case["stages"].items():
        assert math.isfinite(stage["ms_per_frame"]) and stage["ms_per_frame"] > 0, key
        assert stage["calls"] > 0, key
    assert all(case["setup_s"][key] > 0 for key in ("driving_analyzer", "source_analysis"))

    e2e, floor = case["end_to_end"], case["floor"]
    assert e2e["fps"] > 0 and e2e["fps_excl_setup"] > 0
    assert all(f > 0 for f in e2e["runs_fps"])
    assert floor["decode_encode_fps"] > 0 and floor["decode_fps"] > 0 and floor["output_transcode_fps"] > 0
    assert case["peak_rss_mb"] > 0


@pytest.mark.benchmark
def test_suite_quick_reports_every_section(shared_clips: Path, tmp_path: Path) -> None:
    out = tmp_path / "tmp.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.suite", "--quick", "--json", str(out), "--quiet"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text())

    assert results["benchmark"] == "suite"
    assert results["devices"][0] == "cpu"
    for section in ("extract", "reenact", "edit", "batch_sweep", "floor"):
        assert results[section], section

    def positive(x: float) -> bool:
        return math.isfinite(x) and x > 0

    assert len(results["extract"]) == 2
    for clip in results["extract"]:
        assert clip["frames"] > 0 and positive(clip["end_to_end"]["fps"])
    assert [c["case"] for c in results["reenact"]] == ["512", "256"]
    for case in results["reenact"]:
        assert positive(case["end_to_end"]["fps"]) and positive(case["end_to_end"]["fps_excl_setup"])
    assert [c["source_size"] for c in results["edit"]] == [[512, 512], [256, 256]]
    for case in results["edit"]:
        assert case["sweep"] == "AU26=0:4" and case["frames"] > 0
        assert positive(case["end_to_end"]["fps"])
        for key in ("transform", "reenact", "mix", "encode"):
            assert positive(case["stages"][key]["ms_per_frame"]), key
    assert [b["batch_size"] for b in results["batch_sweep"]] == [8, 32, 64]
    assert all(positive(b["fps"]) and positive(b["fps_excl_setup"]) for b in results["batch_sweep"])
    for floor in results["floor"]:
        assert positive(floor["decode_encode_fps"]) and positive(floor["decode_fps"])
    assert positive(results["peak_rss_mb"])
    assert results["rows"]


def _bench(tmp_path: Path, name: str, *args: str) -> dict:
    out = tmp_path / f"{name}.json"
    proc = subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *args, "--json", str(out), "--quiet"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.mark.benchmark
def test_bench_image_nets_reports_each_network_size_and_batch(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    results = _bench(tmp_path, "bench_image_nets", "--sizes", "64", "128", "--batch", "1", "2", "--seconds", "0.05",
                     "--repeats", "1", "--skip-reenact")
    rows = {(r["network"], r["size"], r["batch"]): r for r in results["networks"]}
    assert set(rows) == {(n, s, b) for n in ("G_r", "G_b") for s in (64, 128) for b in (1, 2)}
    for row in rows.values():
        assert row["ms_per_frame"] > 0 and row["ms_per_call"] == pytest.approx(row["ms_per_frame"] * row["batch"])
    assert "backends" not in results and "end_to_end" not in results  # --skip-reenact: the networks only


@pytest.mark.benchmark
def test_bench_lt_reports_network_and_backend(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    results = _bench(tmp_path, "bench_lt", "--batch", "1", "8", "--threads", "1", "--seconds", "0.05", "--repeats", "1")
    rows = {(r["what"], r["batch"]) for r in results["rows"]}
    assert rows == {(w, b) for w in ("network", "mlp backend") for b in (1, 8)}
    assert all(r["us_per_frame"] > 0 and r["threads"] == 1 for r in results["rows"])
    assert results["settings"]["parameters"] > 0
