"""Building blocks of the datasets' MONAI pipelines (see each dataset's ``transforms`` module under
`monai_jattn.datasets`): the (height, width) to array size conversion and the usual augmentations."""

from __future__ import annotations

from collections.abc import Sequence

from monai.bundle import ConfigParser
from monai.utils import ensure_tuple_rep

__all__ = ["array_size", "augmentation_config", "augmentations", "bundle_augmentation_config"]


def array_size(size_hw: Sequence[int] | int) -> tuple[int, int]:
    """(height, width) -> the (width, height) spatial order of `PILReader` arrays.

    Args:
        size_hw: (height, width), or one int for a square.
    """
    height, width = ensure_tuple_rep(size_hw, 2)
    return int(width), int(height)


def augmentation_config(
    keys: Sequence[str], rotate90: bool | str, max_angle: float | str, batch: bool = False
) -> list[dict]:
    """The usual augmentations as a MONAI config listing (``_target_`` and arguments, as in a bundle config): flips
    on both axes, 90-degree rotations (``rotate90``), rotations up to ``max_angle``, contrast (gamma 0.8-1.25),
    intensity scaling (10%) and Gaussian noise.

    This is the one definition of the 2D training augmentation: the datasets' Python pipelines instantiate it
    (`augmentations`), and the bundle build writes it, in its batch form, into each 2D bundle's
    ``train#augmentation`` (`bundle_augmentation_config`), where a user can read it and change it by index.

    Args:
        keys: ``keys[0]`` is the image (bilinear, intensity changes), the others binary maps (nearest).
        rotate90: add 90-degree rotations (square patches only); a config expression (``"$..."``) decides when the
            config is parsed (the rotation is listed with its negation as ``_disabled_``).
        max_angle: the largest rotation in radians, or a config expression such as ``"$math.radians(15)"``.
        batch: name the batch transforms of `monai_jattn.transforms` (``RandFlipBatchd`` for MONAI's
            ``RandFlipd``, and so on), which the bundles' patch loader runs on whole batches on the device.
    """
    keys = list(keys)
    interp = ["bilinear"] + ["nearest"] * (len(keys) - 1)
    spatial = [
        {"_target_": "RandFlipd", "keys": keys, "prob": 0.5, "spatial_axis": 0},
        {"_target_": "RandFlipd", "keys": keys, "prob": 0.5, "spatial_axis": 1},
    ]
    if isinstance(rotate90, str):
        spatial.append({"_target_": "RandRotate90d", "keys": keys, "prob": 0.5, "_disabled_": f"$not ({rotate90[1:]})"})
    elif rotate90:
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
    listing = spatial + [
        {"_target_": "RandAdjustContrastd", "keys": image, "prob": 0.3, "gamma": [0.8, 1.25]},
        {"_target_": "RandScaleIntensityd", "keys": image, "factors": 0.1, "prob": 0.3},
        {"_target_": "RandGaussianNoised", "keys": image, "prob": 0.3, "mean": 0.0, "std": 0.02},
    ]
    if batch:  # MONAI's RandFlipd -> our RandFlipBatchd, with the same arguments
        for transform in listing:
            transform["_target_"] = f"monai_jattn.transforms.{transform['_target_'][:-1]}Batchd"
    return listing


def bundle_augmentation_config(keys: Sequence[str], rotate90: bool | str, max_angle: float | str) -> dict:
    """A 2D bundle's ``train#augmentation``: `augmentation_config` in its batch form, in a ``Compose``. The bundle
    build writes it where a source lists ``{"_build_": "augmentation", "keys": ..., "rotate90": ...,
    "max_angle": ...}`` (see `monai_jattn.bundle_build.BUILT_PARTS`).

    Args:
        keys: ``keys[0]`` is the image, the others binary maps.
        rotate90: a bool, or a config expression such as ``"$@patch_size[0] == @patch_size[1]"``.
        max_angle: the largest rotation in radians, or a config expression such as ``"$math.radians(15)"``.
    """
    if isinstance(rotate90, str) and not rotate90.startswith("$"):
        raise ValueError(f"rotate90 must be a bool or a config expression starting with '$', got {rotate90!r}.")
    return {"_target_": "Compose", "transforms": augmentation_config(keys, rotate90, max_angle, batch=True)}


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
