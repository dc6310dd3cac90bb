"""The benchmark's report: figures as ratios to a baseline model, and the markdown tables of ``benchmark.md``."""

from __future__ import annotations

import math
from typing import Any

from monai_jattn.experiments.attention_memory import attention_memory_markdown
from monai_jattn.experiments.compared_models import BASELINE
from monai_jattn.experiments.formatting import three_digits

__all__ = ["add_ratios", "benchmark_markdown"]


def add_ratios(results: dict[str, dict[str, dict[str, Any]]], baseline: str = BASELINE) -> dict[str, Any]:
    """Every scalar figure of ``results`` divided by the same figure of ``baseline``.

    Args:
        results: the output of `~monai_jattn.experiments.model_costs.benchmark_models`.
        baseline: the model to divide by.

    Returns:
        ``{model: {measure: {size: ratio}}}`` (the ``_samples`` lists are left out).

    Raises:
        KeyError: if ``baseline`` was not benchmarked.
    """
    if baseline not in results:
        raise KeyError(f"the ratio baseline {baseline!r} is not among the benchmarked models {list(results)}.")
    base = results[baseline]
    return {
        name: {
            measure: {
                size: value / base[measure][size] if base[measure][size] else math.nan
                for size, value in by_size.items()
            }
            for measure, by_size in measures.items()
            if not measure.endswith("_samples")
        }
        for name, measures in results.items()
    }


_TABLES = (
    ("Size and forward compute (one image)", (("parameters_m", "Params (M)"), ("forward_gflops", "GFLOPs"))),
    ("Training step (batch {batch}, Adam, cross-entropy)", (("train_step_ms", "ms"), ("train_peak_mib", "peak MiB"))),
    ("Whole-image inference (batch 1, no grad)", (("inference_ms", "ms"), ("inference_peak_mib", "peak MiB"))),
)


def benchmark_markdown(report: dict[str, Any]) -> str:
    """Render a :func:`run_benchmark` report as markdown tables: value and ratio to the baseline.

    Args:
        report: the dict that :func:`run_benchmark` returns (and writes as ``benchmark.json``).
    """
    results, ratios, env = report["results"], report["ratios"], report["environment"]
    settings = report["settings"]
    lines = [
        "# Benchmark",
        "",
        f"- command: `{report['command']}`",
        f"- machine: {env['device_name']} ({env['device']}), {env['threads']} torch threads, "
        f"torch {env['torch']}, monai {env['monai']}, Python {env['python']}, AMP {env['amp']}",
        f"- date: {env['date']}",
        f"- medians of {settings['repeats']} interleaved runs after {settings['warmup']} warm-up runs; "
        f"training batch {settings['batch_size']}; `x{report['baseline']}` = ratio to {report['baseline']}",
        "",
    ]
    for title, measures in _TABLES:
        columns = []
        for measure, label in measures:
            for size in next(iter(results.values()))[measure]:
                columns.append((measure, size, label if size == "all" else f"{label} {size}"))
        lines += [
            f"## {title.format(batch=settings['batch_size'])}",
            "",
            "| Model | " + " | ".join(f"{c[2]} | x{report['baseline']}" for c in columns) + " |",
        ]
        lines.append("|---|" + "---:|---:|" * len(columns))
        for name, measures_of_model in results.items():
            cells = [f"{three_digits(measures_of_model[m][s])} | {ratios[name][m][s]:.2f}" for m, s, _ in columns]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    if report.get("attention_memory"):
        lines += [attention_memory_markdown(report["attention_memory"]), ""]
    if report.get("targets"):
        lines += ["## Targets", "", "| Target | Size | Measured | Limit | Met |", "|---|---|---|---:|---|"]
        for t in report["targets"]:
            lines.append(
                f"| {t['target']} | {t['size']} | {t['measured']} | {t['limit']} | {'yes' if t['met'] else 'NO'} |"
            )
        lines.append("")
    return "\n".join(lines)
