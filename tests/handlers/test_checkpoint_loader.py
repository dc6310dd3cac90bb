"""CheckpointLoader / load_checkpoint: a checkpoint that cannot be used is named, with the cause in words."""

import pickle

import pytest
import torch
from ignite.engine import Engine

from monai_jattn.handlers import CheckpointError, CheckpointLoader, load_checkpoint


class Unsafe:
    """Not a tensor or plain value: PyTorch's safe loader refuses it."""


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


@pytest.mark.parametrize(
    "case, cause",
    [
        ("missing", "checkpoint not found"),
        ("empty", r"empty \(0 bytes\)"),
        ("garbage", "corrupt: not a PyTorch checkpoint"),
        ("pickle", "corrupt: not a PyTorch checkpoint"),
        ("truncated", "truncated or damaged"),
        ("unsafe", "unsafe"),
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
