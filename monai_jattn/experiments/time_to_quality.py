"""Time-to-quality of training recipes: validation Dice against wall-clock seconds and iterations.

Each recipe is a list of a bundle's training configs merged in order (``train.json``, then overlays such as
``train_fast.json``). Every recipe and seed trains through the bundle's own ``train.json`` workflow
(:func:`~monai_jattn.experiments.bundle_runs.run_bundle`, in this process) in ``OUT/runs/<recipe>_seed<k>/``;
its `~monai_jattn.handlers.TrainingCurveSaver` records the validation metric (on the bundle's held-out
training images, never the test set) with the wall-clock seconds of the run, validations included. A run
that stopped resumes from its ``latest.pt`` on the next call; a finished one (``done``) is skipped. Then:

- ``OUT/time_to_quality.csv``: ``recipe, seed, iteration, seconds, <metric>``, one row per validation;
- ``OUT/time_to_quality.png``: the metric against seconds and against iterations, a line per run;
- ``OUT/time_to_quality.md``: per run, the best metric, its time, and the first time it reached each target;

all written atomically. Recipes are compared by the time they need to reach a validation metric, as
MLPerf compares training systems; the ranking from one seed is noise-prone, so give several.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from tqdm import tqdm

from monai_jattn.atomic_write import save_figure_atomic, write_json_atomic, write_text_atomic
from monai_jattn.experiments.bundle_runs import run_bundle
from monai_jattn.experiments.formatting import three_digits

__all__ = ["RECIPES", "parse_recipe", "run_time_to_quality", "read_curves", "first_time_to", "write_time_to_quality"]

RECIPES: dict[str, tuple[str, ...]] = {"paper": ("train.json",), "fast": ("train.json", "train_fast.json")}
"""The named recipes: the paper's (the bundles' default) and the fast overlay."""

logger = logging.getLogger(__name__)


def parse_recipe(text: str) -> tuple[str, tuple[str, ...]]:
    """A recipe from the command line: a name of `RECIPES`, or ``name=a.json,b.json`` (configs under ``configs/``).

    Example:
        >>> parse_recipe("fast")
        ('fast', ('train.json', 'train_fast.json'))
        >>> parse_recipe("fast_bs8=train.json,train_fast.json,bs8.json")
        ('fast_bs8', ('train.json', 'train_fast.json', 'bs8.json'))
    """
    name, separator, files = text.partition("=")
    name = name.strip()
    if not separator:
        if name not in RECIPES:
            raise ValueError(f"unknown recipe {name!r}: give one of {sorted(RECIPES)} or name=train.json,overlay.json")
        return name, RECIPES[name]
    configs = tuple(f.strip() for f in files.split(",") if f.strip())
    if not name or not configs or not all(c.endswith(".json") for c in configs):
        raise ValueError(f"a recipe must look like name=train.json,overlay.json; got {text!r}")
    return name, configs


def run_time_to_quality(
    bundle_dir: str | os.PathLike,
    dataset_dir: str | os.PathLike,
    output_dir: str | os.PathLike,
    recipes: Mapping[str, Sequence[str]],
    seeds: Sequence[int] = (0,),
    overrides: Mapping[str, Any] | None = None,
    targets: Sequence[float] = (),
    progress: bool = True,
    data_label: str = "",
) -> list[dict[str, Any]]:
    """Train every recipe and seed through the bundle (resuming unfinished runs), then write the report.

    Args:
        bundle_dir: the bundle folder (with ``configs/train.json`` and the recipes' overlays).
        dataset_dir: the dataset in its official layout.
        output_dir: where ``runs/`` and the report go.
        recipes: name -> config file names under ``configs/``, merged in order.
        seeds: the seeds every recipe is trained with.
        overrides: more config overrides for every run, e.g. ``{"time_limit": 1800, "device": "cpu"}``.
        targets: metric values whose first-reached time the report gives, e.g. ``(0.79, 0.80)``.
        progress: show a progress bar across runs.
        data_label: names the data in the figure's title, e.g. ``"real DRIVE, 2-core CPU"``.

    Returns:
        the rows of ``time_to_quality.csv``.
    """
    bundle_dir, output_dir = Path(bundle_dir).resolve(), Path(output_dir)
    for configs in recipes.values():
        missing = [c for c in configs if not (bundle_dir / "configs" / c).is_file()]
        if missing:
            raise FileNotFoundError(f"{bundle_dir / 'configs'}: no {', '.join(missing)}")
    runs = [(name, int(seed)) for name in recipes for seed in seeds]
    for name, seed in tqdm(runs, desc="time-to-quality", unit="run", disable=not progress, file=sys.stderr):
        run_dir = output_dir / "runs" / f"{name}_seed{seed}"
        settings = {"configs": list(recipes[name]), "seed": seed, "dataset_dir": str(Path(dataset_dir).resolve())}
        settings["overrides"] = dict(overrides or {})
        if (run_dir / "done").exists():
            continue
        saved = run_dir / "settings.json"
        if saved.exists() and json.loads(saved.read_text()) != settings:
            raise ValueError(f"{run_dir} was started with other settings ({saved}); use another --output_dir.")
        write_json_atomic(saved, settings)
        resume = (run_dir / "models" / "latest.pt").exists()
        run_bundle(
            bundle_dir,
            recipes[name],
            "train",
            {
                "load_pretrain": False,  # from scratch, also where the bundle ships weights
                **settings["overrides"],
                "dataset_dir": settings["dataset_dir"],
                "seed": seed,
                "ckpt_dir": str(run_dir / "models"),
                "output_dir": str(run_dir / "train"),
                "resume": resume,
                "overwrite": not resume,
            },
        )
        write_text_atomic(run_dir / "done", "")
    curves = {
        path.parent.parent.name: path for path in sorted((output_dir / "runs").glob("*/train/training_curve.json"))
    }
    rows = read_curves(curves)
    write_time_to_quality(rows, output_dir, targets, data_label)
    return rows


def read_curves(curves: Mapping[str, str | os.PathLike]) -> list[dict[str, Any]]:
    """The validation points of training curves written by `TrainingCurveSaver`.

    Args:
        curves: run name (``<recipe>_seed<k>``, or any name: seed then 0) -> ``training_curve.json``.

    Returns:
        one row per validation: ``{"recipe", "seed", "iteration", "seconds", "metric", "value"}``.

    Raises:
        ValueError: a curve without ``seconds`` (written before they were recorded), naming the file.
    """
    rows = []
    for run, path in curves.items():
        validation = json.loads(Path(path).read_text())["validation"]
        if len(validation.get("seconds", [])) != len(validation["iteration"]):
            raise ValueError(f"{path}: the validation points have no wall-clock seconds (an older training curve).")
        recipe, _, seed = run.rpartition("_seed")
        recipe, seed = (recipe, int(seed)) if recipe and seed.isdigit() else (run, 0)
        for iteration, seconds, value in zip(validation["iteration"], validation["seconds"], validation["value"]):
            rows.append(
                {
                    "recipe": recipe,
                    "seed": seed,
                    "iteration": int(iteration),
                    "seconds": float(seconds),
                    "metric": validation["metric"],
                    "value": float(value),
                }
            )
    return rows


def first_time_to(rows: Sequence[Mapping[str, Any]], target: float) -> tuple[float, int] | None:
    """``(seconds, iteration)`` of the first validation of one run reaching ``target``, or None if none did."""
    for row in sorted(rows, key=lambda r: r["seconds"]):
        if row["value"] >= target:
            return row["seconds"], row["iteration"]
    return None


def _by_run(rows: Sequence[Mapping[str, Any]]) -> dict[tuple[str, int], list[Mapping[str, Any]]]:
    runs: dict[tuple[str, int], list[Mapping[str, Any]]] = {}
    for row in rows:
        runs.setdefault((row["recipe"], row["seed"]), []).append(row)
    return runs


def write_time_to_quality(
    rows: Sequence[Mapping[str, Any]],
    output_dir: str | os.PathLike,
    targets: Sequence[float] = (),
    data_label: str = "",
) -> None:
    """Write ``time_to_quality.csv``, ``.png`` and ``.md`` of the rows of `read_curves` into ``output_dir``.

    Args:
        rows: validation points, as `read_curves` returns them.
        output_dir: the folder to write to.
        targets: metric values drawn as lines and timed in the table.
        data_label: names the data in the figure's title.
    """
    output_dir = Path(output_dir)
    metric = rows[0]["metric"] if rows else "metric"
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["recipe", "seed", "iteration", "seconds", metric])
    for row in rows:
        writer.writerow([row["recipe"], row["seed"], row["iteration"], f"{row['seconds']:.1f}", f"{row['value']:.4f}"])
    write_text_atomic(output_dir / "time_to_quality.csv", text.getvalue())

    runs = _by_run(rows)
    figure = Figure(figsize=(11, 4.2), layout="constrained")
    by_time, by_iteration = figure.subplots(1, 2, sharey=True)
    for (recipe, seed), points in runs.items():
        points = sorted(points, key=lambda r: r["iteration"])
        label = f"{recipe}, seed {seed}"
        by_time.plot([p["seconds"] / 60 for p in points], [p["value"] for p in points], "o-", label=label, markersize=3)
        by_iteration.plot(
            [p["iteration"] for p in points], [p["value"] for p in points], "o-", label=label, markersize=3
        )
    for target in targets:
        for ax in (by_time, by_iteration):
            ax.axhline(target, color="grey", linestyle=":", linewidth=1)
    by_time.set_xlabel("wall-clock minutes (validations included)")
    by_iteration.set_xlabel("iteration")
    by_time.set_ylabel(f"validation {metric}")
    by_iteration.legend(loc="lower right", fontsize=8)
    on = f" on {data_label}" if data_label else ""
    figure.suptitle(f"Time to quality{on}: validation {metric} on held-out training images")
    save_figure_atomic(figure, output_dir / "time_to_quality.png")

    header = f"| recipe | seed | validations | best {metric} | at minute | at iteration |"
    lines = [header + "".join(f" minutes to {target} |" for target in targets)]
    lines.append("|---|---:|---:|---:|---:|---:|" + "---:|" * len(targets))
    for (recipe, seed), points in runs.items():
        best = max(points, key=lambda r: r["value"])
        cells = [
            recipe,
            str(seed),
            str(len(points)),
            f"{best['value']:.4f}",
            three_digits(best["seconds"] / 60),
            str(best["iteration"]),
        ]
        for target in targets:
            reached = first_time_to(points, target)
            cells.append("not reached" if reached is None else three_digits(reached[0] / 60))
        lines.append("| " + " | ".join(cells) + " |")
    write_text_atomic(output_dir / "time_to_quality.md", "\n".join(lines) + "\n")


def main(argv: Sequence[str] | None = None) -> None:
    """The command line of ``scripts/time_to_quality.py``."""
    import argparse

    from monai_jattn.experiments.arguments import parse_override, parse_seeds
    from monai_jattn.experiments.bundle_runs import bundle_datasets, find_bundle

    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", default="drive", choices=bundle_datasets(), help="the dataset; its bundle trains")
    parser.add_argument("--dataset_dir", help="the dataset in its official layout (not needed with --collect_only)")
    parser.add_argument("--bundle_dir", help="the bundle folder (default: the dataset's bundle of this checkout)")
    parser.add_argument("--output_dir", required=True, help="holds runs/ and time_to_quality.csv/.png/.md")
    parser.add_argument(
        "--recipe",
        action="append",
        help="'paper', 'fast', or name=train.json,overlay.json (configs under the bundle's configs/); repeat "
        "for several (default: paper and fast)",
    )
    parser.add_argument("--seeds", type=parse_seeds, default=[0], help="comma-separated, e.g. 0,1,2 (default 0)")
    parser.add_argument(
        "--override",
        action="append",
        type=parse_override,
        default=[],
        help="key=value for every run, e.g. time_limit=1800 (seconds), num_workers=0, device=cpu",
    )
    parser.add_argument("--target", action="append", type=float, default=[], help="a metric to time, e.g. 0.8")
    parser.add_argument("--data_label", default="", help='names the data in the figure title, e.g. "real DRIVE"')
    parser.add_argument(
        "--collect_only", action="store_true", help="only redraw the report from the runs under --output_dir"
    )
    args = parser.parse_args(argv)
    try:
        recipes = dict(parse_recipe(text) for text in (args.recipe or ["paper", "fast"]))
    except ValueError as error:
        parser.error(str(error))
    if args.collect_only:
        curves = {
            p.parent.parent.name: p for p in sorted(Path(args.output_dir, "runs").glob("*/train/training_curve.json"))
        }
        if not curves:
            parser.error(f"no training curves under {Path(args.output_dir, 'runs')}")
        write_time_to_quality(read_curves(curves), args.output_dir, args.target, args.data_label)
    else:
        if not args.dataset_dir:
            parser.error("--dataset_dir is required to train")
        bundle = find_bundle(args.dataset, args.bundle_dir)
        run_time_to_quality(
            bundle,
            args.dataset_dir,
            args.output_dir,
            recipes,
            args.seeds,
            dict(args.override),
            args.target,
            data_label=args.data_label,
        )
    print((Path(args.output_dir) / "time_to_quality.md").read_text())
