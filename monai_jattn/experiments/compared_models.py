"""The models the benchmark compares: the DenseUNet family and MONAI's BasicUNet, AttentionUnet and SegResNet.

`build_model` makes one, freshly initialised; MONAI's peers are wrapped in `DivisiblePadded` so that every
model takes a whole DRIVE image.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from monai.networks.nets import AttentionUnet, BasicUNet, SegResNet

from monai_jattn.networks import DenseUNet
from monai_jattn.networks.names import MODEL_VARIANTS

__all__ = ["BASELINE", "MODELS", "PLAIN", "JOINT", "DivisiblePadded", "build_model"]

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
