"""IterationBudget and TrainingMonitor on a toy Ignite trainer: where training stops, when the last validation
runs, and which handlers each process gets."""

from __future__ import annotations

import time

import pytest
from ignite.engine import Engine, Events
from ignite.handlers import ProgressBar
from monai.handlers import StatsHandler, TensorBoardStatsHandler

from monai_jattn.handlers import IterationBudget, StopOnNanLoss, TrainingCurveSaver
from monai_jattn.recipe import TrainingMonitor


class Validator(Engine):
    """An evaluator that runs as MONAI's do, ``run(global_epoch)``."""

    def __init__(self) -> None:
        super().__init__(lambda engine, batch: None)

    def run(self, global_epoch: int = 1) -> None:  # type: ignore[override]
        super().run([0])


def toy_run(max_iterations: int, val_interval: int, time_limit: float | None = None, seconds_per_step: float = 0.0):
    """A trainer of epochs of ``val_interval`` iterations, as the bundles build it; returns the iterations at
    which the validator ran and the trainer's last iteration."""
    validations: list[int] = []
    trainer = Engine(lambda engine, batch: time.sleep(seconds_per_step))
    validator = Validator()
    validator.add_event_handler(Events.STARTED, lambda _: validations.append(trainer.state.iteration))
    trainer.add_event_handler(Events.ITERATION_COMPLETED(every=val_interval), lambda _: validator.run())
    IterationBudget(max_iterations, val_interval, validator, time_limit).attach(trainer)
    epochs = -(-max_iterations // val_interval)
    trainer.run(range(val_interval), max_epochs=epochs)
    return validations, trainer.state.iteration


def test_stops_at_max_iterations_inside_an_interval_and_validates_once_more():
    validations, last = toy_run(max_iterations=25, val_interval=10)
    assert last == 25
    assert validations == [10, 20, 25]


def test_a_budget_of_whole_intervals_runs_every_epoch_without_an_extra_validation():
    validations, last = toy_run(max_iterations=30, val_interval=10)
    assert last == 30
    assert validations == [10, 20, 30]


def test_time_limit_stops_the_training_and_validates():
    validations, last = toy_run(max_iterations=10_000, val_interval=1_000, time_limit=0.3, seconds_per_step=0.005)
    assert 1 <= last < 1_000  # stopped by the clock (0.3 s: one whole second) inside the first interval
    assert validations == [last]


def test_no_validator_means_no_final_validation():
    trainer = Engine(lambda engine, batch: None)
    IterationBudget(5, 10).attach(trainer)
    trainer.run(range(10), max_epochs=1)
    assert trainer.state.iteration == 5


@pytest.mark.parametrize("main_process", [True, False])
def test_training_monitor_handlers(tmp_path, main_process):
    validator = Engine(lambda engine, batch: None)
    kinds = [type(h) for h in TrainingMonitor(tmp_path, validator, main_process=main_process).handlers]
    logs = [StatsHandler, TensorBoardStatsHandler, ProgressBar] if main_process else []
    assert kinds == [StopOnNanLoss, *logs, TrainingCurveSaver]


def test_training_monitor_stops_on_nan_and_writes_the_curve(tmp_path):
    losses = iter([1.0, 0.5, float("nan")])
    trainer = Engine(lambda engine, batch: [{"loss": next(losses)}])
    TrainingMonitor(tmp_path, main_process=False).attach(trainer)
    with pytest.raises(FloatingPointError, match="iteration 3"):
        trainer.run(range(3), max_epochs=1)


def test_a_time_limit_is_refused_with_several_processes_before_any_folder_is_touched(tmp_path, monkeypatch):
    import monai_jattn.handlers.iteration_budget as budget_module
    from monai_jattn.recipe import TrainingRun

    monkeypatch.setattr(budget_module.dist, "is_initialized", lambda: True)
    monkeypatch.setattr(budget_module.dist, "get_world_size", lambda: 2)
    with pytest.raises(ValueError, match="time_limit .* single-process runs"):
        IterationBudget(10, 5, time_limit=60).check()
    IterationBudget(10, 5).check()  # no time limit: fine with several processes
    run = TrainingRun(Engine(lambda e, b: None), None, {}, tmp_path / "models", tmp_path / "eval", 10, 5, time_limit=60)
    with pytest.raises(ValueError, match="time_limit"):
        run.run()
    assert not (tmp_path / "models").exists() and not (tmp_path / "eval").exists()


def test_a_time_limit_is_allowed_in_a_distributed_run_of_one_process(monkeypatch):
    """The boundary: a process group of one process (torchrun --nproc_per_node=1) stops where a plain run does."""
    import monai_jattn.handlers.iteration_budget as budget_module

    monkeypatch.setattr(budget_module.dist, "is_initialized", lambda: True)
    monkeypatch.setattr(budget_module.dist, "get_world_size", lambda: 1)
    IterationBudget(10, 5, time_limit=60).check()
