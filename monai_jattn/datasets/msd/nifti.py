"""Reading NIfTI files completely: every voxel of a (compressed) image, so that a truncated or damaged file is
found before a run."""

from __future__ import annotations

import gzip
import os
from collections.abc import Sequence

import numpy as np

from monai_jattn.data.errors import DatasetError
from monai_jattn.datasets.msd.layout import _load_header

__all__ = ["READ_CHUNK_BYTES", "check_msd_files", "inspect_nifti"]

READ_CHUNK_BYTES = 1 << 24
"""How much of a decompressed ``.nii.gz`` `inspect_nifti` holds in memory at once (16 MiB); the whole file is read."""


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
