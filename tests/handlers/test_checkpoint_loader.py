"""CheckedCheckpointLoader / load_checkpoint: a checkpoint that cannot be used is named, with the cause in words."""

import os
import pickle
import re

import pytest
import torch
from ignite.engine import Engine

from monai_jattn.handlers import CheckedCheckpointLoader, CheckpointError, load_checkpoint


class Unsafe:
    """Not a tensor or plain value: PyTorch's safe loader refuses it."""


class Malicious:
    """Unpickling it would run a command (the global ``os.system``): PyTorch's safe loader blocks it."""

    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def load_into_network(path, net):
    engine = Engine(lambda engine, batch: None)
    CheckedCheckpointLoader(load_path=str(path), load_dict={"model": net}).attach(engine)
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


def _tiny_densenet(attention="ja"):
    from monai_jattn.networks import DenseUNet

    return DenseUNet(
        spatial_dims=2, in_channels=1, out_channels=2, init_features=8, growth_rate=4, block_layers=[1, 1, 1],
        decoder_features=[8, 8], pwa_hidden_channels=8, attention=attention,
    )  # fmt: skip


def _write_pretrained(path, case):
    """Pretrained weights that a JA network cannot use, and the cause its error must give."""
    if case == "missing":
        return "no pretrained weights there"
    if case == "other shapes":
        torch.save({k: v[..., :1] if v.ndim == 4 else v for k, v in _tiny_densenet().state_dict().items()}, path)
        return r"do not fit this network .*have other shapes: "
    if case == "other attention":  # names the JA network lacks (and lacks names it has): no shape differs
        torch.save(_tiny_densenet("sa").state_dict(), path)
        return r"do not fit this network .*tensors fit; \d+ are not in the file: .*the file has \d+ the network has not"
    if case == "tensors missing":  # e.g. a file saved from a part of the network: strict=False would load it
        torch.save({k: v for k, v in _tiny_densenet().state_dict().items() if not k.startswith("decoder")}, path)
        return r"do not fit this network .*tensors fit; \d+ are not in the file: decoder"
    if case == "no weights":
        torch.save({"optimizer": {"lr": 0.1}, "epoch": 3}, path)
        return r"holds entries epoch, optimizer, not a network's weights"
    write_case(path, case)
    return {"empty": r"empty \(0 bytes\)", "garbage": "corrupt", "truncated": "truncated or damaged"}[case]


@pytest.mark.parametrize(
    "case",
    ["missing", "empty", "garbage", "truncated", "other shapes", "other attention", "tensors missing", "no weights"],
)
def test_pretrained_weights_that_cannot_be_used_stop_the_run_naming_the_file_and_cause(tmp_path, case, caplog):
    """Issue 28 S6: a typo in --pretrained_path or another network's weights trained from scratch with one log
    line. Loading with strict=False would pass the tensors-missing case."""
    from monai_jattn.handlers import load_pretrained

    path = tmp_path / "model.pt"
    cause = _write_pretrained(path, case)
    net = _tiny_densenet()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(CheckpointError, match=f"{path}: .*{cause}.*--load_pretrain False") as error:
        load_pretrained(net, path)
    assert "pretrained_optional True" in str(error.value)
    # the user says from scratch is fine: the same cause as a warning, the network untouched
    with caplog.at_level("WARNING"):
        assert load_pretrained(net, path, optional="True") is False
    assert re.search(f"{path}: .*{cause}", caplog.text) and "training from scratch" in caplog.text
    assert all(torch.equal(net.state_dict()[k], v) for k, v in before.items())


def test_a_partial_fit_is_listed_never_loaded(tmp_path):
    """Weights of another attention share the encoder and decoder: the error says how many tensors fit and which
    do not, and nothing is loaded (all or nothing)."""
    from monai_jattn.handlers import describe_fit, load_pretrained

    path = tmp_path / "model.pt"
    other = _tiny_densenet("pwa").state_dict()
    torch.save(other, path)
    net = _tiny_densenet("ja")
    own = net.state_dict()
    shared = [k for k in own if k in other]
    assert 0 < len(shared) < len(own)
    fit = describe_fit(net, other)
    assert fit.startswith(f"{len(shared)} of the network's {len(own)} tensors fit; {len(own) - len(shared)} are not")
    with pytest.raises(CheckpointError, match=re.escape(fit)):
        load_pretrained(net, path)
    assert all(torch.equal(net.state_dict()[k], own[k]) for k in shared)


def test_evaluating_another_network_is_refused(tmp_path):
    """The evaluation's CheckedCheckpointLoader loads strictly: a JA model.pt into a network of other attention, or a
    model.pt that lacks some of the network's tensors, stops the run."""
    path = tmp_path / "model.pt"
    torch.save(_tiny_densenet("ja").state_dict(), path)
    with pytest.raises(CheckpointError, match=r"does not fit model .*tensors fit; \d+ are not in the file"):
        load_into_network(path, _tiny_densenet("sa"))
    torch.save({k: v for k, v in _tiny_densenet().state_dict().items() if not k.startswith("decoder")}, path)
    with pytest.raises(CheckpointError, match=r"does not fit model .*tensors fit; \d+ are not in the file: decoder"):
        load_into_network(path, _tiny_densenet())


def test_a_training_checkpoint_of_the_same_network_starts_a_fine_tune(tmp_path, caplog):
    """Issue 28 U7: --pretrained_path at a latest.pt (network, optimizer, trainer, ...) blamed "other network
    settings" and trained from scratch; its network weights are loaded."""
    from monai_jattn.handlers import load_pretrained

    torch.manual_seed(0)
    trained = _tiny_densenet()
    optimizer = torch.optim.Adam(trained.parameters())
    trainer = Engine(lambda engine, batch: None)
    path = tmp_path / "latest.pt"
    state = {"network": trained.state_dict(), "optimizer": optimizer.state_dict(), "trainer": trainer.state_dict()}
    torch.save(state, path)
    net = _tiny_densenet()
    with caplog.at_level("INFO"):
        assert load_pretrained(net, path) is True
    assert f"the 'network' weights of the training checkpoint {path}" in caplog.text
    assert all(torch.equal(net.state_dict()[k], v) for k, v in trained.state_dict().items())


def _resume(path, epoch_length, max_epochs, max_iterations=None):
    trainer = Engine(lambda engine, batch: None)
    loader = CheckedCheckpointLoader(load_path=str(path), load_dict={"trainer": trainer}, max_iterations=max_iterations)
    loader.attach(trainer)
    trainer.run(range(epoch_length), max_epochs=max_epochs, epoch_length=epoch_length)
    return trainer


@pytest.mark.parametrize(
    "epoch_length, max_epochs, message",
    [
        (
            3,
            4,
            r"saved with 2 iterations per epoch \(--val_interval 2\), this run has 3: resume it with --val_interval 2",
        ),
        (
            2,
            2,
            r"saved at iteration 6, after this run's end \(4 iterations\): resume it with --max_iterations 6 or more",
        ),
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


def test_a_run_saved_exactly_at_the_end_of_this_run_is_resumed(tmp_path):
    """The boundary: saved at iteration 6, a budget of 6 iterations (max_iterations, or 3 epochs of 2) is no
    earlier than the saved run, so it resumes (and has nothing left to do); 5 is refused (above)."""
    path = tmp_path / "latest.pt"
    saved = Engine(lambda engine, batch: None)
    saved.run(range(2), max_epochs=3, epoch_length=2)
    torch.save({"trainer": saved.state_dict()}, path)
    assert _resume(path, 2, 3, max_iterations=6).state.iteration == 6
    assert _resume(path, 2, 3).state.iteration == 6


def test_the_lists_of_what_does_not_fit_name_five_then_count():
    from monai_jattn.handlers import describe_fit

    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))  # 6 tensors
    five = describe_fit(net, {"0.weight": net[0].weight})
    assert five == "1 of the network's 6 tensors fit; 5 are not in the file: 0.bias, 1.weight, 1.bias, 2.weight, 2.bias"
    six = describe_fit(net, {"extra": net[0].weight})
    assert six.endswith(
        "6 are not in the file: 0.weight, 0.bias, 1.weight, 1.bias, 2.weight and 1 more; the file has 1 the network "
        "has not: extra"
    )
