"""Ignite metric handler for pixel-level ROC AUC of segmentations (the metrics are in `monai_jattn.metrics`)."""

from __future__ import annotations

from collections.abc import Callable

from monai.handlers import IgniteMetricHandler
from monai.utils import MetricReduction

from monai_jattn.metrics.roc_auc import PerImageROCAUCMetric, PooledROCAUCMetric

__all__ = ["PerImageROCAUCMetric", "PixelROCAUC", "PooledROCAUCMetric"]


class PixelROCAUC(IgniteMetricHandler):
    """
    Ignite metric handler for pixel-level ROC AUC: `PooledROCAUCMetric` (``pooled=True``, one AUC
    over all pixels of all images) or `PerImageROCAUCMetric` (the AUC of each image, reduced with
    ``reduction``). With ``save_details`` each image's AUC goes to ``engine.state.metric_details``
    (e.g. for `MetricsReportSaver`'s per-image CSV) in both modes.

    Args:
        pooled: pool all pixels (True) or reduce per-image values (False).
        reduction: how to reduce the per-image values when not ``pooled``, default ``"mean"``.
        output_transform: extracts ``(y_pred, y)``, foreground probabilities and binary labels, from
            ``engine.state.output``, e.g. ``monai.handlers.from_engine(["prob", "label"])``.
        save_details: whether to save the per-image values in ``engine.state.metric_details``.
    """

    def __init__(
        self,
        pooled: bool = False,
        reduction: MetricReduction | str = MetricReduction.MEAN,
        output_transform: Callable = lambda x: x,
        save_details: bool = True,
    ) -> None:
        metric_fn = PooledROCAUCMetric() if pooled else PerImageROCAUCMetric(reduction=reduction)
        super().__init__(metric_fn=metric_fn, output_transform=output_transform, save_details=save_details)
