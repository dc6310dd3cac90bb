"""MONAI dictionary transforms: loading 2D images, DRIVE-style preprocessing, batch augmentations, post-processing.

The datasets' ready-made pipelines (``drive_train_transforms``, ``drive_eval_transforms``,
``isic2017_train_transforms``, ``isic2017_eval_transforms``) live in their dataset module under
`monai_jattn.datasets` and still resolve here, imported on first use (PEP 562).
"""

from monai_jattn.moved_names import moved_names

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
from .load import LoadImageNamingFilesd
from .postprocess import ForegroundProbabilityd, MaskedPixelsd, SaveSegmentationPNGd

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
    *_MOVED,
]


__getattr__, __dir__ = moved_names(__name__, _MOVED)
