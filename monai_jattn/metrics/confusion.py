"""Confusion-matrix metrics of each image, defined also for an image whose reference is empty.

MONAI's `compute_confusion_matrix_metric` gives NaN wherever a ratio's denominator is 0, and its mean
(`do_metric_reduction`) leaves NaN out, so an image with an empty reference (no foreground pixel) would vanish
from a per-image mean without notice. Here each metric is defined for it (`EMPTY_REFERENCE`):

- Dice and Jaccard (``"f1 score"``, ``"threat score"``): 1 where the prediction is empty too (full agreement), 0
  where it is not (every predicted pixel is a false positive); both count in the mean;
- Recall (``"sensitivity"``): undefined (NaN; there is no foreground to find); TNR (``"specificity"``) where the
  reference has no background: undefined too. These images are left out of the mean, which the reports say
  (`monai_jattn.handlers.MetricsReportSaver`);
- Accuracy: always defined.
"""

from __future__ import annotations

import torch
from monai.metrics import ConfusionMatrixMetric, compute_confusion_matrix_metric
from monai.metrics.confusion_matrix import check_confusion_matrix_metric_name
from monai.metrics.utils import do_metric_reduction
from monai.utils import MetricReduction

__all__ = ["PerImageConfusionMatrixMetric", "confusion_matrix_values", "empty_reference"]

_AGREEMENT_METRICS = ("f1", "ts")
"""Dice (F1) and Jaccard (threat score), as `check_confusion_matrix_metric_name` names them: 1 where reference and
prediction are both empty (TP + FP + FN = 0)."""


def empty_reference(confusion: torch.Tensor) -> torch.Tensor:
    """Where the reference has no foreground: ``TP + FN == 0``, for confusion matrices ``(..., 4)`` (TP, FP, TN, FN
    as `monai.metrics.get_confusion_matrix` orders them)."""
    return (confusion[..., 0] + confusion[..., 3]) == 0


def confusion_matrix_values(metric_name: str, confusion: torch.Tensor) -> torch.Tensor:
    """The metric of each confusion matrix, as `monai.metrics.compute_confusion_matrix_metric` computes it, with
    Dice and Jaccard defined where reference and prediction are both empty (1, see the module's docstring).

    Args:
        metric_name: a `monai.metrics.ConfusionMatrixMetric` name or alias, e.g. ``"f1 score"`` (Dice).
        confusion: ``(..., 4)`` TP, FP, TN, FN counts, e.g. ``(images, channels, 4)``.

    Returns:
        ``confusion.shape[:-1]`` values, NaN where the metric is undefined (e.g. recall of an empty reference).

    Example::

        confusion_matrix_values("f1 score", torch.tensor([[0.0, 0, 9, 0], [0, 2, 7, 0]]))  # tensor([1., 0.])
    """
    name = check_confusion_matrix_metric_name(metric_name)
    values = compute_confusion_matrix_metric(name, confusion.float())
    if name in _AGREEMENT_METRICS:
        # TP + FP + FN == 0: reference and prediction both empty, where MONAI's 0 / 0 gives NaN
        agree = (confusion[..., 0] + confusion[..., 1] + confusion[..., 3]) == 0
        values = torch.where(agree, torch.ones_like(values), values)
    return values


class PerImageConfusionMatrixMetric(ConfusionMatrixMetric):
    """
    MONAI's `ConfusionMatrixMetric` of one metric, computed per image and averaged over the images (ISIC-2017's
    convention), with the metric defined for an empty reference as `confusion_matrix_values` defines it; images
    where it stays undefined (NaN) are left out of the mean. The buffer keeps each image's confusion matrix.

    Args:
        metric_name: one `ConfusionMatrixMetric` name or alias, e.g. ``"f1 score"`` (Dice).
        include_background: as for `ConfusionMatrixMetric`.
        reduction: how the per-image values are reduced, default the mean (NaN left out).

    Example::

        metric = PerImageConfusionMatrixMetric("f1 score")
        metric(y_pred=pred, y=label)  # binary (B, 1, H, W)
        mean_dice = metric.aggregate()[0]
    """

    def __init__(
        self, metric_name: str, include_background: bool = True, reduction: MetricReduction | str = "mean"
    ) -> None:
        super().__init__(
            include_background=include_background, metric_name=metric_name, compute_sample=True, reduction=reduction
        )

    def aggregate(  # type: ignore[override]
        self, compute_sample: bool = True, reduction: MetricReduction | str | None = None
    ) -> list[torch.Tensor]:
        """The reduced per-image values (a one-element list, as `ConfusionMatrixMetric.aggregate` returns)."""
        data = self.get_buffer()
        if not isinstance(data, torch.Tensor):
            raise ValueError("the data to aggregate must be a PyTorch Tensor.")
        # recomputed from the buffered confusion matrices, so that empty references get their defined values
        value, _ = do_metric_reduction(confusion_matrix_values(self.metric_name[0], data), reduction or self.reduction)
        return [value]
