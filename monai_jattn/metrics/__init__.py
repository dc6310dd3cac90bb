"""Segmentation metrics: pixel-level ROC AUC per image or pooled, and the metric names and titles of the reports."""

from .confusion import (
    PerImageConfusionMatrixMetric,
    confusion_matrix_values,
    empty_reference,
)
from .names import CONFUSION_MATRIX_METRICS, METRIC_TITLES, OBSERVER2_PREFIX, PROTOCOL_TITLES, metric_key
from .roc_auc import PerImageROCAUCMetric, PooledROCAUCMetric, pixel_roc_auc

__all__ = [
    "CONFUSION_MATRIX_METRICS",
    "METRIC_TITLES",
    "OBSERVER2_PREFIX",
    "PROTOCOL_TITLES",
    "PerImageConfusionMatrixMetric",
    "PerImageROCAUCMetric",
    "PooledROCAUCMetric",
    "confusion_matrix_values",
    "empty_reference",
    "metric_key",
    "pixel_roc_auc",
]
