"""Atomic writes for every file the package produces: an output is either absent, the old version, or complete.

A crash or an error while writing never leaves a half-written image, checkpoint, table or figure behind, and a
failed write raises `WriteError`, which names the file and the cause in words (no space left, read-only, ...).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "WriteError",
    "describe_write_error",
    "write_atomic",
    "write_text_atomic",
    "write_json_atomic",
    "save_image_atomic",
    "save_figure_atomic",
]


class WriteError(OSError, RuntimeError):
    """A file could not be written. The message names the file and the cause in words."""


_WRITE_CAUSES = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied (the folder is read-only for this user)",
    errno.EPERM: "permission denied (the folder is read-only for this user)",
}
_LOW_SPACE = 1 << 20  # bytes; less free space than this after a failed write means the disk is full


def describe_write_error(error: BaseException, folder: str | os.PathLike) -> str:
    """The cause of a failed write in words, e.g. ``"no space left on the device"``.

    Args:
        error: the exception raised while writing.
        folder: the folder written to; a full disk is recognised by its free space when the writer
            reported it in its own words (PyTorch's zip writer says "unexpected pos ...").
    """
    cause = _WRITE_CAUSES.get(getattr(error, "errno", None))
    if cause:
        return cause
    try:
        if shutil.disk_usage(folder).free < _LOW_SPACE:
            return "no space left on the device"
    except OSError:
        pass
    return f"{type(error).__name__}: {error}"


def write_atomic(
    path: str | os.PathLike, write: Callable[[Path], None], replace: bool = True, suffix: str | None = None
) -> Path:
    """Create ``path`` by calling ``write(temp_path)`` on a temporary file beside it, then renaming.

    Args:
        path: the destination; its parent folder is created if needed.
        write: writes the complete content to the temporary path it is given.
        replace: whether an existing ``path`` is replaced. With False the complete file is linked into place
            (``os.link``, which never replaces), so that an existing file is kept even when another process
            creates it at the same moment; where the file system has no hard links, an existing file is
            refused just before the rename.
        suffix: the temporary file's suffix, for writers that choose the format by it (``".nii.gz"``); default:
            ``path``'s last suffix.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        WriteError: naming ``path`` and the cause, when the folder cannot be created or written to, or
            ``write`` raises an `OSError` or `RuntimeError` (the old file, if any, is left as it was).
        FileExistsError: ``replace`` is False and ``path`` exists (it is left as it was).
    """
    path = Path(path)
    temp_path = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_path = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix or path.suffix)
        os.close(handle)
        write(Path(temp_path))
        os.chmod(temp_path, 0o666 & ~_umask())  # mkstemp makes the file private; give it the usual mode
        if replace:
            os.replace(temp_path, path)
        else:
            _move_without_replacing(Path(temp_path), path)
    except BaseException as e:
        if temp_path is not None:
            Path(temp_path).unlink(missing_ok=True)
        if isinstance(e, (WriteError, FileExistsError)) or not isinstance(e, (OSError, RuntimeError)):
            raise
        cause, detail = describe_write_error(e, path.parent), f"{type(e).__name__}: {e}"
        error = WriteError(f"{path}: could not be written: {cause}" + (f" ({detail})" if cause != detail else ""))
        error.errno = getattr(e, "errno", None)
        raise error from None
    return path


def _move_without_replacing(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target`` unless ``target`` exists (`FileExistsError`, ``source`` is left)."""
    try:
        os.link(source, target)  # atomic, and fails where target exists
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, "exists already; not replaced", str(target)) from None
    except OSError:  # no hard links here (some network or FAT file systems)
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "exists already; not replaced", str(target)) from None
        os.replace(source, target)
        return
    source.unlink()


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
