"""Synthetic DRIVE-like fundus images in the official DRIVE layout, for tests and demos.

Each image has a circular field of view (FOV), an optic disc, a darker macula, uneven illumination,
background texture and noise, a few dark and bright spots that are not vessels, and branching vessel
trees that leave the optic disc about 8 px wide and thin down to 1 px, darker than the background
in the green channel with a contrast that falls with their width. The label is exactly the drawn
vessel pixels. Everything is deterministic given the seed.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from monai_jattn.settings import check_count, check_image_size
from monai_jattn.utils import save_image_atomic

__all__ = ["DRIVE_IMAGE_SIZE", "smooth_noise", "synthesize_fundus", "write_drive_sample"]

DRIVE_IMAGE_SIZE = (584, 565)
"""(height, width) of the DRIVE images."""

_SHIFT = 2  # sub-pixel bits for cv2 drawing
_CHANNEL_DARKENING = np.array([0.35, 1.0, 0.75], np.float32)  # vessels darken green most, red least


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Low-frequency noise in [-1, 1]: a random ``cells`` x ``cells`` grid resized with cubic interpolation."""
    grid = rng.uniform(-1, 1, (cells, cells)).astype(np.float32)
    return cv2.resize(grid, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC).clip(-1, 1)


def _vessel_segments(rng, centre, radius, disc, disc_radius, side, scale):
    """Grow vessel trees from the optic disc; return segments as rows (x0, y0, x1, y1, width, darkness)."""
    width_scale = math.sqrt(scale)  # small images keep some width variety
    step = max(1.0, 3.0 * scale)
    segments = []
    # main trunks (arteries thinner and paler than veins): temporal arcades curve around the macula
    trunks = []
    for vertical in (-1, 1):
        for width, darkness in ((8.0, 1.0), (6.0, 0.7)):  # vein, artery
            temporal_angle = math.atan2(vertical * 1.0, -side * 0.45) + rng.normal(0, 0.12)
            nasal_angle = math.atan2(vertical * 1.0, side * 0.7) + rng.normal(0, 0.2)
            trunks.append((temporal_angle, width, darkness, vertical * side * 1.6 / radius))
            trunks.append((nasal_angle, width * 0.8, darkness, rng.normal(0, 0.3) / radius))
    stack = []
    for angle, width, darkness, curvature in trunks:
        start = disc + disc_radius * 0.3 * np.array([math.cos(angle), math.sin(angle)])
        stack.append((start, angle, width * width_scale * rng.uniform(0.9, 1.05), darkness, curvature))
    while stack:
        pos, angle, width, darkness, curvature = stack.pop()
        travelled, next_branch = 0.0, rng.uniform(40, 90) * scale
        max_length = rng.uniform(40, 120) * scale * (1 + width)
        while width >= 0.7 and travelled < max_length:
            angle += curvature * step + rng.normal(0, 0.1)
            curvature *= 0.99
            new = pos + step * np.array([math.cos(angle), math.sin(angle)])
            if np.hypot(*(new - centre)) > radius * 0.985:
                break
            segments.append((pos[0], pos[1], new[0], new[1], width, darkness))
            pos, travelled = new, travelled + step
            width *= 0.997
            if travelled >= next_branch:
                ratio = rng.uniform(0.4, 0.95)  # Murray's law: w^3 = w_big^3 + w_small^3
                big = width / (1 + ratio**3) ** (1 / 3)
                branch_angle = angle + rng.choice((-1, 1)) * rng.uniform(0.4, 1.1)
                stack.append((pos.copy(), branch_angle, big * ratio, darkness, rng.normal(0, 0.4) / radius))
                width, next_branch = big, travelled + rng.uniform(35, 80) * scale * max(1.0, width / 3)
    return np.array(segments, np.float32).reshape(-1, 6)


def _draw_vessels(shape, rows, min_width=0.0):
    """Draw the segments (thin first, so thick vessels win at junctions) into a darkness map."""
    layer = np.zeros(shape, np.float32)
    rows = rows[np.argsort(rows[:, 4], kind="stable")]
    points = np.round(rows[:, :4] * (1 << _SHIFT)).astype(np.int64)
    for (x0, y0, x1, y1), width, darkness in zip(points, rows[:, 4], rows[:, 5]):
        if width >= min_width:
            contrast = darkness * (0.06 + 0.2 * min(width, 8.0) / 8.0)  # contrast falls with width
            cv2.line(
                layer, (int(x0), int(y0)), (int(x1), int(y1)), float(contrast), max(1, round(width)), cv2.LINE_8, _SHIFT
            )
    return layer


def synthesize_fundus(
    rng: np.random.Generator, image_size: tuple[int, int] = DRIVE_IMAGE_SIZE
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Make one synthetic fundus image.

    Args:
        rng: the random generator (the image is a deterministic function of its state).
        image_size: (height, width).

    Returns:
        ``(rgb, vessels, second_observer, fov)``: an (H, W, 3) uint8 image and (H, W) bool maps of
        the vessels, of the vessels at least 1.5 px wide (a second observer who misses capillaries),
        and of the FOV.
    """
    height, width = image_size
    scale = min(height, width) / min(DRIVE_IMAGE_SIZE)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    centre = np.array([width / 2, height / 2]) + rng.normal(0, 0.01, 2) * min(height, width)
    radius = min(height, width) * rng.uniform(0.46, 0.48)
    rho = np.hypot(xx - centre[0], yy - centre[1]) / radius
    fov = rho <= 1.0
    side = rng.choice((-1, 1))  # left or right eye: the side of the optic disc
    disc = centre + radius * np.array([side * rng.uniform(0.5, 0.62), rng.normal(0, 0.06)])
    disc_radius = radius * rng.uniform(0.13, 0.16)
    macula = centre + radius * np.array([-side * rng.uniform(0.1, 0.25), rng.normal(0, 0.05)])

    # background: fundus colour, uneven illumination, texture, macula and optic disc
    colour = np.array([rng.uniform(0.75, 0.95), rng.uniform(0.34, 0.5), rng.uniform(0.12, 0.25)], np.float32)
    gradient = rng.uniform(-0.15, 0.15, 2)
    illumination = (
        1.0
        - rng.uniform(0.25, 0.45) * rho**2.5
        + gradient[0] * (xx - centre[0]) / radius
        + gradient[1] * (yy - centre[1]) / radius
        + 0.06 * smooth_noise(rng, (height, width), 6)
    )
    texture = 0.03 * smooth_noise(rng, (height, width), max(4, int(40 * scale)))
    d_macula = np.hypot(xx - macula[0], yy - macula[1]) / (radius * 0.3)
    illumination *= 1 - rng.uniform(0.15, 0.3) * np.exp(-(d_macula**2))
    image = colour * (illumination + texture)[..., None]
    d_disc = np.hypot(xx - disc[0], yy - disc[1]) / disc_radius
    disc_profile = np.exp(-(d_disc**4)) + 0.5 * np.exp(-((d_disc / 0.45) ** 2))
    image += disc_profile[..., None] * np.array([0.2, 0.35, 0.25], np.float32) * rng.uniform(0.6, 1.0)

    # lesion-like distractors: dark haemorrhages and bright exudates, not vessels
    for _ in range(rng.integers(0, 6)):
        position = centre + radius * 0.8 * rng.uniform(-0.7, 0.7, 2)
        spot = np.exp(-((np.hypot(xx - position[0], yy - position[1]) / (rng.uniform(1.5, 5) * max(scale, 0.3))) ** 2))
        image *= 1 + rng.choice((-0.25, 0.2)) * spot[..., None]

    rows = _vessel_segments(rng, centre, radius, disc, disc_radius, side, scale)
    darkness = _draw_vessels((height, width), rows) * rng.uniform(0.8, 1.2)
    vessels = (darkness > 0) & fov
    second = (_draw_vessels((height, width), rows, min_width=1.5) > 0) & fov
    darkness = cv2.GaussianBlur(darkness, (3, 3), 0.6)
    image *= 1 - darkness[..., None] * _CHANNEL_DARKENING

    image += rng.normal(0, rng.uniform(0.008, 0.02), image.shape).astype(np.float32)
    edge = np.clip((1.0 - rho) * radius / 1.5 + 0.5, 0, 1)  # a soft 1-2 px FOV border
    image = image * edge[..., None] + rng.uniform(0, 0.015, image.shape).astype(np.float32)
    rgb = np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8)
    return rgb, vessels, second, fov


_BLACK_WHITE = (0, 0, 0, 255, 255, 255)
_OBSERVER2_PALETTE = (4, 2, 4, 252, 254, 252)  # the colours of DRIVE's 2nd_manual GIFs: not pure black


def _save_binary_gif(mask: np.ndarray, path: Path, palette: bool, colours: tuple[int, ...] = _BLACK_WHITE) -> None:
    """Save a binary GIF, as mode "L" (0/255) or as mode "P" (indices 0/1 with ``colours``, as some DRIVE files open)."""
    if palette:
        image = Image.fromarray(mask.astype(np.uint8), "P")
        image.putpalette(list(colours))
        save_image_atomic(image, path)
    else:
        save_image_atomic(Image.fromarray(mask.astype(np.uint8) * 255, "L"), path, optimize=False)


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
            stem = f"{first + k:02d}_{split}"
            save_image_atomic(Image.fromarray(rgb, "RGB"), out_dir / split / "images" / f"{stem}.tif")
            _save_binary_gif(fov, out_dir / split / "mask" / f"{stem}_mask.gif", palette=k == 0)
            if split == "training" or with_test_labels:
                number = f"{first + k:02d}"
                _save_binary_gif(vessels, out_dir / split / "1st_manual" / f"{number}_manual1.gif", palette=k == 0)
            if split == "test" and with_test_labels:
                _save_binary_gif(
                    second,
                    out_dir / split / "2nd_manual" / f"{number}_manual2.gif",
                    palette=k == 0,
                    colours=_OBSERVER2_PALETTE,
                )
    return out_dir
