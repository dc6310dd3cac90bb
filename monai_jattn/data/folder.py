"""Datalist of every image under a folder, for inference on the user's own images."""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

from monai_jattn.data.checks import SUPPORTED_SUFFIXES, DatasetError, require_dir

__all__ = ["image_folder_datalist"]

_LABEL = re.compile(r".+_(manual\d|segmentation)", re.IGNORECASE)  # DRIVE labels, ISIC-2017 masks
_SUPERPIXELS = re.compile(r".+_superpixels", re.IGNORECASE)  # ISIC-2017 superpixel files
_FOV_MASK = re.compile(r"(.+)_mask", re.IGNORECASE)  # DRIVE field-of-view masks


def _dataset_dir(path: Path, folder_name: str) -> Path:
    """The folder that a DRIVE-style ``images``/``mask`` folder sits in, else the file's own folder."""
    return path.parent.parent if path.parent.name.lower() == folder_name else path.parent


def image_folder_datalist(root: str | os.PathLike) -> list[dict]:
    """List every image under ``root`` (recursively) for inference.

    ``root`` may be a folder of the user's own ``.tif``/``.tiff``/``.gif``/``.jpg``/``.jpeg``/
    ``.png`` images, or a DRIVE or ISIC-2017 folder in the official layout. The official naming
    tells which files are not images to segment: DRIVE labels (``*_manual1.gif``, ``*_manual2.gif``),
    ISIC-2017 masks (``*_segmentation.png``) and superpixel files (``*_superpixels.png``) are skipped;
    a DRIVE FOV mask (``mask/<stem>_mask.gif`` beside ``images/<stem>.tif``, or ``<stem>_mask.*``
    beside the image) is attached to its image as ``"mask"``. Hidden files are ignored.

    Args:
        root: the folder to search.

    Returns:
        Dicts sorted by path, with ``"image"``, ``"mask"`` where there is one, and ``"id"``: the
        file stem, made unique by appending ``_1``, ``_2``, ... (in path order) to the second and
        later files of the same stem.

    Raises:
        DatasetError: ``root`` is not a folder, or holds no image.
    """
    root = require_dir(root, "images")
    files = sorted(
        path
        for path in root.rglob("*")
        if path.suffix.lower() in SUPPORTED_SUFFIXES
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
    )
    masks, images = {}, []
    for path in files:
        if _LABEL.fullmatch(path.stem) or _SUPERPIXELS.fullmatch(path.stem):
            continue
        mask_match = _FOV_MASK.fullmatch(path.stem)
        if mask_match:
            masks[(_dataset_dir(path, "mask"), mask_match.group(1))] = path
        else:
            images.append(path)
    if not images:
        raise DatasetError(f"{root}: no images found (looked for {', '.join(SUPPORTED_SUFFIXES)} files)")
    seen: Counter = Counter()
    used = {path.stem for path in images}  # first files of each stem keep it as their id
    datalist = []
    for path in images:
        seen[path.stem] += 1
        image_id, suffix = path.stem, seen[path.stem] - 1
        while suffix and image_id in used:
            image_id, suffix = f"{path.stem}_{suffix}", suffix + 1
        used.add(image_id)
        entry = {"image": str(path), "id": image_id}
        mask = masks.get((_dataset_dir(path, "images"), path.stem))
        if mask is not None:
            entry["mask"] = str(mask)
        datalist.append(entry)
    return datalist
