"""Generic data pieces: data checks, splits, deferred datalists and the patch loader. Each dataset's own code,
the data command line (`python -m monai_jattn.datasets`) and the synthetic images live under
`monai_jattn.datasets`; this package imports none.

The older public names (``drive_datalist``, ``isic2017_datalist``, ``write_drive_sample``,
``write_isic2017_sample``, and ``image_folder_datalist``, which asks the dataset registry) still resolve here,
imported from their dataset module on first use (PEP 562).
"""

from monai_jattn.moved_names import moved_names

from .checks import SUPPORTED_SUFFIXES, DatasetError, FileInspector, ReadableImages, check_datalist
from .deferred import datalist_or_empty
from .patch_loader import CachedPatchLoader
from .sources import batch_files
from .split import split_train_val

_MOVED = {
    "image_folder_datalist": "monai_jattn.datasets",
    "drive_datalist": "monai_jattn.datasets.drive",
    "write_drive_sample": "monai_jattn.datasets.drive",
    "isic2017_datalist": "monai_jattn.datasets.isic2017",
    "write_isic2017_sample": "monai_jattn.datasets.isic2017",
}
"""Names that moved to a dataset module, by the module that now holds them."""

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
    *_MOVED,
]


__getattr__, __dir__ = moved_names(__name__, _MOVED)
