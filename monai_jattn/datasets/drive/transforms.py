"""Ready-made MONAI `Compose` pipelines for DRIVE, usable from bundle configs via ``_target_``.

Sizes are given as (height, width), as images are usually described; the pipelines convert them to
the (width, height) spatial order of arrays loaded by MONAI's `PILReader` (see `LoadImage2Dd`).
Random transforms are MONAI's own, so a pipeline built after `monai.utils.set_determinism(seed)`
(or given `Compose.set_random_state`) draws the same patches and augmentations every run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from monai.transforms import Compose, FgBgToIndicesd, RandCropByPosNegLabeld

from monai_jattn.transforms.intensity import DRIVEPreprocessd
from monai_jattn.transforms.load_2d import LoadImage2Dd
from monai_jattn.transforms.pipelines import array_size, augmentations

__all__ = ["drive_train_transforms", "drive_eval_transforms"]


def _drive_loading(
    with_label: bool, with_mask: bool, allow_missing_keys: bool, channel: str, clahe: bool, gamma: float
):
    binary = tuple(key for key, wanted in (("label", with_label), ("mask", with_mask)) if wanted)
    loading = [LoadImage2Dd("image")]
    if binary:
        loading.append(LoadImage2Dd(binary, binary_keys=binary, allow_missing_keys=allow_missing_keys))
    return loading + [DRIVEPreprocessd("image", channel=channel, clahe=clahe, gamma=gamma)]


def drive_train_transforms(
    patch_size: Sequence[int] | int = (96, 96),
    num_patches: int = 8,
    channel: str = "gray",
    clahe: bool = True,
    gamma: float = 1.2,
    augment: bool = True,
) -> Compose:
    """DRIVE training: load, preprocess, sample random patches centred inside the FOV, augment.

    Each datalist entry (``"image"``, ``"label"``, ``"mask"``) yields a list of ``num_patches``
    dicts with ``"image"`` (1, ...) in [0, 1] and binary ``"label"`` and ``"mask"`` (1, ...), all
    float32 MetaTensors. Patch centres are drawn uniformly from FOV pixels with MONAI's
    `RandCropByPosNegLabeld` (``label_key="mask"``, ``pos=1, neg=0``); the FOV pixel indices are
    computed by `FgBgToIndicesd` before the first random transform, so a `CacheDataset` caches
    them. Augmentations: flips on both axes, 90-degree rotations (square patches only), rotations
    up to 15 degrees, contrast (gamma 0.8-1.25), intensity scaling (+-10%) and Gaussian noise.

    Args:
        patch_size: (height, width) of the patches, or one int for square patches.
        num_patches: patches drawn from each image per pass.
        channel: ``"gray"`` or ``"green"``, see `DRIVEPreprocess`.
        clahe: apply CLAHE, see `DRIVEPreprocess`.
        gamma: gamma correction, see `DRIVEPreprocess`.
        augment: add the flips, rotations and intensity augmentations.

    Examples::

        >>> from monai.data import CacheDataset, DataLoader
        >>> ds = CacheDataset(drive_datalist("/data/DRIVE"), transform=drive_train_transforms((64, 64), 16))
        >>> batch = next(iter(DataLoader(ds, batch_size=4)))  # 4 images x 16 patches: (64, 1, 64, 64)
    """
    keys = ("image", "label", "mask")
    patch = array_size(patch_size)
    transforms = _drive_loading(True, True, False, channel, clahe, gamma) + [
        FgBgToIndicesd("mask", fg_postfix="_fg_indices", bg_postfix="_bg_indices"),
        RandCropByPosNegLabeld(
            keys,
            label_key="mask",
            spatial_size=patch,
            pos=1,
            neg=0,
            num_samples=num_patches,
            fg_indices_key="mask_fg_indices",
            bg_indices_key="mask_bg_indices",
        ),
    ]
    if augment:
        transforms += augmentations(keys, rotate90=patch[0] == patch[1], max_angle=math.radians(15))
    return Compose(transforms)


def drive_eval_transforms(
    with_label: bool = True,
    with_mask: bool = True,
    allow_missing_keys: bool = False,
    channel: str = "gray",
    clahe: bool = True,
    gamma: float = 1.2,
) -> Compose:
    """DRIVE evaluation and inference: load and preprocess whole images, nothing random or resized.

    Gives ``"image"`` (1, W, H) in [0, 1] at the original size, with its metadata (file name,
    size) for saving outputs, and binary ``"label"`` and ``"mask"`` (the FOV, for metrics inside it).

    Args:
        with_label: load ``"label"`` (False for the test split without labels).
        with_mask: load ``"mask"``, the FOV.
        allow_missing_keys: let entries lack ``"label"``/``"mask"`` (e.g. a folder of the user's
            own images, see `image_folder_datalist`); ``"image"`` is always required.
        channel: ``"gray"`` or ``"green"``, see `DRIVEPreprocess`.
        clahe: apply CLAHE, see `DRIVEPreprocess`.
        gamma: gamma correction, see `DRIVEPreprocess`.
    """
    return Compose(_drive_loading(with_label, with_mask, allow_missing_keys, channel, clahe, gamma))
