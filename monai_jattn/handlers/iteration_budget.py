"""End a training run where its budget ends: at ``max_iterations`` also inside a validation interval, at a
time limit, and with one last validation when it stops between validations."""

from __future__ import annotations

import math

import torch.distributed as dist
from ignite.engine import Engine, Events
from ignite.handlers import TimeLimit

__all__ = ["IterationBudget"]


class IterationBudget:
    """
    Ignite handler that ends a training at its iteration budget or time limit, validated.

    A bundle's trainer runs ``ceil(max_iterations / val_interval)`` epochs of ``val_interval`` iterations
    (so that MONAI's ``ValidationHandler`` validates every ``val_interval`` iterations). This handler

    - stops the trainer after iteration ``max_iterations`` when that is not a multiple of ``val_interval``;
    - stops it once ``time_limit`` seconds have passed since `attach` (Ignite's ``TimeLimit``, in whole
      seconds, rounded up), single-process runs only: processes of a distributed run would stop at different
      iterations;
    - runs ``validator`` once more when the trainer is stopped between two validations, so that the best
      model and the training curve include the last iterations.

    Args:
        max_iterations: the training's iteration budget.
        val_interval: iterations between validations.
        validator: the evaluator run by the trainer's ``ValidationHandler`` (``validator.run(epoch)``, as MONAI's
            evaluators run); None: no final validation.
        time_limit: seconds after which the training stops; None: no limit.

    Raises:
        ValueError: at `check` and `attach`, a ``time_limit`` in a distributed run of several processes.

    Example::

        IterationBudget(max_iterations=1050, val_interval=100, validator=evaluator, time_limit=3600).attach(trainer)
    """

    def __init__(
        self, max_iterations: int, val_interval: int, validator: Engine | None = None, time_limit: float | None = None
    ) -> None:
        self.max_iterations = int(max_iterations)
        self.val_interval = int(val_interval)
        self.validator = validator
        self.time_limit = time_limit

    def check(self) -> None:
        """Raise `ValueError` for a ``time_limit`` in a distributed run of several processes (called by `attach`;
        call it earlier to refuse before anything is written)."""
        if self.time_limit is not None and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            raise ValueError(
                f"time_limit ({self.time_limit} s) is for single-process runs: the processes of a distributed "
                "run would stop at different iterations. Leave time_limit null and set max_iterations."
            )

    def attach(self, engine: Engine) -> None:
        """Add the stop at ``max_iterations``, the time limit and the final validation to ``engine``."""
        self.check()
        if self.time_limit is not None:
            # TimeLimit takes whole seconds: round up (at least 1), never stopping before the limit
            engine.add_event_handler(Events.ITERATION_COMPLETED, TimeLimit(max(1, math.ceil(self.time_limit))))
        if self.max_iterations % self.val_interval:  # at a multiple, the last epoch ends there anyway
            engine.add_event_handler(Events.ITERATION_COMPLETED(once=self.max_iterations), self._stop)
        if self.validator is not None:
            # TERMINATE fires when the trainer is stopped (e.g. by the two handlers above), not when it completes
            engine.add_event_handler(Events.TERMINATE, self._validate_if_between_validations)

    @staticmethod
    def _stop(engine: Engine) -> None:
        engine.terminate()

    def _validate_if_between_validations(self, engine: Engine) -> None:
        if engine.state.iteration % self.val_interval:  # at a multiple, ValidationHandler has just validated
            self.validator.run(engine.state.epoch)
