"""`write_chasedb1_sample`: a small synthetic dataset in the CHASE_DB1 layout."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from monai_jattn.atomic_write import save_image_atomic
from monai_jattn.datasets.chasedb1.layout import _SPLIT_CHILDREN, CHASEDB1_IMAGE_SIZE
from monai_jattn.datasets.synthetic import synthesize_fundus
from monai_jattn.setting_checks import SettingError, check_count, check_image_size

__all__ = ["write_chasedb1_sample"]

_DRIVE_SCALE_SIDE = 565  # synthesize at DRIVE's scale (its shorter side), then enlarge, as a camera would


def _synthesize_chasedb1(rng: np.random.Generator, size: tuple[int, int]):
    """One CHASE_DB1-like image and its labels: the generic fundus synthesised at DRIVE's scale and enlarged to
    ``size``, so that vessel calibre grows with the FOV diameter (sizes smaller than DRIVE's are drawn directly)."""
    factor = min(1.0, _DRIVE_SCALE_SIDE / min(size))
    small = (max(1, round(size[0] * factor)), max(1, round(size[1] * factor)))
    rgb, vessels, second, _ = synthesize_fundus(rng, small)
    if small == size:
        return rgb, vessels, second
    dsize = (size[1], size[0])
    rgb = cv2.resize(rgb, dsize, interpolation=cv2.INTER_CUBIC)
    vessels, second = (
        cv2.resize(m.astype(np.float32), dsize, interpolation=cv2.INTER_LINEAR) > 0.5 for m in (vessels, second)
    )
    return rgb, vessels, second


def write_chasedb1_sample(
    out_dir: str | os.PathLike,
    num_train_children: int = 2,
    num_test_children: int = 1,
    seed: int = 0,
    image_size: tuple[int, int] | None = None,
) -> Path:
    """Write a synthetic dataset in the CHASE_DB1 layout (one flat folder), with ``out_dir`` as that folder.

    Training children are numbered from 1, test children from 11; each child has a left and a right eye:
    ``Image_01L.jpg``, ``Image_01R.jpg`` (RGB JPEG, quality 90: JPEG noise on a black background, no FOV
    file), ``Image_01L_1stHO.png`` and ``Image_01L_2ndHO.png`` (0/255, the second observer misses the
    vessels under 1.5 px of the synthesis). Fundus images are drawn at DRIVE's scale and enlarged, so the
    vessels are wider in pixels, as in the real set. Files are written atomically; others are left alone.

    Args:
        out_dir: the folder to write (created if needed).
        num_train_children: children of the training split (0-10), two images each.
        num_test_children: children of the test split (0-4), two images each.
        seed: the seed; an image depends only on ``seed``, its child and its eye.
        image_size: (height, width); None for CHASE_DB1's 960 x 999.

    Returns:
        ``out_dir`` as a `Path`.

    Raises:
        SettingError: a count out of range, or a size that is not two positive integers.
    """
    out_dir = Path(out_dir)
    size = check_image_size(image_size) if image_size is not None else CHASEDB1_IMAGE_SIZE
    counts = {}
    for name, value, split in (
        ("num_train_children", num_train_children, "training"),
        ("num_test_children", num_test_children, "test"),
    ):
        counts[split] = check_count(value, name)
        if counts[split] > len(_SPLIT_CHILDREN[split]):
            raise SettingError(
                f"{name} must be at most {len(_SPLIT_CHILDREN[split])} (CHASE_DB1 {split} children), got {value}"
            )
    for split, count in counts.items():
        for child in _SPLIT_CHILDREN[split][:count]:
            for eye_index, eye in enumerate("LR"):
                rgb, vessels, second = _synthesize_chasedb1(np.random.default_rng((seed, child, eye_index)), size)
                stem = f"Image_{child:02d}{eye}"
                save_image_atomic(Image.fromarray(rgb, "RGB"), out_dir / f"{stem}.jpg", quality=90)
                for observer, label in (("1st", vessels), ("2nd", second)):
                    save_image_atomic(
                        Image.fromarray(label.astype(np.uint8) * 255, "L"), out_dir / f"{stem}_{observer}HO.png"
                    )
    return out_dir
