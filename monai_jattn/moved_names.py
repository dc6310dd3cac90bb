"""Older public names that moved to another module, resolved on first use (PEP 562 module ``__getattr__``)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

from monai.utils import deprecated

from monai_jattn import __version__

__all__ = ["moved_names"]


def moved_names(module: str, moved: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module's ``__getattr__`` and ``__dir__`` that import each moved name from its new module on first use
    (and only then), so that the old module imports nothing of the new one at import time. The old name is
    the function wrapped by MONAI's `deprecated`: calling it warns (``FutureWarning``) and names the module
    to import it from.

    Args:
        module: the old module's ``__name__``.
        moved: moved name -> the module that now holds it.

    Example::

        __getattr__, __dir__ = moved_names(__name__, {"drive_datalist": "monai_jattn.datasets.drive"})
    """

    def __getattr__(name: str) -> Any:
        if name in moved:
            target = getattr(importlib.import_module(moved[name]), name)
            # MONAI's deprecation warning, given when the old name is called, with where the name lives now
            return deprecated(since="0.1.0", msg_suffix=f"import it from {moved[name]}", version_val=__version__)(
                target
            )
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[module])) | set(moved))

    return __getattr__, __dir__
