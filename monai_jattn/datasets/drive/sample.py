"""A synthetic dataset in the official DRIVE layout, for tests and demos (images from `synthesize_fundus`)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from monai_jattn.atomic_write import save_image_atomic
from monai_jattn.datasets.synthetic import DRIVE_IMAGE_SIZE, save_binary_gif, synthesize_fundus
from monai_jattn.setting_checks import check_count, check_image_size

__all__ = ["write_drive_sample"]

_OBSERVER2_PALETTE = (4, 2, 4, 252, 254, 252)  # the colours of DRIVE's 2nd_manual GIFs: not pure black


def write_drive_sample(
    out_dir: str | os.PathLike,
    num_train: int = 20,
    num_test: int = 20,
    seed: int = 0,
    image_size: tuple[int, int] | None = None,
    with_test_labels: bool = True,
) -> Path:
    """Write a synthetic dataset in the official DRIVE layout, with ``out_dir`` as the DRIVE folder.

    Training images are numbered from 21 (``training/images/21_training.tif``, RGB TIFF), test
    images from 1 (``test/images/01_test.tif``); labels ``1st_manual/NN_manual1.gif`` and FOV masks
    ``mask/<stem>_mask.gif`` are 0/255 GIFs, the first of each split in palette mode "P" and the
    others in mode "L". Test labels include the second observer's ``2nd_manual/NN_manual2.gif``
    (the first in palette mode with DRIVE's near-black and near-white colours (4, 2, 4) and
    (252, 254, 252), the others 0/255 in mode "L"). Existing files of
    the same names are replaced; each file is written atomically.

    Args:
        out_dir: the DRIVE folder to write (created if needed).
        num_train: number of training images.
        num_test: number of test images.
        seed: the seed; image ``k`` of a split depends only on ``seed``, the split and ``k``.
        image_size: (height, width); None for DRIVE's 584 x 565.
        with_test_labels: write ``test/1st_manual`` and ``test/2nd_manual`` (older releases); False
            mimics the current download without test labels.

    Returns:
        ``out_dir`` as a `Path`.

    Raises:
        SettingError: a negative count, or a size that is not two positive integers.

    Examples::

        >>> root = write_drive_sample("/tmp/DRIVE", num_train=4, num_test=2, image_size=(96, 96))
        >>> len(drive_datalist(root, "training"))
        4
    """
    out_dir = Path(out_dir)
    num_train, num_test = check_count(num_train, "num_train"), check_count(num_test, "num_test")
    size = check_image_size(image_size) if image_size is not None else DRIVE_IMAGE_SIZE
    for split, split_index, count, first in (("training", 0, num_train, 21), ("test", 1, num_test, 1)):
        for k in range(count):
            rgb, vessels, second, fov = synthesize_fundus(np.random.default_rng((seed, split_index, k)), size)
            stem, number = f"{first + k:02d}_{split}", f"{first + k:02d}"
            save_image_atomic(Image.fromarray(rgb, "RGB"), out_dir / split / "images" / f"{stem}.tif")
            save_binary_gif(fov, out_dir / split / "mask" / f"{stem}_mask.gif", palette=k == 0)
            if split == "training" or with_test_labels:
                save_binary_gif(vessels, out_dir / split / "1st_manual" / f"{number}_manual1.gif", palette=k == 0)
            if split == "test" and with_test_labels:
                save_binary_gif(
                    second,
                    out_dir / split / "2nd_manual" / f"{number}_manual2.gif",
                    palette=k == 0,
                    colours=_OBSERVER2_PALETTE,
                )
    return out_dir
