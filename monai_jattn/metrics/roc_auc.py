"""Pixel-level ROC AUC for segmentation: of each image, reduced over the images, or pooled over all pixels.

MONAI's `ROCAUCMetric` is made for classification: its buffers keep one tensor per sample, so feeding it
the pixels of whole images as samples takes seconds per image (and gigabytes for large images). MONAI's
`compute_roc_auc` walks the sorted pixels in a Python loop whose running counts become float32 under
NumPy 2, so that they stop growing at 2**24 (16.8 M) pixels: a full-size dermoscopy photograph (30 M pixels)
got an AUC of 0.73 for a nearly perfect prediction. `pixel_roc_auc` computes the same statistic with
integer counts, vectorised."""

from __future__ import annotations

import warnings

import torch
from monai.metrics import CumulativeIterationMetric
from monai.metrics.utils import do_metric_reduction
from monai.utils import MetricReduction, evenly_divisible_all_gather

__all__ = ["PerImageROCAUCMetric", "PooledROCAUCMetric", "pixel_roc_auc"]


def pixel_roc_auc(y_pred: torch.Tensor, y: torch.Tensor) -> float:
    """ROC AUC of the scores ``y_pred`` against the binary labels ``y`` (the Mann-Whitney statistic, ties half).

    The same value as `monai.metrics.compute_roc_auc` of two 1D tensors, with exact integer counts for any
    number of pixels and no Python loop (see the module docstring).

    Args:
        y_pred: scores (e.g. foreground probabilities), any shape; flattened.
        y: binary labels (0 or 1) of the same number of elements; flattened.

    Returns:
        the AUC, or NaN (with a warning, as MONAI's) when ``y`` holds one class only or values other than 0/1.

    Example:
        >>> pixel_roc_auc(torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1]))
        0.75
    """
    y_pred, y = y_pred.detach().flatten(), y.detach().flatten()
    if y_pred.numel() != y.numel():
        raise ValueError(f"y_pred and y must have the same number of elements, got {y_pred.numel()} and {y.numel()}.")
    classes = y.unique()
    if len(classes) == 1:
        warnings.warn(f"y values can not be all {classes.item()}, skip AUC computation and return `Nan`.", stacklevel=2)
        return float("nan")
    if not classes.equal(torch.tensor([0, 1], dtype=y.dtype, device=y.device)):
        warnings.warn(
            f"y values must be 0 or 1, but in {classes.tolist()}, skip AUC computation and return `Nan`.", stacklevel=2
        )
        return float("nan")
    scores, order = torch.sort(y_pred.float())
    positive = y[order] > 0
    del order  # pixel-sized temporaries are freed as soon as possible: an image may have tens of millions
    _, counts = torch.unique_consecutive(scores, return_counts=True)  # groups of tied scores, ascending
    del scores
    ends = torch.cumsum(counts, 0) - 1  # index of each group's last pixel in the sorted order
    positives_up_to = torch.cumsum(positive, 0, dtype=torch.int64)[ends]  # positives up to each group's end
    positives = torch.diff(positives_up_to, prepend=positives_up_to.new_zeros(1))
    negatives = counts - positives
    negatives_below = torch.cumsum(negatives, 0) - negatives  # in the groups of lower scores only
    n_pos, n_neg = int(positives_up_to[-1]), int(negatives.sum())
    # each positive beats the negatives below its group and ties half of those in it; exact up to 2**53
    pairs = (positives.double() * (negatives_below.double() + negatives.double() / 2)).sum().item()
    return pairs / (float(n_pos) * float(n_neg))


class PerImageROCAUCMetric(CumulativeIterationMetric):
    """
    Pixel-level ROC AUC of every image, computed with `pixel_roc_auc` when the image
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
        values = [pixel_roc_auc(p, t.float()) for p, t in zip(y_pred, y)]
        # (B, 1): one row per image, as the cumulative buffer and do_metric_reduction expect
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
    papers report it), with `pixel_roc_auc`. The pixels are kept until `aggregate`
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
        # ranks may hold different numbers of pixels; every rank gets all of them (a no-op in one process)
        y_pred, y = (evenly_divisible_all_gather(x, concat=True) for x in pooled)
        return torch.tensor(pixel_roc_auc(y_pred.cpu(), y.cpu()))
