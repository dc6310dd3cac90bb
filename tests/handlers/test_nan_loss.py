"""StopOnNanLoss: a NaN or infinite loss ends the run with an error at that iteration."""

import math

import pytest
from ignite.engine import Engine, Events

from monai_jattn.handlers import StopOnNanLoss


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_raises_at_the_first_non_finite_loss(bad):
    losses = [0.5, 0.4, bad, 0.3]
    engine = Engine(lambda engine, batch: [{"loss": losses[engine.state.iteration - 1]}])
    completed = []
    engine.add_event_handler(Events.COMPLETED, lambda e: completed.append(True))
    StopOnNanLoss().attach(engine)
    with pytest.raises(FloatingPointError, match="iteration 3"):
        engine.run(range(4), max_epochs=1)
    assert engine.state.iteration == 3
    assert not completed


def test_finite_losses_pass():
    engine = Engine(lambda engine, batch: {"loss": 0.1})
    StopOnNanLoss().attach(engine)
    engine.run(range(3), max_epochs=2)
    assert engine.state.iteration == 6
