"""MONAI dictionary transforms: loading 2D images, DRIVE-style preprocessing, batch augmentations, post-processing.

The datasets' ready-made pipelines (``drive_train_transforms``, ``drive_eval_transforms``,
``isic2017_train_transforms``, ``isic2017_eval_transforms``) live in their dataset module under
`monai_jattn.datasets`.
"""

from .batch import (
    RandAdjustContrastBatchd,
    RandFlipBatchd,
    RandGaussianNoiseBatchd,
    RandRotate90Batchd,
    RandRotateBatchd,
    RandScaleIntensityBatchd,
)
from .intensity import DRIVEPreprocess, DRIVEPreprocessd
from .load_2d import LoadImage2Dd
from .load_naming_files import LoadImageNamingFilesd
from .postprocess import ForegroundProbabilityd, MaskedPixelsd, SaveSegmentationPNGd

__all__ = [
    "DRIVEPreprocess",
    "DRIVEPreprocessd",
    "ForegroundProbabilityd",
    "LoadImage2Dd",
    "LoadImageNamingFilesd",
    "MaskedPixelsd",
    "RandAdjustContrastBatchd",
    "RandFlipBatchd",
    "RandGaussianNoiseBatchd",
    "RandRotate90Batchd",
    "RandRotateBatchd",
    "RandScaleIntensityBatchd",
    "SaveSegmentationPNGd",
]
