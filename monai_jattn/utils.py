"""Atomic writes for every file the package produces: an output is either absent, the old version, or complete.

A crash or an error while writing never leaves a half-written image, checkpoint, table or figure behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["write_atomic", "write_text_atomic", "write_json_atomic", "save_image_atomic", "save_figure_atomic"]


def write_atomic(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Create ``path`` by calling ``write(temp_path)`` on a temporary file beside it, then renaming.

    Args:
        path: the destination; its parent folder is created if needed.
        write: writes the complete content to the temporary path it is given.

    Returns:
        ``path`` as a ``Path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_path = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(handle)
    try:
        write(Path(temp_path))
        os.chmod(temp_path, 0o666 & ~_umask())  # mkstemp makes the file private; give it the usual mode
        os.replace(temp_path, path)
    except BaseException:
        Path(temp_path).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically.

    Args:
        path: the destination file.
        text: the complete content.
    """
    return write_atomic(path, lambda temp: temp.write_text(text, encoding="utf-8"))


def write_json_atomic(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON to ``path`` atomically.

    Args:
        path: the destination file.
        data: anything ``json.dumps`` accepts.
    """
    return write_text_atomic(path, json.dumps(data, indent=2) + "\n")


def save_image_atomic(image: Any, path: str | os.PathLike, **params: Any) -> Path:
    """Save a PIL image to ``path`` atomically.

    Args:
        image: a ``PIL.Image.Image``.
        path: the destination file; the format follows its suffix (the temporary file keeps it).
        params: passed to ``PIL.Image.Image.save`` (e.g. ``quality``).
    """
    return write_atomic(path, lambda temp: image.save(temp, **params))


def save_figure_atomic(figure: Any, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Save a matplotlib figure to ``path`` atomically (the format follows the suffix, e.g. ``.png``).

    Args:
        figure: a ``matplotlib.figure.Figure``.
        path: the destination file.
        dpi: resolution of raster formats.
    """
    suffix = Path(path).suffix.lstrip(".") or "png"
    return write_atomic(path, lambda temp: figure.savefig(temp, dpi=dpi, format=suffix, bbox_inches="tight"))
