"""The ablation's tables: one CSV row per model and seed, and a markdown summary (mean and std over seeds), in
each evaluation protocol the runs report (DRIVE: whole image and inside the FOV), with the second observer
as the human baseline where the test set has one. The columns are the metrics the runs report: the paper's
first, in its order, then any others (e.g. the MSD bundle's ``dice_<class>`` and ``mean_dice``)."""

from __future__ import annotations

import csv
import io
import os
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from monai_jattn.atomic_write import write_text_atomic
from monai_jattn.metrics.names import METRIC_TITLES, OBSERVER2_PREFIX, PROTOCOL_TITLES, metric_key
from monai_jattn.networks.names import MODEL_VARIANTS, paper_label

__all__ = [
    "PAPER_METRICS",
    "OBSERVER2_ROW",
    "RUN_KEYS",
    "main_dice",
    "metric_columns",
    "metric_title",
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


RUN_KEYS: tuple[str, ...] = ("model", "label", "seed", "max_iterations", "train_seconds", "evaluate_seconds")
"""The keys of a run's row that describe the run, not its metrics (the rest of a row is its evaluation's
``metrics_summary.json``, see `monai_jattn.experiments.ablation`)."""

_PAPER_ORDER = (*PAPER_METRICS, "jaccard")


def metric_title(metric: str) -> str:
    """The column title of a metric: its words with the paper's metric names titled by `METRIC_TITLES`.

    Example:
        >>> [metric_title(m) for m in ("tnr", "dice_organ", "mean_dice")]
        ['TNR', 'Dice organ', 'mean Dice']
    """
    return " ".join(METRIC_TITLES.get(word, word) for word in metric.split("_"))


def metric_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The metrics the rows report (without the protocol, e.g. ``dice`` for ``dice_whole_image``): the paper's
    five and ``jaccard`` (ISIC-2017) in the paper's order, then any other numeric key in the order met (e.g. the
    MSD bundle's ``dice_<class>`` and ``mean_dice``); never `RUN_KEYS` or the second observer's keys."""
    suffixes = tuple(f"_{protocol}" for protocol in row_protocols(rows) if protocol is not None)
    reported: dict[str, None] = {}
    for row in rows:
        for key, value in row.items():
            if key in RUN_KEYS or key.startswith(OBSERVER2_PREFIX) or not _is_number(value):
                continue
            reported[next((key[: -len(s)] for s in suffixes if key.endswith(s)), key)] = None
    paper = [metric for metric in _PAPER_ORDER if metric in reported]
    return paper + [metric for metric in reported if metric not in paper]


def main_dice(rows: Sequence[dict[str, Any]]) -> str | None:
    """The metric of the Dice bar chart: ``dice`` (per protocol where the rows report protocols), else
    ``mean_dice`` (the mean over classes, e.g. the MSD bundle's); None when the rows report neither."""
    columns = metric_columns(rows)
    return next((metric for metric in ("dice", "mean_dice") if metric in columns), None)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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
    """Markdown tables of mean ± std over seeds per model, in the order of `metric_columns`: one per protocol
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
            "| Model | " + " | ".join(metric_title(c) for c in columns) + " | Seeds |",
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
    """A table of the paper's published results (e.g. DRIVE's in `~monai_jattn.experiments.paper_results`) as
    markdown, in the paper's column order.

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
