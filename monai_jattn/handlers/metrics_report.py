"""Write an evaluation's metrics the way the paper reports them: a JSON summary, a markdown table in the
paper's column order and one CSV row per image, for one or more evaluation protocols (e.g. DRIVE's
whole image and inside the field of view) and reference rows such as DRIVE's second observer."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Mapping, Sequence

import ignite.distributed as idist
import torch
from ignite.engine import Engine, Events
from monai.handlers import from_engine
from monai.utils import string_list_all_gather

from monai_jattn.atomic_write import write_text_atomic
from monai_jattn.metrics.confusion import confusion_matrix_values, empty_reference
from monai_jattn.metrics.names import (
    CONFUSION_MATRIX_METRICS,
    METRIC_TITLES,
    OBSERVER2_PREFIX,
    PROTOCOL_TITLES,
    metric_key,
)

__all__ = [
    "CONFUSION_MATRIX_METRICS",
    "METRIC_TITLES",
    "OBSERVER2_PREFIX",
    "PROTOCOL_TITLES",
    "MetricsReportSaver",
    "metric_key",
]


class MetricsReportSaver:
    """
    Ignite handler that writes an evaluator's metrics, once its run completes, to ``output_dir``:

    - ``metrics_summary.json``: ``{name: value}`` from ``engine.state.metrics`` for ``metric_names``
      (each name as `metric_key` makes it: with the protocol, e.g. ``dice_whole_image``, when
      ``protocols`` are given; then the reference rows' metrics, e.g. ``observer2_dice_whole_image``);
    - ``metrics.md``: the same values as a markdown table, columns in ``metric_names`` order (give the
      paper's order: recall, tnr, dice, accuracy, auc), with ``description`` above it; one row per
      protocol (with a "Protocol" column), then the reference rows, a metric they lack shown as "–";
    - ``metrics_per_image.csv``: one row per image (``id`` from ``batch[id_key]``) with every metric whose
      handler saved per-image details in ``engine.state.metric_details``; confusion matrices become values
      with `monai_jattn.metrics.confusion_matrix_values`, one value per image (e.g. `PixelROCAUC`'s) is kept
      as it is, a metric undefined for an image is ``nan``, and an ``empty_reference`` column (1 or 0) marks
      the images without foreground.

    Below the table, ``metrics.md`` names the images with an empty reference and, per metric, those where it
    is undefined (see `undefined_notes`). The model's metrics must all be in ``engine.state.metrics``; a
    reference row is written where the engine has any of its metrics (e.g. only where DRIVE's ``2nd_manual``
    exists). Files are written atomically; in a distributed run every
    rank must attach the handler (the ids are gathered), and only ``save_rank`` writes.

    Args:
        output_dir: folder for the three files (created if needed).
        metric_names: names of metrics in ``engine.state.metrics`` (without protocol), in table order.
        model_name: first column of the markdown table, e.g. "DenseUNet-JA".
        protocols: the evaluation protocols (keys of `PROTOCOL_TITLES` or other names), each metric
            being computed once per protocol; None when the engine's metrics are the plain names.
        reference_rows: more table rows, by title, with the key prefix of their metrics, e.g.
            ``{"2nd observer": OBSERVER2_PREFIX}``.
        description: text written above the markdown table (which data, which pixels).
        id_key: key of each image's identifier in the (decollated) batch.
        confusion_matrix_metrics: for metrics whose details are confusion matrices, the
            `ConfusionMatrixMetric` name that computes them; default `CONFUSION_MATRIX_METRICS`.
        save_rank: the rank that writes the files in a distributed run.
        per_image_mean: the metrics are means of per-image values (ISIC-2017), which leave out the images where
            a metric is undefined; False: pooled over the pixels of every image (DRIVE).

    Example::

        MetricsReportSaver(output_dir="eval", metric_names=["recall", "tnr", "dice", "accuracy", "auc"],
                           model_name="DenseUNet-JA", protocols=["whole_image", "inside_fov"],
                           reference_rows={"2nd observer": OBSERVER2_PREFIX}).attach(evaluator)
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
        protocols: Sequence[str] | None = None,
        reference_rows: Mapping[str, str] | None = None,
        per_image_mean: bool = False,
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
        self.protocols: list[str | None] = list(protocols) if protocols else [None]
        self.reference_rows = dict(reference_rows or {})
        self.per_image_mean = bool(per_image_mean)
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
        ids = string_list_all_gather(self._ids)  # a collective: every rank must call it, so before any returns
        if idist.get_rank() != self.save_rank:
            return
        metrics = engine.state.metrics
        missing = [key for key in self._row_keys("") if key not in metrics]
        if missing:
            raise KeyError(f"metrics {missing} are not computed by this engine; it has {list(metrics)}.")
        summary = {key: float(metrics[key]) for key in self._report_keys() if key in metrics}
        write_text_atomic(os.path.join(self.output_dir, self.summary_filename), json.dumps(summary, indent=2) + "\n")
        per_image = self.per_image_values(engine, num_images=len(ids))
        empty = self.empty_references(engine, num_images=len(ids))
        table = self.markdown_table(summary) + self.undefined_notes(ids, per_image, empty)
        write_text_atomic(os.path.join(self.output_dir, self.table_filename), table)
        if empty is not None:
            per_image["empty_reference"] = [int(e) for e in empty]
        write_text_atomic(os.path.join(self.output_dir, self.per_image_filename), _csv_text(ids, per_image))
        engine.logger.info(f"Metrics written to {self.output_dir}: {summary}")

    def _row_keys(self, prefix: str) -> dict[str, str]:
        """The metric keys of one table row (``prefix`` ``""`` for the model), protocol by protocol, with
        the metric each one is."""
        return {metric_key(name, protocol, prefix): name for protocol in self.protocols for name in self.metric_names}

    def _report_keys(self) -> dict[str, str]:
        """The metric keys of the model's rows and then of the reference rows, with their metrics."""
        return {k: v for prefix in ["", *self.reference_rows.values()] for k, v in self._row_keys(prefix).items()}

    def markdown_table(self, summary: Mapping[str, float]) -> str:
        """The summary as a markdown table, one column per metric in ``metric_names`` order, one row per
        protocol of the model and of each reference row present in ``summary``."""
        titles = [METRIC_TITLES.get(n, n) for n in self.metric_names]
        with_protocol = self.protocols != [None]
        lines = [self.description, ""] if self.description else []
        lines += [
            "| Model | " + ("Protocol | " if with_protocol else "") + " | ".join(titles) + " |",
            "|---|" + "---|" * (len(titles) + with_protocol),  # the bool adds the Protocol column
        ]
        for title, prefix in [(self.model_name, ""), *self.reference_rows.items()]:
            for protocol in self.protocols:
                keys = [metric_key(name, protocol, prefix) for name in self.metric_names]
                if not any(key in summary for key in keys):  # a reference row the engine did not compute
                    continue
                cells = [f"{summary[key]:.4f}" if key in summary else "–" for key in keys]
                protocol_cell = f"{PROTOCOL_TITLES.get(str(protocol), protocol)} | " if with_protocol else ""
                lines.append(f"| {title} | {protocol_cell}" + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"

    def per_image_values(self, engine: Engine, num_images: int) -> dict[str, list[float]]:
        """Per-image values of every metric of the report whose details the engine saved."""
        details = getattr(engine.state, "metric_details", {})
        values = {}
        for name, metric in self._report_keys().items():
            if name not in details:
                continue
            detail = torch.as_tensor(details[name]).float()
            if detail.ndim == 3 and detail.shape[-1] == 4:  # (images, channels, TP/FP/TN/FN)
                if metric not in self.confusion_matrix_metrics:
                    raise KeyError(
                        f"metric '{name}' saved confusion matrices; add the ConfusionMatrixMetric name of '{metric}' "
                        "to confusion_matrix_metrics."
                    )
                detail = confusion_matrix_values(self.confusion_matrix_metrics[metric], detail)
            detail = detail.reshape(detail.shape[0], -1)  # (images, 1) where there is one value per image
            if detail.shape != (num_images, 1):
                raise ValueError(
                    f"metric '{name}': expected one value for each of the {num_images} images, got details of "
                    f"shape {tuple(details[name].shape)}."
                )
            values[name] = detail[:, 0].tolist()
        return values

    def empty_references(self, engine: Engine, num_images: int) -> list[bool] | None:
        """Whether each image's reference has no foreground, from the first confusion matrices the model's metrics
        saved (None where they saved none)."""
        details = getattr(engine.state, "metric_details", {})
        for name in self._row_keys(""):
            detail = torch.as_tensor(details[name]) if name in details else None
            if detail is not None and detail.ndim == 3 and detail.shape[-1] == 4 and detail.shape[0] == num_images:
                return empty_reference(detail).all(dim=1).tolist()  # no foreground in any channel
        return None

    def undefined_notes(
        self, ids: Sequence[str], per_image: Mapping[str, Sequence[float]], empty: Sequence[bool] | None
    ) -> str:
        """The text below the table: which images have an empty reference, and which metrics are undefined (NaN)
        for which images; with ``per_image_mean`` the table's value is the mean over the others ("mean over 9
        of the 10 images"), otherwise it pools the pixels of every image."""
        total, lines = len(ids), []
        if empty is not None and any(empty):
            listed = [i for i, e in zip(ids, empty) if e]
            lines.append(
                f"- {len(listed)} of the {total} images have an empty reference (no foreground pixel): "
                f"{_names(listed)}. Their Dice and Jaccard are 1 where the prediction is empty too, else 0 (counted "
                "in the means); their Recall is undefined."
            )
        for key, values in per_image.items():
            undefined = [i for i, v in zip(ids, values) if math.isnan(v)]
            if not undefined:
                continue
            metric = self._report_keys()[key]
            title = METRIC_TITLES.get(metric, metric) + (f" ({key})" if key != metric else "")
            if self.per_image_mean:
                lines.append(
                    f"- {title}: mean over {total - len(undefined)} of the {total} images; undefined (nan in "
                    f"{self.per_image_filename}) for {len(undefined)}: {_names(undefined)}."
                )
            else:
                lines.append(
                    f"- {title}: pooled over the pixels of all {total} images; undefined for {len(undefined)} of them "
                    f"alone (nan in {self.per_image_filename}): {_names(undefined)}."
                )
        return "\n" + "\n".join(lines) + "\n" if lines else ""


def _names(ids: Sequence[str], limit: int = 20) -> str:
    shown = ", ".join(ids[:limit])
    return f"{shown} and {len(ids) - limit} more" if len(ids) > limit else shown


def _csv_text(ids: Sequence[str], values: Mapping[str, Sequence[float]]) -> str:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["id", *values])
    for row, image_id in enumerate(ids):
        # ints (the empty_reference column) are written as they are
        cells = (f"{v[row]:.6f}" if isinstance(v[row], float) else v[row] for v in values.values())
        writer.writerow([image_id, *cells])
    return text.getvalue()
