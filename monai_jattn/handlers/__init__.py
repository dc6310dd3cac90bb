"""Ignite / MONAI handlers used by the monai-jattn bundles."""

from .checkpoint_loader import CheckpointError, CheckpointLoader, load_checkpoint
from .latest_checkpoint import LatestCheckpointSaver, ResumableCheckpointSaver
from .metrics_report import CONFUSION_MATRIX_METRICS, METRIC_TITLES, MetricsReportSaver
from .nan_loss import StopOnNanLoss
from .roc_auc import PerImageROCAUCMetric, PixelROCAUC, PooledROCAUCMetric
from .training_curve import TrainingCurveSaver, plot_training_curve

__all__ = [
    "CONFUSION_MATRIX_METRICS",
    "METRIC_TITLES",
    "CheckpointError",
    "CheckpointLoader",
    "LatestCheckpointSaver",
    "MetricsReportSaver",
    "PerImageROCAUCMetric",
    "PixelROCAUC",
    "PooledROCAUCMetric",
    "ResumableCheckpointSaver",
    "StopOnNanLoss",
    "TrainingCurveSaver",
    "load_checkpoint",
    "plot_training_curve",
]
