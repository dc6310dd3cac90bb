"""MONAI's ``LoadImaged`` whose read errors name the file: a truncated ``.nii.gz`` that passes the header
check otherwise stops a run with a bare ``EOFError`` several wrappers deep."""

from __future__ import annotations

from typing import Any

from monai.transforms import LoadImaged

from monai_jattn.data.errors import DatasetError

__all__ = ["LoadImageNamingFilesd"]


class _FileNamingLoader:
    """Calls MONAI's ``LoadImage`` and turns any error of reading one file into a `DatasetError` naming it;
    every other attribute is the wrapped loader's (``register``, ``readers``, ...)."""

    def __init__(self, loader: Any) -> None:
        self._wrapped = loader

    def __call__(self, filename: Any, reader: Any = None) -> Any:
        try:
            return self._wrapped(filename, reader)
        except Exception as e:  # noqa: BLE001 (readers raise EOFError, zlib.error, OSError, RuntimeError, ...)
            raise DatasetError(f"{filename}: cannot read the file ({type(e).__name__}: {e})") from e

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)


class LoadImageNamingFilesd(LoadImaged):
    """
    MONAI's `LoadImaged` (same arguments, same output) whose read errors are a `DatasetError` that starts
    with the file's path and keeps the reader's exception as its cause.

    Example::

        LoadImageNamingFilesd(["image", "label"], reader="NibabelReader", image_only=True)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loader = _FileNamingLoader(self._loader)
