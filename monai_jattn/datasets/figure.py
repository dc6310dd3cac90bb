"""Figures of raw vs preprocessed samples, for docs/data.md (``python -m monai_jattn.datasets figure``).

Generic: each dataset draws its own panels (`DatasetSpec.figure_panels`); this module lays them out.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from monai.utils import set_determinism

from monai_jattn.atomic_write import write_atomic
from monai_jattn.datasets.registry import get_dataset

__all__ = ["plot_preprocessing"]


def _show(axis, tensor, title: str) -> None:
    """Show a channel-first (C, W, H) array of `PILReader` layout as a (H, W) picture."""
    array = np.asarray(tensor, dtype=np.float32)
    picture = np.moveaxis(array, 0, -1).transpose(1, 0, 2)
    if picture.shape[-1] == 1:
        axis.imshow(picture[..., 0], cmap="gray", vmin=0, vmax=1)
    else:
        axis.imshow(np.clip(picture / (255.0 if picture.max() > 1 else 1.0), 0, 1))
    axis.set_title(title, fontsize=9)
    axis.axis("off")


def plot_preprocessing(
    dataset: str, out_path: str | os.PathLike, root: str | os.PathLike | None = None, seed: int = 0
) -> Path:
    """Draw a raw sample and what the training and evaluation pipelines make of it, as a PNG, in one row.

    The panels are the dataset's (`DatasetSpec.figure_panels`), e.g. for DRIVE: raw RGB, preprocessed,
    vessel label, FOV mask and random training patches with their labels.

    Args:
        dataset: a registered dataset name, e.g. ``"drive"``.
        out_path: the PNG to write (atomically).
        root: a dataset folder in the official layout; default: a one-image synthetic sample.
        seed: seed of the synthetic sample and of the random patches and augmentations.

    Raises:
        ValueError: for an unknown dataset, or one without figure panels.
    """
    spec = get_dataset(dataset)
    if spec.figure_panels is None:
        raise ValueError(f"{spec.title} has no preprocessing figure (its DatasetSpec sets no figure_panels)")
    set_determinism(seed)
    panels = spec.figure_panels(root, seed)
    figure = Figure(figsize=(3 * len(panels), 3.5), dpi=72, layout="constrained")  # no pyplot: no global state
    for axis, (image, title) in zip(figure.subplots(1, len(panels)), panels):
        _show(axis, image, title)
    write_atomic(out_path, lambda tmp_path: figure.savefig(tmp_path, format="png"))
    return Path(out_path)
