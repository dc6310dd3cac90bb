"""Datalist of every image under a folder, for inference on the user's own images, leaving out the files that the
official layout of a registered dataset marks as not images to segment (labels, masks)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from monai_jattn.data.errors import DatasetError
from monai_jattn.data.folders import require_dir
from monai_jattn.data.image_2d import SUPPORTED_SUFFIXES
from monai_jattn.datasets.registry import dataset_names, get_dataset

__all__ = ["image_folder_datalist"]

logger = logging.getLogger("monai_jattn.data")


def _ask_datasets(hook: str, path: Path) -> Any:
    """The answer for ``path`` of the first registered dataset whose `DatasetSpec` ``hook`` (e.g.
    ``"official_role"``) gives one, or None."""
    for name in dataset_names():
        function = getattr(get_dataset(name), hook)
        answer = function(path) if function is not None else None
        if answer is not None:
            return answer
    return None


def _files_under(root: Path) -> list[Path]:
    """Every file under ``root``, recursively, through linked folders too (a link to a folder already walked, such
    as a link to a parent, is logged and not walked again), and every broken link (the run then names it as
    unreadable instead of passing over it)."""
    files, walked = [], set()
    for folder, subfolders, names in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in walked:
            logger.info("skipping %s: a link to a folder already listed (%s)", folder, real)
            subfolders[:] = []
            continue
        walked.add(real)
        for name in names:
            path = Path(folder) / name
            if path.is_file() or (path.is_symlink() and not path.exists()):
                files.append(path)
        for name in list(subfolders):
            path = Path(folder) / name
            if path.is_symlink() and not path.exists():
                files.append(path)
    return files


def image_folder_datalist(root: str | os.PathLike) -> list[dict]:
    """List every image under ``root`` (recursively) for inference.

    Linked folders are followed (each real folder is listed once). ``root`` may be a folder of the user's own
    ``.tif``/``.tiff``/``.gif``/``.jpg``/``.jpeg``/
    ``.png`` images, or a dataset folder in the official layout of a registered dataset. Every image
    file is listed, whatever its name, except the files that a registered dataset's official layout
    marks as not images to segment (its `DatasetSpec.official_role`), e.g. DRIVE labels
    (``1st_manual/<n>_manual1.gif``, ``2nd_manual/<n>_manual2.gif``), ISIC-2017 masks
    (``ISIC-2017_*_Part1_GroundTruth/ISIC_<n>_segmentation.png``) and superpixel
    files (``ISIC_<n>_superpixels.png`` beside ``ISIC_<n>.jpg``); a DRIVE FOV mask
    (``mask/<stem>_mask.gif`` beside ``images/<stem>.tif``) is attached to its image as ``"mask"``, and so is
    the FOV a dataset computes for its images (`DatasetSpec.computed_mask`, e.g. CHASE_DB1's).
    Every file that is not listed (those, hidden files, other file types) is logged with the reason.

    Args:
        root: the folder to search.

    Returns:
        Dicts sorted by path, with ``"image"``, ``"mask"`` where there is one, and ``"id"``: the
        file's path relative to ``root`` without its suffix, ``/``-separated (``sub/eye`` for
        ``root/sub/eye.png``), so that the outputs named after it (``<id>_mask.png``) keep the
        sub-folder and say which input they belong to.

    Raises:
        DatasetError: ``root`` is not a folder, or holds no image; or two images would give the same
            outputs (the same stem in one folder, e.g. ``a.png`` and ``a.tif``, also when the names
            differ only in case), naming both files.
    """
    root = require_dir(root, "images")
    masks, images = {}, []
    # a broken link is listed like a file: the run then names it as unreadable instead of passing over it
    for path in sorted(_files_under(root)):
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            logger.info("skipping %s: hidden file", path)
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            logger.info("skipping %s: not an image file (%s)", path, ", ".join(SUPPORTED_SUFFIXES))
        else:
            role = _ask_datasets("official_role", path)
            if role is None:
                images.append(path)
            elif role[1] is not None and role[1].is_file():
                masks[role[1]] = path
                logger.info("using %s as the %s of %s", path, role[0], role[1])
            else:
                logger.info("skipping %s: %s%s", path, role[0], f" of a missing image {role[1]}" if role[1] else "")
    if not images:
        raise DatasetError(f"{root}: no images found (looked for {', '.join(SUPPORTED_SUFFIXES)} files)")
    ids = {path: path.relative_to(root).with_suffix("").as_posix() for path in images}
    _refuse_same_outputs(ids)
    datalist = []
    for path in images:
        image_id = ids[path]
        entry = {"image": str(path), "id": image_id}
        mask = masks.get(path)
        if mask is None and (mask := _ask_datasets("computed_mask", path)) is not None:
            logger.info("using %s as the computed field-of-view mask of %s", mask, path)
        if mask is not None:
            entry["mask"] = str(mask)
        datalist.append(entry)
    return datalist


def _refuse_same_outputs(ids: dict[Path, str]) -> None:
    """Raise `DatasetError` naming every group of images whose ids (and so output names) are the same, also when
    they differ only in case (one file on Windows' and macOS' file systems)."""
    groups: dict[str, list[Path]] = {}
    for path, image_id in ids.items():
        groups.setdefault(image_id.casefold(), []).append(path)
    clashes = [paths for paths in groups.values() if len(paths) > 1]
    if clashes:
        lines = [
            f"{' and '.join(str(p) for p in paths)}: both would be written as {ids[paths[0]]}_mask.png (and _prob, "
            "_overlay)"
            for paths in clashes
        ]
        raise DatasetError(
            f"{len(clashes)} name clash(es) among the images: rename one of each, or segment them in separate "
            "runs:\n  " + "\n  ".join(lines)
        )
