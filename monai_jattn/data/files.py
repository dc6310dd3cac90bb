"""Atomic file writing: write to a temporary file beside the target, then rename it into place.

A crash or an error while writing never leaves a half-written image, datalist or figure behind.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PIL import Image

__all__ = ["write_atomic", "save_image_atomic", "write_text_atomic"]


def write_atomic(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` for a temporary path beside ``path``, then rename it to ``path``.

    The temporary file keeps ``path``'s suffix, so writers that pick the format from the suffix
    work unchanged. Parent folders are created. On error the temporary file is removed.

    Args:
        path: the file to write.
        write: a function that writes the whole file to the path it is given.

    Returns:
        ``path`` as a `Path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def save_image_atomic(image: Image.Image, path: str | os.PathLike, **params) -> Path:
    """Save a PIL image atomically; ``params`` go to `PIL.Image.Image.save`."""
    return write_atomic(path, lambda tmp: image.save(tmp, **params))


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write a UTF-8 text file atomically."""
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
