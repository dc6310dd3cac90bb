"""MONAI dictionary transforms and ready-made pipelines for DRIVE and ISIC-2017."""

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
from .pipelines import drive_eval_transforms, drive_train_transforms, isic2017_eval_transforms, isic2017_train_transforms
from .postprocess import MaskedPixelsd, SaveSegmentationPNGd

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
    "drive_eval_transforms",
    "drive_train_transforms",
    "isic2017_eval_transforms",
    "isic2017_train_transforms",
]
