"""Ignite / MONAI handlers used by the monai-jattn bundles."""

from .checkpoint_loader import (
    CheckedCheckpointLoader,
    CheckpointError,
    describe_fit,
    load_checkpoint,
    load_pretrained,
    model_weights,
)
from .failed_item import FailedItemError, NameFailedItems
from .latest_checkpoint import LatestCheckpointSaver, ResumableCheckpointSaver
from .metrics_report import (
    CONFUSION_MATRIX_METRICS,
    METRIC_TITLES,
    OBSERVER2_PREFIX,
    PROTOCOL_TITLES,
    MetricsReportSaver,
    metric_key,
)
from .nan_loss import StopOnNanLoss
from .roc_auc import PerImageROCAUCMetric, PixelROCAUC, PooledROCAUCMetric
from .iteration_budget import IterationBudget
from .metric_handlers import class_dice_metrics, segmentation_metrics
from .training_curve import TrainingCurveSaver, plot_training_curve

__all__ = [
    "CONFUSION_MATRIX_METRICS",
    "METRIC_TITLES",
    "CheckedCheckpointLoader",
    "CheckpointError",
    "FailedItemError",
    "IterationBudget",
    "NameFailedItems",
    "OBSERVER2_PREFIX",
    "PROTOCOL_TITLES",
    "LatestCheckpointSaver",
    "MetricsReportSaver",
    "PerImageROCAUCMetric",
    "PixelROCAUC",
    "PooledROCAUCMetric",
    "ResumableCheckpointSaver",
    "StopOnNanLoss",
    "TrainingCurveSaver",
    "class_dice_metrics",
    "describe_fit",
    "load_checkpoint",
    "load_pretrained",
    "model_weights",
    "metric_key",
    "plot_training_curve",
    "segmentation_metrics",
]
