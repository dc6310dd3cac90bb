"""Datalists for DRIVE (Digital Retinal Images for Vessel Extraction) in its official layout.

Layout, under the DRIVE folder::

    training/images/21_training.tif ... 40_training.tif        RGB, 565 x 584
    training/1st_manual/21_manual1.gif                          vessel labels, 0/255
    training/mask/21_training_mask.gif                          field-of-view (FOV) masks, 0/255
    test/images/01_test.tif ... 20_test.tif
    test/mask/01_test_mask.gif
    test/1st_manual/01_manual1.gif                              older releases only
    test/2nd_manual/01_manual2.gif                              second observer, older releases only
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from monai_jattn.data.errors import DatasetError
from monai_jattn.data.folders import nested_dirs, require_dir

__all__ = ["DRIVE_SPLITS", "find_drive_dir", "has_drive_split", "drive_datalist", "drive_official_role"]

DRIVE_SPLITS = ("training", "test")

logger = logging.getLogger("monai_jattn.data")

_LABEL = re.compile(r"\d+_manual\d", re.IGNORECASE)  # in 1st_manual/ or 2nd_manual/
_LABEL_DIRS = ("1st_manual", "2nd_manual")
_FOV_MASK = re.compile(r"(\d+_(?:training|test))_mask", re.IGNORECASE)  # mask/<stem>_mask.gif


def find_drive_dir(root: str | os.PathLike, split: str = "training") -> Path:
    """Find the DRIVE folder: ``root`` itself, its ``DRIVE`` child, or a folder of the same name nested inside.

    Args:
        root: the DRIVE folder, its parent, or a folder holding a nested copy of the same name
            (as some unzip tools make, e.g. ``DRIVE/DRIVE``).
        split: the split whose ``<split>/images`` folder marks the DRIVE folder.

    Raises:
        DatasetError: ``root`` does not exist, or no candidate holds ``<split>/images``.
    """
    root = require_dir(root, "the DRIVE dataset")
    candidates = nested_dirs(root, {"drive", root.name})  # root, root/DRIVE, root/DRIVE/DRIVE
    for candidate in candidates:
        if (candidate / split / "images").is_dir():
            return candidate
    looked = ", ".join(str(c / split / "images") for c in candidates)
    raise DatasetError(f"{root}: no DRIVE '{split}/images' folder found (looked for {looked})")


def has_drive_split(root: str | os.PathLike, split: str) -> bool:
    """Whether ``root`` (as `find_drive_dir` accepts it) holds the ``<split>/images`` folder of a DRIVE split."""
    try:
        find_drive_dir(root, split)
    except DatasetError:
        return False
    return True


def drive_datalist(root: str | os.PathLike, split: str = "training", require_labels: bool = False) -> list[dict]:
    """List the images of one DRIVE split with their vessel labels and field-of-view masks.

    Args:
        root: the DRIVE folder, its parent, or a folder nesting a copy of the same name.
        split: ``"training"`` or ``"test"``.
        require_labels: raise when the test split has no ``1st_manual`` labels (current DRIVE
            downloads lack them). By default entries then have no ``"label"`` and a warning naming
            the folder is logged. Training labels are always required.

    Returns:
        Dicts sorted by image number, with ``"image"``, ``"label"`` (if available), ``"mask"`` (the
        FOV) as path strings, and ``"id"`` (the image's file stem, e.g. ``"21_training"``). Where the
        split has a ``2nd_manual`` folder (the test split of older releases), ``"label2"`` is the
        second observer's segmentation, the human baseline scored against ``"label"``.

    Raises:
        DatasetError: a missing folder, a file that does not follow the official naming, an image
            without its label, FOV mask or (where ``2nd_manual`` exists) second-observer label (all
            listed in one message), or an empty split.

    Examples::

        >>> train = drive_datalist("/data/DRIVE", "training")
        >>> train[0]["id"], sorted(train[0])
        ('21_training', ['id', 'image', 'label', 'mask'])
    """
    if split not in DRIVE_SPLITS:
        raise ValueError(f"split must be one of {DRIVE_SPLITS}, got {split!r}")
    split_dir = find_drive_dir(root, split) / split
    image_dir, label_dir, mask_dir = split_dir / "images", split_dir / "1st_manual", split_dir / "mask"
    observer2_dir = split_dir / "2nd_manual"
    require_dir(mask_dir, f"DRIVE {split} field-of-view masks")
    has_labels = label_dir.is_dir()
    if not has_labels:
        if split == "training" or require_labels:
            require_dir(label_dir, f"DRIVE {split} vessel labels (1st_manual)")
        logger.warning(
            "DRIVE %s split has no labels: %s does not exist; entries have no 'label' (inference only). "
            "Older DRIVE releases include the test labels.",
            split,
            label_dir,
        )
    pattern = re.compile(rf"(\d+)_{split}\.tif", re.IGNORECASE)
    datalist, problems = [], []
    for path in sorted(image_dir.iterdir()):
        if path.name.startswith("."):
            continue
        match = pattern.fullmatch(path.name)
        if match is None:
            problems.append(f"{path}: unexpected file in a DRIVE images folder (expected names like 21_{split}.tif)")
            continue
        entry = {"image": str(path), "id": path.stem}
        expected = {"mask": mask_dir / f"{path.stem}_mask.gif"}
        if has_labels:
            expected["label"] = label_dir / f"{match.group(1)}_manual1.gif"
        if observer2_dir.is_dir():
            expected["label2"] = observer2_dir / f"{match.group(1)}_manual2.gif"
        for key, file in expected.items():
            if file.is_file():
                entry[key] = str(file)
            else:
                what = {"mask": "FOV mask", "label2": "second-observer label"}.get(key, key)
                problems.append(f"{path}: its {what} {file} is missing")
        datalist.append((int(match.group(1)), entry))
    if problems:
        raise DatasetError(f"{len(problems)} problem(s) in {split_dir}:\n  " + "\n  ".join(problems))
    if not datalist:
        raise DatasetError(f"{image_dir}: no DRIVE images (*_{split}.tif) found")
    return [entry for _, entry in sorted(datalist, key=lambda item: item[0])]


def drive_official_role(path: Path) -> tuple[str, Path | None] | None:
    """What ``path`` is in the official DRIVE layout when it is not an image to segment (for
    `image_folder_datalist`): a vessel label (``1st_manual/<n>_manual1.gif``, ``2nd_manual/<n>_manual2.gif``)
    or a field-of-view mask (``mask/<stem>_mask.gif``) with its image ``images/<stem>.tif``; None otherwise.
    """
    folder, stem = path.parent.name.lower(), path.stem
    if folder in _LABEL_DIRS and _LABEL.fullmatch(stem):
        return "DRIVE vessel label", None
    fov = _FOV_MASK.fullmatch(stem)
    if folder == "mask" and fov:
        return "DRIVE field-of-view mask", path.parent.parent / "images" / f"{fov.group(1)}.tif"
    return None
