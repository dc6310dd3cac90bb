"""Naming the files an engine was working on when it failed (out of memory on a huge image, a transform that
cannot handle one file): MONAI's and Ignite's errors say what went wrong, not with which image."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ignite.engine import Engine, Events
from monai.data import MetaTensor

__all__ = ["FailedItemError", "NameFailedItems", "batch_files"]


class FailedItemError(RuntimeError):
    """An engine failed while processing the files named in the message; the original error is its cause."""


def batch_files(batch: Any) -> list[str]:
    """The files a batch (collated or decollated) was loaded from: MONAI's ``filename_or_obj`` of its
    MetaTensors, each file once, in order."""
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


class NameFailedItems:
    """
    When the engine raises, raise a `FailedItemError` that starts with the files of the batch it was working
    on, the original exception chained as its cause. Without a batch with file names the original exception
    is raised as it is. Attach it before any other ``EXCEPTION_RAISED`` handler (MONAI's ``StatsHandler``
    re-raises, so handlers after it do not run).

    Example::

        NameFailedItems().attach(evaluator)
        # a failure then ends with, e.g.: "FailedItemError: /data/huge.tif: while processing this file:
        # RuntimeError: can't allocate memory"
    """

    def attach(self, engine: Engine) -> None:
        engine.add_event_handler(Events.EXCEPTION_RAISED, self)

    def __call__(self, engine: Engine, error: BaseException) -> None:
        files = batch_files(getattr(engine.state, "batch", None))
        if not files or isinstance(error, (KeyboardInterrupt, FailedItemError)):  # Ignite may pass it twice
            raise error
        raise FailedItemError(
            f"{', '.join(files)}: while processing {'this file' if len(files) == 1 else 'these files'}: "
            f"{type(error).__name__}: {error}"
        ) from error
