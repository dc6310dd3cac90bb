"""Ready-made MONAI `Compose` pipelines for ISIC-2017, usable from bundle configs via ``_target_``.

Sizes are given as (height, width); the pipelines convert them to the (width, height) spatial order of
arrays loaded by MONAI's `PILReader` (see `LoadImage2Dd`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from monai.transforms import Compose, Resized, ScaleIntensityRanged

from monai_jattn.transforms.load_2d import LoadImage2Dd
from monai_jattn.transforms.pipelines import array_size, augmentations

__all__ = ["isic2017_train_transforms", "isic2017_eval_transforms"]


def _isic_loading(with_label: bool):
    keys = ("image", "label") if with_label else ("image",)
    return [
        LoadImage2Dd(keys, binary_keys=keys[1:]),
        ScaleIntensityRanged("image", a_min=0.0, a_max=255.0, b_min=0.0, b_max=1.0, clip=True),
    ]


def isic2017_train_transforms(train_size: Sequence[int] | int = (192, 256), augment: bool = True) -> Compose:
    """ISIC-2017 training: load, scale to [0, 1], resize image and label to ``train_size``, augment.

    Gives ``"image"`` (3, ...) in [0, 1] (bilinear, anti-aliased) and a binary ``"label"`` (1, ...)
    (nearest neighbour) of ``train_size``. Augmentations: flips on both axes, rotations up to 30
    degrees, contrast, intensity scaling and Gaussian noise.

    Args:
        train_size: (height, width), e.g. the common (192, 256), (224, 224) or (256, 256).
        augment: add the flips, rotations and intensity augmentations.
    """
    size = array_size(train_size)
    transforms = _isic_loading(True) + [
        Resized(("image", "label"), spatial_size=size, mode=("bilinear", "nearest"), anti_aliasing=(True, False))
    ]
    if augment:
        transforms += augmentations(("image", "label"), rotate90=False, max_angle=math.radians(30))
    return Compose(transforms)


def isic2017_eval_transforms(
    train_size: Sequence[int] | int = (192, 256), with_label: bool = True, resize_label: bool = False
) -> Compose:
    """ISIC-2017 evaluation and inference: load, scale to [0, 1], resize the image to ``train_size``.

    The resize is recorded in the image's MetaTensor, so `monai.transforms.Invertd` (with
    ``orig_keys="image"``) brings predictions back to the original size, where the metrics of the
    ISIC protocol are computed; the label therefore stays at its original size by default (use a
    batch size of 1, as original sizes vary).

    Args:
        train_size: (height, width) the network was trained at.
        with_label: load ``"label"``.
        resize_label: also resize the label (nearest neighbour) to ``train_size``, for quick
            validation in batches at the training size instead of the original-size protocol.
    """
    keys = ("image", "label") if with_label and resize_label else ("image",)
    return Compose(
        _isic_loading(with_label)
        + [
            Resized(
                keys,
                spatial_size=array_size(train_size),
                mode=("bilinear", "nearest")[: len(keys)],
                anti_aliasing=(True, False)[: len(keys)],
            )
        ]
    )
