"""The metric handlers of a segmentation evaluation: the paper's metrics in each evaluation protocol, with
MONAI's `ConfusionMatrix` handler and `PixelROCAUC`, named as `MetricsReportSaver` reports them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from monai.handlers import ConfusionMatrix, IgniteMetricHandler, from_engine
from monai.metrics import DiceMetric

from monai_jattn.handlers.roc_auc import PixelROCAUC
from monai_jattn.metrics.confusion import PerImageConfusionMatrixMetric
from monai_jattn.metrics.names import CONFUSION_MATRIX_METRICS, metric_key

__all__ = ["class_dice_metrics", "segmentation_metrics"]


def segmentation_metrics(
    metric_names: Sequence[str],
    protocols: Mapping[str, str] | None = None,
    pred_key: str = "pred",
    prob_key: str | None = "prob",
    label_key: str = "label",
    prefix: str = "",
    per_image: bool = False,
) -> dict[str, IgniteMetricHandler]:
    """Metric handlers for an evaluator, one per metric and protocol, each pooled over all images (DRIVE's
    convention) or computed per image and averaged (``per_image``, ISIC-2017's).

    The metrics of `CONFUSION_MATRIX_METRICS` use MONAI's `ConfusionMatrix` handler with ``reduction="sum"``
    or, per image, `monai_jattn.metrics.PerImageConfusionMatrixMetric` (empty references as
    `monai_jattn.metrics.confusion` defines them); ``"auc"`` uses `PixelROCAUC`, pooled or per image (an image
    with one class left out). Each handler saves per-image details for `MetricsReportSaver`'s CSV.

    Args:
        metric_names: e.g. ``["recall", "tnr", "dice", "accuracy", "auc"]``.
        protocols: protocol name -> postfix of the engine output keys that hold that protocol's
            pixels, e.g. ``{"whole_image": "", "inside_fov": "_fov"}`` where `MaskedPixelsd` with
            ``output_postfix="_fov"`` wrote ``pred_fov``, ``prob_fov`` and ``label_fov``. None: one
            protocol, plain metric names and keys.
        pred_key: key of the binary prediction (e.g. ``"observer2"`` to score a second observer).
        prob_key: key of the foreground probability, needed for ``"auc"``.
        label_key: key of the binary reference.
        prefix: prefix of every metric name, e.g. `OBSERVER2_PREFIX` for a reference row.
        per_image: each metric per image, then the mean over the images, instead of pooled pixels.

    Returns:
        metric name (as `metric_key` makes it, e.g. ``"dice_whole_image"``) -> handler, metric by
        metric within each protocol.

    Raises:
        ValueError: for a metric other than those above, or ``"auc"`` without ``prob_key``.

    Example::

        metrics = segmentation_metrics(["dice", "auc"], {"whole_image": "", "inside_fov": "_fov"})
        sorted(metrics)  # ['auc_inside_fov', 'auc_whole_image', 'dice_inside_fov', 'dice_whole_image']
    """
    unknown = [name for name in metric_names if name != "auc" and name not in CONFUSION_MATRIX_METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; choose from {[*CONFUSION_MATRIX_METRICS, 'auc']}.")
    if "auc" in metric_names and prob_key is None:
        raise ValueError("metric 'auc' needs prob_key, the key of the foreground probability.")
    handlers: dict[str, IgniteMetricHandler] = {}
    for protocol, postfix in (protocols or {None: ""}).items():
        label = f"{label_key}{postfix}"
        for name in metric_names:
            if name == "auc":
                handler = PixelROCAUC(
                    pooled=not per_image, output_transform=from_engine([f"{prob_key}{postfix}", label])
                )
            elif per_image:  # each image's value, then their mean; an empty reference as the metric defines it
                handler = IgniteMetricHandler(
                    metric_fn=PerImageConfusionMatrixMetric(CONFUSION_MATRIX_METRICS[name]),
                    output_transform=from_engine([f"{pred_key}{postfix}", label]),
                    save_details=True,
                )
            else:  # one confusion matrix over every pixel of every image
                handler = ConfusionMatrix(
                    metric_name=CONFUSION_MATRIX_METRICS[name],
                    reduction="sum",
                    output_transform=from_engine([f"{pred_key}{postfix}", label]),
                )
            handlers[metric_key(name, protocol, prefix)] = handler
    return handlers


def class_dice_metrics(
    class_names: Sequence[str], save_details: bool = False, pred_key: str = "pred", label_key: str = "label"
) -> dict[str, IgniteMetricHandler]:
    """One Dice handler (MONAI's `DiceMetric` in an `IgniteMetricHandler`) per foreground class of a one-hot
    prediction and label, named ``dice_<class name>`` (spaces become ``_``), for a multi-class evaluator's
    ``additional_metrics``.

    Args:
        class_names: the names of every class, background first (e.g. an MSD ``dataset.json``'s labels); the
            first is skipped.
        save_details: keep each image's value (``save_details=True``), for per-image reports.
        pred_key: key of the one-hot prediction, shape ``(C, *spatial)`` per image.
        label_key: key of the one-hot label.

    Returns:
        ``dice_<name>`` -> the Dice of channel ``c`` of prediction and label, for ``c`` = 1 .. C-1; an image whose
        label lacks the class scores 1 where the prediction lacks it too, else 0 (MONAI's ``ignore_empty=False``),
        so that no image drops out of the mean.

    Example::

        sorted(class_dice_metrics(["background", "liver", "liver tumour"]))  # ['dice_liver', 'dice_liver_tumour']
    """
    pairs = from_engine([pred_key, label_key])

    def channel(c: int):
        def select(output):
            # channel c of every prediction and label, kept as a 1-channel tensor
            return [[y[c : c + 1] for y in part] for part in pairs(output)]

        return select

    return {
        f"dice_{name.replace(' ', '_')}": IgniteMetricHandler(  # MeanDice, whose handler has no ignore_empty
            metric_fn=DiceMetric(include_background=True, ignore_empty=False),
            save_details=save_details,
            output_transform=channel(c),
        )
        for c, name in enumerate(class_names[1:], start=1)
    }
