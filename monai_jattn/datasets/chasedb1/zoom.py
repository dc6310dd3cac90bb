"""`zoom_to_drive`: the zoom that brings CHASE_DB1 images to DRIVE's scale (cross-dataset evaluation)."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from monai_jattn.data.errors import DatasetError
from monai_jattn.datasets.chasedb1.fov import fov_diameter
from monai_jattn.datasets.chasedb1.layout import (
    CHASEDB1_SPLITS,
    chasedb1_datalist,
    chasedb1_has_split,
    find_chasedb1_dir,
)

__all__ = ["DRIVE_FOV_DIAMETER", "zoom_to_drive"]

DRIVE_FOV_DIAMETER = 540.0
"""DRIVE's FOV diameter in pixels: the median over the 40 official masks (``training/mask`` and ``test/mask``)
of the larger side of the FOV's bounding box (`fov_diameter`); measured 535-541 px wide, 533-536 px high."""


def zoom_to_drive(root: str | os.PathLike, fov_cache_dir: str | os.PathLike | None = None) -> float:
    """The zoom that brings the CHASE_DB1 images under ``root`` to DRIVE's scale, for the DRIVE bundle's
    ``image_zoom``: `DRIVE_FOV_DIAMETER` / the median FOV diameter of the images (all splits present).

    Vessel calibre in pixels scales with the FOV diameter in pixels (both data sets image the posterior
    pole around the optic disc and macula), so a network trained on DRIVE sees vessels of the widths it
    learnt when the image is zoomed by this factor. DRIVE's 540 px was measured on its 40 official masks
    (`fov_diameter`); real CHASE_DB1 FOVs are about 900-960 px across, for a zoom of about 0.56-0.6.

    Args:
        root: a CHASE_DB1 folder, as for `chasedb1_datalist`.
        fov_cache_dir: where the FOV masks are cached, as for `chasedb1_datalist`.

    Raises:
        DatasetError: as `chasedb1_datalist`, or when no split is present or every FOV is empty.
    """
    splits = [split for split in CHASEDB1_SPLITS if chasedb1_has_split(root, split)]
    if not splits:
        find_chasedb1_dir(root)  # raises naming the folder
        raise DatasetError(f"{root}: no CHASE_DB1 image of any split")
    diameters = []
    for split in splits:
        for entry in chasedb1_datalist(root, split, fov_cache_dir=fov_cache_dir):
            with Image.open(entry["mask"]) as mask:
                diameters.append(fov_diameter(np.asarray(mask) > 0))
    median = float(np.median(diameters))
    if median <= 0:
        raise DatasetError(f"{root}: the computed FOV masks are empty (are the images black?)")
    return DRIVE_FOV_DIAMETER / median
