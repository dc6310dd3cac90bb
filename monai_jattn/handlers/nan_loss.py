"""Stop a training run with an error as soon as its loss is NaN or infinite."""

from __future__ import annotations

from collections.abc import Callable

import torch
from ignite.engine import Engine, Events
from monai.handlers import from_engine

__all__ = ["StopOnNanLoss"]


class StopOnNanLoss:
    """
    Ignite handler that checks the loss after every iteration and, if it is NaN or infinite, logs
    the iteration and raises `FloatingPointError`, so the run ends with an error (a non-zero exit
    status from ``python -m monai.bundle run``) instead of saving a broken model as if it had
    finished. Ignite's ``TerminateOnNan`` stops the run too, but then fires ``COMPLETED``, so final
    checkpoints are written and the run looks successful. Checkpoints saved before the failure stay
    as they are.

    Args:
        loss_transform: extracts the loss from ``engine.state.output``; default: the ``"loss"``
            item of MONAI's (decollated) trainer output.

    Example::

        StopOnNanLoss().attach(trainer)
    """

    def __init__(self, loss_transform: Callable | None = None) -> None:
        self.loss_transform = loss_transform or from_engine(["loss"], first=True)

    def attach(self, engine: Engine) -> None:
        """Check the loss at every ``ITERATION_COMPLETED``."""
        engine.add_event_handler(Events.ITERATION_COMPLETED, self)

    def __call__(self, engine: Engine) -> None:
        """Raise `FloatingPointError` if the current loss is not finite."""
        loss = self.loss_transform(engine.state.output)
        if isinstance(loss, (tuple, list)):  # from_engine on an un-decollated output gives a 1-tuple
            loss = loss[0]
        if not bool(torch.isfinite(torch.as_tensor(loss)).all()):
            message = f"Loss is {loss} at iteration {engine.state.iteration}: stopping the training."
            engine.logger.error(message)
            raise FloatingPointError(message)
