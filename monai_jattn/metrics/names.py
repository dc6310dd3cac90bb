"""Metric names, defined once: the paper's metrics and their table titles, the MONAI confusion-matrix metric behind
each, the evaluation protocols, and how a metric is keyed in an engine's metrics and in the reports."""

from __future__ import annotations

__all__ = ["CONFUSION_MATRIX_METRICS", "METRIC_TITLES", "OBSERVER2_PREFIX", "PROTOCOL_TITLES", "metric_key"]

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

PROTOCOL_TITLES = {"whole_image": "whole image", "inside_fov": "inside FOV"}
"""How the pixels of an image are scored, by protocol name: DRIVE's ``whole_image`` scores every pixel
(predictions outside the field of view are background; the protocol of the paper's Table 1, whose
Recall, TNR and Accuracy imply a vessel fraction of about 8.9% of the scored pixels, as in whole
DRIVE test images, 8.76%, not inside their FOV, 12.73%), ``inside_fov`` only the pixels inside the
field-of-view mask."""

OBSERVER2_PREFIX = "observer2_"
"""Key prefix of the metrics of DRIVE's second observer scored against the first (the human baseline)."""


def metric_key(metric: str, protocol: str | None = None, prefix: str = "") -> str:
    """The name of a metric in an engine's metrics and in the reports, e.g. ``"dice_whole_image"``.

    Args:
        metric: the metric, e.g. ``"dice"``.
        protocol: the evaluation protocol (a key of `PROTOCOL_TITLES`), or None for a single protocol.
        prefix: the prefix of a reference row, e.g. `OBSERVER2_PREFIX`; ``""`` for the model.

    Example:
        >>> metric_key("dice", "inside_fov", OBSERVER2_PREFIX)
        'observer2_dice_inside_fov'
    """
    return f"{prefix}{metric}" + (f"_{protocol}" if protocol else "")
