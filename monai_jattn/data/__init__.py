"""Generic data pieces: data checks, splits, deferred datalists, the patch loader and synthetic images. Each dataset's own code lives under `monai_jattn.datasets`; this package imports none.

The older public names (``drive_datalist``, ``isic2017_datalist``, ``write_drive_sample``,
``write_isic2017_sample``, and ``image_folder_datalist``, which asks the dataset registry) still resolve here, imported from their dataset module on first use (PEP 562).
"""

import importlib

from .checks import SUPPORTED_SUFFIXES, DatasetError, ReadableImages, check_datalist
from .deferred import datalist_or_empty
from .patch_loader import CachedPatchLoader
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
    "ReadableImages",
    "check_datalist",
    "datalist_or_empty",
    "split_train_val",
    *_MOVED,
]


def __getattr__(name: str):
    """Import a moved name from its dataset module on first use (and only then)."""
    if name in _MOVED:
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MOVED))
