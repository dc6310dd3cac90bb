"""Panels of the CHASE_DB1 preprocessing figure (``python -m monai_jattn.datasets figure chasedb1``)."""

from __future__ import annotations

import os
import tempfile

import numpy as np

from monai_jattn.datasets.chasedb1.fov import FOV_THRESHOLD
from monai_jattn.datasets.chasedb1.layout import CHASEDB1_SPLITS, chasedb1_datalist, chasedb1_has_split
from monai_jattn.datasets.chasedb1.sample import write_chasedb1_sample

__all__ = []


def _figure_panels(root: str | os.PathLike | None, seed: int) -> list:
    """Raw image, DRIVE preprocessing, first-observer label and computed FOV of the first image, channel-first."""
    from monai_jattn.transforms import DRIVEPreprocessd, LoadImage2Dd

    with tempfile.TemporaryDirectory() as tmp:
        root = root if root is not None else write_chasedb1_sample(tmp, 1, 0, seed=seed)
        split = next((s for s in CHASEDB1_SPLITS if chasedb1_has_split(root, s)), "training")
        entry = chasedb1_datalist(root, split)[0]
        keys = ("image", "label", "mask") if "label" in entry else ("image", "mask")
        data = LoadImage2Dd(keys, binary_keys=keys[1:])(entry)
        panels = [
            (np.asarray(data["image"]), f"raw {entry['id']}"),
            (np.asarray(DRIVEPreprocessd("image")(data)["image"]), "preprocessed as DRIVE: grey, CLAHE, gamma 1.2"),
        ]
        if "label" in data:
            panels.append((np.asarray(data["label"]), "label (1st observer, _1stHO)"))
        panels.append((np.asarray(data["mask"]), f"computed FOV (red > {FOV_THRESHOLD}, morphology)"))
    return panels
