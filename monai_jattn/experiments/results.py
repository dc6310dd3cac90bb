"""The ablation's tables: one CSV row per model and seed, and a markdown summary (mean and std over seeds), in
each evaluation protocol the runs report (DRIVE: whole image and inside the FOV), with the second observer
as the human baseline where the test set has one."""

from __future__ import annotations

import csv
import io
import os
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from monai_jattn.metrics.names import METRIC_TITLES, OBSERVER2_PREFIX, PROTOCOL_TITLES, metric_key
from monai_jattn.utils import write_text_atomic
from monai_jattn.networks.names import MODEL_VARIANTS, paper_label

__all__ = [
    "PAPER_METRICS",
    "OBSERVER2_ROW",
    "metric_columns",
    "observer2_row",
    "row_protocols",
    "summarise",
    "write_results_csv",
    "results_markdown",
    "paper_table_markdown",
]

PAPER_METRICS: tuple[str, ...] = ("recall", "tnr", "dice", "accuracy", "auc")
"""The paper's column order."""

OBSERVER2_ROW = {"model": "observer2", "label": "2nd observer"}
"""How the second observer appears in ``results.csv`` and ``results.md``."""


def metric_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The paper's five metrics, plus ``jaccard`` when the rows have it (ISIC-2017)."""
    return [*PAPER_METRICS, *(["jaccard"] if any("jaccard" in row for row in rows) else [])]


def row_protocols(rows: Sequence[dict[str, Any]]) -> list[str | None]:
    """The evaluation protocols of `PROTOCOL_TITLES` the rows report (e.g. ``dice_whole_image``), whole image
    first; ``[None]`` when the rows have plain metric names (one protocol, e.g. ISIC-2017)."""
    found = [p for p in PROTOCOL_TITLES if any(metric_key("dice", p) in row for row in rows)]
    return found or [None]


def _metric_keys(rows: Sequence[dict[str, Any]]) -> list[str]:
    return [metric_key(metric, protocol) for protocol in row_protocols(rows) for metric in metric_columns(rows)]


def observer2_row(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The second observer's metrics (the same test set in every run) as a row like a model's, or None.

    Args:
        rows: per-run results, whose ``observer2_*`` values come from the evaluation of DRIVE's
            ``2nd_manual`` against ``1st_manual``.
    """
    for row in rows:
        values = {key[len(OBSERVER2_PREFIX) :]: value for key, value in row.items() if key.startswith(OBSERVER2_PREFIX)}
        if values:
            return {**OBSERVER2_ROW, **values}
    return None


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and sample standard deviation of every metric over seeds, per model, in the order met.

    Args:
        rows: one dict per model and seed with ``model`` and the metric keys (plain, e.g. ``dice``, or
            per protocol, e.g. ``dice_whole_image``).

    Returns:
        One dict per model: ``model``, ``label``, ``seeds`` (count), and ``<key>_mean`` / ``<key>_std``
        for every metric key (std is None for a single seed).
    """
    keys = _metric_keys(rows)
    summary = []
    for model in dict.fromkeys(row["model"] for row in rows):
        runs = [row for row in rows if row["model"] == model]
        entry: dict[str, Any] = {"model": model, "label": MODEL_VARIANTS[model].label, "seeds": len(runs)}
        for key in keys:
            values = [float(run[key]) for run in runs]
            entry[f"{key}_mean"] = statistics.fmean(values)
            entry[f"{key}_std"] = statistics.stdev(values) if len(values) > 1 else None
        summary.append(entry)
    return summary


def write_results_csv(rows: Sequence[dict[str, Any]], path: str | os.PathLike) -> None:
    """Write one row per model and seed (``model``, ``label``, ``seed``, metrics, then any other keys), and
    last the second observer's row (`observer2_row`) where the runs scored one.

    Args:
        rows: the ablation's per-run results.
        path: the CSV file to write (atomically).
    """
    observer = observer2_row(rows)
    runs = [{k: v for k, v in row.items() if not k.startswith(OBSERVER2_PREFIX)} for row in rows]
    leading = ["model", "label", "seed", *_metric_keys(rows)]
    fields = leading + sorted({key for row in runs for key in row} - set(leading))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(runs + ([observer] if observer else []))
    write_text_atomic(path, buffer.getvalue())


def _mean_std(entry: dict[str, Any], metric: str) -> str:
    mean, std = entry[f"{metric}_mean"], entry[f"{metric}_std"]
    return f"{mean:.4f}" if std is None else f"{mean:.4f} ± {std:.4f}"


def results_markdown(rows: Sequence[dict[str, Any]], title: str, notes: Sequence[str] = ()) -> str:
    """Markdown tables of mean ± std over seeds per model, in the paper's column order: one per protocol
    (under a ``## <protocol>`` heading when the rows report protocols), each ending with the second
    observer's row where the runs scored one (a metric it lacks, the AUC, shown as "–").

    Args:
        rows: the ablation's per-run results.
        title: the heading.
        notes: bullet lines under the heading (command, budget, data).
    """
    columns = metric_columns(rows)
    summary = summarise(rows)
    observer = observer2_row(rows)
    lines = [f"# {title}", "", *(f"- {note}" for note in notes), ""] if notes else [f"# {title}", ""]
    for protocol in row_protocols(rows):
        keys = [metric_key(c, protocol) for c in columns]
        if protocol is not None:
            heading = PROTOCOL_TITLES[protocol]
            lines += [f"## {heading[0].upper()}{heading[1:]}", ""]
        lines += [
            "| Model | " + " | ".join(METRIC_TITLES[c] for c in columns) + " | Seeds |",
            "|---|" + "---:|" * len(columns) + "---:|",
        ]
        for entry in summary:
            lines.append(
                f"| {entry['label']} | " + " | ".join(_mean_std(entry, k) for k in keys) + f" | {entry['seeds']} |"
            )
        if observer is not None:
            cells = [f"{observer[k]:.4f}" if k in observer else "–" for k in keys]
            lines.append(f"| {observer['label']} | " + " | ".join(cells) + " | – |")
        lines.append("")
    return "\n".join(lines[:-1]) + "\n"


def paper_table_markdown(results: Mapping[str, Mapping[str, float]]) -> str:
    """A table of the paper's published results (e.g. a dataset's `DatasetSpec.paper_results`) as markdown, in
    the paper's column order.

    Args:
        results: model name (a key of `MODEL_VARIANTS`) -> metric (of `PAPER_METRICS`) -> value.
    """
    lines = [
        "| Model (paper) | " + " | ".join(METRIC_TITLES[c] for c in PAPER_METRICS) + " |",
        "|---|" + "---:|" * len(PAPER_METRICS),
    ]
    for name, values in results.items():
        lines.append(f"| {paper_label(name)} | " + " | ".join(f"{values[c]:.4f}" for c in PAPER_METRICS) + " |")
    return "\n".join(lines) + "\n"
