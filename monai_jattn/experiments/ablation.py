"""The ablation runner: train and evaluate each model variant and seed through a bundle, then tabulate and draw.

Every run goes through the dataset's MONAI bundle (its registry entry's ``bundle``, a folder under
`monai_jattn.bundles.bundles_root`, with its ``bundle_overrides``; see `~monai_jattn.experiments.bundle_runs`),
in this process, with ``monai.bundle.ConfigWorkflow`` and command-line style overrides: the same ``train.json``
and ``evaluate.json`` anyone can run by hand, with one shared iteration budget and seed list. Each run lives in
``OUT/runs/<model>_seed<k>/``:

- ``settings.json``: what the run was started with (a rerun with other settings is refused);
- ``train/`` (the bundle's ``output_dir`` for training: logs, training curve) and ``models/``
  (``ckpt_dir``: ``latest.pt`` for resuming, ``model.pt`` the best model);
- ``eval/``: the bundle's evaluation outputs, ``metrics_summary.json`` and ``predictions/``;
- ``train.done``, ``evaluate.done``: stage markers; ``result.json`` then ``done``, written last.

A rerun skips finished runs and stages; an interrupted training resumes from ``latest.pt`` with
``resume=true``. `collect_results` reads the finished runs of this layout back (it stays here, with the code
that writes the layout). Then `~monai_jattn.experiments.ablation_report.write_report` writes the tables and
figures (``OUT/results.csv``, ``results.md``, ``dice_bars.png``, ``segmentation_grid.png``).
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from pydoc import locate
from typing import Any

from monai.bundle import ComponentLocator, ConfigParser
from tqdm import tqdm

from monai_jattn.atomic_write import write_json_atomic, write_text_atomic
from monai_jattn.datasets import get_dataset
from monai_jattn.experiments.ablation_report import write_report
from monai_jattn.experiments.bundle_runs import find_bundle, run_bundle
from monai_jattn.networks.names import MODEL_VARIANTS, parse_model_names

__all__ = ["run_ablation", "collect_results"]

_STAGES = ("train", "evaluate")


def _run_settings(
    dataset: str,
    dataset_dir: Path,
    model: str,
    seed: int,
    max_iterations: int,
    val_interval: int,
    overrides: Mapping[str, Any],
    train_configs: Sequence[str] = ("train.json",),
) -> dict[str, Any]:
    settings = {
        "dataset": dataset,
        "dataset_dir": str(dataset_dir),
        "model": model,
        "seed": seed,
        "max_iterations": max_iterations,
        "val_interval": val_interval,
        "overrides": dict(overrides),
    }
    if tuple(train_configs) != ("train.json",):  # runs of the paper's recipe keep the settings they always had
        settings["train_configs"] = list(train_configs)
    return settings


def _network_arguments(target: str) -> set[str]:
    """The argument names of a config ``_target_`` such as ``"BasicUNet"``, found as MONAI's bundle parser does."""
    module = ComponentLocator().get_component_module_name(target)
    module = module[0] if isinstance(module, list) else module
    component = locate(f"{module}.{target}" if module else target)
    if component is None:
        raise ValueError(f"cannot import the network {target!r}")
    return set(inspect.signature(component).parameters)


def _raw_network_def(bundle_dir: Path) -> dict[str, Any]:
    """The bundle's ``network_def`` as written in its ``train.json`` (values and ``@`` references, unparsed)."""
    return dict(json.loads((bundle_dir / "configs" / "train.json").read_text()).get("network_def", {}))


def _run_one(
    bundle_dir: Path, run_dir: Path, settings: dict[str, Any], device: str | None, progress: tqdm
) -> dict[str, Any]:
    """Train and evaluate one model and seed in ``run_dir``, skipping finished stages (or the whole run).

    ``device`` is not part of the settings: a run may resume on another device.
    """
    saved = run_dir / "settings.json"
    if saved.exists():
        previous = json.loads(saved.read_text())
        if previous != settings:
            changed = sorted(k for k in settings if previous.get(k) != settings[k])
            raise ValueError(
                f"{run_dir} was started with other settings ({', '.join(changed)}: "
                f"{[previous.get(k) for k in changed]} "
                f"now {[settings[k] for k in changed]}); use another --output_dir or delete that run."
            )
        if (run_dir / "done").exists():
            return json.loads((run_dir / "result.json").read_text())
    else:
        write_json_atomic(saved, settings)
    variant = MODEL_VARIANTS[settings["model"]]
    train_configs = settings.get("train_configs", ["train.json"])
    overrides = settings["overrides"]
    if variant.network is not None:  # a whole other network (BasicUNet): only the arguments it takes
        accepted = _network_arguments(variant.network["_target_"])
        overrides = {
            key: value
            for key, value in overrides.items()
            if not key.startswith("network_def#") or key.split("#")[1] in accepted
        }
    common = {
        "load_pretrain": False,  # every run trains from scratch, also where the bundle ships weights
        "dataset_dir": settings["dataset_dir"],
        "ckpt_dir": str(run_dir / "models"),
        "max_iterations": settings["max_iterations"],
        "val_interval": settings["val_interval"],
        "seed": settings["seed"],
        **get_dataset(settings["dataset"]).bundle_overrides,
        **variant.network_overrides(_raw_network_def(bundle_dir)),
        **overrides,
        **({"device": device} if device else {}),
    }
    seconds: dict[str, float] = {}
    for stage in _STAGES:
        marker = run_dir / f"{stage}.done"
        if marker.exists():
            seconds[stage] = float(marker.read_text())
            continue
        progress.set_postfix_str(f"{variant.name} seed {settings['seed']}: {stage}")
        start = time.perf_counter()
        if stage == "train":
            resume = (run_dir / "models" / "latest.pt").exists()  # else the run's own files of a killed start go aside
            train = {**common, "output_dir": str(run_dir / "train"), "resume": resume, "overwrite": not resume}
            run_bundle(bundle_dir, train_configs, "train", train)
        else:
            evaluation = {**common, "output_dir": str(run_dir / "eval"), "model_name": variant.label}
            run_bundle(bundle_dir, [*train_configs, "evaluate.json"], "eval", evaluation)
        seconds[stage] = time.perf_counter() - start
        write_text_atomic(marker, f"{seconds[stage]:.1f}\n")
    summary_path = run_dir / "eval" / "metrics_summary.json"
    if not summary_path.is_file():
        raise FileNotFoundError(f"{summary_path}: the evaluation finished without writing its metrics summary.")
    result = {
        "model": variant.name,
        "label": variant.label,
        "seed": settings["seed"],
        **json.loads(summary_path.read_text()),
        "max_iterations": settings["max_iterations"],
        "train_seconds": round(seconds["train"], 1),
        "evaluate_seconds": round(seconds["evaluate"], 1),
    }
    write_json_atomic(run_dir / "result.json", result)
    write_text_atomic(run_dir / "done", "")
    return result


def _default_val_interval(bundle_dir: Path, max_iterations: int) -> int:
    """The largest divisor of ``max_iterations`` not above the bundle's ``val_interval``.

    The bundles train in epochs of ``val_interval`` iterations, ``ceil(max_iterations / val_interval)``
    of them, so a divisor keeps the budget exact (and at least one validation happens).
    """
    default = int(ConfigParser.load_config_file(bundle_dir / "configs" / "train.json")["val_interval"])
    return next(d for d in range(min(default, max_iterations), 0, -1) if max_iterations % d == 0)


def run_ablation(
    dataset: str,
    dataset_dir: str | os.PathLike,
    output_dir: str | os.PathLike,
    models: Sequence[str] | str | None = None,
    seeds: Sequence[int] = (0,),
    max_iterations: int = 1000,
    val_interval: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    device: str | None = None,
    bundle_dir: str | os.PathLike | None = None,
    num_figure_images: int = 3,
    command: str = "",
    progress: bool = True,
    data_label: str = "",
    train_configs: Sequence[str] = ("train.json",),
) -> list[dict[str, Any]]:
    """Train and evaluate every model and seed through the bundle, then write the tables and figures.

    Args:
        dataset: a registered dataset with a bundle
            (see `~monai_jattn.experiments.bundle_runs.bundle_datasets`), e.g. ``"drive"``.
        dataset_dir: the dataset in its official layout (real or written by
            ``python -m monai_jattn.datasets sample ...``); the segmentation grid needs a 2D test split with labels.
        output_dir: where ``runs/`` and the results go.
        models: model names (see :data:`~monai_jattn.networks.names.MODEL_VARIANTS`), default the
            paper's twelve (`PAPER_MODELS`); ``basic_unet`` adds MONAI's BasicUNet.
        seeds: the seeds every model is trained with.
        max_iterations: the training budget of every run.
        val_interval: iterations between validations (best-model selection), a divisor of
            ``max_iterations``; default: the largest divisor not above the bundle's ``val_interval``.
        overrides: more bundle config overrides for every run, e.g. ``{"batch_size": 2,
            "network_def#growth_rate": 8}``; a rerun with other overrides is refused.
        device: the bundles' ``device`` (e.g. ``"cuda:0"``, default: the bundle's choice); unlike the
            overrides it may change between an interrupted run and its resumption.
        bundle_dir: the bundle folder (default: see `~monai_jattn.experiments.bundle_runs.find_bundle`).
        num_figure_images: test images in the segmentation grid.
        command: the command line, recorded in ``results.md``.
        data_label: names the data in the titles of the report and figures, e.g. ``"synthetic DRIVE
            sample"``; default: the dataset's name (``"DRIVE"``, ``"ISIC-2017"``).
        progress: show a progress bar across runs.
        train_configs: the training recipe: config files under the bundle's ``configs/``, merged in order,
            e.g. ``("train.json", "train_fast.json")`` for the fast recipe; evaluation adds ``evaluate.json``.

    Returns:
        One result dict per model and seed (the rows of ``results.csv``).

    Example:
        >>> rows = run_ablation("drive", "data/drive_sample", "outputs/ablation", models="dense_unet,ja9",
        ...                     seeds=[0, 1], max_iterations=200)
    """
    names = parse_model_names(models)
    seeds = [int(seed) for seed in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be a non-empty list without repeats, got {seeds}.")
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be >= 1, got {max_iterations}.")
    bundle = find_bundle(dataset, bundle_dir)
    missing = [name for name in train_configs if not (bundle / "configs" / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{bundle / 'configs'}: no {', '.join(missing)} (train_configs)")
    dataset_dir = Path(dataset_dir).resolve()
    if not dataset_dir.is_dir():
        raise FileNotFoundError(f"{dataset_dir}: dataset folder not found.")
    val_interval = val_interval or _default_val_interval(bundle, max_iterations)
    if max_iterations % val_interval:
        raise ValueError(
            f"val_interval ({val_interval}) must divide max_iterations ({max_iterations}): the bundles train whole "
            "epochs of val_interval iterations, so the run would train "
            f"{-(-max_iterations // val_interval) * val_interval}."
        )
    output_dir = Path(output_dir)
    rows = []
    runs = [(name, seed) for name in names for seed in seeds]
    with tqdm(runs, desc="ablation", unit="run", disable=not progress, file=sys.stderr) as bar:
        for name, seed in bar:
            run_dir = output_dir / "runs" / f"{name}_seed{seed}"
            settings = _run_settings(
                dataset, dataset_dir, name, seed, max_iterations, val_interval, overrides or {}, train_configs
            )
            rows.append(_run_one(bundle, run_dir, settings, device, bar))
    write_report(rows, output_dir, dataset, dataset_dir, num_figure_images, command, data_label)
    return rows


def collect_results(output_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The results of every finished run under ``output_dir/runs``, in the paper's model order, then by seed.

    Args:
        output_dir: an ablation output folder.

    Raises:
        FileNotFoundError: when no run has finished.
    """
    results = [
        json.loads(path.read_text())
        for path in Path(output_dir).glob("runs/*/result.json")
        if (path.parent / "done").exists()
    ]
    if not results:
        raise FileNotFoundError(f"{output_dir}: no finished run under runs/ (each has a 'done' file).")
    order = list(MODEL_VARIANTS)
    return sorted(results, key=lambda row: (order.index(row["model"]), int(row["seed"])))
