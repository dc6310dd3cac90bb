"""Any dataset in the Medical Segmentation Decathlon (MSD) layout: NIfTI volumes (or 2D images) listed by a
``dataset.json``, read through MONAI's `load_decathlon_datalist` and nibabel.

The layout (http://medicaldecathlon.com)::

    <root>/dataset.json     name, modality {"0": "CT", ...}, labels {"0": "background", "1": ...},
                            tensorImageSize ("3D"; "4D" for several modalities), training [{image, label}], test [paths]
    <root>/imagesTr/*.nii.gz    training images (several modalities: the last axis)
    <root>/labelsTr/*.nii.gz    training labels, one integer value per class of "labels"
    <root>/imagesTs/*.nii.gz    test images, without labels

The bundle ``msd_jattn_segmentation`` trains, evaluates and infers on it; `msd_facts` gives its channels
and classes from ``dataset.json``. `write_msd_sample` writes a small synthetic dataset in this layout.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nibabel as nib
from nibabel.affines import voxel_sizes
import numpy as np
from monai.data import load_decathlon_datalist

from monai_jattn.data.checks import DatasetError
from monai_jattn.datasets.registry import DatasetSpec, SampleOption
from monai_jattn.setting_checks import SettingError, check_count, check_positive_int
from monai_jattn.atomic_write import write_atomic, write_json_atomic

__all__ = [
    "MSD_DATASET_JSON",
    "MSD_FALLBACK_FACTS",
    "MSD_SAMPLE_CLASSES",
    "SPEC",
    "check_msd_files",
    "inspect_nifti",
    "msd_datalist",
    "msd_facts",
    "msd_has_split",
    "nifti_id",
    "write_msd_sample",
]

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

MSD_SAMPLE_CLASSES = ("background", "organ", "lesion")
"""Class names of `write_msd_sample`'s labels; further classes are named ``structure<k>``."""

_SPLIT_FOLDERS = {"training": ("imagesTr", "labelsTr"), "test": ("imagesTs", None)}


READ_CHUNK_BYTES = 1 << 24
"""How much of a decompressed ``.nii.gz`` `inspect_nifti` holds in memory at once (16 MiB); the whole file is read."""


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


def inspect_nifti(path: str | os.PathLike, binary: bool = False) -> tuple[tuple[int, ...] | None, str | None]:
    """Check that one NIfTI file is complete: its header reads and the file (decompressed, for ``.nii.gz``, which
    also checks the gzip stream's checksum) holds every voxel the header declares. The file is read in chunks, so
    memory does not grow with the volume. A `monai_jattn.data.FileInspector`, for `monai_jattn.data.ReadableImages`
    at inference.

    Args:
        path: a ``.nii`` or ``.nii.gz`` file.
        binary: whether it is a label (named so in the problem), else an image.

    Returns:
        ``(None, problem)``, the problem as ``"<file>: <what>"``, or ``(None, None)`` for a complete file; the size
        is None, as `msd_datalist` compares each label's grid with its image's.
    """
    what = "label" if binary else "image"
    try:
        proxy = _load_header(str(path), what).dataobj  # where the voxels start, and their shape and type
        needed = int(proxy.offset) + int(np.prod(proxy.shape)) * np.dtype(proxy.dtype).itemsize
        if str(path).endswith(".gz"):
            found = 0
            with gzip.open(path, "rb") as stream:
                while chunk := stream.read(READ_CHUNK_BYTES):
                    found += len(chunk)
        else:
            found = os.path.getsize(path)
    except DatasetError as e:
        return None, str(e)
    except Exception as e:  # noqa: BLE001 (zlib, EOF, gzip errors of a truncated or damaged file)
        return None, f"{path}: not a readable NIfTI {what} ({type(e).__name__}: {e})"
    if found < needed:
        return None, f"{path}: not a readable NIfTI {what} (truncated: {found} bytes, its header needs {needed})"
    return None, None


def check_msd_files(datalist: Sequence[dict]) -> list[dict]:
    """Read every image and label of ``datalist`` completely (``python -m monai_jattn.datasets check msd``).

    `msd_datalist` reads headers (and labels with ``check_values``); this also decompresses every image, so
    a truncated or damaged ``.nii.gz`` is found before a run.

    Args:
        datalist: entries of `msd_datalist`.

    Returns:
        ``datalist`` unchanged.

    Raises:
        DatasetError: listing every file that cannot be read, with the reason.
    """
    problems = []
    for entry in datalist:
        for key in ("image", "label"):
            if key in entry:
                _, problem = inspect_nifti(entry[key], key == "label")
                problems += [problem] if problem else []
    if problems:
        raise DatasetError(f"{len(problems)} unreadable file(s):\n" + "\n".join(problems))
    return list(datalist)


def _structure(grid: Sequence[np.ndarray], rng: np.random.Generator, size: Sequence[int], scale: float) -> np.ndarray:
    """A random ellipsoid (ellipse in 2D) with radii about ``scale`` of each axis, as a boolean array."""
    centre = [rng.uniform(0.3, 0.7) * n for n in size]
    radii = [max(rng.uniform(0.8, 1.2) * scale * n, 1.5) for n in size]
    return sum(((g - c) / r) ** 2 for g, c, r in zip(grid, centre, radii)) <= 1.0


def _synthesize_case(
    rng: np.random.Generator, size: Sequence[int], num_classes: int, modalities: int
) -> tuple[np.ndarray, np.ndarray]:
    """One synthetic case: an image ``(*size, modalities)`` float32 and a label ``size`` uint8.

    Class 1 is a large ellipsoid ("organ"), class 2 a small one inside it ("lesion"), further classes
    small ellipsoids elsewhere (later classes drawn over earlier ones). Each class has its own intensity
    per modality, plus a smooth bias and Gaussian noise.
    """
    grid = np.meshgrid(*[np.arange(n, dtype=np.float32) for n in size], indexing="ij")
    label = np.zeros(size, dtype=np.uint8)
    for k in range(1, num_classes):
        if k == 2:  # the lesion lies inside the organ
            organ = np.argwhere(label == 1)
            centre = organ[rng.integers(len(organ))] if len(organ) else [n / 2 for n in size]
            radii = [max(0.15 * n, 1.5) for n in size]
            blob = sum(((g - c) / r) ** 2 for g, c, r in zip(grid, centre, radii)) <= 1.0
        else:
            blob = _structure(grid, rng, size, 0.3 if k == 1 else 0.12)
        label[blob] = k
    image = np.empty((*size, modalities), dtype=np.float32)
    for m in range(modalities):
        contrast = rng.permutation(np.arange(1, num_classes, dtype=np.float32)) if m else np.arange(1, num_classes)
        intensity = np.concatenate([[0.0], contrast]).astype(np.float32)
        bias = 0.2 * np.sin(grid[0] / size[0] * np.pi * rng.uniform(0.5, 1.5))
        image[..., m] = intensity[label] + bias + rng.normal(0.0, 0.25, size).astype(np.float32) + 1.0
    return image, label


def _sample_affine(rng: np.random.Generator, spatial_dims: int) -> np.ndarray:
    """A 4 x 4 affine with anisotropic spacing, flipped first two axes (LPS-like storage) and a non-zero origin."""
    spacing = [0.8, 1.2, 2.0][:spatial_dims] + [1.0] * (3 - spatial_dims)
    affine = np.diag([-spacing[0], -spacing[1], spacing[2], 1.0])
    affine[:3, 3] = rng.uniform(-60.0, 60.0, 3).round(2)
    return affine


def _save_nifti(array: np.ndarray, affine: np.ndarray, path: Path) -> None:
    image = nib.Nifti1Image(array, affine)
    image.header.set_xyzt_units("mm")
    write_atomic(path, lambda temp: temp.write_bytes(gzip.compress(image.to_bytes(), compresslevel=1)))


def write_msd_sample(
    out_dir: str | os.PathLike,
    num_train: int = 6,
    num_test: int = 2,
    seed: int = 0,
    image_size: Sequence[int] | None = None,
    spatial_dims: int = 3,
    num_classes: int = 3,
    modalities: int = 1,
) -> Path:
    """Write a small synthetic dataset in the MSD layout (``dataset.json``, ``imagesTr``, ``labelsTr``, ``imagesTs``).

    Images hold ellipsoids (2D: ellipses) of ``num_classes - 1`` classes with distinct intensities on a
    noisy background, stored with anisotropic spacing (0.8, 1.2, 2.0 mm), the first two axes flipped and
    a non-zero origin, so that orientation, spacing and their inversion matter. All files are written
    atomically; the same arguments write the same data.

    Args:
        out_dir: the dataset folder to write (created if needed).
        num_train: training cases (image and label).
        num_test: test images (no labels).
        seed: random seed.
        image_size: the stored array size per spatial axis; default (40, 32, 20) in 3D, (64, 48) in 2D.
        spatial_dims: 3 (volumes) or 2 (2D NIfTI images).
        num_classes: classes including the background, >= 2.
        modalities: image channels (stored on the last axis, as in the MSD's multi-modal tasks); 3D only.

    Returns:
        ``out_dir`` as a ``Path``.

    Example::

        >>> root = write_msd_sample("/tmp/msd", num_train=4, num_test=1, num_classes=3)
        >>> len(msd_datalist(root, "training"))
        4
    """
    if spatial_dims not in (2, 3):
        raise SettingError(f"spatial_dims must be 2 or 3, got {spatial_dims!r}")
    check_count(num_train, "num_train")
    check_count(num_test, "num_test")
    check_positive_int(modalities, "modalities")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise SettingError(f"num_classes must be an integer >= 2 (background and one class), got {num_classes!r}")
    if spatial_dims == 2 and modalities > 1:
        raise SettingError("a 2D MSD sample has one modality (2D NIfTI has no separate channel axis)")
    size = tuple(image_size) if image_size is not None else ((40, 32, 20) if spatial_dims == 3 else (64, 48))
    if len(size) != spatial_dims:
        raise SettingError(f"image_size must have {spatial_dims} values, got {list(size)}")
    for n in size:
        check_positive_int(n, "every value of image_size")
    root = Path(out_dir)
    rng = np.random.default_rng(seed)
    class_names = [*MSD_SAMPLE_CLASSES, *(f"structure{k}" for k in range(3, num_classes))][:num_classes]
    training, test = [], []
    for split, count in (("training", num_train), ("test", num_test)):
        for i in range(count):
            image, label = _synthesize_case(rng, size, num_classes, modalities)
            affine = _sample_affine(rng, spatial_dims)
            name = f"synth_{i:03d}.nii.gz" if split == "training" else f"synth_{num_train + i:03d}.nii.gz"
            image = image[..., 0] if modalities == 1 else image
            if split == "training":
                _save_nifti(image, affine, root / "imagesTr" / name)
                _save_nifti(label, affine, root / "labelsTr" / name)
                training.append({"image": f"./imagesTr/{name}", "label": f"./labelsTr/{name}"})
            else:
                _save_nifti(image, affine, root / "imagesTs" / name)
                test.append(f"./imagesTs/{name}")
    description = {
        "name": "SyntheticMSD",
        "description": "synthetic ellipsoids written by monai_jattn.datasets.msd.write_msd_sample (not real data)",
        "reference": "monai-jattn",
        "licence": "CC0",
        "release": "1.0",
        "tensorImageSize": f"{spatial_dims + (modalities > 1)}D",
        "modality": {str(m): f"synthetic{m}" for m in range(modalities)},
        "labels": {str(k): name for k, name in enumerate(class_names)},
        "numTraining": num_train,
        "numTest": num_test,
        "training": training,
        "test": test,
    }
    write_json_atomic(root / MSD_DATASET_JSON, description)
    return root


def _slice_picture(volume: np.ndarray, index: int | None, spatial_dims: int, scale: float | None = None) -> np.ndarray:
    """A channel-first 2D picture in [0, 1]: the first channel, at ``index`` of the last axis in 3D."""
    picture = np.asarray(volume[:1], dtype=np.float32)
    if spatial_dims == 3:
        picture = picture[..., index]
    low, high = (0.0, scale) if scale else (float(picture.min()), float(picture.max()))
    return np.clip((picture - low) / max(high - low, 1e-8), 0.0, 1.0)


def msd_figure_panels(root: str | os.PathLike | None, seed: int) -> list:
    """The first training case, raw and resampled to 1 mm in RAS with MR-style normalisation (as the MSD
    bundle's defaults), with its label: the slice of the last axis with the most foreground (3D).

    Args:
        root: an MSD-layout folder; None for a one-case synthetic sample written with ``seed``.
        seed: seed of the synthetic sample.
    """
    from monai.transforms import (  # the figure only: keep `import monai_jattn.datasets` light
        Compose,
        EnsureChannelFirstd,
        LoadImaged,
        NormalizeIntensityd,
        Orientationd,
        Spacingd,
    )

    keys = ("image", "label")
    with tempfile.TemporaryDirectory() as tmp:
        root = root or write_msd_sample(tmp, num_train=1, num_test=0, seed=seed)
        facts = msd_facts(root)
        dims, top = facts["spatial_dims"], float(max(int(k) for k in facts["labels"]) or 1)
        raw = Compose([LoadImaged(keys, image_only=True), EnsureChannelFirstd(keys)])(msd_datalist(root)[0])
        prepared = Compose(
            [
                Orientationd(keys, axcodes="RA" if dims == 2 else "RAS", labels=None),
                Spacingd(keys, pixdim=(1.0,) * dims, mode=("bilinear", "nearest")),
                NormalizeIntensityd("image", nonzero=True, channel_wise=True),
            ]
        )(dict(raw))

    def panels(data: dict, what: str) -> list:
        label = np.asarray(data["label"])
        index = int(np.argmax((label[0] > 0).sum(axis=(0, 1)))) if dims == 3 else None
        where = f", slice {index}" if dims == 3 else ""
        size = "x".join(str(n) for n in label.shape[1:])
        return [
            (_slice_picture(np.asarray(data["image"]), index, dims), f"{what} ({size}{where})"),
            (_slice_picture(label, index, dims, top), f"label ({len(facts['labels'])} classes)"),
        ]

    return panels(raw, "raw") + panels(prepared, "1 mm, RAS, normalised")


SPEC = DatasetSpec(
    name="msd",
    title="Medical Segmentation Decathlon layout (NIfTI)",
    splits=("training", "test"),
    datalist=msd_datalist,
    has_split=msd_has_split,
    write_sample=write_msd_sample,
    check_files=check_msd_files,
    figure_panels=msd_figure_panels,
    sample_options=(
        SampleOption("--train", "num_train", 6, "training cases (image and label)"),
        SampleOption("--test", "num_test", 2, "test images (no labels)"),
        SampleOption("--classes", "num_classes", 3, "classes including the background"),
        SampleOption("--dims", "spatial_dims", 3, "spatial dimensions: 3 (volumes) or 2"),
        SampleOption("--modalities", "modalities", 1, "image channels (3D only)"),
    ),
    bundle="msd_jattn_segmentation",
    spatial_dims=3,
    in_channels=1,
    classes=(),  # each task's dataset.json names its classes (msd_facts)
    description=(
        "any MSD-layout dataset (dataset.json, imagesTr/, labelsTr/, imagesTs/; http://medicaldecathlon.com, "
        "CC-BY-SA 4.0 for the Decathlon tasks); channels, classes and 2D/3D come from its dataset.json"
    ),
)
