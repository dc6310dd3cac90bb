"""DRIVE and ISIC-2017 datalists, data checks, splits and synthetic sample datasets."""

from .checks import SUPPORTED_SUFFIXES, DatasetError, ReadableImages, check_datalist
from .deferred import datalist_or_empty
from .drive import drive_datalist
from .folder import image_folder_datalist
from .isic2017 import isic2017_datalist
from .patch_loader import CachedPatchLoader
from .sample_drive import write_drive_sample
from .sample_isic2017 import write_isic2017_sample
from .split import split_train_val

__all__ = [
    "CachedPatchLoader",
    "SUPPORTED_SUFFIXES",
    "DatasetError",
    "ReadableImages",
    "check_datalist",
    "datalist_or_empty",
    "drive_datalist",
    "image_folder_datalist",
    "isic2017_datalist",
    "split_train_val",
    "write_drive_sample",
    "write_isic2017_sample",
]
