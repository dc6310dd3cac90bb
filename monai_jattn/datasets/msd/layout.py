"""The MSD layout: ``dataset.json`` (its channels, classes and 2D/3D) and the datalist of a split, with every
entry's headers (and labels' values) checked against it."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from monai.data import load_decathlon_datalist
from nibabel.affines import voxel_sizes

from monai_jattn.data.errors import DatasetError

__all__ = ["MSD_DATASET_JSON", "MSD_FALLBACK_FACTS", "msd_datalist", "msd_facts", "msd_has_split", "nifti_id"]

MSD_DATASET_JSON = "dataset.json"
"""The file that lists an MSD dataset and describes its channels and classes."""

MSD_FALLBACK_FACTS: Mapping[str, Any] = {
    "name": "(no dataset.json)",
    "modality": {"0": "image"},
    "labels": {"0": "background", "1": "foreground"},
    "spatial_dims": 3,
}
"""What `msd_facts` answers where ``dataset.json`` is absent: one channel, two classes, 3D, so that a
bundle builds (e.g. in the model zoo's checks) before its data is there."""

_SPLIT_FOLDERS = {"training": ("imagesTr", "labelsTr"), "test": ("imagesTs", None)}


def nifti_id(path: str | os.PathLike) -> str:
    """The file name of ``path`` without ``.nii.gz`` (or ``.nii``), e.g. ``"spleen_2"``."""
    name = Path(path).name
    for suffix in (".nii.gz", ".nii"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return Path(name).stem


def _read_dataset_json(root: str | os.PathLike) -> tuple[Path, dict]:
    path = Path(root) / MSD_DATASET_JSON
    if not path.is_file():
        raise DatasetError(f"{path}: not found; an MSD dataset folder holds dataset.json, imagesTr/, labelsTr/")
    try:
        description = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DatasetError(f"{path}: unreadable JSON ({e})") from None
    if not isinstance(description, dict):
        raise DatasetError(f"{path}: expected a JSON object, got {type(description).__name__}")
    return path, description


def _first_image_ndim(description: Mapping[str, Any], source: Path) -> int | None:
    """The number of axes of the first listed image (its header only), or None where none is listed."""
    entries = [*description.get("training", []), *description.get("test", [])]
    if not entries:
        return None
    first = entries[0]["image"] if isinstance(entries[0], Mapping) else entries[0]
    return _load_header(str(source.parent / first), "image").ndim


def _spatial_dims(description: Mapping[str, Any], modality: Mapping[str, str], source: Path) -> int:
    """``tensorImageSize`` ("2D", "3D", "4D"), or where it is missing the axes of the first listed image, less
    one axis where several modalities share the last axis."""
    size = description.get("tensorImageSize")
    if size is None:
        ndim = _first_image_ndim(description, source)
        size = f"{ndim or MSD_FALLBACK_FACTS['spatial_dims']}D"
    size = str(size).upper()
    if size not in ("2D", "3D", "4D"):
        raise DatasetError(f"{source}: tensorImageSize must be 2D, 3D or 4D, got {size!r}")
    dims = int(size[0]) - (1 if len(modality) > 1 else 0)
    if dims not in (2, 3):
        raise DatasetError(f"{source}: tensorImageSize {size} with {len(modality)} modalities is not 2D or 3D")
    return dims


def msd_facts(root: str | os.PathLike) -> dict[str, Any]:
    """The facts of the MSD dataset under ``root`` that a bundle needs, from its ``dataset.json``.

    Args:
        root: the dataset folder (holding ``dataset.json``).

    Returns:
        ``{"name", "modality": {channel: name}, "labels": {value: name}, "spatial_dims", "in_channels",
        "out_channels", "class_names"}``, channels and classes sorted by their integer keys; where
        ``dataset.json`` is absent, `MSD_FALLBACK_FACTS` (so that configs build without data).

    Raises:
        DatasetError: for a ``dataset.json`` that exists but cannot be read, lacks ``modality`` or
            ``labels``, or whose ``labels`` are not 0 (background), 1, 2, ...

    Example::

        >>> msd_facts("/data/Task09_Spleen")["class_names"]
        ['background', 'spleen']
    """
    if not (Path(root) / MSD_DATASET_JSON).is_file():
        facts = dict(MSD_FALLBACK_FACTS)
    else:
        path, description = _read_dataset_json(root)
        facts = {"name": str(description.get("name", Path(root).name))}
        for key in ("modality", "labels"):
            value = description.get(key)
            if not isinstance(value, dict) or not value:
                raise DatasetError(f"{path}: {key!r} must be a non-empty object such as {MSD_FALLBACK_FACTS[key]}")
            try:
                facts[key] = {str(k): str(value[k]) for k in sorted(value, key=int)}
            except ValueError:
                raise DatasetError(f"{path}: the keys of {key!r} must be integers, got {list(value)}") from None
        if list(facts["labels"]) != [str(i) for i in range(len(facts["labels"]))]:
            raise DatasetError(
                f"{path}: 'labels' must be numbered 0 (background), 1, 2, ..., got {list(facts['labels'])}"
            )
        facts["spatial_dims"] = _spatial_dims(description, facts["modality"], path)
    facts["in_channels"] = len(facts["modality"])
    facts["out_channels"] = len(facts["labels"])
    facts["class_names"] = list(facts["labels"].values())
    return facts


def msd_has_split(root: str | os.PathLike, split: str) -> bool:
    """Whether ``root/dataset.json`` lists a non-empty ``split`` ("training" or "test"); True for a
    ``dataset.json`` that cannot be read, so that `msd_datalist` reports it."""
    if not (Path(root) / MSD_DATASET_JSON).is_file():
        return False
    try:
        _, description = _read_dataset_json(root)
    except DatasetError:
        return True
    return bool(description.get(split))


def _load_header(path: str, what: str) -> nib.spatialimages.SpatialImage:
    if not os.path.isfile(path):
        raise DatasetError(f"{path}: {what} listed in {MSD_DATASET_JSON} does not exist")
    try:
        return nib.load(path)
    except Exception as e:  # noqa: BLE001 (nibabel raises many types for a damaged or foreign file)
        raise DatasetError(f"{path}: not a readable NIfTI {what} ({type(e).__name__}: {e})") from None


def _geometry_problem(image: nib.spatialimages.SpatialImage, label: nib.spatialimages.SpatialImage) -> str | None:
    """How a label's voxel grid differs from its image's (orientation, spacing, origin), or None.

    The network sees both resampled by their own affines, so a label of another orientation would be
    trained as a mirror image and one of another spacing would not line up with its image."""
    a, b = np.asarray(image.affine, dtype=float), np.asarray(label.affine, dtype=float)
    if nib.aff2axcodes(a) != nib.aff2axcodes(b):
        return (
            f"label orientation {''.join(nib.aff2axcodes(b))} differs from its image's "
            f"{''.join(nib.aff2axcodes(a))} (an axis is flipped or swapped in the label's header)"
        )
    spacing_a, spacing_b = voxel_sizes(a), voxel_sizes(b)
    if not np.allclose(spacing_a, spacing_b, rtol=1e-3, atol=1e-5):
        return (
            f"label voxel spacing {np.round(spacing_b, 4).tolist()} differs from its image's "
            f"{np.round(spacing_a, 4).tolist()}"
        )
    if np.abs(a[:3, 3] - b[:3, 3]).max() > 0.5 * spacing_a.min():
        origin_a, origin_b = np.round(a[:3, 3], 3).tolist(), np.round(b[:3, 3], 3).tolist()
        return f"label origin {origin_b} differs from its image's {origin_a} by more than half a voxel"
    return None


def _check_entry(
    entry: dict, spatial_dims: int, label_values: set[int], check_values: bool, channels: int = 1
) -> str | None:
    """The problem with one datalist entry (``"<file>: <problem>"``), or None."""
    try:
        image = _load_header(entry["image"], "image")
        if image.ndim < spatial_dims:
            return f"{entry['image']}: {image.ndim}D image, expected {spatial_dims} spatial dimensions"
        found = int(np.prod(image.shape[spatial_dims:], dtype=int))
        if found != channels:
            return (
                f"{entry['image']}: {found} channel(s) (shape {list(image.shape)}, read as {spatial_dims}D images with "
                f"one channel per modality on a last axis), but the 'modality' of {MSD_DATASET_JSON} lists {channels}"
            )
        if "label" not in entry:
            return None
        label = _load_header(entry["label"], "label")
        if tuple(label.shape) != tuple(image.shape[:spatial_dims]):
            return (
                f"{entry['label']}: label shape {list(label.shape)} differs from the spatial shape "
                f"{list(image.shape[:spatial_dims])} of its image {entry['image']}"
            )
        problem = _geometry_problem(image, label)
        if problem:
            return f"{entry['label']}: {problem} (image {entry['image']})"
        if check_values:
            try:
                values = set(np.unique(np.asanyarray(label.dataobj)).tolist())
            except Exception as e:  # noqa: BLE001 (zlib, EOF, nibabel errors of a truncated file)
                return f"{entry['label']}: not a readable NIfTI label ({type(e).__name__}: {e})"
            unknown = sorted(values - label_values)
            if unknown:
                return f"{entry['label']}: label values {unknown} are not in the 'labels' of {MSD_DATASET_JSON}"
    except DatasetError as e:
        return str(e)
    return None


def msd_datalist(
    root: str | os.PathLike,
    split: str = "training",
    require_labels: bool = False,
    check_values: bool = True,
    num_workers: int | None = None,
) -> list[dict]:
    """The entries of one split of the MSD dataset under ``root``, checked.

    ``dataset.json`` is read with MONAI's `load_decathlon_datalist` (its "training" list holds
    ``{"image", "label"}`` pairs, its "test" list plain image paths). Every file must exist and have a
    readable NIfTI header; every label must have its image's spatial shape and, with ``check_values``,
    only the values of ``dataset.json``'s "labels" (this reads every label completely).

    Args:
        root: the dataset folder.
        split: ``"training"`` (images and labels) or ``"test"`` (images only).
        require_labels: raise for a split without labels (the MSD test split) instead of listing images.
        check_values: read every label and check its values (the header checks always run).
        num_workers: threads that read files; default: the number of CPUs, at most 8.

    Returns:
        dicts with ``"image"``, ``"label"`` (training) and ``"id"`` (the image's file name without
        ``.nii.gz``), in the order of ``dataset.json``.

    Raises:
        DatasetError: naming every file concerned and its problem: no ``dataset.json``, a listed file
            missing, an unreadable or corrupt NIfTI, a label shape unlike its image's, unknown label values;
            also for an empty split, and for a case (image file name) listed more than once.

    Example::

        >>> train = msd_datalist("/data/Task09_Spleen", "training")
        >>> train[0]["id"], sorted(train[0])
        ('spleen_19', ['id', 'image', 'label'])
    """
    if split not in _SPLIT_FOLDERS:
        raise ValueError(f"split must be one of {list(_SPLIT_FOLDERS)}, got {split!r}")
    path, description = _read_dataset_json(root)
    facts = msd_facts(root)
    if split == "test" and require_labels:
        raise DatasetError(f"{path}: the MSD test split has no labels; evaluate on a held-out part of 'training'")
    if not description.get(split):
        raise DatasetError(f"{path}: lists no {split!r} images")
    try:
        datalist = load_decathlon_datalist(path, is_segmentation=True, data_list_key=split, base_dir=root)
    except (TypeError, ValueError, KeyError) as e:
        raise DatasetError(f"{path}: its {split!r} list is malformed ({e})") from None
    for entry in datalist:
        if "image" not in entry or (split == "training" and "label" not in entry):
            raise DatasetError(f"{path}: a {split!r} entry lacks 'image' or 'label': {entry}")
        entry["id"] = nifti_id(entry["image"])
    listed: dict[str, list[int]] = {}
    for index, entry in enumerate(datalist):
        listed.setdefault(entry["id"], []).append(index + 1)
    repeated = {case: places for case, places in listed.items() if len(places) > 1}
    if repeated:  # a training case listed twice could land in both the training and the validation part
        cases = "; ".join(f"{case} (entries {', '.join(map(str, places))})" for case, places in repeated.items())
        raise DatasetError(
            f"{path}: its {split!r} list names the same case more than once: {cases}. Each case must be listed "
            "once (a repeated case could be trained on and validated on, or its outputs overwrite each other); "
            "remove the repeated entries"
        )
    label_values = {int(k) for k in facts["labels"]}
    workers = num_workers or min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        problems = [
            p
            for p in pool.map(
                lambda e: _check_entry(e, facts["spatial_dims"], label_values, check_values, facts["in_channels"]),
                datalist,
            )
            if p
        ]
    if problems:
        raise DatasetError(f"{len(problems)} problem(s) in {path}:\n" + "\n".join(problems))
    return datalist
