"""Panels of the MSD preprocessing figure (``python -m monai_jattn.datasets figure msd``)."""

from __future__ import annotations

import os
import tempfile

import numpy as np

from monai_jattn.datasets.msd.layout import msd_datalist, msd_facts
from monai_jattn.datasets.msd.sample import write_msd_sample

__all__ = ["msd_figure_panels"]


def _slice_picture(volume: np.ndarray, index: int | None, spatial_dims: int, scale: float | None = None) -> np.ndarray:
    """A channel-first 2D picture in [0, 1]: the first channel, at ``index`` of the last axis in 3D."""
    picture = np.asarray(volume[:1], dtype=np.float32)
    if spatial_dims == 3:
        picture = picture[..., index]
    low, high = (0.0, scale) if scale else (float(picture.min()), float(picture.max()))
    return np.clip((picture - low) / max(high - low, 1e-8), 0.0, 1.0)


def msd_figure_panels(root: str | os.PathLike | None, seed: int) -> list:
    """The first training case, raw and resampled to 1 mm in RAS with MR-style normalisation (as the MSD
    bundle's defaults), with its label: the slice of the last axis with the most foreground (3D).

    Args:
        root: an MSD-layout folder; None for a one-case synthetic sample written with ``seed``.
        seed: seed of the synthetic sample.
    """
    from monai.transforms import (  # the figure only: keep `import monai_jattn.datasets` light
        Compose,
        EnsureChannelFirstd,
        LoadImaged,
        NormalizeIntensityd,
        Orientationd,
        Spacingd,
    )

    keys = ("image", "label")
    with tempfile.TemporaryDirectory() as tmp:
        root = root or write_msd_sample(tmp, num_train=1, num_test=0, seed=seed)
        facts = msd_facts(root)
        dims, top = facts["spatial_dims"], float(max(int(k) for k in facts["labels"]) or 1)
        raw = Compose([LoadImaged(keys, image_only=True), EnsureChannelFirstd(keys)])(msd_datalist(root)[0])
        prepared = Compose(
            [
                Orientationd(keys, axcodes="RA" if dims == 2 else "RAS", labels=None),
                Spacingd(keys, pixdim=(1.0,) * dims, mode=("bilinear", "nearest")),
                NormalizeIntensityd("image", nonzero=True, channel_wise=True),
            ]
        )(dict(raw))

    def panels(data: dict, what: str) -> list:
        label = np.asarray(data["label"])
        index = int(np.argmax((label[0] > 0).sum(axis=(0, 1)))) if dims == 3 else None
        where = f", slice {index}" if dims == 3 else ""
        size = "x".join(str(n) for n in label.shape[1:])
        return [
            (_slice_picture(np.asarray(data["image"]), index, dims), f"{what} ({size}{where})"),
            (_slice_picture(label, index, dims, top), f"label ({len(facts['labels'])} classes)"),
        ]

    return panels(raw, "raw") + panels(prepared, "1 mm, RAS, normalised")
