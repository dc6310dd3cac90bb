"""Finding a dataset's folders: an existing folder, and where an unzipped dataset may sit inside it."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from monai_jattn.data.errors import DatasetError

__all__ = ["nested_dirs", "require_dir"]


def require_dir(path: str | os.PathLike, what: str) -> Path:
    """Return ``path`` as a `Path`, or raise `DatasetError` when it is not an existing folder.

    Args:
        path: the folder.
        what: what the folder should hold, for the message (e.g. ``"DRIVE training images"``).
    """
    path = Path(path)
    if not path.is_dir():
        problem = "is not a folder" if path.exists() else "does not exist"
        raise DatasetError(f"{path}: folder of {what} {problem}")
    return path


def nested_dirs(root: Path, names: Iterable[str], depth: int = 2) -> list[Path]:
    """``root``, then its sub-folders named one of ``names`` (any case), down to ``depth`` levels: where an
    unzipped dataset may sit (``root``, ``root/DRIVE``, ``root/DRIVE/DRIVE`` as some unzip tools make).

    Args:
        root: an existing folder.
        names: folder names to look into, e.g. ``{"drive", root.name.lower()}``.
        depth: how many levels to descend.
    """
    names = {name.lower() for name in names}
    candidates = level = [root]
    for _ in range(depth):
        level = [c for p in level for c in sorted(p.iterdir()) if c.is_dir() and c.name.lower() in names]
        candidates = candidates + level
    return candidates
