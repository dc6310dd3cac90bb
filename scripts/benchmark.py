#!/usr/bin/env python
"""Benchmark the DenseUNet family against MONAI peers and judge the project's cost targets on the figures.

The measuring and the tables are library code (``monai_jattn.experiments.benchmark``); the pass/fail limits
are this project's acceptance targets, so they live here, with the command that reports them (the "Targets"
table of ``benchmark.md`` and ``targets`` of ``benchmark.json``).

Examples:
    python scripts/benchmark.py --quick --output_dir outputs/benchmark_quick
    python scripts/benchmark.py --output_dir outputs/benchmark
    python scripts/benchmark.py --device cuda --amp --output_dir outputs/benchmark_cuda_amp
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from monai_jattn.experiments.benchmark import main
from monai_jattn.experiments.compared_models import JOINT, PLAIN
from monai_jattn.experiments.formatting import three_digits

TRAIN_STEP_LIMIT = 1.25
"""DenseUNet-JA's training step over DenseUNet's, at most."""

INFERENCE_LIMIT = 1.10
"""DenseUNet-JA's whole-image inference over DenseUNet's, at most: the attention adds at most 10%."""

MEMORY_SLOPE_LIMIT = 1.25
"""Log-log slope of ``SelfAttention``'s peak memory against positions, at most (1 is linear, 2 quadratic)."""


def _slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of log(y) over log(x): 1 for linear growth, 2 for quadratic."""
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sum((x - mean_x) ** 2 for x in xs)


def check_targets(
    results: dict[str, dict[str, dict[str, Any]]], attention_curve: Sequence[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Judge the project's cost targets on measured figures.

    * DenseUNet-JA's training step at most `TRAIN_STEP_LIMIT` (1.25) x DenseUNet's, at every training size.
    * The attention adds at most 10% to whole-image inference: DenseUNet-JA at most `INFERENCE_LIMIT` (1.10) x
      DenseUNet.
    * ``SelfAttention``'s peak memory grows about linearly with the number of positions: the log-log
      slope of the curve over its upper half is at most `MEMORY_SLOPE_LIMIT` (1.25; a materialised map gives 2).

    Args:
        results: the output of `~monai_jattn.experiments.model_costs.benchmark_models` (must include DenseUNet
            and DenseUNet-JA for the first two targets; they are skipped otherwise).
        attention_curve: the output of
            :func:`~monai_jattn.experiments.attention_memory.self_attention_memory_curve`.

    Returns:
        One dict per target: ``target``, ``size``, ``measured`` (text), ``value``, ``limit``, ``met``.
    """
    targets = []
    if PLAIN in results and JOINT in results:
        plain, joint = results[PLAIN], results[JOINT]
        for measure, limit, label in (
            ("train_step_ms", TRAIN_STEP_LIMIT, f"{JOINT} training step / {PLAIN}"),
            ("inference_ms", INFERENCE_LIMIT, f"{JOINT} whole-image inference / {PLAIN}"),
        ):
            for size, value in joint.get(measure, {}).items():
                ratio = value / plain[measure][size]
                targets.append(
                    {
                        "target": label,
                        "size": size,
                        "measured": f"{three_digits(value)} / {three_digits(plain[measure][size])} ms = {ratio:.3f}x",
                        "value": ratio,
                        "limit": limit,
                        "met": ratio <= limit,
                    }
                )
    if attention_curve and len(attention_curve) >= 2:
        upper = sorted(attention_curve, key=lambda row: row["positions"])[max(len(attention_curve) // 2 - 1, 0) :]
        slope = _slope([(row["positions"], row["peak_mib"]) for row in upper])
        span = f"{upper[0]['positions']}-{upper[-1]['positions']}"
        targets.append(
            {
                "target": "SelfAttention peak memory vs positions (log-log slope)",
                "size": span,
                "measured": f"slope {slope:.2f} (1 = linear, 2 = quadratic)",
                "value": slope,
                "limit": MEMORY_SLOPE_LIMIT,
                "met": slope <= MEMORY_SLOPE_LIMIT,
            }
        )
    return targets


def run(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """The command line: the library's benchmark, judged against the limits above.

    Args:
        argv: arguments (default: ``sys.argv[1:]``).
    """
    return main(argv, judge=check_targets)


if __name__ == "__main__":
    run()
