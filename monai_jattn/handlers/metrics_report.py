"""Write an evaluation's metrics the way the paper reports them: a JSON summary, a markdown table in the
paper's column order and one CSV row per image."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping, Sequence

import ignite.distributed as idist
import torch
from ignite.engine import Engine, Events
from monai.handlers import from_engine
from monai.metrics import compute_confusion_matrix_metric
from monai.utils import string_list_all_gather

from monai_jattn.utils import write_text_atomic

__all__ = ["CONFUSION_MATRIX_METRICS", "METRIC_TITLES", "MetricsReportSaver"]

METRIC_TITLES = {
    "recall": "Recall",
    "tnr": "TNR",
    "dice": "Dice",
    "accuracy": "Accuracy",
    "auc": "AUC",
    "jaccard": "Jaccard",
}
"""Column titles of the paper's tables, by metric name."""

CONFUSION_MATRIX_METRICS = {
    "recall": "sensitivity",
    "tnr": "specificity",
    "dice": "f1 score",
    "accuracy": "accuracy",
    "jaccard": "threat score",
}
"""The `monai.metrics.ConfusionMatrixMetric` name behind each of the paper's metrics."""


class MetricsReportSaver:
    """
    Ignite handler that writes an evaluator's metrics, once its run completes, to ``output_dir``:

    - ``metrics_summary.json``: ``{name: value}`` from ``engine.state.metrics`` for ``metric_names``;
    - ``metrics.md``: the same values as a markdown table, columns in ``metric_names`` order (give the
      paper's order: recall, tnr, dice, accuracy, auc), with ``description`` above it;
    - ``metrics_per_image.csv``: one row per image (``id`` column from ``batch[id_key]``) with every
      metric whose handler saved per-image details in ``engine.state.metric_details``. MONAI's
      `ConfusionMatrix` handler saves each image's TP/FP/TN/FN counts; they are turned into values
      with the confusion-matrix metric named in ``confusion_matrix_metrics``. Details that are
      already one value per image (e.g. `PixelROCAUC`'s) are written as they are.

    All files are written atomically. In a distributed run every rank must attach the handler (the
    image ids are gathered from all ranks); only ``save_rank`` writes.

    Args:
        output_dir: folder for the three files (created if needed).
        metric_names: names of metrics in ``engine.state.metrics``, in table order.
        model_name: first column of the markdown table, e.g. "DenseUNet-JA".
        description: text written above the markdown table (which data, which pixels).
        id_key: key of each image's identifier in the (decollated) batch.
        confusion_matrix_metrics: for metrics whose details are confusion matrices, the
            `ConfusionMatrixMetric` name that computes them; default `CONFUSION_MATRIX_METRICS`.
        save_rank: the rank that writes the files in a distributed run.

    Example::

        MetricsReportSaver(output_dir="eval", metric_names=["recall", "tnr", "dice", "accuracy", "auc"],
                           model_name="DenseUNet-JA").attach(evaluator)
    """

    summary_filename = "metrics_summary.json"
    table_filename = "metrics.md"
    per_image_filename = "metrics_per_image.csv"

    def __init__(
        self,
        output_dir: str | os.PathLike,
        metric_names: Sequence[str] = ("recall", "tnr", "dice", "accuracy", "auc"),
        model_name: str = "model",
        description: str = "",
        id_key: str = "id",
        confusion_matrix_metrics: Mapping[str, str] | None = None,
        save_rank: int = 0,
    ) -> None:
        if not metric_names:
            raise ValueError("metric_names must name at least one metric.")
        self.output_dir = os.fspath(output_dir)
        self.metric_names = list(metric_names)
        self.model_name = model_name
        self.description = description
        self.id_key = id_key
        self.confusion_matrix_metrics = dict(
            CONFUSION_MATRIX_METRICS if confusion_matrix_metrics is None else confusion_matrix_metrics
        )
        self.save_rank = save_rank
        self._ids: list[str] = []

    def attach(self, engine: Engine) -> None:
        """Collect ids at every iteration and write the report when the evaluation epoch completes."""
        engine.add_event_handler(Events.EPOCH_STARTED, self._reset)
        engine.add_event_handler(Events.ITERATION_COMPLETED, self._collect_ids)
        engine.add_event_handler(Events.EPOCH_COMPLETED, self)

    def _reset(self, engine: Engine) -> None:
        self._ids = []

    def _collect_ids(self, engine: Engine) -> None:
        ids = from_engine([self.id_key])(engine.state.batch)  # a list, or a 1-tuple for an un-decollated batch
        self._ids.extend(str(i) for i in (ids[0] if isinstance(ids, tuple) else ids))

    def __call__(self, engine: Engine) -> None:
        """Write the three files from the engine's metrics (gathers ids on every rank first)."""
        ids = string_list_all_gather(self._ids)
        if idist.get_rank() != self.save_rank:
            return
        missing = [n for n in self.metric_names if n not in engine.state.metrics]
        if missing:
            raise KeyError(f"metrics {missing} are not computed by this engine; it has {list(engine.state.metrics)}.")
        summary = {name: float(engine.state.metrics[name]) for name in self.metric_names}
        write_text_atomic(os.path.join(self.output_dir, self.summary_filename), json.dumps(summary, indent=2) + "\n")
        write_text_atomic(os.path.join(self.output_dir, self.table_filename), self.markdown_table(summary))
        per_image = self.per_image_values(engine, num_images=len(ids))
        write_text_atomic(os.path.join(self.output_dir, self.per_image_filename), _csv_text(ids, per_image))
        engine.logger.info(f"Metrics written to {self.output_dir}: {summary}")

    def markdown_table(self, summary: Mapping[str, float]) -> str:
        """The summary as a markdown table, one column per metric in ``metric_names`` order."""
        titles = [METRIC_TITLES.get(n, n) for n in self.metric_names]
        lines = [self.description, ""] if self.description else []
        lines += [
            "| Model | " + " | ".join(titles) + " |",
            "|---|" + "---|" * len(titles),
            f"| {self.model_name} | " + " | ".join(f"{summary[n]:.4f}" for n in self.metric_names) + " |",
        ]
        return "\n".join(lines) + "\n"

    def per_image_values(self, engine: Engine, num_images: int) -> dict[str, list[float]]:
        """Per-image values of every metric in ``metric_names`` whose details the engine saved."""
        details = getattr(engine.state, "metric_details", {})
        values = {}
        for name in self.metric_names:
            if name not in details:
                continue
            detail = torch.as_tensor(details[name]).float()
            if detail.ndim == 3 and detail.shape[-1] == 4:  # (images, channels, TP/FP/TN/FN)
                if name not in self.confusion_matrix_metrics:
                    raise KeyError(
                        f"metric '{name}' saved confusion matrices; add its ConfusionMatrixMetric name to "
                        "confusion_matrix_metrics."
                    )
                detail = compute_confusion_matrix_metric(self.confusion_matrix_metrics[name], detail)
            detail = detail.reshape(detail.shape[0], -1)
            if detail.shape != (num_images, 1):
                raise ValueError(
                    f"metric '{name}': expected one value for each of the {num_images} images, got details of "
                    f"shape {tuple(details[name].shape)}."
                )
            values[name] = detail[:, 0].tolist()
        return values


def _csv_text(ids: Sequence[str], values: Mapping[str, Sequence[float]]) -> str:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["id", *values])
    for row, image_id in enumerate(ids):
        writer.writerow([image_id, *(f"{v[row]:.6f}" for v in values.values())])
    return text.getvalue()
