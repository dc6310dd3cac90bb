"""The dataset registry: what the data CLI, the ablation runner, the figures and the bundles know about a dataset.

A dataset is one module (or package) under `monai_jattn.datasets` that builds a `DatasetSpec` and is
registered once, in `monai_jattn/datasets/__init__.py`. Generic code asks the registry
(`get_dataset`, `dataset_names`, `dataset_datalist`) and never names a dataset. This module imports no
dataset. A user's own dataset is registered the same way from their code (`register_dataset`), see
docs/add_dataset.md.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monai_jattn.data.errors import DatasetError
from monai_jattn.data.split import split_train_val

__all__ = [
    "SampleOption",
    "DatasetSpec",
    "register_dataset",
    "get_dataset",
    "dataset_names",
    "dataset_datalist",
    "dataset_train_val",
]

logger = logging.getLogger("monai_jattn.data")


@dataclass(frozen=True)
class SampleOption:
    """One command-line option of ``python -m monai_jattn.datasets sample <dataset>``.

    Args:
        flag: the option, e.g. ``"--train"`` or ``"--no-test-labels"``.
        dest: the keyword argument of the dataset's ``write_sample`` it sets, e.g. ``"num_train"``.
        default: an int for a count, a bool for a switch (the switch sets ``not default``).
        help: one line for ``--help``.
    """

    flag: str
    dest: str
    default: int | bool
    help: str = ""


@dataclass(frozen=True)
class DatasetSpec:
    """Everything generic code needs to know about one dataset.

    Args:
        name: the registry key used on command lines and in configs, e.g. ``"drive"``.
        title: the display name, e.g. ``"DRIVE"``.
        splits: the official splits in order, e.g. ``("training", "test")``.
        datalist: ``datalist(root, split, require_labels=False) -> list[dict]``: the entries of one split in
            the official layout under ``root``, each with ``"image"``, ``"label"`` (where known), ``"id"`` and,
            where the dataset has them, ``"mask"`` (the field of view) and ``"label2"`` (a second observer).
            Raises `monai_jattn.data.DatasetError` naming the file and the problem.
        has_split: ``has_split(root, split) -> bool``: whether ``root`` holds the folder(s) of ``split``
            (an absent split is skipped with a warning by the CLI; a present but broken one is an error).
        write_sample: ``write_sample(out_dir, seed=0, image_size=None, **options) -> Path``: writes a small
            synthetic dataset in the official layout and returns its root.
        sample_options: the dataset's own ``sample`` options (split sizes, switches), passed to
            ``write_sample`` by their ``dest``.
        bundle: the folder under ``bundles/`` that trains and evaluates the dataset.
        bundle_overrides: config overrides that select the dataset in that bundle (e.g.
            ``{"dataset_name": "chasedb1"}`` where one bundle serves several datasets).
        spatial_dims: 2 or 3.
        in_channels: channels of the network input after preprocessing.
        classes: class names by label value, background first; empty where each copy names its own (MSD's
            ``dataset.json``).
        fov_key: the entry key of the field-of-view mask (``"mask"``), or None where images have no FOV.
        second_observer: whether test entries may carry ``"label2"``, a second observer's labels.
        official_role: ``official_role(path) -> (what, image) | None`` for `image_folder_datalist`: what a
            file of the official layout is when it is not an image to segment (e.g. ``("DRIVE vessel label",
            None)``, or ``("DRIVE field-of-view mask", its image)``); None for an image to segment.
        figure_panels: ``figure_panels(root, seed) -> list[(array, title)]`` for ``data figure``: a raw sample
            and what the pipelines make of it, channel-first arrays; ``root`` None means a synthetic sample.
        description: one line for listings (layout, where to download, licence).
        check_files: ``check_files(datalist) -> datalist``: opens every file of the entries completely and raises
            one `monai_jattn.data.DatasetError` listing every problem (``data check``); None for
            `monai_jattn.data.check_datalist`, which reads 2D images (TIF, GIF, JPEG, PNG).
        truth_title: what the reference labels are called in figures, e.g. ``"1st observer"``.
        computed_mask: ``computed_mask(image) -> mask path | None`` for `image_folder_datalist`: the field-of-view
            mask of an image of the official layout where the dataset ships none (computed and cached, e.g.
            CHASE_DB1); None for a file that is not such an image.
    """

    name: str
    title: str
    splits: tuple[str, ...]
    datalist: Callable[..., list[dict]]
    has_split: Callable[[str | os.PathLike, str], bool]
    write_sample: Callable[..., Path]
    sample_options: tuple[SampleOption, ...] = ()
    bundle: str = ""
    bundle_overrides: Mapping[str, Any] = field(default_factory=dict)
    spatial_dims: int = 2
    in_channels: int = 1
    classes: tuple[str, ...] = ("background", "foreground")
    fov_key: str | None = None
    second_observer: bool = False
    official_role: Callable[[Path], tuple[str, Path | None] | None] | None = None
    figure_panels: Callable[[str | os.PathLike | None, int], list] | None = None
    description: str = ""
    truth_title: str = "ground truth"
    check_files: Callable[[list[dict]], list[dict]] | None = None
    computed_mask: Callable[[Path], Path | None] | None = None


_REGISTRY: dict[str, DatasetSpec] = {}


def register_dataset(spec: DatasetSpec, replace: bool = False) -> DatasetSpec:
    """Register ``spec`` under ``spec.name``; returns it.

    Args:
        spec: the dataset's description.
        replace: allow replacing a dataset of the same name (otherwise a `ValueError`).
    """
    if not replace and spec.name in _REGISTRY:
        raise ValueError(f"a dataset named {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def dataset_names() -> tuple[str, ...]:
    """The registered dataset names, in registration order."""
    return tuple(_REGISTRY)


def get_dataset(name: str) -> DatasetSpec:
    """The registered dataset ``name`` (case-insensitive).

    Raises:
        ValueError: for an unknown name, listing the registered ones.
    """
    spec = _REGISTRY.get(str(name).lower())
    if spec is None:
        raise ValueError(f"unknown dataset {name!r}; registered datasets: {', '.join(_REGISTRY)}")
    return spec


def dataset_datalist(
    name: str, root: str | os.PathLike, split: str, require_labels: bool = False, bundle: str | None = None
) -> list[dict]:
    """The entries of ``split`` of the registered dataset ``name`` under ``root``; for bundle configs.

    Args:
        name: a registered dataset name, e.g. ``"drive"``.
        root: the dataset folder in its official layout.
        split: one of the dataset's ``splits``.
        require_labels: raise where the split has no labels instead of listing images only.
        bundle: the bundle asking (its folder name); a dataset registered for another bundle is refused, as its
            entries would not fit the bundle's pipelines (e.g. ISIC-2017 has no FOV masks for the DRIVE bundle).

    Raises:
        ValueError: an unknown dataset or split, or a dataset of another bundle (naming those of ``bundle``).
    """
    spec = get_dataset(name)
    if bundle is not None and spec.bundle != bundle:
        served = [n for n, s in _REGISTRY.items() if s.bundle == bundle]
        raise ValueError(
            f"dataset {spec.name!r} is trained by the bundle {spec.bundle!r}, not {bundle!r}; "
            f"datasets of {bundle!r}: {', '.join(served) or 'none registered'}"
        )
    if split not in spec.splits:
        raise ValueError(f"{spec.title} has splits {spec.splits}, not {split!r}")
    try:
        return spec.datalist(root, split, require_labels=require_labels)
    except DatasetError as err:
        hint = _other_layout_hint(spec, root, split)
        if hint:
            raise DatasetError(f"{err}; {hint}") from err
        raise


def _other_layout_hint(spec: DatasetSpec, root: str | os.PathLike, split: str) -> str:
    """Which other registered dataset's layout ``root`` holds, and how to select it ("" when none does or
    ``root`` holds ``spec``'s own layout); for the error of a bundle whose ``dataset_name`` does not fit."""
    if not os.path.isdir(root) or _holds(spec, root, split):
        return ""
    for other in _REGISTRY.values():
        if other.name == spec.name or split not in other.splits or not _holds(other, root, split):
            continue
        if other.bundle == spec.bundle:
            return (
                f"it holds the {other.title} layout: set the config id dataset_name to {other.name!r} "
                f"(--dataset_name {other.name})"
            )
        return f"it holds the {other.title} layout, which the bundle {other.bundle!r} trains"
    return ""


def _holds(spec: DatasetSpec, root: str | os.PathLike, split: str) -> bool:
    """``spec.has_split(root, split)``, False where the check itself fails (it only adds a hint to an error)."""
    try:
        return bool(spec.has_split(root, split))
    except Exception:  # noqa: BLE001 (a registered dataset's own check, e.g. of an unreadable folder)
        return False


def dataset_train_val(
    name: str,
    root: str | os.PathLike,
    datalist: Sequence[dict],
    val_fraction: float = 0.2,
    seed: int = 0,
    bundle: str | None = None,
) -> tuple[list[dict], list[dict]]:
    """The training and validation entries of a bundle's training run: the official validation split
    where ``root`` holds it, else ``val_fraction`` of the training entries held out (logged, so that a
    user sees where the validation images came from).

    Args:
        name: a registered dataset name, e.g. ``"isic2017"``.
        root: the dataset folder in its official layout.
        datalist: the training entries (``dataset_datalist(name, root, "training")``).
        val_fraction: the fraction of ``datalist`` held out where there is no validation split.
        seed: the seed of the hold-out (`split_train_val`).
        bundle: the bundle asking, as for `dataset_datalist`.

    Returns:
        ``(train, val)``; two empty lists for an empty ``datalist`` (data not there yet).

    Raises:
        DatasetError: the validation split is there but broken (naming the files).
        ValueError: ``val_fraction`` cannot split ``datalist`` (see `split_train_val`).
    """
    spec = get_dataset(name)
    if not datalist:
        return [], []
    if "validation" in spec.splits and spec.has_split(root, "validation"):
        return list(datalist), dataset_datalist(name, root, "validation", require_labels=True, bundle=bundle)
    train, val = split_train_val(datalist, val_fraction, seed)
    if "validation" in spec.splits:
        logger.warning(
            "%s has no validation split under %s: holding out %d of its %d training images for validation "
            "(val_fraction=%s, seed=%s)",
            spec.title,
            root,
            len(val),
            len(datalist),
            val_fraction,
            seed,
        )
    return train, val
