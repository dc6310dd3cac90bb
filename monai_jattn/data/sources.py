"""The files that data was loaded from, for messages that name them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from monai.data import MetaTensor

__all__ = ["batch_files"]


def batch_files(batch: Any) -> list[str]:
    """The files an item or a batch (collated or decollated) was loaded from: MONAI's ``filename_or_obj`` of
    its MetaTensors, each file once, in order.

    Args:
        batch: a dict of tensors, or a list of such dicts; anything else has no files.
    """
    items = batch if isinstance(batch, Sequence) and not isinstance(batch, (str, bytes)) else [batch]
    files: list[str] = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        for value in item.values():
            if isinstance(value, MetaTensor) and "filename_or_obj" in value.meta:
                names = value.meta["filename_or_obj"]
                files += [str(n) for n in (names if isinstance(names, (list, tuple)) else [names])]
    return list(dict.fromkeys(files))
