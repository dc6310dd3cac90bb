"""The CHASE_DB1 layout: the folder, the split by child, the datalist (with each image's cached FOV mask), and what
the other files of the layout are."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from monai_jattn.data.errors import DatasetError
from monai_jattn.data.folders import nested_dirs, require_dir
from monai_jattn.data.image_2d import SUPPORTED_SUFFIXES
from monai_jattn.datasets.chasedb1.fov import _FOV_FILE, _cached_fov, chasedb1_fov_cache_dir

__all__ = ["CHASEDB1_IMAGE_SIZE", "CHASEDB1_SPLITS", "chasedb1_datalist", "chasedb1_has_split", "find_chasedb1_dir"]

logger = logging.getLogger("monai_jattn.data")

CHASEDB1_SPLITS = ("training", "test")
CHASEDB1_IMAGE_SIZE = (960, 999)
"""(height, width) of the CHASE_DB1 images."""
_SPLIT_CHILDREN = {"training": range(1, 11), "test": range(11, 15)}

_IMAGE = re.compile(r"Image_(\d{2})([LR])\.jpg", re.IGNORECASE)
_LABEL = re.compile(r"Image_(\d{2})([LR])_(1st|2nd)HO\.png", re.IGNORECASE)
_FOLDER_NAMES = ("chasedb1", "chase_db1")


def _child(match: re.Match) -> int:
    return int(match.group(1))


def _is_chasedb1_file(path: Path) -> bool:
    return path.is_file() and bool(_IMAGE.fullmatch(path.name) or _LABEL.fullmatch(path.name))


def find_chasedb1_dir(root: str | os.PathLike) -> Path:
    """Find the CHASE_DB1 folder: ``root`` itself, its ``CHASEDB1`` child (any case), or a nested copy.

    Args:
        root: the folder holding the images, its parent, or a folder nesting a copy of the same name
            (e.g. ``CHASEDB1/CHASEDB1``).

    Raises:
        DatasetError: ``root`` does not exist, or no candidate holds a CHASE_DB1 image or label.
    """
    root = require_dir(root, "the CHASE_DB1 dataset")
    candidates = nested_dirs(root, {*_FOLDER_NAMES, root.name})  # root, root/CHASEDB1, root/CHASEDB1/CHASEDB1
    for candidate in candidates:
        if any(_is_chasedb1_file(p) for p in candidate.iterdir()):
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise DatasetError(f"{root}: no CHASE_DB1 images (Image_01L.jpg ...) found (looked in {looked})")


def chasedb1_has_split(root: str | os.PathLike, split: str) -> bool:
    """Whether ``root`` holds a CHASE_DB1 image or label of ``split`` (children 01-10 or 11-14)."""
    try:
        folder = find_chasedb1_dir(root)
    except DatasetError:
        return False
    children = _SPLIT_CHILDREN[split]
    for path in folder.iterdir():
        match = _IMAGE.fullmatch(path.name) or _LABEL.fullmatch(path.name)
        if match and path.is_file() and _child(match) in children:
            return True
    return False


def chasedb1_datalist(
    root: str | os.PathLike,
    split: str = "training",
    require_labels: bool = False,
    fov_cache_dir: str | os.PathLike | None = None,
) -> list[dict]:
    """List the images of one CHASE_DB1 split with both observers' labels and a computed FOV mask.

    Args:
        root: the folder holding the images, its parent (holding ``CHASEDB1/``, any case), or a nested copy.
        split: ``"training"`` (children 01-10) or ``"test"`` (children 11-14), chosen by the file names.
        require_labels: raise when the test split has no first-observer labels. By default its entries then
            have no ``"label"`` and a warning is logged. Training labels are always required.
        fov_cache_dir: where the computed FOV masks are cached; default `chasedb1_fov_cache_dir`.

    Returns:
        Dicts sorted by name, with ``"image"``, ``"label"`` (first observer, ``_1stHO.png``), ``"label2"``
        (second observer, ``_2ndHO.png``, where the split has them), ``"mask"`` (the cached FOV PNG, 0/255)
        as path strings, and ``"id"`` (e.g. ``"Image_01L"``).

    Raises:
        DatasetError: listing every problem in one message: a file in the folder that is not a CHASE_DB1
            image or label, a label without its image, an image without its first-observer label (or,
            where some images of the split have one, without its second-observer label); or an empty
            split, or an unreadable image.

    Examples::

        >>> train = chasedb1_datalist("/data/CHASEDB1", "training")
        >>> train[0]["id"], sorted(train[0])
        ('Image_01L', ['id', 'image', 'label', 'label2', 'mask'])
    """
    if split not in CHASEDB1_SPLITS:
        raise ValueError(f"split must be one of {CHASEDB1_SPLITS}, got {split!r}")
    folder = find_chasedb1_dir(root)
    children = _SPLIT_CHILDREN[split]
    images, labels, problems = {}, {"1st": {}, "2nd": {}}, []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_dir():
            continue
        image, label = _IMAGE.fullmatch(path.name), _LABEL.fullmatch(path.name)
        match = image or label
        if match is None and path.suffix.lower() not in SUPPORTED_SUFFIXES:  # Thumbs.db, a readme, ...
            logger.warning("%s: not an image, ignored in the CHASE_DB1 folder", path)
        elif match is None or not 1 <= _child(match) <= 14:
            problems.append(
                f"{path}: unexpected file in a CHASE_DB1 folder "
                "(expected Image_01L.jpg .. Image_14R.jpg, Image_01L_1stHO.png, Image_01L_2ndHO.png)"
            )
        elif _child(match) in children:
            name = f"Image_{match.group(1)}{match.group(2).upper()}"
            if image:
                images[name] = path
            else:
                labels[label.group(3).lower()][name] = path
    for observer, found in labels.items():
        problems += [
            f"{path}: a {observer}-observer label without its image {name}.jpg"
            for name, path in found.items()
            if name not in images
        ]
    has_labels = bool(labels["1st"])
    if not has_labels and not (split == "training" or require_labels) and images:
        logger.warning(
            "CHASE_DB1 %s split in %s has no first-observer labels (Image_NNX_1stHO.png); entries have no "
            "'label' (inference only).",
            split,
            folder,
        )
    required = (("1st",) if has_labels or split == "training" or require_labels else ()) + (
        ("2nd",) if labels["2nd"] else ()
    )
    for name, path in images.items():
        problems += [
            f"{path}: its {observer}-observer label {name}_{observer}HO.png is missing"
            for observer in required
            if name not in labels[observer]
        ]
    if problems:
        raise DatasetError(f"{len(problems)} problem(s) in {folder}:\n  " + "\n  ".join(problems))
    if not images:
        first, last = min(children), max(children)
        raise DatasetError(
            f"{folder}: no CHASE_DB1 {split} images (Image_{first:02d}L.jpg .. Image_{last:02d}R.jpg) found"
        )
    cache = Path(fov_cache_dir) if fov_cache_dir is not None else chasedb1_fov_cache_dir(folder)
    datalist = []
    for name in sorted(images):
        entry = {"image": str(images[name]), "id": name}
        for key, observer in (("label", "1st"), ("label2", "2nd")):
            if name in labels[observer]:
                entry[key] = str(labels[observer][name])
        entry["mask"] = str(_cached_fov(images[name], cache))
        datalist.append(entry)
    return datalist


def _official_role(path: Path) -> tuple[str, Path | None] | None:
    """What a file of the CHASE_DB1 layout is when it is not an image to segment (labels, cached FOV masks)."""
    label = _LABEL.fullmatch(path.name)
    if label:
        return f"CHASE_DB1 {label.group(3).lower()}-observer vessel label", None
    if path.suffix.lower() == ".png" and _FOV_FILE.fullmatch(path.stem):
        return "CHASE_DB1 computed field-of-view mask", None
    return None


def _computed_fov(path: Path) -> Path | None:
    """The cached FOV of a CHASE_DB1 image (``Image_01L.jpg`` beside one of its labels), else None."""
    if not _IMAGE.fullmatch(path.name) or not any(
        path.with_name(f"{path.stem}_{o}HO.png").is_file() for o in ("1st", "2nd")
    ):
        return None
    return _cached_fov(path, chasedb1_fov_cache_dir(path.parent))
