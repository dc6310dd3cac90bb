"""Side-by-side cost of the DenseUNet family and MONAI peers: size, FLOPs, training step, inference, memory.

One process measures every model on the same device, interleaving the timed runs (each repeat visits
every model, in a rotated order), so machine noise falls on all of them alike; figures are medians
over the repeats and each one is also given as a ratio to MONAI's ``BasicUNet``. The
``SelfAttention`` memory curve (:mod:`monai_jattn.experiments.attention_memory`) is part of the run.

Run it with ``python scripts/benchmark.py --output_dir OUT [--device cuda] [--quick] [--amp]``; it
writes ``OUT/benchmark.json``, ``OUT/benchmark.md`` and ``OUT/self_attention_memory.png``. This module runs the
benchmark (settings, environment, files, command line); the models are in
:mod:`~monai_jattn.experiments.compared_models`, the measurements in :mod:`~monai_jattn.experiments.model_costs`,
the tables in :mod:`~monai_jattn.experiments.benchmark_report`, and the project's pass/fail limits in
``scripts/benchmark.py`` (a `Judge`), not in the library.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import monai
import torch

from monai_jattn.atomic_write import write_json_atomic, write_text_atomic
from monai_jattn.experiments.attention_memory import plot_attention_memory, self_attention_memory_curve
from monai_jattn.experiments.benchmark_report import add_ratios, benchmark_markdown
from monai_jattn.experiments.compared_models import BASELINE, MODELS
from monai_jattn.experiments.model_costs import INFER_SIZES, TRAIN_SIZES, benchmark_models

__all__ = ["FULL_SETTINGS", "QUICK_SETTINGS", "Judge", "run_benchmark", "main"]

Judge = Callable[[dict[str, dict[str, dict[str, Any]]], Sequence[dict[str, Any]]], list[dict[str, Any]]]
"""``judge(results, attention_curve) -> rows``: acceptance targets judged on the measured figures, one dict per
target with ``target``, ``size``, ``measured`` (text), ``value``, ``limit`` and ``met`` (``scripts/benchmark.py``
gives the project's)."""

FULL_SETTINGS: dict[str, Any] = {
    "train_sizes": list(TRAIN_SIZES),
    "infer_sizes": list(INFER_SIZES),
    "batch_size": 4,
    "repeats": 7,
    "warmup": 2,
    "attention_positions": [1024, 2048, 4096, 8192, 16384, 32768],
    "naive_max_positions": 16384,
}
"""The full run: the issue's patch and image sizes; attention curve to 32k positions."""

QUICK_SETTINGS: dict[str, Any] = {
    "train_sizes": [(64, 64), (128, 128)],
    "infer_sizes": [(292, 283), (256, 256)],
    "batch_size": 4,
    "repeats": 3,
    "warmup": 1,
    "attention_positions": [1024, 2048, 4096, 8192],
    "naive_max_positions": 4096,
}
"""``--quick``: smaller sizes (half a DRIVE image), fewer repeats; a couple of minutes on a CPU."""


def _environment(device: torch.device, amp: bool) -> dict[str, Any]:
    if device.type == "cuda":
        device_name = torch.cuda.get_device_name(device)
    else:
        device_name = platform.processor() or platform.machine()
        cpuinfo = Path("/proc/cpuinfo")
        if cpuinfo.exists():
            model_lines = [line for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
            device_name = model_lines[0].split(":", 1)[1].strip() if model_lines else device_name
        device_name = f"{device_name}, {os.cpu_count()} cores"
    return {
        "device": device.type,
        "device_name": device_name,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "monai": monai.__version__,
        "python": platform.python_version(),
        "amp": "bfloat16" if amp else "off",
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
    }


def run_benchmark(
    output_dir: str | os.PathLike,
    device: str = "cpu",
    quick: bool = False,
    amp: bool = False,
    model_names: Sequence[str] | None = None,
    attention_curve: bool = True,
    command: str = "",
    progress: bool = True,
    judge: Judge | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Benchmark the models, measure the attention memory curve and write the report files.

    Writes ``benchmark.json``, ``benchmark.md`` and (with ``attention_curve``)
    ``self_attention_memory.png`` into ``output_dir``, each atomically.

    Args:
        output_dir: folder for the outputs (created if missing).
        device: ``"cpu"`` or ``"cuda"``.
        quick: start from :data:`QUICK_SETTINGS` instead of :data:`FULL_SETTINGS`.
        amp: bfloat16 autocast.
        model_names: keys of :data:`MODELS` (default: all); must include :data:`BASELINE`.
        attention_curve: also measure the ``SelfAttention`` memory curve.
        command: the command line to record in the report.
        progress: show progress bars.
        judge: acceptance targets to judge on the figures (see `Judge`); their rows go into the report's
            ``targets`` and a table of ``benchmark.md``. None: no targets.
        overrides: replace any key of the settings, e.g. ``repeats=3`` or ``train_sizes=[(64, 64)]``.

    Returns:
        The report: ``command``, ``environment``, ``settings``, ``baseline``, ``results``,
        ``ratios``, ``attention_memory`` (list of rows, empty without ``attention_curve``), ``targets``.
    """
    unknown = set(overrides) - set(FULL_SETTINGS)
    if unknown:
        raise TypeError(f"unknown benchmark settings {sorted(unknown)}; known: {sorted(FULL_SETTINGS)}.")
    settings = {**(QUICK_SETTINGS if quick else FULL_SETTINGS), **overrides}
    torch_device = torch.device(device)
    if torch_device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for but torch.cuda.is_available() is False.")
    results = benchmark_models(
        model_names,
        torch_device,
        train_sizes=settings["train_sizes"],
        infer_sizes=settings["infer_sizes"],
        batch_size=settings["batch_size"],
        repeats=settings["repeats"],
        warmup=settings["warmup"],
        amp=amp,
        progress=progress,
    )
    curve = []
    if attention_curve:
        curve = self_attention_memory_curve(
            settings["attention_positions"],
            torch_device,
            naive_max_positions=settings["naive_max_positions"],
            progress=progress,
        )
    report = {
        "command": command,
        "environment": _environment(torch_device, amp),
        "settings": {k: [list(s) for s in v] if k.endswith("_sizes") else v for k, v in settings.items()},
        "baseline": BASELINE,
        "results": results,
        "ratios": add_ratios(results),
        "attention_memory": curve,
        "targets": judge(results, curve) if judge is not None else [],
    }
    output_dir = Path(output_dir)
    if curve:
        plot_attention_memory(curve, output_dir / "self_attention_memory.png")
    write_json_atomic(output_dir / "benchmark.json", report)
    write_text_atomic(output_dir / "benchmark.md", benchmark_markdown(report))
    return report


def _size(text: str) -> tuple[int, int]:
    height, _, width = text.partition("x")
    return int(height), int(width or height)


def main(argv: Sequence[str] | None = None, judge: Judge | None = None) -> dict[str, Any]:
    """Command line: ``python scripts/benchmark.py [--device cuda] [--quick] [--amp] [--output_dir OUT]``.

    Prints the side-by-side markdown tables and writes them with the JSON under ``--output_dir``.

    Args:
        argv: arguments (default: ``sys.argv[1:]``).
        judge: acceptance targets to judge (see `run_benchmark`); ``scripts/benchmark.py`` passes the project's.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--output_dir", default="outputs/benchmark", help="where benchmark.json/.md and the plot go")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats (a couple of minutes on CPU)")
    parser.add_argument("--amp", action="store_true", help="bfloat16 autocast for training and inference")
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated subset of {','.join(MODELS)}")
    parser.add_argument("--repeats", type=int, help="timed runs per model and size")
    parser.add_argument("--warmup", type=int, help="untimed runs per model and size")
    parser.add_argument("--train_sizes", nargs="+", type=_size, metavar="HxW", help="training patch sizes")
    parser.add_argument("--infer_sizes", nargs="+", type=_size, metavar="HxW", help="whole-image sizes")
    parser.add_argument("--attention_positions", nargs="+", type=int, help="positions for the attention curve")
    parser.add_argument("--no_attention_curve", action="store_true", help="skip the SelfAttention memory curve")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    overrides = {
        key: getattr(args, key)
        for key in ("repeats", "warmup", "train_sizes", "infer_sizes", "attention_positions")
        if getattr(args, key) is not None
    }
    command = shlex.join(["python", "scripts/benchmark.py", *(sys.argv[1:] if argv is None else argv)])
    report = run_benchmark(
        args.output_dir,
        device=args.device,
        quick=args.quick,
        amp=args.amp,
        model_names=names,
        attention_curve=not args.no_attention_curve,
        command=command,
        judge=judge,
        **overrides,
    )
    print(benchmark_markdown(report))
    return report
