"""How ``SelfAttention``'s memory and time grow with the number of positions, against a materialised map.

The block is the one DenseUNet-SA puts at its bottleneck (same channels, q/k/v size and heads), run
alone, forward and backward, on inputs of growing size. The contrast is the same block with
``scaled_dot_product_attention`` forced onto its math path (``SDPBackend.MATH``), which computes
``softmax(q k^T / sqrt(d)) v`` with the N x N map materialised: the naive implementation.
"""

from __future__ import annotations

import functools
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from tqdm import tqdm

from monai_jattn.atomic_write import save_figure_atomic
from monai_jattn.experiments.formatting import three_digits
from monai_jattn.experiments.measure import median_seconds, peak_memory_bytes
from monai_jattn.networks import DenseUNet, SelfAttention

__all__ = [
    "bottleneck_self_attention",
    "grid_for_positions",
    "self_attention_memory_curve",
    "plot_attention_memory",
    "attention_memory_markdown",
]


def bottleneck_self_attention(in_channels: int = 3) -> SelfAttention:
    """A fresh ``SelfAttention`` configured like the one at DenseUNet-SA's bottleneck.

    Its output scale ``gamma`` starts at 1 rather than 0 so that the measured backward pass does
    real work through the attention.

    Args:
        in_channels: input channels of the DenseUNet-SA whose block is copied.
    """
    network = DenseUNet(spatial_dims=2, in_channels=in_channels, attention="sa")
    block = next(module for module in network.modules() if isinstance(module, SelfAttention))
    return SelfAttention(
        spatial_dims=2,
        in_channels=block.qkv.in_features,
        inter_channels=block.inter_channels,
        num_heads=block.num_heads,
        init_scale=1.0,
    )


def grid_for_positions(positions: int) -> tuple[int, int]:
    """The most square (height, width) grid with exactly ``positions`` cells, height <= width.

    Example:
        >>> grid_for_positions(8192)
        (64, 128)
    """
    if positions < 1:
        raise ValueError(f"positions must be >= 1, got {positions}.")
    height = next(h for h in range(math.isqrt(positions), 0, -1) if positions % h == 0)
    return height, positions // height


def attention_forward_backward(block: SelfAttention, x: torch.Tensor, materialised: bool) -> None:
    """Forward and backward of ``block`` on ``x``: through PyTorch's default attention kernel, or with
    ``materialised`` forced onto the math path, which builds the N x N attention map."""
    if materialised:
        with sdpa_kernel(SDPBackend.MATH):
            block(x).sum().backward()
    else:
        block(x).sum().backward()


def self_attention_memory_curve(
    positions: Sequence[int] = (1024, 2048, 4096, 8192, 16384, 32768),
    device: str | torch.device = "cpu",
    naive_max_positions: int = 16384,
    repeats: int = 1,
    block: SelfAttention | None = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Peak memory and time of ``SelfAttention`` forward+backward (batch 1) at growing position counts.

    Args:
        positions: numbers of spatial positions N; each runs on the grid :func:`grid_for_positions`.
        device: ``"cpu"`` or ``"cuda"``.
        naive_max_positions: largest N at which the materialised reference also runs (its map alone
            takes 4 N^2 bytes in float32).
        repeats: timed runs per point after one warm-up run; the median is reported.
        block: the block to measure (default: :func:`bottleneck_self_attention`).
        progress: show a tqdm progress bar on stderr.

    Returns:
        One dict per N: ``positions``, ``grid``, ``channels``, ``head_channels``, ``peak_mib``,
        ``time_ms`` and ``naive_peak_mib``/``naive_time_ms`` (None where N > ``naive_max_positions``).
    """
    device = torch.device(device)
    block = (block or bottleneck_self_attention()).to(device)
    channels = block.qkv.in_features
    rows = []
    for count in tqdm(positions, desc="attention memory", unit="size", disable=not progress, file=sys.stderr):
        grid = grid_for_positions(count)
        x = torch.randn(1, channels, *grid, device=device, requires_grad=True)
        row: dict[str, Any] = {
            "positions": count,
            "grid": list(grid),
            "channels": channels,
            "head_channels": block.head_channels,
        }
        for prefix, materialised in (("", False), ("naive_", True)):
            if materialised and count > naive_max_positions:
                row[f"{prefix}peak_mib"] = row[f"{prefix}time_ms"] = None
                continue
            run = functools.partial(attention_forward_backward, block, x, materialised)
            row[f"{prefix}time_ms"] = median_seconds(run, device, repeats, warmup=1) * 1000.0
            block.zero_grad(set_to_none=True)  # so that the measured call allocates the gradients itself
            x.grad = None
            row[f"{prefix}peak_mib"] = peak_memory_bytes(run, device) / 2**20
        rows.append(row)
        del x
    return rows


def plot_attention_memory(rows: Sequence[dict[str, Any]], path: str | os.PathLike) -> None:
    """Write a PNG: peak memory (left, with a linear reference) and time (right) against positions, log-log.

    Args:
        rows: the output of :func:`self_attention_memory_curve`.
        path: the PNG to write (atomically).
    """
    from matplotlib.figure import Figure  # matplotlib only when a figure is drawn; no pyplot, no backend switch

    figure = Figure(figsize=(10, 4))
    axes = figure.subplots(1, 2)
    positions = [row["positions"] for row in rows]
    for axis, key, label in ((axes[0], "peak_mib", "peak memory (MiB)"), (axes[1], "time_ms", "forward+backward (ms)")):
        axis.plot(positions, [row[key] for row in rows], "o-", label="SelfAttention (fused SDPA)")
        naive = [(row["positions"], row[f"naive_{key}"]) for row in rows if row[f"naive_{key}"] is not None]
        if naive:
            axis.plot(*zip(*naive), "s--", label="materialised softmax(QK^T)V")
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xlabel("positions N")
        axis.set_ylabel(label)
        axis.grid(True, which="both", alpha=0.3)
    first = rows[0]["peak_mib"]
    axes[0].plot(positions, [first * n / positions[0] for n in positions], ":", color="grey", label="linear in N")
    axes[0].legend()
    row = rows[0]
    figure.suptitle(
        f"SelfAttention forward+backward, batch 1, {row['channels']} channels, head size {row['head_channels']}"
    )
    save_figure_atomic(figure, path)


def attention_memory_markdown(rows: Sequence[dict[str, Any]]) -> str:
    """A markdown table of :func:`self_attention_memory_curve` rows.

    Args:
        rows: the output of :func:`self_attention_memory_curve`.
    """

    def cell(value: float | None) -> str:
        return "-" if value is None else three_digits(value)

    row = rows[0]
    lines = [
        f"## SelfAttention memory curve (forward+backward, batch 1, {row['channels']} channels, "
        f"head size {row['head_channels']})",
        "",
        "| Positions | Grid | Fused peak MiB | Fused ms | Materialised peak MiB | Materialised ms |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['positions']} | {row['grid'][0]}x{row['grid'][1]} | {cell(row['peak_mib'])} | "
            f"{cell(row['time_ms'])} | {cell(row['naive_peak_mib'])} | {cell(row['naive_time_ms'])} |"
        )
    return "\n".join(lines)
