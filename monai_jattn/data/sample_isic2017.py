"""Synthetic dermoscopy images in the official ISIC-2017 Part 1 layout, for tests and demos.

Each image shows skin of a random tone with texture, an irregular lesion of random size, colour,
contrast and border sharpness (with darker blotches inside), and, in many images, hairs across the
lesion, dermoscope vignetting, a dark circular field border and specular highlights. The label is
exactly the lesion polygon; hairs and highlights are not part of it. Everything is deterministic
given the seed.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from monai_jattn.settings import check_count, check_image_size
from monai_jattn.utils import save_image_atomic, write_text_atomic
from monai_jattn.data.isic2017 import ISIC2017_FOLDERS
from monai_jattn.data.sample_drive import smooth_noise

__all__ = ["ISIC2017_SAMPLE_SIZES", "synthesize_dermoscopy", "write_isic2017_sample"]

ISIC2017_SAMPLE_SIZES = ((540, 722), (767, 1022), (1129, 1504))
"""(height, width) of the full-size sample images: common ISIC-2017 sizes (the largest real ones,
up to 4499 x 6748, are left out to keep the sample quick to write)."""


def _lesion_polygon(rng, centre, radius, scale_xy):
    """An irregular closed contour: a circle perturbed by random harmonics of decreasing amplitude."""
    theta = np.linspace(0, 2 * math.pi, 720, endpoint=False)
    r = np.ones_like(theta)
    for k in range(2, 24):
        r += rng.uniform(0, 0.3 / k**1.1) * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
    r = np.clip(r, 0.35, None) * radius
    points = np.stack([centre[0] + r * np.cos(theta) * scale_xy[0], centre[1] + r * np.sin(theta) * scale_xy[1]], 1)
    return np.round(points * 4).astype(np.int32)  # 2 sub-pixel bits


def _draw_hairs(rng, image, count, scale):
    """Dark, slightly curved hairs (quadratic Bezier curves) drawn anti-aliased over the image."""
    height, width = image.shape[:2]
    t = np.linspace(0, 1, 40)[:, None]
    for _ in range(count):
        p0, p1, p2 = (rng.uniform((0, 0), (width, height)) for _ in range(3))
        curve = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2
        colour = tuple(float(c) for c in rng.uniform(0.05, 0.25) * np.array([1.0, 0.8, 0.7]))
        thickness = max(1, int(round(rng.uniform(1, 3.5) * scale)))
        cv2.polylines(image, [np.round(curve * 4).astype(np.int32)], False, colour, thickness, cv2.LINE_AA, 2)


def synthesize_dermoscopy(
    rng: np.random.Generator, image_size: tuple[int, int] = (767, 1022)
) -> tuple[np.ndarray, np.ndarray]:
    """Make one synthetic dermoscopy image.

    Args:
        rng: the random generator (the image is a deterministic function of its state).
        image_size: (height, width).

    Returns:
        ``(rgb, lesion)``: an (H, W, 3) uint8 image and an (H, W) bool lesion mask.
    """
    height, width = image_size
    scale = min(height, width) / 767
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)

    red = rng.uniform(0.7, 0.95)
    green = red * rng.uniform(0.66, 0.82)
    skin = np.array([red, green, green * rng.uniform(0.85, 1.0)], np.float32)
    image = (
        skin
        * (1 + 0.06 * smooth_noise(rng, (height, width), 8) + 0.03 * smooth_noise(rng, (height, width), 40))[..., None]
    )

    # lesion: size from 3% to 50% of the image, possibly cut by the border
    area = math.exp(rng.uniform(math.log(0.03), math.log(0.5))) * height * width
    radius = math.sqrt(area / math.pi)
    centre = np.array([width / 2, height / 2]) + rng.normal(0, 0.12, 2) * (width, height)
    polygon = _lesion_polygon(rng, centre, radius, rng.uniform(0.8, 1.25, 2))
    lesion = np.zeros((height, width), np.uint8)
    cv2.fillPoly(lesion, [polygon], 1, cv2.LINE_8, 2)
    pigment = np.array(
        [
            [0.45, 0.28, 0.18],  # brown
            [0.22, 0.13, 0.10],  # dark brown / black
            [0.70, 0.42, 0.40],  # pink-red, low contrast
            [0.40, 0.33, 0.38],  # blue-grey
        ],
        np.float32,
    )[rng.integers(0, 4)] * rng.uniform(0.85, 1.15, 3).astype(np.float32)
    contrast = rng.uniform(0.3, 1.0)
    border = rng.uniform(1.0, 10.0) * scale  # sharp to fuzzy borders
    alpha = cv2.GaussianBlur(lesion.astype(np.float32), (0, 0), border) * contrast
    inside = 0.75 + 0.25 * smooth_noise(rng, (height, width), 12)  # blotches and uneven pigment
    alpha *= np.clip(inside + 0.3 * np.clip(smooth_noise(rng, (height, width), 25), 0, 1), 0, 1.2)
    image = image * (1 - alpha[..., None]) + pigment * alpha[..., None]

    if rng.random() < 0.6:
        _draw_hairs(rng, image, int(rng.integers(2, 16)), scale)
    for _ in range(rng.integers(0, 8)):  # specular highlights of air bubbles
        spot = (rng.uniform(0, width), rng.uniform(0, height))
        cv2.circle(
            image,
            (int(spot[0]), int(spot[1])),
            max(1, int(rng.uniform(2, 8) * scale)),
            (0.97, 0.97, 0.97),
            -1,
            cv2.LINE_AA,
        )

    rho = np.hypot((xx - width / 2) / (width / 2), (yy - height / 2) / (height / 2)) / math.sqrt(2)
    image *= (1 - rng.uniform(0.0, 0.6) * rho**3)[..., None]  # vignetting
    if rng.random() < 0.3:  # the dark circular field of some dermoscopes
        field = rng.uniform(0.85, 1.05) * math.hypot(width, height) / 2
        image *= np.clip((field - np.hypot(xx - width / 2, yy - height / 2)) / (4 * scale + 1), 0.03, 1)[..., None]
    image += rng.normal(0, rng.uniform(0.005, 0.02), image.shape).astype(np.float32)
    return np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8), lesion.astype(bool)


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
