"""LatestCheckpointSaver: one complete checkpoint under a fixed name, replaced atomically, resumable."""

import errno
import os

import pytest
import torch
from ignite.engine import Engine, Events
from monai.handlers import CheckpointLoader

from monai_jattn.atomic_write import WriteError
from monai_jattn.handlers import LatestCheckpointSaver, ResumableCheckpointSaver


def make_trainer(seed=0):
    torch.manual_seed(seed)
    net = torch.nn.Linear(3, 1)
    opt = torch.optim.Adam(net.parameters(), lr=0.1)

    def step(engine, batch):
        opt.zero_grad()
        loss = net(batch).pow(2).mean()
        loss.backward()
        opt.step()
        return loss.item()

    return Engine(step), net, opt


def test_saves_every_epoch_and_at_completion(tmp_path):
    trainer, net, opt = make_trainer()
    saver = LatestCheckpointSaver(tmp_path, {"network": net, "optimizer": opt, "trainer": trainer}, save_interval=2)
    saver.attach(trainer)
    saved = []

    def record(engine):
        saved.append(torch.load(saver.path)["trainer"]["iteration"] if os.path.exists(saver.path) else None)

    trainer.add_event_handler(Events.EPOCH_COMPLETED, record)
    trainer.run([torch.ones(2, 3)] * 3, max_epochs=3)
    assert saved == [None, 6, 6]  # saved every 2 epochs; epoch 3's state is saved at completion, below
    checkpoint = torch.load(saver.path)
    assert checkpoint["trainer"]["iteration"] == 9
    assert checkpoint["optimizer"]["state"][0]["step"] == 9
    assert torch.equal(checkpoint["network"]["weight"], net.weight)
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pt"]


def test_resume_continues_from_the_saved_iteration(tmp_path):
    data = [torch.ones(2, 3)] * 2
    trainer, net, opt = make_trainer()
    LatestCheckpointSaver(tmp_path, {"network": net, "optimizer": opt, "trainer": trainer}).attach(trainer)
    trainer.run(data, max_epochs=2)

    resumed, net2, opt2 = make_trainer(seed=1)
    save_dict = {"network": net2, "optimizer": opt2, "trainer": resumed}
    CheckpointLoader(str(tmp_path / "latest.pt"), save_dict).attach(resumed)
    LatestCheckpointSaver(tmp_path, save_dict).attach(resumed)
    iterations = []
    resumed.add_event_handler(Events.ITERATION_COMPLETED, lambda e: iterations.append(e.state.iteration))
    resumed.run(data, max_epochs=5)
    assert iterations == [5, 6, 7, 8, 9, 10]
    assert torch.load(tmp_path / "latest.pt")["optimizer"]["state"][0]["step"] == 10


def test_failed_write_keeps_previous_checkpoint(tmp_path, monkeypatch):
    trainer, net, _ = make_trainer()
    saver = LatestCheckpointSaver(tmp_path, {"network": net, "trainer": trainer})
    saver.attach(trainer)
    trainer.run([torch.ones(2, 3)], max_epochs=1)
    before = torch.load(saver.path)

    def broken_save(obj, f):
        with open(f, "wb") as handle:
            handle.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    try:
        trainer.run([torch.ones(2, 3)], max_epochs=2)
    except OSError:
        pass
    else:
        raise AssertionError("the failing save should raise")
    monkeypatch.undo()
    assert torch.load(saver.path)["trainer"] == before["trainer"]
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pt"]


def test_resumed_best_model_saver_keeps_a_better_earlier_model(tmp_path):
    net = torch.nn.Linear(3, 1)

    def validate(score, saver):
        evaluator = Engine(lambda engine, batch: None)
        evaluator.add_event_handler(Events.EPOCH_COMPLETED, lambda e: e.state.metrics.update(dice=score))
        saver.attach(evaluator)
        evaluator.run([0])

    def best_saver():
        return ResumableCheckpointSaver(
            str(tmp_path), {"model": net}, save_key_metric=True, key_metric_name="dice", key_metric_filename="model.pt"
        )

    first = best_saver()
    validate(0.8, first)
    best_weight = net.weight.detach().clone()
    state = first.state_dict()
    assert state["_saved"][0][0] == 0.8

    with torch.no_grad():
        net.weight.add_(1.0)
    resumed = best_saver()
    resumed.load_state_dict(state)
    validate(0.5, resumed)  # worse: model.pt stays
    assert torch.equal(torch.load(tmp_path / "model.pt")["weight"], best_weight)
    validate(0.9, resumed)  # better: replaced
    assert torch.equal(torch.load(tmp_path / "model.pt")["weight"], net.weight)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


def test_a_failed_best_model_save_keeps_the_earlier_model_and_names_the_file(tmp_path, monkeypatch):
    net = torch.nn.Linear(3, 1)
    saver = ResumableCheckpointSaver(
        str(tmp_path), {"model": net}, save_key_metric=True, key_metric_name="dice", key_metric_filename="model.pt"
    )
    evaluator = Engine(lambda engine, batch: None)
    scores = iter([0.5, 0.9])
    evaluator.add_event_handler(Events.EPOCH_COMPLETED, lambda e: e.state.metrics.update(dice=next(scores)))
    saver.attach(evaluator)
    evaluator.run([0], max_epochs=1)
    before = (tmp_path / "model.pt").read_bytes()

    def disk_full(obj, f, **kwargs):
        with open(f, "wb") as handle:
            handle.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(WriteError, match=f"{tmp_path / 'model.pt'}: could not be written: no space left on the device"):
        evaluator.run([0], max_epochs=2)  # a better score: the new best model cannot be written
    assert (tmp_path / "model.pt").read_bytes() == before  # the earlier best model is intact
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]
