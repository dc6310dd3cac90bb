"""The panels of ``python -m monai_jattn.datasets figure isic2017``: a raw image, its label and training inputs."""

from __future__ import annotations

import os
import tempfile

from monai_jattn.datasets.isic2017.layout import isic2017_datalist
from monai_jattn.datasets.isic2017.sample import write_isic2017_sample
from monai_jattn.datasets.isic2017.transforms import isic2017_eval_transforms, isic2017_train_transforms

__all__ = ["isic2017_figure_panels"]


def isic2017_figure_panels(root: str | os.PathLike | None, seed: int) -> list:
    """Raw image, its label, the training input and label resized to the default training size, and two
    augmented training inputs, of the first training image.

    Args:
        root: an ISIC-2017 folder; None for a one-image synthetic sample written with ``seed``.
        seed: seed of the synthetic sample (the augmentations follow `monai.utils.set_determinism`).
    """
    with tempfile.TemporaryDirectory() as tmp:
        entry = isic2017_datalist(root or write_isic2017_sample(tmp, 1, 0, 0, seed=seed))[0]
        raw = isic2017_eval_transforms(with_label=True).transforms[0](entry)
        train = isic2017_train_transforms(augment=False)(entry)
        augment = isic2017_train_transforms()
        augmented = [augment(entry)["image"] for _ in range(2)]
    size = tuple(raw["image"].shape[:0:-1])
    return [
        (raw["image"], f"raw {entry['id']} ({size[0]}x{size[1]})"),
        (raw["label"], "label (segmentation.png)"),
        (train["image"], "training input: 192x256, [0, 1]"),
        (train["label"], "training label"),
        (augmented[0], "augmented training input"),
        (augmented[1], "another augmentation"),
    ]
