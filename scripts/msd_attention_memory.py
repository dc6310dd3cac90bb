"""Measure the memory of the bottleneck self-attention of the MSD bundle's 3D DenseUNet-JA on a 96^3 patch.

The network is the bundle's ``network_def`` (``bundles/msd_jattn_segmentation/configs/inference.json``,
one input channel, two classes). Its bottleneck input is found by a forward pass on the ``meta`` device (nothing
is computed); then the bottleneck ``SelfAttention`` alone runs forward+backward at batch 1 and 2, once through
``scaled_dot_product_attention``'s default (fused) path and once forced onto its math path, which materialises
the N x N attention map. Peak tensor memory: `monai_jattn.experiments.measure.peak_memory_bytes` (CUDA
allocator statistics on a GPU, the profiler's allocation events on CPU). With ``--network`` the whole
network's training step (forward, Dice-CE loss, backward) at 96^3 is measured too.

Usage (from the repository root)::

    python scripts/msd_attention_memory.py [--device cpu|cuda] [--patch 96] [--network]
"""

from __future__ import annotations

import argparse
import copy
import functools
import time
from pathlib import Path

import torch
from monai.bundle import ConfigParser
from monai.losses import DiceCELoss

from monai_jattn.experiments.attention_memory import attention_forward_backward
from monai_jattn.experiments.measure import peak_memory_bytes
from monai_jattn.networks import SelfAttention

INFERENCE = Path(__file__).resolve().parents[1] / "bundles" / "msd_jattn_segmentation" / "configs" / "inference.json"
MIB = 2**20


def bundle_network() -> torch.nn.Module:
    """The bundle's default ``network_def`` (3D, one channel in, two classes out, as without a dataset.json)."""
    parser = ConfigParser()
    parser.read_config(str(INFERENCE))
    parser["dataset_dir"] = "/no/dataset"  # the fallback facts: 3D, 1 channel, 2 classes
    return parser.get_parsed_content("network_def")


def bottleneck_input_shape(network: torch.nn.Module, patch: int) -> tuple[SelfAttention, tuple[int, ...]]:
    """The network's bottleneck ``SelfAttention`` and the shape of its input for a ``patch``^3 batch of 1."""
    block = next(m for m in network.modules() if isinstance(m, SelfAttention))
    shapes = []
    meta = copy.deepcopy(network).to_empty(device="meta")
    meta_block = next(m for m in meta.modules() if isinstance(m, SelfAttention))
    meta_block.register_forward_hook(lambda module, args, output: shapes.append(tuple(args[0].shape)))
    with torch.no_grad():
        meta(torch.empty(1, 1, patch, patch, patch, device="meta"))
    return block, shapes[0]


def training_step(network: torch.nn.Module, loss_function: torch.nn.Module, image: torch.Tensor, label: torch.Tensor):
    """Forward, loss and backward of one training step (the optimizer step, and Adam's state, left out)."""
    loss_function(network(image), label).backward()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--patch", type=int, default=96)
    parser.add_argument("--network", action="store_true", help="also measure the whole network's training step")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    network = bundle_network()
    block, shape = bottleneck_input_shape(network, args.patch)
    positions = shape[2] * shape[3] * shape[4]
    print(
        f"patch {args.patch}^3 -> bottleneck {list(shape[2:])}: N = {positions} positions, {shape[1]} channels, "
        f"q/k/v {block.inter_channels} channels, {block.num_heads} head(s)"
    )
    attention = SelfAttention(3, shape[1], block.inter_channels, block.num_heads, init_scale=1.0).to(device)
    print("| Batch | Positions N | Fused SDPA peak MiB | Materialised (math) peak MiB | N x N map, float32, MiB |")
    print("|---:|---:|---:|---:|---:|")
    for batch in (1, 2):
        x = torch.randn(batch, *shape[1:], device=device, requires_grad=True)
        peaks = []
        for materialised in (False, True):
            run = functools.partial(attention_forward_backward, attention, x, materialised)
            run()  # warm-up: gradients allocated once
            attention.zero_grad(set_to_none=True)
            x.grad = None
            peaks.append(peak_memory_bytes(run, device) / MIB)
        print(f"| {batch} | {positions} | {peaks[0]:.3f} | {peaks[1]:.3f} | {4 * batch * positions**2 / MIB:.3f} |")
    if args.network:
        network = network.to(device).train()
        loss_function = DiceCELoss(to_onehot_y=True, softmax=True)
        print("| Batch | Network training step peak MiB (above weights) | Seconds |")
        print("|---:|---:|---:|")
        for batch in (1, 2):
            image = torch.randn(batch, 1, args.patch, args.patch, args.patch, device=device)
            label = torch.randint(0, 2, (batch, 1, args.patch, args.patch, args.patch), device=device)

            step = functools.partial(training_step, network, loss_function, image, label)
            network.zero_grad(set_to_none=True)
            begin = time.perf_counter()
            peak = peak_memory_bytes(step, device) / MIB
            print(f"| {batch} | {peak:.0f} | {time.perf_counter() - begin:.1f} |")


if __name__ == "__main__":
    main()
