"""NIfTI volumes of a Medical Segmentation Decathlon-layout folder for the standalone MSD bundle."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from monai.data import NibabelWriter, load_decathlon_datalist

from .images import InputError

__all__ = ["NewFileNibabelWriter", "list_test_volumes"]


class NewFileNibabelWriter(NibabelWriter):
    """MONAI's `NibabelWriter` that writes to a temporary file beside ``filename`` and links it into place, so that
    no half-written volume is left and an existing file is never replaced (`FileExistsError` names it)."""

    def write(self, filename: Any, verbose: bool = False, **obj_kwargs: Any) -> None:
        path = str(filename)
        suffix = ".nii.gz" if path.endswith(".nii.gz") else Path(path).suffix
        folder = os.path.dirname(path) or "."
        os.makedirs(folder, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=suffix, dir=folder)
        os.close(handle)
        try:
            NibabelWriter.write(self, tmp, verbose=verbose, **obj_kwargs)
            os.link(tmp, path)  # fails when path exists: an existing file is never replaced
        finally:
            os.unlink(tmp)


def list_test_volumes(root: str | os.PathLike, missing_ok: bool = False) -> list[dict]:
    """The images of ``dataset.json``'s ``test`` list under ``root`` (MONAI's `load_decathlon_datalist`), as
    ``{"image", "id"}``, ``id`` the file name without ``.nii.gz``/``.nii``.

    Args:
        root: the dataset folder, holding ``dataset.json``.
        missing_ok: return ``[]`` when there is no ``dataset.json`` (configs read before the data exists).

    Raises:
        InputError: no ``dataset.json``, an empty test list, a listed file missing, or two listed files with one
            name (their outputs ``<id>_seg.nii.gz`` would be the same file).
    """
    description = Path(root) / "dataset.json"
    if not description.is_file():
        if missing_ok:
            return []
        raise InputError(f"{description}: not found; --dataset_dir must be a Decathlon-layout folder")
    try:
        entries = load_decathlon_datalist(str(description), True, "test", str(root))
    except (ValueError, KeyError, OSError) as e:
        raise InputError(f"{description}: no readable 'test' list ({e})") from e
    if not entries:
        raise InputError(f"{description}: its 'test' list is empty")
    owners: dict[str, str] = {}
    for entry in entries:
        name = Path(entry["image"]).name
        entry["id"] = name[: -len(".nii.gz")] if name.endswith(".nii.gz") else Path(name).stem
        if not Path(entry["image"]).is_file():
            raise InputError(f"{entry['image']}: listed in {description} but missing")
        if entry["id"] in owners:
            raise InputError(f"{owners[entry['id']]} and {entry['image']}: both would be written as {entry['id']}_seg")
        owners[entry["id"]] = entry["image"]
    return entries
