"""Shared helpers for the bundle tests: tiny settings, bundle runners and numpy reference metrics."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from ignite.engine import Events
from monai.bundle import ConfigParser, ConfigWorkflow, ckpt_export, create_workflow, verify_metadata, verify_net_in_out
from PIL import Image

from monai_jattn.data import DatasetError

REPO = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).with_name("meta_schema_20240725.json")  # MONAI's bundle metadata schema, kept offline

TINY_NETWORK = {
    "network_def#init_features": 8,
    "network_def#growth_rate": 4,
    "network_def#block_layers": [1, 1, 1],
    "network_def#decoder_features": [8, 8],
    "network_def#pwa_hidden_channels": 8,
}
"""A DenseUNet-JA small enough to train a few iterations on CPU in seconds."""


TORCHRUN = ["torch.distributed.run", "--standalone", "--nnodes=1", "--nproc_per_node=2", "-m", "monai.bundle", "run"]
"""``python -m`` arguments that run a bundle command in 2 processes (gloo on CPU)."""


def run_settings(configs_dir: Path, dataset: Path, run_dir: Path, **more) -> dict:
    """Overrides for a tiny CPU run of the bundle whose configs are ``configs_dir``, writing under ``run_dir``."""
    return {
        "bundle_root": str(configs_dir.parent),
        "dataset_dir": str(dataset),
        "output_dir": str(run_dir / "eval"),
        "ckpt_dir": str(run_dir / "models"),
        "device": "cpu",
        "num_workers": 0,
        "load_pretrain": False,  # the tiny network does not fit the shipped weights
        **TINY_NETWORK,
        **more,
    }


def configs(bundle: str) -> Path:
    return REPO / "bundles" / bundle / "configs"


def cli_args(overrides: dict) -> list[str]:
    """``--id value`` pairs for ``python -m monai.bundle run``."""
    args = []
    for key, value in overrides.items():
        args += [f"--{key}", str(value).replace(" ", "")]
    return args


GLOO_EXIT_ABORT = "terminate called without an active exception"
"""What a gloo process prints when it aborts in PyTorch's teardown at exit, after its work (see `run_cli`)."""
PYTHON_ERROR = re.compile(r"^(\[rank\d+\]:\s*)?[\w.]*(Error|Exception)\b:")
"""The last line of a Python traceback, in a torchrun process's output."""


def run_cli(
    args: list[str], cwd: Path = REPO, timeout: int = 300, expect_failure: bool = False, **popen
) -> subprocess.CompletedProcess:
    """Run ``python -m <args>`` like a user, CPU only; fails the test with the output on error (or, with
    ``expect_failure``, when the command succeeds).

    A ``torchrun`` command (gloo on the CPU) whose only failure is a process aborting at exit with
    `GLOO_EXIT_ABORT` and no Python error is reported as a warning, not a failure: PyTorch's gloo teardown does
    this now and then after every output is written (seen here in 2 of 5 full test runs under load, never in 15
    runs alone; pytorch/pytorch#190489 and #179291 describe the mechanism), and the tests check the outputs."""
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, "-m", *args],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **popen,
    )
    output = result.stdout + result.stderr
    if result.returncode and args[0] == "torch.distributed.run" and GLOO_EXIT_ABORT in output:
        errors = [line for line in output.splitlines() if PYTHON_ERROR.match(line) and "ChildFailedError" not in line]
        if not errors and not expect_failure:
            warnings.warn(f"a gloo process aborted at exit after its work ({GLOO_EXIT_ABORT!r}); outputs checked")
            return result
    if expect_failure:
        assert result.returncode != 0, f"{' '.join(args)} succeeded:\n{result.stdout[-3000:]}"
    else:
        assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-20000:]}"
    return result


def run_workflow(config_files: list[Path], collect_keys: tuple[str, ...] = (), **overrides) -> list[dict]:
    """Run a bundle in this process; with ``collect_keys``, return those post-processed outputs of every
    image of the evaluator (``validate#evaluator``) as numpy arrays, with the image's id."""
    workflow = ConfigWorkflow(config_file=[str(f) for f in config_files], workflow_type=None, **overrides)
    workflow.initialize()
    collected: list[dict] = []
    if collect_keys:
        evaluator = workflow.parser.get_parsed_content("validate#evaluator")

        def collect(engine):
            for batch, output in zip(engine.state.batch, engine.state.output):
                item = {key: np.asarray(output[key].detach().cpu()) for key in collect_keys}
                collected.append(item | {"id": batch["id"]})

        evaluator.add_event_handler(Events.ITERATION_COMPLETED, collect)
    workflow.run()
    workflow.finalize()
    return collected


def read_png(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def read_binary(path: str | Path) -> np.ndarray:
    """A label or FOV file as a boolean (H, W) array, read with PIL directly (palette GIFs included, whose
    colours may be near-black and near-white as in DRIVE's 2nd_manual: thresholded at mid-grey)."""
    with Image.open(path) as image:
        return np.asarray(image.convert("L")) > 127


def load_checkpoint(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def kill_and_resume(train_config: Path, overrides: dict, run_dir: Path) -> tuple[int, dict, dict]:
    """Start ``python -m monai.bundle run`` training, SIGKILL it once its first latest checkpoint exists,
    then resume it with ``--resume True`` to the end.

    Returns:
        the iteration of the checkpoint the kill left, the final latest checkpoint and the training curve.
    """
    args = ["monai.bundle", "run", "--config_file", str(train_config)] + cli_args(overrides)
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1")
    latest = run_dir / "models" / "latest.pt"
    process = subprocess.Popen(
        [sys.executable, "-m", *args], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 240
        while not latest.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    killed_at = load_checkpoint(latest)["trainer"]["iteration"]
    run_cli(args + ["--resume", "True"])
    return killed_at, load_checkpoint(latest), json.loads((run_dir / "eval" / "training_curve.json").read_text())


def check_properties_and_metadata(configs_dir: Path, overrides: dict, **verify_args) -> None:
    """The bundle's train and infer workflows have every required property; metadata and network I/O verify."""
    for config, workflow_type in (("train.json", "train"), ("inference.json", "infer")):
        workflow = ConfigWorkflow(config_file=str(configs_dir / config), workflow_type=workflow_type, **overrides)
        workflow.initialize()
        assert workflow.check_properties() == []
    meta = str(configs_dir / "metadata.json")
    verify_metadata(meta_file=meta, filepath=str(SCHEMA))
    verify_net_in_out(
        net_id="network_def", meta_file=meta, config_file=str(configs_dir / "inference.json"), **verify_args
    )


def check_torchscript_export(configs_dir: Path, checkpoint: Path, ts_file: Path, image: torch.Tensor) -> None:
    """``ckpt_export`` writes a TorchScript model that gives what the checkpoint's network gives."""
    ckpt_export(
        net_id="network_def",
        filepath=str(ts_file),
        ckpt_file=str(checkpoint),
        meta_file=str(configs_dir / "metadata.json"),
        config_file=str(configs_dir / "inference.json"),
        **TINY_NETWORK,
    )
    network = checkpoint_network(configs_dir, checkpoint)
    with torch.no_grad():
        torch.testing.assert_close(torch.jit.load(str(ts_file))(image), network(image))


def checkpoint_network(configs_dir: Path, checkpoint: Path) -> torch.nn.Module:
    """The tiny ``network_def`` of the bundle's ``inference.json`` with the weights of ``checkpoint``, in eval mode."""
    inference = str(configs_dir / "inference.json")
    network = ConfigWorkflow(config_file=inference, workflow_type=None, **TINY_NETWORK).parser.get_parsed_content(
        "network_def"
    )
    network.load_state_dict(load_checkpoint(checkpoint))
    return network.eval()


def check_builds_without_data(configs_dir: Path, missing: Path, run_dir: Path, evaluate_ids: tuple[str, ...]) -> None:
    """Every workflow of the bundle builds while ``missing`` (its ``dataset_dir``) does not exist, as
    ``monai.bundle`` and the model zoo build them; running one raises the `DatasetError` naming the folder.

    Args:
        configs_dir: the bundle's ``configs`` folder.
        missing: a ``dataset_dir`` that does not exist.
        run_dir: where the workflows may create their output folders.
        evaluate_ids: ids that evaluation builds (``train.json`` + ``evaluate.json``; not a property set).
    """
    common = run_settings(configs_dir, missing, run_dir)
    for config, workflow_type in (("train.json", "train"), ("inference.json", "infer")):
        workflow = create_workflow(config_file=str(configs_dir / config), workflow_type=workflow_type, **common)
        assert workflow.check_properties() == []
        dataset = workflow.train_dataset if workflow_type == "train" else workflow.dataset
        assert len(dataset) == 0
        with pytest.raises(RuntimeError) as error:  # monai.bundle wraps the error of the run's expression
            workflow.run()
        assert str(missing) in str(dataset_error(error.value))
    evaluation = create_workflow(
        config_file=[str(configs_dir / "train.json"), str(configs_dir / "evaluate.json")], workflow_type=None, **common
    )
    for id in evaluate_ids:
        evaluation.parser.get_parsed_content(id)
    with pytest.raises(RuntimeError) as error:
        evaluation.run()
    assert str(missing) in str(dataset_error(error.value))


def dataset_error(error: BaseException) -> DatasetError:
    """The `DatasetError` that ``error`` (raised by ``monai.bundle``) wraps; fails the test if there is none."""
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, DatasetError):
        cause = cause.__cause__
    assert cause is not None, f"no DatasetError behind {error!r}"
    return cause


def check_multi_gpu_device_is_local_rank(configs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under torchrun with CUDA, each process of ``multi_gpu_*.json`` takes the GPU of its ``LOCAL_RANK``
    (its index on its own node), not of its global rank: on the second node of two, rank 7 is local rank 3."""
    monkeypatch.setenv("RANK", "7")
    monkeypatch.setenv("LOCAL_RANK", "3")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    for configs in (["train.json", "multi_gpu_train.json"], ["train.json", "evaluate.json", "multi_gpu_evaluate.json"]):
        parser = ConfigParser()
        parser.read_config([str(configs_dir / name) for name in configs])
        assert parser.get_parsed_content("device") == torch.device("cuda:3"), configs


ONNX_DYNAMIC_AXES = {"image": {0: "batch", 2: "height", 3: "width"}, "pred": {0: "batch", 2: "height", 3: "width"}}
"""Batch and spatial size left free in the exported ONNX graph (the names the model cards' command uses)."""


def check_onnx_export(configs_dir: Path, checkpoint: Path, onnx_file: Path, image: torch.Tensor) -> None:
    """``python -m monai.bundle onnx_export`` writes a model with a free batch and spatial size whose
    onnxruntime output on ``image`` (any size, odd ones included) is the checkpoint's network output."""
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")  # torch's ONNX exporter
    ort = pytest.importorskip("onnxruntime")
    converter = {"input_names": ["image"], "output_names": ["pred"], "dynamic_axes": ONNX_DYNAMIC_AXES}
    run_cli(
        ["monai.bundle", "onnx_export", "network_def", "--filepath", str(onnx_file), "--ckpt_file", str(checkpoint)]
        + ["--meta_file", str(configs_dir / "metadata.json"), "--config_file", str(configs_dir / "inference.json")]
        + ["--input_shape", str([1, image.shape[1], 32, 32]), "--converter_kwargs", str(converter)]
        + cli_args(TINY_NETWORK)
    )
    network = checkpoint_network(configs_dir, checkpoint)
    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    shape = [d if isinstance(d, int) else str(d) for d in session.get_inputs()[0].shape]
    assert shape[1] == image.shape[1] and all(isinstance(d, str) for d in shape[:1] + shape[2:]), shape
    with torch.no_grad():
        expected = network(image).numpy()
    (output,) = session.run(None, {"image": image.numpy()})
    assert output.shape == expected.shape
    assert np.abs(output - expected).max() <= 1e-4


def msd_bundle_with_weights(root: Path, data: Path) -> Path:
    """A copy of the repository's MSD bundle (with the shared recipe) under ``root``, with random weights for
    ``data``'s channels and classes in ``models/model.pt``, as a user's trained one would have: the MSD bundle ships
    none."""
    for name in ("common", "msd_jattn_segmentation"):
        shutil.copytree(REPO / "bundles" / name, root / name)
    parser = ConfigParser()
    parser.read_config(str(root / "msd_jattn_segmentation" / "configs" / "inference.json"))
    parser["dataset_dir"] = str(data)
    torch.manual_seed(0)
    network = parser.get_parsed_content("network_def")
    (root / "msd_jattn_segmentation" / "models").mkdir()
    torch.save(network.state_dict(), root / "msd_jattn_segmentation" / "models" / "model.pt")
    return root / "msd_jattn_segmentation"
