"""TrainingCurveSaver: loss per iteration and validation metric per validation, continued on resume."""

import json

from ignite.engine import Engine, Events
from PIL import Image

from monai_jattn.handlers import TrainingCurveSaver


def make_engines():
    trainer = Engine(lambda engine, batch: [{"loss": 1.0 / engine.state.iteration}])
    validator = Engine(lambda engine, batch: None)
    validator.state.key_metric_name = "dice"
    validator.add_event_handler(
        Events.EPOCH_COMPLETED, lambda e: e.state.metrics.update(dice=trainer.state.iteration / 100)
    )
    trainer.add_event_handler(Events.EPOCH_COMPLETED, lambda e: validator.run([0]))
    return trainer, validator


def restore_at_start(trainer, iteration):
    """What CheckpointLoader does on resume (attached after the curve saver, as the bundles do)."""

    def restore(engine):
        engine.state.iteration, engine.state.epoch = iteration, iteration // 2

    trainer.add_event_handler(Events.STARTED, restore)


def test_records_and_plots(tmp_path):
    trainer, validator = make_engines()
    TrainingCurveSaver(tmp_path, validator=validator).attach(trainer)
    trainer.run(range(2), max_epochs=3)
    curve = json.loads((tmp_path / "training_curve.json").read_text())
    assert curve["loss"]["iteration"] == [1, 2, 3, 4, 5, 6]
    assert curve["loss"]["value"] == [1.0 / i for i in range(1, 7)]
    seconds = curve["validation"].pop("seconds")
    assert curve["validation"] == {"metric": "dice", "iteration": [2, 4, 6], "value": [0.02, 0.04, 0.06]}
    assert len(seconds) == 3 and 0 <= seconds[0] <= seconds[1] <= seconds[2]
    with Image.open(tmp_path / "training_curve.png") as png:
        assert png.size == (800, 450)


def test_resumed_run_continues_the_curve(tmp_path):
    trainer, validator = make_engines()
    TrainingCurveSaver(tmp_path, validator=validator).attach(trainer)
    trainer.run(range(2), max_epochs=3)  # iterations 1..6 saved

    resumed, validator = make_engines()
    TrainingCurveSaver(tmp_path, validator=validator).attach(resumed)
    restore_at_start(resumed, 4)  # the checkpoint was from iteration 4
    resumed.run(range(2), max_epochs=4)
    curve = json.loads((tmp_path / "training_curve.json").read_text())
    assert curve["loss"]["iteration"] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert curve["validation"]["iteration"] == [2, 4, 6, 8]
    seconds = curve["validation"]["seconds"]
    assert len(seconds) == 4 and seconds == sorted(seconds)  # the resumed clock goes on from iteration 4's


def test_resumed_clock_goes_on_from_the_last_kept_validation(tmp_path):
    trainer, validator = make_engines()
    TrainingCurveSaver(tmp_path, validator=validator).attach(trainer)
    trainer.run(range(2), max_epochs=2)
    path = tmp_path / "training_curve.json"
    curve = json.loads(path.read_text())
    curve["validation"]["seconds"] = [100.0, 200.0]  # as if each epoch had taken 100 s
    path.write_text(json.dumps(curve))
    resumed, validator = make_engines()
    TrainingCurveSaver(tmp_path, validator=validator).attach(resumed)
    restore_at_start(resumed, 2)
    resumed.run(range(2), max_epochs=2)
    seconds = json.loads(path.read_text())["validation"]["seconds"]
    assert seconds[0] == 100.0 and 100.0 <= seconds[1] < 150.0


def test_fresh_run_replaces_an_old_curve(tmp_path):
    trainer, validator = make_engines()
    TrainingCurveSaver(tmp_path, validator=validator).attach(trainer)
    trainer.run(range(2), max_epochs=3)
    trainer, validator = make_engines()
    TrainingCurveSaver(tmp_path, validator=validator).attach(trainer)
    trainer.run(range(2), max_epochs=1)
    assert json.loads((tmp_path / "training_curve.json").read_text())["loss"]["iteration"] == [1, 2]
