"""Naming the files an engine was working on when it failed (out of memory on a huge image, a transform that
cannot handle one file): MONAI's and Ignite's errors say what went wrong, not with which image."""

from __future__ import annotations

from ignite.engine import Engine, Events

from monai_jattn.data.sources import batch_files

__all__ = ["FailedItemError", "NameFailedItems"]


class FailedItemError(RuntimeError):
    """An engine failed while processing the files named in the message; the original error is its cause."""


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
