"""The benchmark's measurements of every model on one device: size, forward FLOPs, training-step and inference
time (the one median timer, `~monai_jattn.experiments.measure.time_calls`, interleaving the models) and peak
memory."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import torch
from tqdm import tqdm

from monai_jattn.experiments.compared_models import MODELS, build_model
from monai_jattn.experiments.measure import forward_flops, peak_memory_bytes, time_calls

__all__ = ["TRAIN_SIZES", "INFER_SIZES", "benchmark_models"]

TRAIN_SIZES: tuple[tuple[int, int], ...] = ((128, 128), (256, 256))
"""Training patch sizes of the full benchmark."""

INFER_SIZES: tuple[tuple[int, int], ...] = ((584, 565), (512, 512))
"""Whole-image sizes of the full benchmark (a DRIVE image, and a square one)."""


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
    train_sizes: Sequence[Sequence[int]] = TRAIN_SIZES,
    infer_sizes: Sequence[Sequence[int]] = INFER_SIZES,
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
