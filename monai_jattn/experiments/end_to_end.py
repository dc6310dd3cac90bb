"""End-to-end training speed: the DRIVE bundle's own training loop (data path included) against the
bare training step of the same network, measured in one process.

    python scripts/benchmark_end_to_end.py --dataset_dir ../shared/data/DRIVE --iterations 60 --device cpu
    python scripts/benchmark_end_to_end.py --dataset_dir /data/DRIVE --iterations 600 --device cuda

For each model the bundle's ``train.json`` runs through ``monai.bundle.ConfigWorkflow`` with its
speed settings (``--amp``, ``--channels_last``, ``--compile``, ``--cuda_graph``) for
``--iterations`` iterations without validation; an iteration's time is the median over the
iterations after ``--warmup`` (start to start, so everything the loop does counts). The bare step
is the trainer's own step (its inferer, loss, backward, Adam) on one fixed batch of the same
network and settings, without the engine: the median of repeated steps, measured before and after
the loop and averaged, so that a drift of the machine's speed falls on both. ``--legacy`` adds, for comparison, the
per-item MONAI pipeline the bundles used before (``CacheDataset`` of ``drive_train_transforms`` and
a ``DataLoader``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from ignite.engine import Events
from monai.bundle import ConfigWorkflow

from monai_jattn.atomic_write import write_json_atomic, write_text_atomic
from monai_jattn.experiments.bundle_runs import find_bundle
from monai_jattn.experiments.formatting import three_digits
from monai_jattn.experiments.measure import median_seconds, synchronize
from monai_jattn.networks.names import MODEL_VARIANTS

__all__ = [
    "END_TO_END_MODELS",
    "bundle_training_workflow",
    "main",
    "measure_end_to_end",
    "speed_row",
    "steady_iteration_seconds",
]

END_TO_END_MODELS: dict[str, dict[str, Any]] = {
    **{MODEL_VARIANTS[name].label: MODEL_VARIANTS[name].network_overrides() for name in ("ja9", "dense_unet")},
    "BasicUNet": MODEL_VARIANTS["basic_unet"].network_overrides(),
}
"""The models of the end-to-end table, as overrides of the DRIVE bundle's ``network_def``."""

_LEGACY_DATA = {
    "train#dataset": {
        "_target_": "CacheDataset",
        "data": "$@split[0]",
        "transform": {
            "_target_": "monai_jattn.datasets.drive.drive_train_transforms",
            "patch_size": "@patch_size",
            "num_patches": "@patches_per_image",
        },
        "cache_rate": 1.0,
        "num_workers": "@num_workers",
    },
    "train#dataloader": {
        "_target_": "DataLoader",
        "dataset": "@train#dataset",
        "batch_size": "@batch_size",
        "shuffle": True,
        "num_workers": "@num_workers",
    },
}


def _bare_step_seconds(workflow: ConfigWorkflow, repeats: int) -> float:
    """Median seconds of the trainer's own step on one batch of the bundle's loader: its inferer
    (with MONAI's CUDA autocast where ``amp``), loss, backward and optimizer step, without the engine."""
    parser = workflow.parser
    network, optimizer = parser.get_parsed_content("network"), parser.get_parsed_content("optimizer")
    loss_fn, inferer = parser.get_parsed_content("loss"), parser.get_parsed_content("train#inferer")
    speed = parser.get_parsed_content("speed")
    device = torch.device(parser.get_parsed_content("device"))
    batch = next(iter(parser.get_parsed_content("train#dataloader")))
    image, label = (torch.as_tensor(batch[key]).to(device) for key in ("image", "label"))
    network.train()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, enabled=speed["amp"], **speed["amp_kwargs"]):
            loss = loss_fn(inferer(image, network), label)
        loss.backward()
        optimizer.step()

    return median_seconds(step, device, repeats, warmup=3)


def _data_seconds(workflow: ConfigWorkflow, repeats: int) -> float:
    """Median seconds the bundle's training loader takes to give one batch (on the training device)."""
    device = torch.device(workflow.parser.get_parsed_content("device"))
    loader = workflow.parser.get_parsed_content("train#dataloader")
    batches = iter(loader)

    def draw() -> None:
        nonlocal batches
        try:
            batch = next(batches)
        except StopIteration:  # a finite loader (the legacy DataLoader) starts its next pass, as in training
            batches = iter(loader)
            batch = next(batches)
        batch["image"].to(device)

    return median_seconds(draw, device, repeats, warmup=3)


def steady_iteration_seconds(starts: Sequence[float], warmup: int) -> float:
    """Median seconds from one iteration's start to the next, leaving out the first ``warmup`` iterations.

    Args:
        starts: the start times of iterations 1, 2, ... (the last one only ends the one before).
        warmup: iterations left out (caching, cuDNN autotuning, compilation).
    """
    durations = [b - a for a, b in zip(starts[warmup:-1], starts[warmup + 1 :])]
    if not durations:
        raise ValueError(f"{len(starts)} start times leave no iteration after {warmup} warm-up iterations.")
    return statistics.median(durations)


def bundle_training_workflow(
    bundle_dir: Path,
    dataset_dir: str,
    model: str,
    device: str,
    overrides: dict[str, Any],
    scratch: str,
    legacy: bool = False,
) -> ConfigWorkflow:
    """The DRIVE bundle's training workflow for ``model``, initialised, without validation or an end, writing
    its checkpoints and logs under ``scratch``."""
    settings = {
        "dataset_dir": dataset_dir,
        "device": device,
        "bundle_root": str(bundle_dir),
        "ckpt_dir": f"{scratch}/models",
        "output_dir": f"{scratch}/eval",
        "max_iterations": 10**9,
        "val_interval": 10**9,
        "train#runner#validator": None,
        "load_pretrain": False,  # from scratch: the shipped weights fit one of the models only
        **END_TO_END_MODELS[model],
        **(_LEGACY_DATA if legacy else {}),
        **overrides,
    }
    workflow = ConfigWorkflow(config_file=str(bundle_dir / "configs" / "train.json"), workflow_type="train", **settings)
    workflow.initialize()
    return workflow


def measure_end_to_end(
    bundle_dir: Path,
    dataset_dir: str,
    model: str,
    iterations: int,
    warmup: int,
    device: str,
    overrides: dict[str, Any],
    legacy: bool = False,
) -> dict[str, Any]:
    """Iterations per second of the bundle's training loop and the bare step of the same network.

    Args:
        bundle_dir: the DRIVE bundle folder.
        dataset_dir: a DRIVE copy in its official layout (real or sample).
        model: a key of :data:`END_TO_END_MODELS`.
        iterations: training iterations to run (> ``warmup`` + 1).
        warmup: iterations left out of the rate (caching, cuDNN autotuning, compilation).
        device: ``"cpu"`` or ``"cuda"``.
        overrides: further bundle overrides (speed settings, ``num_workers``).
        legacy: use the per-item MONAI pipeline the bundles used before instead of ``CachedPatchLoader``.

    Returns:
        a row with ``it_per_s`` (end to end), ``step_ms`` (bare step), ``data_ms`` (one batch from
        the training loader alone), ``ratio`` (end-to-end iteration time over bare step time) and
        the settings.
    """
    if iterations <= warmup + 1:
        raise ValueError(f"iterations ({iterations}) must exceed warmup + 1 ({warmup + 1}).")
    starts: list[float] = []
    with tempfile.TemporaryDirectory() as scratch:
        workflow = bundle_training_workflow(bundle_dir, dataset_dir, model, device, overrides, scratch, legacy)
        trainer = workflow.parser.get_parsed_content("train#trainer")
        torch_device = torch.device(workflow.parser.get_parsed_content("device"))

        @trainer.on(Events.ITERATION_STARTED)
        def _record(engine) -> None:
            synchronize(torch_device)
            starts.append(time.perf_counter())
            if engine.state.iteration > iterations:
                engine.terminate()

        repeats = max(5, min(20, iterations // 4))
        step_before = _bare_step_seconds(workflow, repeats)
        workflow.run()
        seconds = steady_iteration_seconds(starts[: iterations + 1], warmup)
        step = (step_before + _bare_step_seconds(workflow, repeats)) / 2
        data = _data_seconds(workflow, repeats=20)
        workflow.finalize()
    return speed_row(model, legacy, str(torch_device), seconds, step, data, overrides)


def speed_row(
    model: str, legacy: bool, device: str, iteration: float, step: float, data: float, overrides: dict[str, Any]
) -> dict[str, Any]:
    """One row of the table from seconds per iteration (end to end), per bare step and per batch of data."""
    return {
        "model": model,
        "data_path": "legacy per-item pipeline" if legacy else "CachedPatchLoader",
        "device": device,
        "it_per_s": three_digits(1.0 / iteration),  # from the median iteration time
        "iteration_ms": three_digits(1000 * iteration),
        "step_ms": three_digits(1000 * step),
        "data_ms": three_digits(1000 * data),
        "ratio": three_digits(iteration / step),
        "settings": {key: overrides[key] for key in sorted(overrides)},
    }


def markdown(rows: Sequence[dict[str, Any]], environment: str) -> str:
    """The rows as a markdown table, with the environment line above it."""
    lines = [
        environment,
        "",
        "| model | data path | device | end to end (it/s) | iteration (ms) | bare step (ms) | one batch (ms) "
        "| iteration / step |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['data_path']} | {r['device']} | {r['it_per_s']} | {r['iteration_ms']} | "
            f"{r['step_ms']} | {r['data_ms']} | {r['ratio']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Command-line entry point; writes ``end_to_end.json`` and ``end_to_end.md`` to ``--output_dir``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dataset_dir", required=True, help="DRIVE in its official layout (real or sample)")
    parser.add_argument("--bundle_dir", help="the DRIVE bundle folder (default: the repository's)")
    parser.add_argument("--output_dir", default="outputs/benchmark_end_to_end")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--models", default=",".join(END_TO_END_MODELS), help="comma-separated subset")
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--num_workers", type=int, default=0)
    parser.add_argument(
        "--patch_size", type=int, nargs=2, metavar=("H", "W"), help="training patch size (default: the bundle's)"
    )
    parser.add_argument("--amp", action="store_true")
    parser.add_argument("--amp_dtype", default="bfloat16", choices=("bfloat16", "float16"))
    parser.add_argument("--channels_last", action="store_true")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--cuda_graph", action="store_true")
    parser.add_argument("--legacy", action="store_true", help="also measure the per-item pipeline used before")
    args = parser.parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in END_TO_END_MODELS]
    if unknown:
        parser.error(f"unknown --models {unknown}; choose from {', '.join(END_TO_END_MODELS)}")
    bundle_dir = find_bundle("drive", args.bundle_dir)
    overrides = {
        "num_workers": args.num_workers,
        "amp": args.amp,
        "amp_dtype": args.amp_dtype,
        "channels_last": args.channels_last,
        "compile": args.compile,
        "cuda_graph": args.cuda_graph,
        **({"patch_size": list(args.patch_size)} if args.patch_size else {}),
    }
    rows = []
    for model in models:
        for legacy in (False, True) if args.legacy else (False,):
            rows.append(
                measure_end_to_end(
                    bundle_dir, args.dataset_dir, model, args.iterations, args.warmup, args.device, overrides, legacy
                )
            )
            print(json.dumps(rows[-1]), flush=True)
    device_name = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    environment = (
        f"{time.strftime('%Y-%m-%d')}, {device_name}, torch {torch.__version__}, {args.iterations} iterations "
        f"({args.warmup} warm-up), data {args.dataset_dir}"
    )
    output = Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    write_json_atomic(output / "end_to_end.json", {"environment": environment, "rows": rows})
    write_text_atomic(output / "end_to_end.md", markdown(rows, environment))
    print(markdown(rows, environment))
    return rows
