"""Segmentation metrics: pixel-level ROC AUC per image or pooled, and the metric names and titles of the reports."""

from .names import CONFUSION_MATRIX_METRICS, METRIC_TITLES, OBSERVER2_PREFIX, PROTOCOL_TITLES, metric_key
from .roc_auc import PerImageROCAUCMetric, PooledROCAUCMetric, pixel_roc_auc

__all__ = [
    "CONFUSION_MATRIX_METRICS",
    "METRIC_TITLES",
    "OBSERVER2_PREFIX",
    "PROTOCOL_TITLES",
    "PerImageROCAUCMetric",
    "PooledROCAUCMetric",
    "metric_key",
    "pixel_roc_auc",
]
