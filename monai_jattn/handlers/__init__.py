"""Ignite / MONAI handlers used by the monai-jattn bundles."""

from .latest_checkpoint import LatestCheckpointSaver, ResumableCheckpointSaver
from .metrics_report import CONFUSION_MATRIX_METRICS, METRIC_TITLES, MetricsReportSaver
from .nan_loss import StopOnNanLoss
from .roc_auc import PerImageROCAUCMetric, PixelROCAUC, PooledROCAUCMetric
from .training_curve import TrainingCurveSaver, plot_training_curve

__all__ = [
    "CONFUSION_MATRIX_METRICS",
    "METRIC_TITLES",
    "LatestCheckpointSaver",
    "MetricsReportSaver",
    "PerImageROCAUCMetric",
    "PixelROCAUC",
    "PooledROCAUCMetric",
    "ResumableCheckpointSaver",
    "StopOnNanLoss",
    "TrainingCurveSaver",
    "plot_training_curve",
]
