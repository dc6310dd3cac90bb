"""Seeded, deterministic train/validation split (DRIVE has no official validation set)."""

from __future__ import annotations

from collections.abc import Sequence

from monai.data import partition_dataset

__all__ = ["split_train_val"]


def split_train_val(datalist: Sequence[dict], val_fraction: float = 0.2, seed: int = 0) -> tuple[list, list]:
    """Shuffle ``datalist`` with ``seed`` and split it into training and validation parts.

    Uses `monai.data.partition_dataset`, so the same ``datalist``, fraction and seed always give
    the same split, in every process. The validation part holds ``round(val_fraction * n)``
    entries. An empty ``datalist`` (a bundle built before its data is there, see
    `datalist_or_empty`) gives two empty lists.

    Args:
        datalist: the entries to split.
        val_fraction: the fraction for validation, in (0, 1).
        seed: the shuffling seed.

    Returns:
        ``(train, val)``, two non-empty lists (two empty ones for an empty ``datalist``).

    Raises:
        ValueError: ``val_fraction`` is not in (0, 1), or either part would be empty, or an entry is listed
            more than once (same ``id``, or same ``image`` where entries have no id): it could land in both parts.

    Examples::

        >>> train, val = split_train_val(drive_datalist("/data/DRIVE"), val_fraction=0.2, seed=0)
        >>> len(train), len(val)
        (16, 4)
    """
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    if len(datalist) == 0:
        return [], []
    _refuse_repeated_entries(datalist)
    train, val = partition_dataset(list(datalist), ratios=[1 - val_fraction, val_fraction], shuffle=True, seed=seed)
    if not train or not val:
        raise ValueError(
            f"cannot split {len(datalist)} entries with val_fraction={val_fraction}: "
            f"{len(train)} for training and {len(val)} for validation"
        )
    return train, val


def _refuse_repeated_entries(datalist: Sequence[dict]) -> None:
    """Raise `ValueError` naming the entries listed more than once, by ``id`` (else ``image``)."""
    seen: dict[str, int] = {}
    for entry in datalist:
        key = entry.get("id", entry.get("image")) if isinstance(entry, dict) else None
        if key is not None:
            seen[str(key)] = seen.get(str(key), 0) + 1
    repeated = sorted(key for key, count in seen.items() if count > 1)
    if repeated:
        raise ValueError(
            f"the datalist lists {', '.join(repeated)} more than once: a repeated entry could be trained on and "
            "validated on; list each once"
        )
