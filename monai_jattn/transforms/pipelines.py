"""Building blocks of the datasets' MONAI pipelines (see each dataset's ``transforms`` module under
`monai_jattn.datasets`): the (height, width) to array size conversion and the usual augmentations."""

from __future__ import annotations

from collections.abc import Sequence

from monai.transforms import (
    RandAdjustContrastd,
    RandFlipd,
    RandGaussianNoised,
    RandRotate90d,
    RandRotated,
    RandScaleIntensityd,
)
from monai.utils import ensure_tuple_rep

__all__ = ["array_size", "augmentations"]


def array_size(size_hw: Sequence[int] | int) -> tuple[int, int]:
    """(height, width) -> the (width, height) spatial order of `PILReader` arrays.

    Args:
        size_hw: (height, width), or one int for a square.
    """
    height, width = ensure_tuple_rep(size_hw, 2)
    return int(width), int(height)


def augmentations(keys: tuple[str, ...], rotate90: bool, max_angle: float) -> list:
    """The usual augmentations as MONAI transforms: flips on both axes, 90-degree rotations (``rotate90``),
    rotations up to ``max_angle``, contrast (gamma 0.8-1.25), intensity scaling (10%) and Gaussian noise.

    Args:
        keys: ``keys[0]`` is the image (bilinear, intensity changes), the others binary maps (nearest).
        rotate90: add 90-degree rotations (square patches only).
        max_angle: the largest rotation, in radians.
    """
    interp = ("bilinear",) + ("nearest",) * (len(keys) - 1)
    spatial = [RandFlipd(keys, prob=0.5, spatial_axis=0), RandFlipd(keys, prob=0.5, spatial_axis=1)]
    if rotate90:
        spatial.append(RandRotate90d(keys, prob=0.5))
    spatial.append(RandRotated(keys, range_x=max_angle, prob=0.3, mode=interp, padding_mode="reflection"))
    image = keys[0]
    return spatial + [
        RandAdjustContrastd(image, prob=0.3, gamma=(0.8, 1.25)),
        RandScaleIntensityd(image, factors=0.1, prob=0.3),
        RandGaussianNoised(image, prob=0.3, mean=0.0, std=0.02),
    ]
