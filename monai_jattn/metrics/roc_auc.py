"""Pixel-level ROC AUC for segmentation: of each image, reduced over the images, or pooled over all pixels.

MONAI's `ROCAUCMetric` is made for classification: its buffers keep one tensor per sample, so feeding it
the pixels of whole images as samples takes seconds per image (and gigabytes for large images)."""

from __future__ import annotations

import torch
from monai.metrics import CumulativeIterationMetric, compute_roc_auc
from monai.metrics.utils import do_metric_reduction
from monai.utils import MetricReduction, evenly_divisible_all_gather

__all__ = ["PerImageROCAUCMetric", "PooledROCAUCMetric"]


class PerImageROCAUCMetric(CumulativeIterationMetric):
    """
    Pixel-level ROC AUC of every image, computed with `monai.metrics.compute_roc_auc` when the image
    arrives, so that only one number per image is kept, however large the images. An image whose
    label has a single class gets NaN, which the reduction skips.

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


class PooledROCAUCMetric(PerImageROCAUCMetric):
    """
    ROC AUC over all pixels of all images together (one ROC curve for the whole test set, as DRIVE
    papers report it), with `monai.metrics.compute_roc_auc`. The pixels are kept until `aggregate`
    (gathered from every rank in a distributed run); the buffer still holds each image's own AUC
    (see `PerImageROCAUCMetric`) for per-image reports. Keeping every pixel suits data sets of
    moderate size such as DRIVE (20 images of 0.3 megapixels).

    Example::

        metric = PooledROCAUCMetric()
        for probabilities, labels in batches:
            metric(y_pred=probabilities, y=labels)
        auc = metric.aggregate()  # over every pixel seen
    """

    def __init__(self) -> None:
        super().__init__(reduction=MetricReduction.MEAN)
        self._pixels: list[tuple[torch.Tensor, torch.Tensor]] = []

    def reset(self) -> None:
        super().reset()
        self._pixels = []

    def _compute_tensor(self, y_pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        """Keep the pixels; return each image's own AUC."""
        values = super()._compute_tensor(y_pred, y)
        self._pixels.append((y_pred.detach().flatten().float(), y.detach().flatten().float()))
        return values

    def aggregate(self, reduction: MetricReduction | str | None = None) -> torch.Tensor:  # type: ignore[override]
        """The AUC of all pixels seen (on every rank); ``reduction`` is not used."""
        if not self._pixels:
            raise ValueError("no data to aggregate: call the metric on some images first.")
        pooled = [torch.cat([pair[i] for pair in self._pixels]) for i in (0, 1)]
        y_pred, y = (evenly_divisible_all_gather(x, concat=True) for x in pooled)
        return torch.tensor(compute_roc_auc(y_pred.cpu(), y.cpu()))
