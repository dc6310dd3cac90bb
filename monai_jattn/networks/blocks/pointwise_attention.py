"""Point-wise attention (PWA) of Zhang, Dong & Li, "Joint Attention for Medical Image Segmentation"."""

from __future__ import annotations

import torch
import torch.nn as nn
from monai.networks.blocks import Convolution

__all__ = ["PointWiseAttention"]


class PointWiseAttention(nn.Module):
    """
    Point-wise attention: every position is re-weighted by a map computed from that position's
    neighbourhood alone, ``P(x) = x * sigmoid(conv3x3(act(conv3x3(x))))``. The paper's supplement
    specifies the extra network as two 3x3 convolutions with 64 and 1 output channels.

    The module has no shortcut of its own: ``forward`` returns ``P(x)``, the caller adds ``x`` where a
    structure needs it (see :py:class:`monai_jattn.networks.JointAttention`).

    Args:
        spatial_dims: number of spatial dimensions (2 or 3).
        in_channels: number of input (and output) channels.
        hidden_channels: channels of the first 3x3 convolution. Defaults to 64 (the paper).
        act: activation type and arguments between the two convolutions. Defaults to ReLU.
        norm: optional normalization type and arguments after the first convolution. Defaults to
            none (the paper names none).

    Examples::

        >>> pwa = PointWiseAttention(spatial_dims=2, in_channels=32)
        >>> x = torch.randn(2, 32, 16, 16)
        >>> pwa(x).shape
        torch.Size([2, 32, 16, 16])
        >>> pwa.attention_map(x).shape  # values in (0, 1), e.g. for visualisation
        torch.Size([2, 1, 16, 16])
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        hidden_channels: int = 64,
        act: str | tuple = "relu",
        norm: str | tuple | None = None,
    ) -> None:
        super().__init__()
        # one output channel: all channels of a position get the same weight; the sigmoid is in attention_map
        self.map_net = nn.Sequential(
            Convolution(spatial_dims, in_channels, hidden_channels, kernel_size=3, act=act, norm=norm),
            Convolution(spatial_dims, hidden_channels, 1, kernel_size=3, conv_only=True),
        )

    def attention_map(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x: input of shape ``(B, in_channels, *spatial)``.

        Returns:
            the attention map ``sigmoid(map_net(x))`` of shape ``(B, 1, *spatial)``, values in (0, 1).
        """
        return torch.sigmoid(self.map_net(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.attention_map(x)  # the (B, 1, *spatial) map broadcasts over the channels
