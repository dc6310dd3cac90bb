"""The parameter counts that docs/architecture.md gives ("Sizes") are those of the networks."""

from __future__ import annotations

import re
from pathlib import Path

import torch
from monai.networks.nets import BasicUNet

from monai_jattn.networks import DenseUNet, DenseUNetJA, DenseUNetPWA, DenseUNetSA, PointWiseAttention, SelfAttention

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
NETWORKS = {
    "DenseUNet": DenseUNet,
    "DenseUNetSA": DenseUNetSA,
    "DenseUNetPWA": DenseUNetPWA,
    "DenseUNetJA": DenseUNetJA,
}


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def documented(pattern: str) -> list[tuple[str, ...]]:
    found = re.findall(pattern, ARCHITECTURE.read_text(), flags=re.M)
    assert found, f"{ARCHITECTURE}: nothing matches {pattern!r}"
    return found


def test_sizes_table():
    rows = documented(r"^\| .+ \| `(\w+)\((.*)\)` \| ([\d,]+) \|$")
    assert len(rows) == 6
    for name, args, number in rows:
        variants = range(1, 10) if args == "ja_variant=n" else [None]
        for n in variants:
            if n == 3:  # JA-3 has its own row (its fuse convolution)
                continue
            kwargs = {"ja_variant": n} if n else eval(f"dict({args})")
            assert count(NETWORKS[name](**kwargs)) == int(number.replace(",", "")), (name, args, n)
    (basic,) = documented(r"^\| MONAI `BasicUNet\(2, 3, 2\)`.* \| ([\d,]+) \|$")
    assert count(BasicUNet(2, 3, 2)) == int(basic.replace(",", ""))


def test_one_channel_input_and_bottleneck_attention():
    (fewer,) = documented(r"1-channel input has (\d+) fewer")
    assert count(DenseUNet()) - count(DenseUNet(in_channels=1)) == int(fewer)
    ((pwa, sa),) = documented(r"point-wise attention has ([\d,]+) parameters and the self-attention ([\d,]+)\.")
    bottleneck = DenseUNetJA().encoder[-1].attention
    assert isinstance(bottleneck.pwa, PointWiseAttention) and isinstance(bottleneck.sa, SelfAttention)
    assert (count(bottleneck.pwa), count(bottleneck.sa)) == (int(pwa.replace(",", "")), int(sa.replace(",", "")))
