"""CheckpointLoader / load_checkpoint: a checkpoint that cannot be used is named, with the cause in words."""

import os
import pickle

import pytest
import torch
from ignite.engine import Engine

from monai_jattn.handlers import CheckpointError, CheckpointLoader, load_checkpoint


class Unsafe:
    """Not a tensor or plain value: PyTorch's safe loader refuses it."""


class Malicious:
    """Unpickling it would run a command (the global ``os.system``): PyTorch's safe loader blocks it."""

    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def load_into_network(path, net):
    engine = Engine(lambda engine, batch: None)
    CheckpointLoader(load_path=str(path), load_dict={"model": net}).attach(engine)
    engine.run([0])


def write_case(path, case):
    if case == "empty":
        path.write_bytes(b"")
    elif case == "garbage":
        path.write_bytes(b"this is not a checkpoint at all" * 10)
    elif case == "pickle":
        path.write_bytes(pickle.dumps({"weight": [1, 2]}) + b"garbage")
    elif case == "truncated":
        torch.save(torch.nn.Linear(30, 30).state_dict(), path)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif case == "unsafe":
        torch.save({"model": Unsafe()}, path)
    elif case == "malicious":
        torch.save({"model": Malicious()}, path)


@pytest.mark.parametrize(
    "case, cause",
    [
        ("missing", "checkpoint not found"),
        ("empty", r"empty \(0 bytes\)"),
        ("garbage", "corrupt: not a PyTorch checkpoint"),
        ("pickle", "corrupt: not a PyTorch checkpoint"),
        ("truncated", "truncated or damaged"),
        ("unsafe", "unsafe"),
        ("malicious", "unsafe"),
    ],
)
def test_unusable_checkpoint_is_named_with_its_cause(tmp_path, case, cause):
    path = tmp_path / "model.pt"
    write_case(path, case)
    net = torch.nn.Linear(30, 30)
    weights = net.weight.detach().clone()
    with pytest.raises(CheckpointError, match=f"{path}: .*{cause}") as info:
        load_into_network(path, net)
    error = info.value  # torch's own exception, with its advice, is not chained
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    assert "weights_only=False" not in str(error)
    assert torch.equal(net.weight, weights)  # the network was left as it was
    with pytest.raises(CheckpointError, match=cause):
        load_checkpoint(path)


def test_checkpoint_of_another_network_is_named(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(3, 3).state_dict(), path)
    with pytest.raises(CheckpointError, match=f"{path}: the checkpoint does not fit model .*other network settings"):
        load_into_network(path, torch.nn.Linear(30, 30))


def test_good_checkpoint_loads(tmp_path):
    path = tmp_path / "model.pt"
    source = torch.nn.Linear(30, 30)
    torch.save(source.state_dict(), path)
    net = torch.nn.Linear(30, 30)
    load_into_network(path, net)
    assert torch.equal(net.weight, source.weight)


def test_load_pretrained_starts_from_matching_weights_and_never_changes_the_file(tmp_path, caplog):
    from monai_jattn.handlers import load_pretrained

    torch.manual_seed(0)
    shipped = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4))
    path = tmp_path / "model.pt"
    torch.save(shipped.state_dict(), path)
    before = path.read_bytes()
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4))
    with caplog.at_level("INFO"):
        assert load_pretrained(net, path) is True
    assert "starting from the pretrained weights" in caplog.text
    for name, value in shipped.state_dict().items():
        assert torch.equal(net.state_dict()[name], value), name
    assert path.read_bytes() == before

    class Wrapper(torch.nn.Module):  # as DistributedDataParallel holds the network
        def __init__(self, module):
            super().__init__()
            self.module = module

    wrapped = Wrapper(torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4)))
    assert load_pretrained(wrapped, path) is True
    assert torch.equal(wrapped.module[0].weight, shipped[0].weight)


@pytest.mark.parametrize("enabled, resume", [(False, False), ("False", False), (True, True), (True, "True")])
def test_load_pretrained_is_off_when_disabled_or_resuming(tmp_path, enabled, resume):
    from monai_jattn.handlers import load_pretrained

    path = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(3, 3).state_dict(), path)
    net = torch.nn.Linear(3, 3)
    weight = net.weight.detach().clone()
    assert load_pretrained(net, path, enabled=enabled, resume=resume) is False
    assert torch.equal(net.weight, weight)


def test_load_pretrained_trains_from_scratch_with_other_network_settings_or_no_file(tmp_path, caplog):
    from monai_jattn.handlers import load_pretrained

    path = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(3, 3).state_dict(), path)
    net = torch.nn.Linear(3, 5)  # other shapes
    weight = net.weight.detach().clone()
    with caplog.at_level("INFO"):
        assert load_pretrained(net, path) is False
        assert load_pretrained(net, tmp_path / "absent.pt") is False
    assert f"not starting from {path}" in caplog.text and "training from scratch" in caplog.text
    assert "no pretrained weights at" in caplog.text
    assert torch.equal(net.weight, weight)
    path.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_pretrained(net, path)


def _resume(path, epoch_length, max_epochs, max_iterations=None):
    trainer = Engine(lambda engine, batch: None)
    loader = CheckpointLoader(load_path=str(path), load_dict={"trainer": trainer}, max_iterations=max_iterations)
    loader.attach(trainer)
    trainer.run(range(epoch_length), max_epochs=max_epochs, epoch_length=epoch_length)
    return trainer


@pytest.mark.parametrize(
    "epoch_length, max_epochs, message",
    [
        (3, 4, r"saved with 2 iterations per epoch \(--val_interval 2\), this run has 3: resume it with --val_interval 2"),
        (2, 2, r"saved at iteration 6, after this run's end \(4 iterations\): resume it with --max_iterations 6 or more"),
    ],
)
def test_resumed_engine_of_another_length_names_the_setting(tmp_path, epoch_length, max_epochs, message):
    path = tmp_path / "latest.pt"
    saved = Engine(lambda engine, batch: None)
    saved.run(range(2), max_epochs=3, epoch_length=2)
    torch.save({"trainer": saved.state_dict()}, path)
    with pytest.raises(CheckpointError, match=f"{path}: the run was {message}"):
        _resume(path, epoch_length, max_epochs)
    assert _resume(path, 2, 4).state.iteration == 8  # the same val_interval and a later end continue the run


def test_a_budget_that_ends_inside_the_saved_epoch_is_refused(tmp_path):
    """Issue 18 U6, re-checked: --max_iterations 5 with --val_interval 2 ends inside the third epoch (3 epochs,
    6 iterations rounded up), so a run saved at iteration 6 passed the epoch check and resumed into nothing."""
    path = tmp_path / "latest.pt"
    saved = Engine(lambda engine, batch: None)
    saved.run(range(2), max_epochs=3, epoch_length=2)
    torch.save({"trainer": saved.state_dict()}, path)
    with pytest.raises(CheckpointError, match=r"saved at iteration 6, after this run's end \(5 iterations\)"):
        _resume(path, 2, 3, max_iterations=5)
    assert _resume(path, 2, 4, max_iterations=7).state.iteration == 8  # a later budget continues the run
