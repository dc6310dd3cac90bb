"""Generic data pieces: data checks, splits, deferred datalists and the patch loader. Each dataset's own code,
the data command line (`python -m monai_jattn.datasets`) and the synthetic images live under
`monai_jattn.datasets`; this package imports none.
"""

from .checks import FileInspector, ReadableImages, check_datalist
from .deferred import datalist_or_empty
from .errors import DatasetError
from .image_2d import SUPPORTED_SUFFIXES
from .patch_loader import CachedPatchLoader
from .sources import batch_files
from .split import split_train_val

__all__ = [
    "CachedPatchLoader",
    "SUPPORTED_SUFFIXES",
    "DatasetError",
    "FileInspector",
    "ReadableImages",
    "batch_files",
    "check_datalist",
    "datalist_or_empty",
    "split_train_val",
]
