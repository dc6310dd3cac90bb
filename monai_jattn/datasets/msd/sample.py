"""`write_msd_sample`: a small synthetic dataset in the MSD layout (NIfTI volumes or 2D images, ``dataset.json``)."""

from __future__ import annotations

import gzip
import os
from collections.abc import Sequence
from pathlib import Path

import nibabel as nib
import numpy as np

from monai_jattn.atomic_write import write_atomic, write_json_atomic
from monai_jattn.datasets.msd.layout import MSD_DATASET_JSON
from monai_jattn.setting_checks import SettingError, check_count, check_positive_int

__all__ = ["MSD_SAMPLE_CLASSES", "write_msd_sample"]

MSD_SAMPLE_CLASSES = ("background", "organ", "lesion")
"""Class names of `write_msd_sample`'s labels; further classes are named ``structure<k>``."""


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
