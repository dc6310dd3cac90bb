"""Tests of the benchmark: measurement primitives, result structure, ratios, targets (the limits of
``scripts/benchmark.py``) and report files."""

from __future__ import annotations

import importlib.util
import json
import statistics
from pathlib import Path

import pytest
import torch
from monai.networks.nets import AttentionUnet

from monai_jattn.experiments.attention_memory import grid_for_positions, self_attention_memory_curve
from monai_jattn.experiments.benchmark import run_benchmark
from monai_jattn.experiments.benchmark_report import add_ratios
from monai_jattn.experiments.compared_models import DivisiblePadded, build_model
from monai_jattn.experiments.measure import forward_flops, median_seconds, peak_memory_bytes, time_call, time_calls
from monai_jattn.experiments.model_costs import benchmark_models
from monai_jattn.networks import SelfAttention

CPU = torch.device("cpu")
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "benchmark.py"


def _script():
    """``scripts/benchmark.py`` as a module: the command and the project's acceptance limits."""
    spec = importlib.util.spec_from_file_location("benchmark_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_forward_flops_counts_a_convolution_exactly():
    # 8 output channels x 30 x 30 positions x (3 x 3 x 3) multiply-adds x 2
    assert forward_flops(torch.nn.Conv2d(3, 8, 3, bias=False), (1, 3, 32, 32)) == 8 * 30 * 30 * 27 * 2


def test_forward_flops_counts_attention_and_leaves_the_model_unchanged():
    block = SelfAttention(spatial_dims=2, in_channels=16, inter_channels=8)
    flops = forward_flops(block, (1, 16, 8, 8))
    positions = 64
    projections = 2 * positions * (16 * 24 + 8 * 16)
    attention = 2 * 2 * positions * positions * 8  # q k^T and (softmax) v
    assert flops == projections + attention
    assert next(block.parameters()).device == CPU


def test_peak_memory_sees_a_materialised_attention_map():
    n = 1024
    q = torch.randn(1, n, 16)
    peak = peak_memory_bytes(lambda: torch.softmax(q @ q.transpose(1, 2), dim=-1), CPU)
    assert peak >= n * n * 4  # the float32 map alone
    assert peak < 4 * n * n * 4


def test_peak_memory_excludes_what_was_allocated_before():
    kept = torch.ones(1024, 1024)
    assert peak_memory_bytes(lambda: kept.add_(1), CPU) < 1024 * 1024 * 4
    assert time_call(lambda: kept.add_(1), CPU) > 0


def test_one_median_timer_warms_up_then_rotates_the_calls():
    order = []
    calls = {name: (lambda name=name: order.append(name)) for name in "abc"}
    ticks = []
    timings = time_calls(calls, CPU, repeats=3, warmup=2, on_sample=lambda: ticks.append(1))
    assert order == list("aabbcc") + list("abc") + list("bca") + list("cab")  # warm-up, then rotated rounds
    assert len(ticks) == 9
    for timing in timings.values():
        assert len(timing.samples) == 3 and timing.median == statistics.median(timing.samples)
    counted = []
    assert median_seconds(lambda: counted.append(1), CPU, repeats=5, warmup=3) >= 0 and len(counted) == 8
    with pytest.raises(ValueError, match="repeats"):
        time_calls(calls, CPU, repeats=0)


def test_divisible_padded_crops_back_for_a_network_that_needs_divisible_sizes():
    network = AttentionUnet(spatial_dims=2, in_channels=1, out_channels=2, channels=(4, 8), strides=(2,))
    with pytest.raises(RuntimeError):
        network(torch.randn(1, 1, 9, 7))
    assert DivisiblePadded(network, k=2)(torch.randn(1, 1, 9, 7)).shape == (1, 2, 9, 7)


def test_build_model_rejects_unknown_names():
    with pytest.raises(KeyError, match="unknown model 'UNETR'"):
        build_model("UNETR")


def test_benchmark_models_structure_ratios_and_ordering():
    results = benchmark_models(
        ["DenseUNet", "DenseUNet-SA", "BasicUNet"],
        train_sizes=[(32, 32)],
        infer_sizes=[(36, 40)],
        batch_size=2,
        repeats=2,
        warmup=1,
        progress=False,
    )
    for measures in results.values():
        assert set(measures) == {
            "parameters_m",
            "forward_gflops",
            "train_step_ms",
            "train_step_ms_samples",
            "train_peak_mib",
            "inference_ms",
            "inference_ms_samples",
            "inference_peak_mib",
        }
        assert set(measures["forward_gflops"]) == {"32x32", "36x40"}
        assert len(measures["train_step_ms_samples"]["32x32"]) == 2
        assert all(value > 0 for value in measures["forward_gflops"].values())
        assert measures["train_peak_mib"]["32x32"] > 0 and measures["inference_peak_mib"]["36x40"] > 0
    plain, sa = results["DenseUNet"], results["DenseUNet-SA"]
    assert sa["forward_gflops"]["36x40"] > plain["forward_gflops"]["36x40"]
    assert sa["parameters_m"]["all"] > plain["parameters_m"]["all"]

    ratios = add_ratios(results)
    assert all(v == 1.0 for by_size in ratios["BasicUNet"].values() for v in by_size.values())
    assert ratios["DenseUNet"]["parameters_m"]["all"] == pytest.approx(
        plain["parameters_m"]["all"] / results["BasicUNet"]["parameters_m"]["all"]
    )
    assert "train_step_ms_samples" not in ratios["DenseUNet"]
    with pytest.raises(KeyError, match="baseline"):
        add_ratios({"DenseUNet": plain})


def _timed(train: float, inference: float) -> dict:
    return {"train_step_ms": {"128x128": train}, "inference_ms": {"584x565": inference}}


def test_check_targets_judges_ratios_and_memory_growth():
    results = {"DenseUNet": _timed(100.0, 100.0), "DenseUNet-JA": _timed(130.0, 105.0)}
    linear = [{"positions": n, "peak_mib": 0.01 * n} for n in (1024, 2048, 4096, 8192)]
    check_targets = _script().check_targets
    targets = {t["target"].split(" ")[1]: t for t in check_targets(results, linear)}
    assert not targets["training"]["met"] and targets["training"]["value"] == pytest.approx(1.3)
    assert targets["whole-image"]["met"] and targets["whole-image"]["value"] == pytest.approx(1.05)
    assert targets["peak"]["met"] and targets["peak"]["value"] == pytest.approx(1.0)
    quadratic = [{"positions": n, "peak_mib": 1e-6 * n * n} for n in (1024, 2048, 4096, 8192)]
    (memory,) = check_targets({}, quadratic)
    assert not memory["met"] and memory["value"] == pytest.approx(2.0)


def test_attention_curve_grows_linearly_against_a_quadratic_reference():
    assert grid_for_positions(8192) == (64, 128) and grid_for_positions(7) == (1, 7)
    block = SelfAttention(spatial_dims=2, in_channels=32, inter_channels=32, init_scale=1.0)
    rows = self_attention_memory_curve([1024, 4096], naive_max_positions=4096, block=block, progress=False)
    assert [row["grid"] for row in rows] == [[32, 32], [64, 64]]
    fused_growth = rows[1]["peak_mib"] / rows[0]["peak_mib"]
    naive_growth = rows[1]["naive_peak_mib"] / rows[0]["naive_peak_mib"]
    assert fused_growth < 6  # 4x the positions: linear growth is 4x
    assert naive_growth > 10  # quadratic growth is 16x
    assert rows[1]["naive_peak_mib"] > rows[1]["peak_mib"]


def test_command_line_writes_json_markdown_and_plot(tmp_path, capsys):
    argv = [
        "--output_dir", str(tmp_path),
        "--models", "DenseUNet,DenseUNet-JA,BasicUNet",
        "--train_sizes", "32x32",
        "--infer_sizes", "36x40",
        "--repeats", "1",
        "--warmup", "1",
        "--attention_positions", "64", "256",
        "--quick",
    ]  # fmt: skip
    report = _script().run(argv)
    assert "| DenseUNet-JA |" in capsys.readouterr().out
    saved = json.loads((tmp_path / "benchmark.json").read_text())
    assert saved["results"].keys() == report["results"].keys() == {"DenseUNet", "DenseUNet-JA", "BasicUNet"}
    assert saved["settings"]["train_sizes"] == [[32, 32]]
    assert [row["positions"] for row in saved["attention_memory"]] == [64, 256]
    assert {t["target"] for t in saved["targets"]} >= {"DenseUNet-JA training step / DenseUNet"}
    markdown = (tmp_path / "benchmark.md").read_text()
    assert "## Training step (batch 4" in markdown and "## SelfAttention memory curve" in markdown
    assert (tmp_path / "self_attention_memory.png").read_bytes()[:4] == b"\x89PNG"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_the_library_benchmark_judges_nothing_without_a_judge(tmp_path):
    """The pass/fail limits are the script's (``scripts/benchmark.py``): the library alone reports no targets."""
    tiny = {"train_sizes": [(16, 16)], "infer_sizes": [(16, 16)], "repeats": 1, "warmup": 1, "batch_size": 1}
    report = run_benchmark(tmp_path, model_names=["BasicUNet"], attention_curve=False, progress=False, **tiny)
    assert report["targets"] == [] and json.loads((tmp_path / "benchmark.json").read_text())["targets"] == []
    markdown = (tmp_path / "benchmark.md").read_text()
    assert "| BasicUNet |" in markdown and "## Targets" not in markdown
