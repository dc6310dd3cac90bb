"""Building blocks of the datasets' MONAI pipelines (see each dataset's ``transforms`` module under
`monai_jattn.datasets`): the (height, width) to array size conversion and the usual augmentations."""

from __future__ import annotations

from collections.abc import Sequence

from monai.bundle import ConfigParser
from monai.utils import ensure_tuple_rep

__all__ = ["array_size", "augmentation_config", "augmentations"]


def array_size(size_hw: Sequence[int] | int) -> tuple[int, int]:
    """(height, width) -> the (width, height) spatial order of `PILReader` arrays.

    Args:
        size_hw: (height, width), or one int for a square.
    """
    height, width = ensure_tuple_rep(size_hw, 2)
    return int(width), int(height)


def augmentation_config(keys: Sequence[str], rotate90: bool, max_angle: float) -> list[dict]:
    """The usual augmentations as a MONAI config listing (``_target_`` and arguments, as in a bundle config): flips
    on both axes, 90-degree rotations (``rotate90``), rotations up to ``max_angle``, contrast (gamma 0.8-1.25),
    intensity scaling (10%) and Gaussian noise.

    The 2D bundles' ``train#augmentation`` lists the same transforms with the same arguments in their batch form
    (``RandFlipBatchd`` for MONAI's ``RandFlipd``, ...), where a user changes them by index; the bundles cannot
    read this function (a config lists its transforms) and an installed wheel has no bundle folder, so
    ``tests/transforms/test_pipelines.py`` checks that the two listings agree.

    Args:
        keys: ``keys[0]`` is the image (bilinear, intensity changes), the others binary maps (nearest).
        rotate90: add 90-degree rotations (square patches only).
        max_angle: the largest rotation, in radians.
    """
    keys = list(keys)
    interp = ["bilinear"] + ["nearest"] * (len(keys) - 1)
    spatial = [
        {"_target_": "RandFlipd", "keys": keys, "prob": 0.5, "spatial_axis": 0},
        {"_target_": "RandFlipd", "keys": keys, "prob": 0.5, "spatial_axis": 1},
    ]
    if rotate90:
        spatial.append({"_target_": "RandRotate90d", "keys": keys, "prob": 0.5})
    spatial.append(
        {
            "_target_": "RandRotated",
            "keys": keys,
            "range_x": max_angle,
            "prob": 0.3,
            "mode": interp,
            "padding_mode": "reflection",
        }
    )
    image = keys[0]
    return spatial + [
        {"_target_": "RandAdjustContrastd", "keys": image, "prob": 0.3, "gamma": [0.8, 1.25]},
        {"_target_": "RandScaleIntensityd", "keys": image, "factors": 0.1, "prob": 0.3},
        {"_target_": "RandGaussianNoised", "keys": image, "prob": 0.3, "mean": 0.0, "std": 0.02},
    ]


def augmentations(keys: Sequence[str], rotate90: bool, max_angle: float) -> list:
    """The usual augmentations as MONAI transforms: `augmentation_config` instantiated by MONAI's `ConfigParser`,
    as a bundle instantiates its config.

    Args:
        keys: ``keys[0]`` is the image (bilinear, intensity changes), the others binary maps (nearest).
        rotate90: add 90-degree rotations (square patches only).
        max_angle: the largest rotation, in radians.
    """
    return ConfigParser({"augmentation": augmentation_config(keys, rotate90, max_angle)}).get_parsed_content(
        "augmentation"
    )
