"""Ignite / MONAI handlers used by the monai-jattn bundles."""

import importlib

_SOURCES = {
    "CONFUSION_MATRIX_METRICS": "metrics_report",
    "CheckpointError": "checkpoint_loader",
    "CheckedCheckpointLoader": "checkpoint_loader",
    "FailedItemError": "failed_item",
    "IterationBudget": "iteration_budget",
    "LatestCheckpointSaver": "latest_checkpoint",
    "METRIC_TITLES": "metrics_report",
    "MetricsReportSaver": "metrics_report",
    "NameFailedItems": "failed_item",
    "OBSERVER2_PREFIX": "metrics_report",
    "PROTOCOL_TITLES": "metrics_report",
    "PerImageROCAUCMetric": "roc_auc",
    "PixelROCAUC": "roc_auc",
    "PooledROCAUCMetric": "roc_auc",
    "ResumableCheckpointSaver": "latest_checkpoint",
    "StopOnNanLoss": "nan_loss",
    "TrainingCurveSaver": "training_curve",
    "class_dice_metrics": "metric_handlers",
    "describe_fit": "checkpoint_loader",
    "load_checkpoint": "checkpoint_loader",
    "load_pretrained": "checkpoint_loader",
    "metric_key": "metrics_report",
    "model_weights": "checkpoint_loader",
    "plot_training_curve": "training_curve",
    "segmentation_metrics": "metric_handlers",
}
"""Each name's module: a name is imported with its module when first used (PEP 562), so that a bundle's inference
imports the checkpoint loader it uses, not the training handlers (metrics reports, training curves with
matplotlib, checkpoint savers)."""


def __getattr__(name: str):
    if name in _SOURCES:
        value = getattr(importlib.import_module(f"{__name__}.{_SOURCES[name]}"), name)
        globals()[name] = value  # later look-ups find it without __getattr__
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SOURCES))


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
