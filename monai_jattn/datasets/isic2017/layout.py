"""Datalists for ISIC-2017 Part 1 (skin lesion segmentation) in its official layout.

Layout, under the dataset folder (each folder may also nest a copy of itself, as some unzip tools make)::

    ISIC-2017_Training_Data/ISIC_0000000.jpg                     (+ ISIC_0000000_superpixels.png, ignored)
    ISIC-2017_Training_Part1_GroundTruth/ISIC_0000000_segmentation.png     0/255, the image's size
    ISIC-2017_Validation_Data/, ISIC-2017_Validation_Part1_GroundTruth/
    ISIC-2017_Test_v2_Data/, ISIC-2017_Test_v2_Part1_GroundTruth/
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from monai_jattn.data.errors import DatasetError
from monai_jattn.data.folders import require_dir
from monai_jattn.data.image_2d import SUPPORTED_SUFFIXES

__all__ = [
    "ISIC2017_FOLDERS",
    "find_isic2017_folder",
    "has_isic2017_split",
    "isic2017_datalist",
    "isic2017_official_role",
]

ISIC2017_FOLDERS = {
    "training": ("ISIC-2017_Training_Data", "ISIC-2017_Training_Part1_GroundTruth"),
    "validation": ("ISIC-2017_Validation_Data", "ISIC-2017_Validation_Part1_GroundTruth"),
    "test": ("ISIC-2017_Test_v2_Data", "ISIC-2017_Test_v2_Part1_GroundTruth"),
}
"""Official (image folder, ground-truth folder) names of each split."""

_IMAGE = re.compile(r"(ISIC_\d+)\.jpg", re.IGNORECASE)
_SUPERPIXELS = re.compile(r"ISIC_\d+_superpixels\.png", re.IGNORECASE)
_MASK = re.compile(r"(ISIC_\d+)_segmentation\.png", re.IGNORECASE)
_MASK_STEM = re.compile(r"ISIC_\d+_segmentation", re.IGNORECASE)  # any image suffix, for `isic2017_official_role`
_SUPERPIXELS_STEM = re.compile(r"(ISIC_\d+)_superpixels", re.IGNORECASE)

logger = logging.getLogger("monai_jattn.data")


def find_isic2017_folder(root: str | os.PathLike, name: str) -> Path:
    """Return ``root/name``, or ``root/name/name`` where the unzipped folder nests a copy of itself.

    Raises:
        DatasetError: ``root`` or ``root/name`` does not exist.
    """
    folder = require_dir(Path(require_dir(root, "the ISIC-2017 dataset")) / name, f"ISIC-2017 data ({name})")
    return folder / name if (folder / name).is_dir() else folder


def _official_files(folder: Path, pattern: re.Pattern, ignore: re.Pattern | None, what: str) -> tuple[dict, list]:
    """Map the ISIC id to the path of every file of ``folder`` named by ``pattern``.

    Other image files are problems (wrongly named data is never skipped silently); non-image files
    such as the official ``*_metadata.csv`` are ignored with a debug log line.
    """
    files, problems = {}, []
    for path in sorted(folder.iterdir()):
        match = pattern.fullmatch(path.name)
        if match:
            files[match.group(1)] = path
        elif path.suffix.lower() in SUPPORTED_SUFFIXES and not (ignore and ignore.fullmatch(path.name)):
            problems.append(f"{path}: unexpected image file in an ISIC-2017 {what} folder")
        elif not path.name.startswith(".") and not (ignore and ignore.fullmatch(path.name)):
            logger.debug("ignoring non-image file %s", path)
    return files, problems


def has_isic2017_split(root: str | os.PathLike, split: str) -> bool:
    """Whether ``root`` holds the image folder of the ISIC-2017 ``split`` (e.g. ``ISIC-2017_Test_v2_Data``)."""
    return (Path(root) / ISIC2017_FOLDERS[split][0]).is_dir()


def isic2017_datalist(root: str | os.PathLike, split: str = "training", require_labels: bool = False) -> list[dict]:
    """List the images of one ISIC-2017 Part 1 split with their lesion masks.

    Args:
        root: the folder holding the official ``ISIC-2017_*`` folders.
        split: ``"training"`` (2,000 images), ``"validation"`` (150) or ``"test"`` (600).
        require_labels: accepted for the registry's datalist contract and not used: ISIC-2017 labels are
            always required.

    Returns:
        Dicts sorted by id, with ``"image"`` (the ``.jpg``), ``"label"`` (the ``_segmentation.png``)
        as path strings and ``"id"`` (e.g. ``"ISIC_0000000"``). Superpixel files are ignored.

    Raises:
        DatasetError: a missing folder, an image without its mask or a mask without its image, a
            wrongly named image file (all listed in one message), or an empty split.

    Examples::

        >>> isic2017_datalist("/data/ISIC2017", "validation")[0]["id"]
        'ISIC_0000001'
    """
    if split not in ISIC2017_FOLDERS:
        raise ValueError(f"split must be one of {tuple(ISIC2017_FOLDERS)}, got {split!r}")
    image_dir, mask_dir = (find_isic2017_folder(root, name) for name in ISIC2017_FOLDERS[split])
    images, problems = _official_files(image_dir, _IMAGE, _SUPERPIXELS, "image")
    masks, mask_problems = _official_files(mask_dir, _MASK, None, "ground-truth")
    problems += mask_problems
    problems += [
        f"{images[i]}: its mask {mask_dir / f'{i}_segmentation.png'} is missing" for i in images if i not in masks
    ]
    problems += [f"{masks[i]}: its image {image_dir / f'{i}.jpg'} is missing" for i in masks if i not in images]
    if problems:
        raise DatasetError(f"{len(problems)} problem(s) in ISIC-2017 {split} data:\n  " + "\n  ".join(sorted(problems)))
    if not images:
        raise DatasetError(f"{image_dir}: no ISIC-2017 images (ISIC_*.jpg) found")
    return [{"image": str(images[i]), "label": str(masks[i]), "id": i} for i in sorted(images)]


def isic2017_official_role(path: Path) -> tuple[str, Path | None] | None:
    """What ``path`` is in the official ISIC-2017 layout when it is not an image to segment (for
    `image_folder_datalist`): a ground-truth mask (``ISIC-2017_*_Part1_GroundTruth/ISIC_<n>_segmentation.png``)
    or a superpixel file (``ISIC_<n>_superpixels.png`` beside ``ISIC_<n>.jpg``); None otherwise.
    """
    folder, stem = path.parent.name.lower(), path.stem
    if folder.startswith("isic-2017_") and folder.endswith("_groundtruth") and _MASK_STEM.fullmatch(stem):
        return "ISIC-2017 ground-truth mask", None
    superpixels = _SUPERPIXELS_STEM.fullmatch(stem)
    if superpixels and (path.parent / f"{superpixels.group(1)}.jpg").is_file():
        return "ISIC-2017 superpixel file", None
    return None
