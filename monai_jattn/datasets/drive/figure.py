"""The panels of ``python -m monai_jattn.datasets figure drive``: a raw DRIVE image and what the pipelines make
of it."""

from __future__ import annotations

import os
import tempfile

import numpy as np

from monai_jattn.datasets.drive.layout import drive_datalist
from monai_jattn.datasets.drive.sample import write_drive_sample
from monai_jattn.datasets.drive.transforms import drive_eval_transforms, drive_train_transforms

__all__ = ["drive_figure_panels"]


def _mosaic(patches, key: str, columns: int = 2) -> np.ndarray:
    """Tile (C, w, h) patches into one (C, columns*w, rows*h) array, in `PILReader` layout."""
    rows = [
        np.concatenate([np.asarray(p[key]) for p in patches[i : i + columns]], axis=1)
        for i in range(0, len(patches), columns)
    ]
    return np.concatenate(rows, axis=2)


def drive_figure_panels(root: str | os.PathLike | None, seed: int) -> list:
    """Raw RGB, preprocessed (grey, CLAHE, gamma), vessel label, FOV mask, and four random training patches
    (96 x 96, or smaller for small images) with their labels, of the first training image.

    Args:
        root: a DRIVE folder; None for a one-image synthetic sample written with ``seed``.
        seed: seed of the synthetic sample (the patches follow `monai.utils.set_determinism`).
    """
    with tempfile.TemporaryDirectory() as tmp:
        entry = drive_datalist(root or write_drive_sample(tmp, num_train=1, num_test=0, seed=seed))[0]
        raw = drive_eval_transforms(clahe=False, gamma=1.0, channel="gray").transforms[0](entry)["image"]
        data = drive_eval_transforms()(entry)
        side = min(96, *raw.shape[1:])
        patches = drive_train_transforms(patch_size=side, num_patches=4)(entry)
    return [
        (raw, f"raw {entry['id']}"),
        (data["image"], "preprocessed: grey, CLAHE, gamma 1.2"),
        (data["label"], "label (1st_manual)"),
        (data["mask"], "FOV mask"),
        (_mosaic(patches, "image"), f"4 training patches ({side}x{side})"),
        (_mosaic(patches, "label"), "their labels"),
    ]
