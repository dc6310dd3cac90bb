"""MONAI dictionary transforms: loading 2D images, DRIVE-style preprocessing, batch augmentations, post-processing.

The datasets' ready-made pipelines (``drive_train_transforms``, ``drive_eval_transforms``,
``isic2017_train_transforms``, ``isic2017_eval_transforms``) live in their dataset module under
`monai_jattn.datasets` and still resolve here, imported on first use (PEP 562).
"""

import importlib

from .batch import (
    RandAdjustContrastBatchd,
    RandFlipBatchd,
    RandGaussianNoiseBatchd,
    RandRotate90Batchd,
    RandRotateBatchd,
    RandScaleIntensityBatchd,
)
from .intensity import DRIVEPreprocess, DRIVEPreprocessd
from .io import LoadImage2Dd
from .postprocess import MaskedPixelsd, SaveSegmentationPNGd

_MOVED = {
    "drive_train_transforms": "monai_jattn.datasets.drive",
    "drive_eval_transforms": "monai_jattn.datasets.drive",
    "isic2017_train_transforms": "monai_jattn.datasets.isic2017",
    "isic2017_eval_transforms": "monai_jattn.datasets.isic2017",
}
"""Names that moved to a dataset module, by the module that now holds them."""

__all__ = [
    "DRIVEPreprocess",
    "DRIVEPreprocessd",
    "LoadImage2Dd",
    "MaskedPixelsd",
    "RandAdjustContrastBatchd",
    "RandFlipBatchd",
    "RandGaussianNoiseBatchd",
    "RandRotate90Batchd",
    "RandRotateBatchd",
    "RandScaleIntensityBatchd",
    "SaveSegmentationPNGd",
    *_MOVED,
]


def __getattr__(name: str):
    """Import a moved name from its dataset module on first use (and only then)."""
    if name in _MOVED:
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MOVED))
