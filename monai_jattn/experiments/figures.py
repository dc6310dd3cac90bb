"""The paper's ablation figures: Dice per model as bars (its Fig. 3) and segmentation maps side by side (Fig. 2)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from monai.data import PILReader
from monai.transforms import LoadImage

from monai_jattn.atomic_write import save_figure_atomic
from monai_jattn.experiments.results import (
    main_dice,
    metric_columns,
    metric_title,
    observer2_row,
    row_protocols,
    summarise,
)
from monai_jattn.metrics.names import PROTOCOL_TITLES, metric_key
from monai_jattn.networks.names import short_label

__all__ = ["load_picture", "plot_dice_bars", "plot_segmentation_grid"]


def load_picture(path: str | os.PathLike) -> np.ndarray:
    """Read a 2D image (any format PIL reads) as a (height, width[, channels]) array for display.

    Args:
        path: the image file.
    """
    loader = LoadImage(reader=PILReader(reverse_indexing=False), image_only=True, dtype=np.float32)
    return np.asarray(loader(str(path)))


def plot_dice_bars(rows: Sequence[dict[str, Any]], path: str | os.PathLike, title: str = "") -> None:
    """Bar chart of mean Dice per model with the standard deviation over seeds as error bars, one panel per
    evaluation protocol the rows report (DRIVE: whole image, inside FOV). The Dice is `main_dice`: ``dice``, else
    ``mean_dice`` (the mean over classes, e.g. MSD).

    With the default models this is the paper's Fig. 3 (baseline DenseUNet and JA-1..JA-9) with
    DenseUNet-SA and DenseUNet-PWA beside them. The bars keep the order of ``rows``; the best mean
    is drawn in a darker colour and every bar is labelled with its value; with several seeds, a dot marks each
    seed's own score. Where the runs scored
    DRIVE's second observer, its Dice is a dashed line (the human baseline).

    Args:
        rows: per-run results with ``model`` and ``dice``, ``dice_<protocol>`` or ``mean_dice`` (and ``seed``).
        path: the PNG to write (atomically).
        title: the figure title.

    Raises:
        ValueError: when the rows report no Dice.
    """
    metric = main_dice(rows)
    if metric is None:
        raise ValueError(f"the rows report no dice or mean_dice; their metrics: {metric_columns(rows)}.")
    summary = summarise(rows)
    protocols = row_protocols(rows)
    observer = observer2_row(rows)
    labels = [short_label(entry["label"]) for entry in summary]
    width = max(4.0, 0.7 * len(summary) + 1.5)
    figure = Figure(figsize=(width * len(protocols), 3.6))
    axes = figure.subplots(1, len(protocols), squeeze=False)
    for axis, protocol in zip(axes[0], protocols):
        key = metric_key(metric, protocol)
        means = [entry[f"{key}_mean"] for entry in summary]
        errors = [entry[f"{key}_std"] or 0.0 for entry in summary]  # no error bar for a single seed
        best = int(np.argmax(means))
        colours = ["#1f4e79" if i == best else "#7aa6d6" for i in range(len(means))]
        bars = axis.bar(labels, means, yerr=errors if any(errors) else None, color=colours, capsize=3)
        axis.bar_label(bars, labels=[f"{m:.3f}" for m in means], fontsize=7, padding=2)
        runs = [[float(row[key]) for row in rows if row["model"] == entry["model"]] for entry in summary]
        if any(len(values) > 1 for values in runs):  # each seed's own score, so the spread behind the bar shows
            xs = [i + 0.2 for i, values in enumerate(runs) for _ in values]  # beside the error bar, not on it
            axis.scatter(xs, [v for values in runs for v in values], s=12, color="black", zorder=3, label="one seed")
            axis.legend(fontsize=7, loc="lower left")
        seen = [v for values in runs for v in values]
        reference = [observer[key]] if observer is not None and key in observer else []
        for value in reference:
            axis.axhline(value, color="#c0504d", linestyle="--", linewidth=1, label=f"2nd observer {value:.3f}")
            axis.legend(fontsize=7, loc="lower right")
        low = min(means + reference + seen) - max(errors) - 0.02
        high = max(means + reference + seen) + max(errors) + 0.02
        axis.set_ylim(max(0.0, low), min(1.0, high) if high > low else 1.0)
        axis.set_ylabel(metric_title(metric) + ("" if protocol is None else f", {PROTOCOL_TITLES[protocol]}"))
        axis.tick_params(axis="x", labelrotation=45, labelsize=8)
        axis.grid(axis="y", alpha=0.3)
    figure.suptitle(title or "Dice per model (mean ± std over seeds)", fontsize=10)
    figure.tight_layout()
    save_figure_atomic(figure, path, dpi=150)


def _show(axis: Any, picture: np.ndarray, title: str) -> None:
    if picture.ndim == 3 and picture.shape[-1] == 1:
        picture = picture[..., 0]
    if picture.ndim == 2:
        axis.imshow(picture, cmap="gray", vmin=0, vmax=max(1.0, float(picture.max())))
    else:
        axis.imshow(np.clip(picture / (255.0 if picture.max() > 1 else 1.0), 0, 1))
    axis.set_title(title, fontsize=8)
    axis.set_xticks([])
    axis.set_yticks([])


def plot_segmentation_grid(
    images: Mapping[str, tuple[np.ndarray, np.ndarray | None]],
    predictions: Mapping[str, Mapping[str, np.ndarray]],
    path: str | os.PathLike,
    title: str = "",
    truth_title: str = "ground truth",
) -> None:
    """A grid of segmentation maps, one row per image: image, ground truth, then each model's mask.

    Args:
        images: image id -> (image, ground truth or None), each (height, width[, channels]).
        predictions: model label -> image id -> binary mask (height, width); every model must
            have a mask for every image.
        path: the PNG to write (atomically).
        title: the figure title.
        truth_title: the title of the ground-truth column, e.g. "1st observer" for DRIVE.

    Raises:
        KeyError: naming the model and image whose mask is missing.
    """
    for label, masks in predictions.items():
        missing = [image_id for image_id in images if image_id not in masks]
        if missing:
            raise KeyError(f"model {label} has no segmentation for image(s) {missing}.")
    columns = 2 + len(predictions)
    figure = Figure(figsize=(1.6 * columns, 1.9 * len(images) + 0.5))
    axes = figure.subplots(len(images), columns, squeeze=False)
    for row, (image_id, (image, truth)) in enumerate(images.items()):
        _show(axes[row][0], image, f"{image_id}")
        if truth is None:
            axes[row][1].axis("off")
            axes[row][1].set_title("no ground truth", fontsize=8)
        else:
            _show(axes[row][1], truth, truth_title)
        for column, (label, masks) in enumerate(predictions.items(), start=2):
            _show(axes[row][column], masks[image_id], short_label(label))
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    save_figure_atomic(figure, path, dpi=100)
