"""Side-by-side cost of the DenseUNet family and MONAI peers: size, FLOPs, training step, inference, memory.

One process measures every model on the same device, interleaving the timed runs (each repeat visits
every model, in a rotated order), so machine noise falls on all of them alike; figures are medians
over the repeats and each one is also given as a ratio to MONAI's ``BasicUNet``. The
``SelfAttention`` memory curve (:mod:`monai_jattn.experiments.attention_memory`) is part of the run.

Run it with ``python scripts/benchmark.py --output_dir OUT [--device cuda] [--quick] [--amp]``; it
writes ``OUT/benchmark.json``, ``OUT/benchmark.md`` and ``OUT/self_attention_memory.png``.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import shlex
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import monai
import torch
import torch.nn.functional as F
from monai.networks.nets import AttentionUnet, BasicUNet, SegResNet
from tqdm import tqdm

from monai_jattn.experiments.attention_memory import (
    attention_memory_markdown,
    plot_attention_memory,
    self_attention_memory_curve,
)
from monai_jattn.utils import write_json_atomic, write_text_atomic
from monai_jattn.experiments.formatting import three_digits
from monai_jattn.experiments.measure import forward_flops, peak_memory_bytes, time_calls
from monai_jattn.networks import DenseUNet
from monai_jattn.networks.names import MODEL_VARIANTS

__all__ = [
    "BASELINE",
    "MODELS",
    "FULL_SETTINGS",
    "QUICK_SETTINGS",
    "DivisiblePadded",
    "build_model",
    "benchmark_models",
    "add_ratios",
    "check_targets",
    "benchmark_markdown",
    "run_benchmark",
    "main",
]

BASELINE = "BasicUNet"
"""The model every figure is divided by in the ratio columns."""


def _dense_unet(name: str) -> tuple[str, Callable[[int, int], torch.nn.Module]]:
    """The benchmark entry of the DenseUNet variant ``name`` of `MODEL_VARIANTS`, under the paper's name."""
    variant = MODEL_VARIANTS[name]

    def build(in_channels: int, out_channels: int) -> torch.nn.Module:
        return DenseUNet(2, in_channels, out_channels, attention=variant.attention, ja_variant=variant.ja_variant)

    return variant.paper_name or variant.label, build


PLAIN, JOINT = (MODEL_VARIANTS[name].paper_name or MODEL_VARIANTS[name].label for name in ("dense_unet", "ja9"))
"""The names of the plain DenseUNet and of the paper's DenseUNet-JA (JA-9) in :data:`MODELS`."""

MODELS: dict[str, Callable[[int, int], torch.nn.Module]] = {
    **dict(_dense_unet(name) for name in ("dense_unet", "sa", "pwa", "ja9")),
    "BasicUNet": lambda i, o: BasicUNet(spatial_dims=2, in_channels=i, out_channels=o),
    "AttentionUnet": lambda i, o: AttentionUnet(
        spatial_dims=2, in_channels=i, out_channels=o, channels=(32, 64, 128, 256), strides=(2, 2, 2)
    ),
    "SegResNet": lambda i, o: SegResNet(spatial_dims=2, in_channels=i, out_channels=o),
}
"""Benchmarked models by name: constructors taking ``(in_channels, out_channels)``. MONAI peers use
their 2D defaults (``AttentionUnet`` has none; 32..256 channels matches ``BasicUNet``'s size)."""

FULL_SETTINGS: dict[str, Any] = {
    "train_sizes": [(128, 128), (256, 256)],
    "infer_sizes": [(584, 565), (512, 512)],
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

_PEER_DIVISOR = 32


class DivisiblePadded(torch.nn.Module):
    """Run ``network`` on its input zero-padded to a multiple of ``k`` and crop the output back.

    MONAI's ``AttentionUnet`` and ``SegResNet`` need sizes divisible by their total stride; the
    DenseUNet family pads internally. Wrapping the peers lets every model take a whole DRIVE image.

    Args:
        network: a 2D segmentation network.
        k: the multiple to pad height and width to.
    """

    def __init__(self, network: torch.nn.Module, k: int = _PEER_DIVISOR) -> None:
        super().__init__()
        self.network = network
        self.k = k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        pad_h, pad_w = -height % self.k, -width % self.k
        if pad_h == 0 and pad_w == 0:
            return self.network(x)
        return self.network(F.pad(x, (0, pad_w, 0, pad_h)))[..., :height, :width]


def build_model(name: str, in_channels: int = 3, out_channels: int = 2) -> torch.nn.Module:
    """A freshly initialised benchmark model, MONAI peers wrapped in :class:`DivisiblePadded`.

    Args:
        name: a key of :data:`MODELS`.
        in_channels: input channels.
        out_channels: output channels (classes).

    Raises:
        KeyError: for a name not in :data:`MODELS`.
    """
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; choose from {', '.join(MODELS)}.")
    model = MODELS[name](in_channels, out_channels)
    return model if name.startswith("DenseUNet") else DivisiblePadded(model)


def _size_key(size: Sequence[int]) -> str:
    return "x".join(str(s) for s in size)


def _train_step(
    model: torch.nn.Module, batch_size: int, size: Sequence[int], in_channels: int, out_channels: int, amp: bool
) -> Callable[[], None]:
    """One Adam step on cross-entropy of a random batch (the paper's optimiser and loss)."""
    device = next(model.parameters()).device
    images = torch.randn(batch_size, in_channels, *size, device=device)
    labels = torch.randint(0, out_channels, (batch_size, *size), device=device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-8)
    loss_function = torch.nn.CrossEntropyLoss()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            loss = loss_function(model(images), labels)
        loss.backward()
        optimizer.step()

    return step


def _inference(model: torch.nn.Module, size: Sequence[int], in_channels: int, amp: bool) -> Callable[[], None]:
    """One no-grad forward pass of a whole image (batch 1)."""
    device = next(model.parameters()).device
    image = torch.randn(1, in_channels, *size, device=device)

    def infer() -> None:
        with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            model(image)

    return infer


def benchmark_models(
    model_names: Sequence[str] | None = None,
    device: str | torch.device = "cpu",
    train_sizes: Sequence[Sequence[int]] = FULL_SETTINGS["train_sizes"],
    infer_sizes: Sequence[Sequence[int]] = FULL_SETTINGS["infer_sizes"],
    batch_size: int = 4,
    repeats: int = 7,
    warmup: int = 2,
    amp: bool = False,
    in_channels: int = 3,
    out_channels: int = 2,
    progress: bool = True,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Measure every model's size, FLOPs, training-step time, inference latency and peak memory.

    Args:
        model_names: keys of :data:`MODELS` (default: all).
        device: ``"cpu"`` or ``"cuda"``.
        train_sizes: (height, width) of the training patches.
        infer_sizes: (height, width) of the whole images for inference.
        batch_size: training batch size.
        repeats: timed runs per model and size; the median is reported.
        warmup: untimed runs per model and size before timing.
        amp: run under ``torch.autocast`` with bfloat16.
        in_channels: input channels.
        out_channels: output channels.
        progress: show a tqdm progress bar on stderr.

    Returns:
        ``{model: {measure: {size: value}}}`` with measures ``parameters_m`` (size ``"all"``),
        ``forward_gflops`` (one image, at every train and inference size), ``train_step_ms``,
        ``train_peak_mib``, ``inference_ms`` and ``inference_peak_mib``; the timed measures also
        have ``<measure>_samples`` with every timed run.

    Example:
        >>> results = benchmark_models(["BasicUNet"], train_sizes=[(32, 32)], infer_sizes=[(40, 40)], repeats=1)
        >>> sorted(results["BasicUNet"])[:2]
        ['forward_gflops', 'inference_ms']
    """
    device = torch.device(device)
    names = list(model_names or MODELS)
    torch.manual_seed(0)
    models = {name: build_model(name, in_channels, out_channels).to(device) for name in names}
    results: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in names}
    for name, model in models.items():
        results[name]["parameters_m"] = {"all": sum(p.numel() for p in model.parameters()) / 1e6}
        results[name]["forward_gflops"] = {
            _size_key(size): forward_flops(model, (1, in_channels, *size)) / 1e9
            for size in [*train_sizes, *infer_sizes]
        }
    total = (len(train_sizes) + len(infer_sizes)) * repeats * len(names)
    with tqdm(total=total, desc="benchmark", unit="run", disable=not progress, file=sys.stderr) as bar:
        for kind, sizes in (("train", train_sizes), ("inference", infer_sizes)):
            for size in sizes:
                key = _size_key(size)
                bar.set_postfix_str(f"{kind} {key}")
                for model in models.values():
                    model.train(kind == "train")
                if kind == "train":
                    calls = {
                        n: _train_step(m, batch_size, size, in_channels, out_channels, amp) for n, m in models.items()
                    }
                else:
                    calls = {n: _inference(m, size, in_channels, amp) for n, m in models.items()}
                timings = time_calls(calls, device, repeats, max(warmup, 1), on_sample=bar.update)
                time_measure = "train_step_ms" if kind == "train" else "inference_ms"
                memory_measure = "train_peak_mib" if kind == "train" else "inference_peak_mib"
                for name, call in calls.items():
                    results[name].setdefault(time_measure, {})[key] = timings[name].median * 1000.0
                    results[name].setdefault(f"{time_measure}_samples", {})[key] = [
                        seconds * 1000.0 for seconds in timings[name].samples
                    ]
                    results[name].setdefault(memory_measure, {})[key] = peak_memory_bytes(call, device) / 2**20
                del calls
    return results


def add_ratios(results: dict[str, dict[str, dict[str, Any]]], baseline: str = BASELINE) -> dict[str, Any]:
    """Every scalar figure of ``results`` divided by the same figure of ``baseline``.

    Args:
        results: the output of :func:`benchmark_models`.
        baseline: the model to divide by.

    Returns:
        ``{model: {measure: {size: ratio}}}`` (the ``_samples`` lists are left out).

    Raises:
        KeyError: if ``baseline`` was not benchmarked.
    """
    if baseline not in results:
        raise KeyError(f"the ratio baseline {baseline!r} is not among the benchmarked models {list(results)}.")
    base = results[baseline]
    return {
        name: {
            measure: {
                size: value / base[measure][size] if base[measure][size] else math.nan
                for size, value in by_size.items()
            }
            for measure, by_size in measures.items()
            if not measure.endswith("_samples")
        }
        for name, measures in results.items()
    }


def _slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of log(y) over log(x): 1 for linear growth, 2 for quadratic."""
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sum((x - mean_x) ** 2 for x in xs)


def check_targets(
    results: dict[str, dict[str, dict[str, Any]]], attention_curve: Sequence[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Judge the project's cost targets on measured figures.

    * DenseUNet-JA's training step at most 1.25x DenseUNet's, at every training size.
    * The attention adds at most 10% to whole-image inference: DenseUNet-JA at most 1.10x DenseUNet.
    * ``SelfAttention``'s peak memory grows about linearly with the number of positions: the log-log
      slope of the curve over its upper half is at most 1.25 (a materialised map gives 2).

    Args:
        results: the output of :func:`benchmark_models` (must include DenseUNet and DenseUNet-JA for
            the first two targets; they are skipped otherwise).
        attention_curve: the output of
            :func:`~monai_jattn.experiments.attention_memory.self_attention_memory_curve`.

    Returns:
        One dict per target: ``target``, ``size``, ``measured`` (text), ``value``, ``limit``, ``met``.
    """
    targets = []
    if PLAIN in results and JOINT in results:
        plain, joint = results[PLAIN], results[JOINT]
        for measure, limit, label in (
            ("train_step_ms", 1.25, f"{JOINT} training step / {PLAIN}"),
            ("inference_ms", 1.10, f"{JOINT} whole-image inference / {PLAIN}"),
        ):
            for size, value in joint.get(measure, {}).items():
                ratio = value / plain[measure][size]
                targets.append(
                    {
                        "target": label,
                        "size": size,
                        "measured": f"{three_digits(value)} / {three_digits(plain[measure][size])} ms = {ratio:.3f}x",
                        "value": ratio,
                        "limit": limit,
                        "met": ratio <= limit,
                    }
                )
    if attention_curve and len(attention_curve) >= 2:
        upper = sorted(attention_curve, key=lambda row: row["positions"])[max(len(attention_curve) // 2 - 1, 0) :]
        slope = _slope([(row["positions"], row["peak_mib"]) for row in upper])
        span = f"{upper[0]['positions']}-{upper[-1]['positions']}"
        targets.append(
            {
                "target": "SelfAttention peak memory vs positions (log-log slope)",
                "size": span,
                "measured": f"slope {slope:.2f} (1 = linear, 2 = quadratic)",
                "value": slope,
                "limit": 1.25,
                "met": slope <= 1.25,
            }
        )
    return targets


_TABLES = (
    ("Size and forward compute (one image)", (("parameters_m", "Params (M)"), ("forward_gflops", "GFLOPs"))),
    ("Training step (batch {batch}, Adam, cross-entropy)", (("train_step_ms", "ms"), ("train_peak_mib", "peak MiB"))),
    ("Whole-image inference (batch 1, no grad)", (("inference_ms", "ms"), ("inference_peak_mib", "peak MiB"))),
)


def benchmark_markdown(report: dict[str, Any]) -> str:
    """Render a :func:`run_benchmark` report as markdown tables: value and ratio to the baseline.

    Args:
        report: the dict that :func:`run_benchmark` returns (and writes as ``benchmark.json``).
    """
    results, ratios, env = report["results"], report["ratios"], report["environment"]
    settings = report["settings"]
    lines = [
        "# Benchmark",
        "",
        f"- command: `{report['command']}`",
        f"- machine: {env['device_name']} ({env['device']}), {env['threads']} torch threads, "
        f"torch {env['torch']}, monai {env['monai']}, Python {env['python']}, AMP {env['amp']}",
        f"- date: {env['date']}",
        f"- medians of {settings['repeats']} interleaved runs after {settings['warmup']} warm-up runs; "
        f"training batch {settings['batch_size']}; `x{report['baseline']}` = ratio to {report['baseline']}",
        "",
    ]
    for title, measures in _TABLES:
        columns = []
        for measure, label in measures:
            for size in next(iter(results.values()))[measure]:
                columns.append((measure, size, label if size == "all" else f"{label} {size}"))
        lines += [
            f"## {title.format(batch=settings['batch_size'])}",
            "",
            "| Model | " + " | ".join(f"{c[2]} | x{report['baseline']}" for c in columns) + " |",
        ]
        lines.append("|---|" + "---:|---:|" * len(columns))
        for name, measures_of_model in results.items():
            cells = [f"{three_digits(measures_of_model[m][s])} | {ratios[name][m][s]:.2f}" for m, s, _ in columns]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    if report.get("attention_memory"):
        lines += [attention_memory_markdown(report["attention_memory"]), ""]
    if report.get("targets"):
        lines += ["## Targets", "", "| Target | Size | Measured | Limit | Met |", "|---|---|---|---:|---|"]
        for t in report["targets"]:
            lines.append(
                f"| {t['target']} | {t['size']} | {t['measured']} | {t['limit']} | {'yes' if t['met'] else 'NO'} |"
            )
        lines.append("")
    return "\n".join(lines)


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
        "targets": check_targets(results, curve),
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


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Command line: ``python scripts/benchmark.py [--device cuda] [--quick] [--amp] [--output_dir OUT]``.

    Prints the side-by-side markdown tables and writes them with the JSON under ``--output_dir``.

    Args:
        argv: arguments (default: ``sys.argv[1:]``).
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
        **overrides,
    )
    print(benchmark_markdown(report))
    return report
