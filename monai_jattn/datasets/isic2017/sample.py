"""A synthetic dataset in the official ISIC-2017 Part 1 layout, for tests and demos (images from
`synthesize_dermoscopy`, with decoy superpixel files and metadata CSVs as the real download has)."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np
from PIL import Image

from monai_jattn.atomic_write import save_image_atomic, write_text_atomic
from monai_jattn.datasets.isic2017.layout import ISIC2017_FOLDERS
from monai_jattn.datasets.synthetic import synthesize_dermoscopy
from monai_jattn.setting_checks import check_count, check_image_size

__all__ = ["ISIC2017_SAMPLE_SIZES", "write_isic2017_sample"]

ISIC2017_SAMPLE_SIZES = ((540, 722), (767, 1022), (1129, 1504))
"""(height, width) of the full-size sample images: common ISIC-2017 sizes (the largest real ones,
up to 4499 x 6748, are left out to keep the sample quick to write)."""


def _superpixels(rng: np.random.Generator, image_size: tuple[int, int]) -> np.ndarray:
    """A decoy superpixel file: a jittered grid of regions, indices encoded in RGB as ISIC does."""
    height, width = image_size
    cell = max(4, min(height, width) // 24)
    yy, xx = np.mgrid[0:height, 0:width]
    jitter = rng.integers(0, cell // 2 + 1, 2)
    index = ((yy + jitter[0]) // cell) * (width // cell + 2) + (xx + jitter[1]) // cell
    return np.stack([index & 255, (index >> 8) & 255, (index >> 16) & 255], -1).astype(np.uint8)


def write_isic2017_sample(
    out_dir: str | os.PathLike,
    num_train: int,
    num_val: int,
    num_test: int,
    seed: int = 0,
    image_size: tuple[int, int] | None = None,
) -> Path:
    """Write a synthetic dataset in the official ISIC-2017 Part 1 layout under ``out_dir``.

    Writes ``ISIC-2017_{Training,Validation,Test_v2}_Data/ISIC_nnnnnnn.jpg`` (RGB JPEG) with a
    decoy ``ISIC_nnnnnnn_superpixels.png`` beside each and a ``*_metadata.csv`` per folder, and
    ``ISIC-2017_*_Part1_GroundTruth/ISIC_nnnnnnn_segmentation.png`` (0/255, the image's size).
    Ids are distinct random 7-digit numbers. Each file is written atomically.

    Args:
        out_dir: the dataset folder to write (created if needed).
        num_train: number of training images.
        num_val: number of validation images.
        num_test: number of test images.
        seed: the seed; each image depends only on ``seed`` and its id.
        image_size: (height, width) of every image; None for realistic sizes that vary between
            images (see `ISIC2017_SAMPLE_SIZES`).

    Returns:
        ``out_dir`` as a `Path`.

    Raises:
        SettingError: a negative count, or a size that is not two positive integers.
    """
    out_dir = Path(out_dir)
    counts = {
        "training": check_count(num_train, "num_train"),
        "validation": check_count(num_val, "num_val"),
        "test": check_count(num_test, "num_test"),
    }
    image_size = check_image_size(image_size) if image_size is not None else None
    ids = np.random.default_rng(seed).choice(16072, sum(counts.values()), replace=False)
    start = 0
    for split, count in counts.items():
        data_dir, truth_dir = (out_dir / name for name in ISIC2017_FOLDERS[split])
        rows = []
        for number in sorted(ids[start : start + count]):
            rng = np.random.default_rng((seed, int(number)))
            size = image_size or ISIC2017_SAMPLE_SIZES[rng.integers(len(ISIC2017_SAMPLE_SIZES))]
            rgb, lesion = synthesize_dermoscopy(rng, tuple(size))
            image_id = f"ISIC_{number:07d}"
            save_image_atomic(Image.fromarray(rgb, "RGB"), data_dir / f"{image_id}.jpg", quality=92)
            save_image_atomic(Image.fromarray(_superpixels(rng, size), "RGB"), data_dir / f"{image_id}_superpixels.png")
            save_image_atomic(
                Image.fromarray(lesion.astype(np.uint8) * 255, "L"), truth_dir / f"{image_id}_segmentation.png"
            )
            rows.append((image_id, int(rng.integers(15, 86) // 5 * 5), rng.choice(["male", "female"])))
        start += count
        if count:
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerows([("image_id", "age_approximate", "sex"), *rows])
            write_text_atomic(data_dir / f"{ISIC2017_FOLDERS[split][0]}_metadata.csv", text.getvalue())
    return out_dir
