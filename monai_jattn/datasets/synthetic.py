"""Synthetic images for sample datasets, tests and demos: fundus photographs and dermoscopy images.

`synthesize_fundus` makes a DRIVE-like fundus image: a circular field of view (FOV), an optic disc, a
darker macula, uneven illumination, background texture and noise, a few dark and bright spots that
are not vessels, and branching vessel trees that leave the optic disc about 8 px wide and thin down to
1 px, darker than the background in the green channel with a contrast that falls with their width.
The vessel label is exactly the drawn vessel pixels.

`synthesize_dermoscopy` makes an ISIC-like dermoscopy image: skin of a random tone with texture, an
irregular lesion of random size, colour, contrast and border sharpness (with darker blotches inside),
and, in many images, hairs across the lesion, dermoscope vignetting, a dark circular field border and
specular highlights. The label is exactly the lesion polygon; hairs and highlights are not part of it.

Everything is deterministic given the random generator. This module knows no dataset layout: each
dataset's sample writer (under `monai_jattn.datasets`) saves these images in its official naming.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from monai_jattn.atomic_write import save_image_atomic

__all__ = [
    "BLACK_WHITE",
    "DRIVE_IMAGE_SIZE",
    "save_binary_gif",
    "smooth_noise",
    "synthesize_dermoscopy",
    "synthesize_fundus",
]

DRIVE_IMAGE_SIZE = (584, 565)
"""(height, width) of the DRIVE images: the default size of `synthesize_fundus`, to which its vessel widths
and lengths are scaled."""

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


BLACK_WHITE = (0, 0, 0, 255, 255, 255)
"""The palette of a pure black and white binary GIF."""


def save_binary_gif(mask: np.ndarray, path: Path, palette: bool, colours: tuple[int, ...] = BLACK_WHITE) -> None:
    """Save a binary map as a GIF, atomically.

    Args:
        mask: an (H, W) bool or 0/1 map.
        path: the GIF to write.
        palette: write palette mode "P" (indices 0/1 with ``colours``, as some DRIVE files open) instead of
            mode "L" (0/255).
        colours: the palette's two RGB colours, background first.
    """
    if palette:
        image = Image.fromarray(mask.astype(np.uint8), "P")
        image.putpalette(list(colours))
        save_image_atomic(image, path)
    else:
        save_image_atomic(Image.fromarray(mask.astype(np.uint8) * 255, "L"), path, optimize=False)


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
