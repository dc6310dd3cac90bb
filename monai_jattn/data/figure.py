"""Figures of raw vs preprocessed samples, for docs/data.md (``python -m monai_jattn.data figure``)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from monai.utils import set_determinism

from monai_jattn.data.drive import drive_datalist
from monai_jattn.utils import write_atomic
from monai_jattn.data.isic2017 import isic2017_datalist
from monai_jattn.data.sample_drive import write_drive_sample
from monai_jattn.data.sample_isic2017 import write_isic2017_sample

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


def _mosaic(patches, key: str, columns: int = 2):
    """Tile (C, w, h) patches into one (C, columns*w, rows*h) array, in `PILReader` layout."""
    rows = [
        np.concatenate([np.asarray(p[key]) for p in patches[i : i + columns]], axis=1)
        for i in range(0, len(patches), columns)
    ]
    return np.concatenate(rows, axis=2)


def plot_preprocessing(
    dataset: str, out_path: str | os.PathLike, root: str | os.PathLike | None = None, seed: int = 0
) -> Path:
    """Draw a raw sample and what the training and evaluation pipelines make of it, as a PNG.

    DRIVE: raw RGB, preprocessed (grey, CLAHE, gamma), vessel label, FOV mask, and four random
    training patches (96 x 96, or smaller for small images) with their labels. ISIC-2017: raw
    image, its label, the training input and label resized to the default training size, and two
    augmented training inputs.

    Args:
        dataset: ``"drive"`` or ``"isic2017"``.
        out_path: the PNG to write (atomically).
        root: a dataset folder in the official layout; default: a one-image synthetic sample.
        seed: seed of the synthetic sample and of the random patches and augmentations.
    """
    from monai_jattn.transforms import (
        drive_eval_transforms,
        drive_train_transforms,
        isic2017_eval_transforms,
        isic2017_train_transforms,
    )

    with tempfile.TemporaryDirectory() as tmp:
        set_determinism(seed)
        if dataset == "drive":
            entry = drive_datalist(root or write_drive_sample(tmp, num_train=1, num_test=0, seed=seed))[0]
            raw = drive_eval_transforms(clahe=False, gamma=1.0, channel="gray").transforms[0](entry)["image"]
            data = drive_eval_transforms()(entry)
            side = min(96, *raw.shape[1:])
            patches = drive_train_transforms(patch_size=side, num_patches=4)(entry)
            panels = [
                (raw, f"raw {entry['id']}"),
                (data["image"], "preprocessed: grey, CLAHE, gamma 1.2"),
                (data["label"], "label (1st_manual)"),
                (data["mask"], "FOV mask"),
                (_mosaic(patches, "image"), f"4 training patches ({side}x{side})"),
                (_mosaic(patches, "label"), "their labels"),
            ]
        elif dataset == "isic2017":
            entry = isic2017_datalist(root or write_isic2017_sample(tmp, 1, 0, 0, seed=seed))[0]
            raw = isic2017_eval_transforms(with_label=True).transforms[0](entry)
            train = isic2017_train_transforms(augment=False)(entry)
            augment = isic2017_train_transforms()
            augmented = [augment(entry)["image"] for _ in range(2)]
            size = tuple(raw["image"].shape[:0:-1])
            panels = [
                (raw["image"], f"raw {entry['id']} ({size[0]}x{size[1]})"),
                (raw["label"], "label (segmentation.png)"),
                (train["image"], "training input: 192x256, [0, 1]"),
                (train["label"], "training label"),
                (augmented[0], "augmented training input"),
                (augmented[1], "another augmentation"),
            ]
        else:
            raise ValueError(f"dataset must be 'drive' or 'isic2017', got {dataset!r}")
        figure = Figure(figsize=(3 * len(panels), 3.5), dpi=72)  # no pyplot: no global backend or state
        for axis, (image, title) in zip(figure.subplots(1, len(panels)), panels):
            _show(axis, image, title)
        figure.tight_layout(pad=0.6)
        write_atomic(out_path, lambda tmp_path: figure.savefig(tmp_path, format="png"))
    return Path(out_path)
