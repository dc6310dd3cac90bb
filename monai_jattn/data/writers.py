"""Writers for MONAI's ``SaveImage`` that never replace a file: the volume is written to a temporary name beside
its destination and linked into place only where no file of that name exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from monai.data import NibabelWriter

from monai_jattn.atomic_write import WriteError, write_atomic

__all__ = ["NewFileNibabelWriter"]

_NIFTI_SUFFIXES = (".nii.gz", ".nii")


class NewFileNibabelWriter(NibabelWriter):
    """
    MONAI's `NibabelWriter` that writes each file atomically and never over an existing one: a crash leaves no
    half-written ``.nii.gz``, and an existing file (an earlier result, a file of the user's, another input's
    prediction of the same name) stops the run with a `monai_jattn.atomic_write.WriteError` naming it.

    Example (a bundle config)::

        {"_target_": "SaveImaged", "keys": "pred", "output_dir": "@output_dir",
         "writer": {"_target_": "monai_jattn.data.writers.NewFileNibabelWriter", "_mode_": "callable"}}
    """

    def write(self, filename: Any, verbose: bool = False, **obj_kwargs: Any) -> None:
        """Write the volume to ``filename`` (see `NibabelWriter.write`), unless a file of that name exists.

        Raises:
            WriteError: ``filename`` exists (it is left as it was), or cannot be written.
        """
        path = Path(filename)
        suffix = next((s for s in _NIFTI_SUFFIXES if path.name.lower().endswith(s)), path.suffix)
        try:
            write_atomic(
                path, lambda temp: NibabelWriter.write(self, temp, verbose=verbose, **obj_kwargs), False, suffix
            )
        except FileExistsError:
            raise WriteError(
                f"{path}: exists already and is not replaced; predictions are written only where no file is: write "
                "into a new or empty output folder"
            ) from None
