"""ROC AUC of each image's pixels, reduced over images (MONAI's `ROCAUC` pools every pixel instead)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from monai.handlers import IgniteMetricHandler
from monai.metrics import CumulativeIterationMetric, compute_roc_auc
from monai.metrics.utils import do_metric_reduction
from monai.utils import MetricReduction

__all__ = ["PerImageROCAUCMetric", "PerImageROCAUC"]


class PerImageROCAUCMetric(CumulativeIterationMetric):
    """
    Pixel-level ROC AUC of every image, computed with `monai.metrics.compute_roc_auc` when the image
    arrives, so that only one number per image is kept (pooling all pixels of many large images, as
    `monai.metrics.ROCAUCMetric` does, can need gigabytes). An image whose label has a single class
    gets NaN, which the reduction skips.

    Args:
        reduction: how to reduce the per-image values, default ``"mean"``; see
            `monai.metrics.utils.do_metric_reduction`.

    Example::

        metric = PerImageROCAUCMetric()
        metric(y_pred=probabilities, y=labels)  # (B, 1, H, W) foreground probability and binary label
        mean_auc = metric.aggregate()
    """

    def __init__(self, reduction: MetricReduction | str = MetricReduction.MEAN) -> None:
        super().__init__()
        self.reduction = reduction

    def _compute_tensor(self, y_pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        """One AUC per image: (B, 1) from a (B, ...) probability map and its (B, ...) binary label."""
        if y_pred.shape != y.shape:
            raise ValueError(f"y_pred and y must have the same shape, got {tuple(y_pred.shape)} and {tuple(y.shape)}.")
        values = [compute_roc_auc(p.flatten().float(), t.flatten().float()) for p, t in zip(y_pred, y)]
        return torch.tensor(values, dtype=torch.float32).reshape(-1, 1)

    def aggregate(self, reduction: MetricReduction | str | None = None) -> torch.Tensor:  # type: ignore[override]
        """Reduce the per-image values (NaN skipped)."""
        data = self.get_buffer()
        if not isinstance(data, torch.Tensor):
            raise ValueError("the data to aggregate must be a PyTorch Tensor.")
        value, _ = do_metric_reduction(data, reduction or self.reduction)
        return value


class PerImageROCAUC(IgniteMetricHandler):
    """
    Ignite metric handler for `PerImageROCAUCMetric`; with ``save_details`` the per-image values go
    to ``engine.state.metric_details`` (e.g. for `MetricsReportSaver`'s per-image CSV).

    Args:
        reduction: how to reduce the per-image values, default ``"mean"``.
        output_transform: extracts ``(y_pred, y)`` from ``engine.state.output``, e.g.
            ``monai.handlers.from_engine(["prob", "label"])``.
        save_details: whether to save the per-image values in ``engine.state.metric_details``.
    """

    def __init__(
        self,
        reduction: MetricReduction | str = MetricReduction.MEAN,
        output_transform: Callable = lambda x: x,
        save_details: bool = True,
    ) -> None:
        super().__init__(
            metric_fn=PerImageROCAUCMetric(reduction=reduction),
            output_transform=output_transform,
            save_details=save_details,
        )
