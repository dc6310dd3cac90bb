"""Shared helpers for the bundle tests: tiny settings, bundle runners and numpy reference metrics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from ignite.engine import Events
from monai.bundle import ConfigWorkflow, ckpt_export, verify_metadata, verify_net_in_out
from PIL import Image

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


def run_cli(args: list[str], cwd: Path = REPO, timeout: int = 300, **popen) -> subprocess.CompletedProcess:
    """Run ``python -m <args>`` like a user, CPU only; fails the test with the output on error."""
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
    verify_net_in_out(net_id="network_def", meta_file=meta, config_file=str(configs_dir / "inference.json"), **verify_args)


def check_torchscript_export(configs_dir: Path, checkpoint: Path, ts_file: Path, image: torch.Tensor) -> None:
    """``ckpt_export`` writes a TorchScript model that gives what the checkpoint's network gives."""
    inference = str(configs_dir / "inference.json")
    ckpt_export(
        net_id="network_def",
        filepath=str(ts_file),
        ckpt_file=str(checkpoint),
        meta_file=str(configs_dir / "metadata.json"),
        config_file=inference,
        **TINY_NETWORK,
    )
    network = ConfigWorkflow(config_file=inference, workflow_type=None, **TINY_NETWORK).parser.get_parsed_content(
        "network_def"
    )
    network.load_state_dict(load_checkpoint(checkpoint))
    network.eval()
    with torch.no_grad():
        torch.testing.assert_close(torch.jit.load(str(ts_file))(image), network(image))
