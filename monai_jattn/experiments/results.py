"""The ablation's tables: one CSV row per model and seed, and a markdown summary (mean and std over seeds)."""

from __future__ import annotations

import csv
import io
import os
import statistics
from collections.abc import Sequence
from typing import Any

from monai_jattn.handlers.metrics_report import METRIC_TITLES
from monai_jattn.utils import write_text_atomic
from monai_jattn.experiments.variants import MODEL_VARIANTS

__all__ = [
    "PAPER_METRICS",
    "PAPER_DRIVE_RESULTS",
    "metric_columns",
    "summarise",
    "write_results_csv",
    "results_markdown",
    "paper_table_markdown",
]

PAPER_METRICS: tuple[str, ...] = ("recall", "tnr", "dice", "accuracy", "auc")
"""The paper's column order."""

PAPER_DRIVE_RESULTS: dict[str, dict[str, float]] = {
    name: dict(zip(PAPER_METRICS, values))
    for name, values in (
        ("dense_unet", (0.7635, 0.9875, 0.8048, 0.9677, 0.9802)),
        ("sa", (0.7691, 0.9881, 0.8109, 0.9687, 0.9838)),
        ("pwa", (0.8087, 0.9828, 0.8118, 0.9673, 0.9826)),
        ("ja9", (0.7907, 0.9864, 0.8164, 0.9690, 0.9845)),
    )
}
"""Table 1 of the paper's supplement: DRIVE test set, 60k iterations (the paper's DenseUNet-JA is JA-9)."""


def metric_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The paper's five metrics, plus ``jaccard`` when the rows have it (ISIC-2017)."""
    return [*PAPER_METRICS, *(["jaccard"] if any("jaccard" in row for row in rows) else [])]


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and sample standard deviation of every metric over seeds, per model, in the order met.

    Args:
        rows: one dict per model and seed with ``model`` and the metric keys.

    Returns:
        One dict per model: ``model``, ``label``, ``seeds`` (count), and ``<metric>_mean`` /
        ``<metric>_std`` (std is None for a single seed).
    """
    columns = metric_columns(rows)
    summary = []
    for model in dict.fromkeys(row["model"] for row in rows):
        runs = [row for row in rows if row["model"] == model]
        entry: dict[str, Any] = {"model": model, "label": MODEL_VARIANTS[model].label, "seeds": len(runs)}
        for metric in columns:
            values = [float(run[metric]) for run in runs]
            entry[f"{metric}_mean"] = statistics.fmean(values)
            entry[f"{metric}_std"] = statistics.stdev(values) if len(values) > 1 else None
        summary.append(entry)
    return summary


def write_results_csv(rows: Sequence[dict[str, Any]], path: str | os.PathLike) -> None:
    """Write one row per model and seed (``model``, ``label``, ``seed``, metrics, then any other keys).

    Args:
        rows: the ablation's per-run results.
        path: the CSV file to write (atomically).
    """
    leading = ["model", "label", "seed", *metric_columns(rows)]
    fields = leading + sorted({key for row in rows for key in row} - set(leading))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buffer.getvalue())


def _mean_std(entry: dict[str, Any], metric: str) -> str:
    mean, std = entry[f"{metric}_mean"], entry[f"{metric}_std"]
    return f"{mean:.4f}" if std is None else f"{mean:.4f} ± {std:.4f}"


def results_markdown(rows: Sequence[dict[str, Any]], title: str, notes: Sequence[str] = ()) -> str:
    """A markdown table of mean ± std over seeds per model, in the paper's column order.

    Args:
        rows: the ablation's per-run results.
        title: the heading.
        notes: bullet lines under the heading (command, budget, data).
    """
    columns = metric_columns(rows)
    lines = [f"# {title}", "", *(f"- {note}" for note in notes), ""] if notes else [f"# {title}", ""]
    lines += [
        "| Model | " + " | ".join(METRIC_TITLES[c] for c in columns) + " | Seeds |",
        "|---|" + "---:|" * len(columns) + "---:|",
    ]
    for entry in summarise(rows):
        lines.append(
            f"| {entry['label']} | " + " | ".join(_mean_std(entry, c) for c in columns) + f" | {entry['seeds']} |"
        )
    return "\n".join(lines) + "\n"


def paper_table_markdown() -> str:
    """The paper's DRIVE table (supplement, Table 1) as markdown, in the same column order."""
    lines = [
        "| Model (paper) | " + " | ".join(METRIC_TITLES[c] for c in PAPER_METRICS) + " |",
        "|---|" + "---:|" * len(PAPER_METRICS),
    ]
    for name, values in PAPER_DRIVE_RESULTS.items():
        label = "DenseUNet-JA (JA-9)" if name == "ja9" else MODEL_VARIANTS[name].label
        lines.append(f"| {label} | " + " | ".join(f"{values[c]:.4f}" for c in PAPER_METRICS) + " |")
    return "\n".join(lines) + "\n"
