"""The ablation's report from its runs' results: ``results.csv``, ``results.md`` (with the paper's published
numbers where `~monai_jattn.experiments.paper_results` has them), ``dice_bars.png`` (the paper's Fig. 3) and
``segmentation_grid.png`` (Fig. 2; only where the test split has labels and the evaluations saved 2D masks,
otherwise ``results.md`` says why), each written atomically."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from monai_jattn.atomic_write import write_text_atomic
from monai_jattn.data import DatasetError
from monai_jattn.datasets import dataset_datalist, get_dataset
from monai_jattn.experiments.figures import load_picture, plot_dice_bars, plot_segmentation_grid
from monai_jattn.experiments.paper_results import PAPER_RESULTS
from monai_jattn.experiments.results import (
    main_dice,
    metric_title,
    paper_table_markdown,
    results_markdown,
    row_protocols,
    write_results_csv,
)
from monai_jattn.metrics.names import metric_key

__all__ = ["each_run_markdown", "write_report"]

logger = logging.getLogger(__name__)


class _NoGrid(Exception):
    """Why the segmentation grid cannot be drawn (one line for ``results.md``)."""


def _binary_picture(path: str | os.PathLike) -> np.ndarray:
    return (load_picture(path) > 0).astype(np.float32)


def _grid_pictures(
    dataset: str, dataset_dir: Path, mask_folders: Mapping[str, Path], count: int
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, dict[str, np.ndarray]]]:
    """The segmentation grid's pictures: the first ``count`` test images with their ground truths by id, and
    every model's masks of them.

    Args:
        dataset: the registered dataset.
        dataset_dir: its folder.
        mask_folders: model label -> the folder where its evaluation saved a 2D ``<id>_mask.png`` per test image.
        count: test images in the grid.

    Raises:
        _NoGrid: where the test split has no labels (e.g. the MSD's) or a model's mask is missing (e.g. a
            bundle that saves no 2D masks).
    """
    try:
        entries = dataset_datalist(dataset, dataset_dir, "test", require_labels=True)[:count]
    except DatasetError as error:
        raise _NoGrid(f"(it needs a test split with labels): {error}") from None
    masks = {
        label: {e["id"]: folder / f"{e['id']}_mask.png" for e in entries} for label, folder in mask_folders.items()
    }
    missing = [str(path) for paths in masks.values() for path in paths.values() if not path.is_file()]
    if missing:
        raise _NoGrid(f"(it needs the 2D masks the evaluations save): {missing[0]} not found")
    images = {e["id"]: (load_picture(e["image"]), _binary_picture(e["label"])) for e in entries}
    return images, {label: {i: _binary_picture(path) for i, path in paths.items()} for label, paths in masks.items()}


def each_run_markdown(rows: Sequence[dict[str, Any]], output_dir: str | os.PathLike) -> str:
    """A table of every run: the Dice it was scored with, and its validation curve's best value (the checkpoint
    that was scored) and last value, from ``runs/<model>_seed<k>/train/training_curve.json``. Where the validation
    images are also the scored images, the gap between best and last shows what choosing the checkpoint on them
    adds; "–" where a run has no curve.

    Args:
        rows: per-run results with ``model``, ``label``, ``seed`` and `main_dice`.
        output_dir: the ablation output folder (with ``runs/``).
    """
    metric = main_dice(rows)
    key = metric_key(metric, row_protocols(rows)[0])
    lines = [
        f"| Model | Seed | {metric_title(metric)} | best validation (iteration) | last validation (iteration) |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        curve_path = Path(output_dir) / "runs" / f"{row['model']}_seed{row['seed']}" / "train" / "training_curve.json"
        best = last = "–"
        if curve_path.is_file():
            curve = json.loads(curve_path.read_text()).get("validation", {})
            values, iterations = curve.get("value", []), curve.get("iteration", [])
            if values:
                top = max(range(len(values)), key=values.__getitem__)
                best = f"{values[top]:.4f} ({iterations[top]:,})"
                last = f"{values[-1]:.4f} ({iterations[-1]:,})"
        lines.append(f"| {row['label']} | {row['seed']} | {float(row[key]):.4f} | {best} | {last} |")
    return "\n".join(lines) + "\n"


def write_report(
    rows: Sequence[dict[str, Any]],
    output_dir: str | os.PathLike,
    dataset: str,
    dataset_dir: str | os.PathLike,
    num_figure_images: int = 3,
    command: str = "",
    data_label: str = "",
) -> None:
    """Write ``results.csv``, ``results.md``, ``dice_bars.png`` and ``segmentation_grid.png``.

    The tables have the metrics the runs report (see `metric_columns`), then each run's `main_dice` beside its
    validation curve's best and last values (`each_run_markdown`). The bars show `main_dice`. The grid
    shows the first ``num_figure_images`` test images, their ground truth and, for every model, the mask its
    run with the first seed saved during evaluation; it needs a test split with labels and 2D masks (not
    the MSD's). A figure that cannot be drawn is not: ``results.md`` and the log say why.

    Args:
        rows: per-run results (from :func:`run_ablation` or :func:`collect_results`).
        output_dir: the ablation output folder (with ``runs/``).
        dataset: the registered dataset; its `~monai_jattn.experiments.paper_results.PAPER_RESULTS` (with their
            note) follow the table, its ``truth_title`` names the ground-truth column of the grid.
        dataset_dir: the dataset folder the runs were evaluated on.
        num_figure_images: rows of the segmentation grid.
        command: the command line, recorded in ``results.md``.
        data_label: names the data in the titles of the report and figures, e.g. ``"synthetic DRIVE
            sample"``; default: the dataset's name (``"DRIVE"``, ``"ISIC-2017"``).
    """
    output_dir = Path(output_dir)
    spec = get_dataset(dataset)
    title = data_label or spec.title
    budgets = sorted({int(row["max_iterations"]) for row in rows})
    seeds = sorted({int(row["seed"]) for row in rows})
    first_seed = {}
    for row in rows:
        first_seed.setdefault(row["model"], row)
    mask_folders = {
        row["label"]: output_dir / "runs" / f"{model}_seed{row['seed']}" / "eval" / "predictions"
        for model, row in first_seed.items()
    }
    has_dice = main_dice(rows) is not None
    skipped = [] if has_dice else ["no Dice bar chart: the runs report no dice or mean_dice"]
    try:
        grid = _grid_pictures(dataset, Path(dataset_dir), mask_folders, num_figure_images)
    except _NoGrid as reason:
        grid = None
        skipped.append(f"no segmentation grid {reason}")
    for line in skipped:
        logger.warning(f"{output_dir}: {line}")
    notes = [
        *([f"command: `{command}`"] if command else []),
        f"data: `{dataset_dir}`; budget: {', '.join(map(str, budgets))} iterations per run; seeds: "
        f"{', '.join(map(str, seeds))}; mean ± sample standard deviation over seeds",
        "training time per run (with its validations): median {:.0f} s, from {:.0f} to {:.0f} s".format(
            *np.percentile([row["train_seconds"] for row in rows], [50, 0, 100])
        ),
        *skipped,
    ]
    markdown = results_markdown(rows, f"Ablation on {title}", notes)
    if has_dice:
        markdown += f"\n## Each run\n\n{each_run_markdown(rows, output_dir)}"
    if dataset in PAPER_RESULTS:
        published = PAPER_RESULTS[dataset]
        markdown += f"\n{published.note}\n\n" + paper_table_markdown(published.table)
    write_results_csv(rows, output_dir / "results.csv")
    write_text_atomic(output_dir / "results.md", markdown)
    if has_dice:
        plot_dice_bars(
            rows, output_dir / "dice_bars.png", f"{title}: Dice per model ({', '.join(map(str, budgets))} iterations)"
        )
    if grid is not None:
        plot_segmentation_grid(
            *grid, output_dir / "segmentation_grid.png", f"{title}: segmentation maps", truth_title=spec.truth_title
        )
