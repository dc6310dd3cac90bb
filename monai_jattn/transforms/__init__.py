"""MONAI dictionary transforms and ready-made pipelines for DRIVE and ISIC-2017."""

from .intensity import DRIVEPreprocess, DRIVEPreprocessd
from .io import LoadImage2Dd
from .pipelines import drive_eval_transforms, drive_train_transforms, isic2017_eval_transforms, isic2017_train_transforms

__all__ = [
    "DRIVEPreprocess",
    "DRIVEPreprocessd",
    "LoadImage2Dd",
    "drive_eval_transforms",
    "drive_train_transforms",
    "isic2017_eval_transforms",
    "isic2017_train_transforms",
]
