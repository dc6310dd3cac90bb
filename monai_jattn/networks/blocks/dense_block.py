"""DenseNet building blocks (Huang et al., CVPR 2017) for the DenseUNet encoder.

MONAI's own ``_DenseBlock`` and ``_Transition`` (``monai.networks.nets.densenet``) are private and
always use a 1x1 bottleneck; these public versions follow the same pre-activation pattern
(norm -> act -> conv) and build every layer through MONAI's layer factories.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from monai.networks.layers.factories import Conv, Pool
from monai.networks.layers.utils import get_act_layer, get_dropout_layer, get_norm_layer

__all__ = ["DenseLayer", "DenseBlock", "DenseTransition"]


class DenseLayer(nn.Module):
    """
    One dense layer: ``norm -> act -> conv3x3`` producing ``growth_rate`` new channels, concatenated
    to its input (so the output has ``in_channels + growth_rate`` channels).

    Args:
        spatial_dims: number of spatial dimensions (2 or 3).
        in_channels: number of input channels.
        growth_rate: number of channels the layer adds (k in the DenseNet paper).
        act: activation type and arguments. Defaults to ReLU.
        norm: feature normalization type and arguments. Defaults to batch norm.
        dropout: dropout ratio (or dropout type and arguments) after the convolution. Defaults to none.

    Examples::

        >>> layer = DenseLayer(spatial_dims=2, in_channels=32, growth_rate=16)
        >>> layer(torch.zeros(1, 32, 8, 8)).shape
        torch.Size([1, 48, 8, 8])
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        growth_rate: int,
        act: str | tuple = ("relu", {"inplace": True}),
        norm: str | tuple = "batch",
        dropout: float | tuple = 0.0,
    ) -> None:
        super().__init__()
        # pre-activation order and a bias-free convolution, as in DenseNet and MONAI's _DenseLayer
        layers = [
            get_norm_layer(name=norm, spatial_dims=spatial_dims, channels=in_channels),
            get_act_layer(name=act),
            Conv[Conv.CONV, spatial_dims](in_channels, growth_rate, kernel_size=3, padding=1, bias=False),
        ]
        if dropout:
            layers.append(get_dropout_layer(name=dropout, dropout_dim=spatial_dims))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # keeping the input is what lets every later layer of the block see all earlier feature maps
        return torch.cat([x, self.layers(x)], dim=1)


class DenseBlock(nn.Sequential):
    """
    ``num_layers`` :py:class:`DenseLayer` in sequence; every layer sees all earlier feature maps.
    The output has ``in_channels + num_layers * growth_rate`` channels (``out_channels`` attribute).

    Args:
        spatial_dims: number of spatial dimensions (2 or 3).
        in_channels: number of input channels.
        num_layers: number of dense layers.
        growth_rate: number of channels each layer adds.
        act: activation type and arguments. Defaults to ReLU.
        norm: feature normalization type and arguments. Defaults to batch norm.
        dropout: dropout ratio (or dropout type and arguments) in every layer. Defaults to none.

    Examples::

        >>> block = DenseBlock(spatial_dims=2, in_channels=32, num_layers=4, growth_rate=16)
        >>> block.out_channels
        96
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        num_layers: int,
        growth_rate: int,
        act: str | tuple = ("relu", {"inplace": True}),
        norm: str | tuple = "batch",
        dropout: float | tuple = 0.0,
    ) -> None:
        super().__init__()
        for i in range(num_layers):
            # layer i sees the block's input plus the growth_rate channels of each of the i layers before it
            layer = DenseLayer(spatial_dims, in_channels + i * growth_rate, growth_rate, act, norm, dropout)
            self.add_module(f"denselayer{i + 1}", layer)
        self.out_channels = in_channels + num_layers * growth_rate


class DenseTransition(nn.Sequential):
    """
    DenseNet transition: ``norm -> act -> conv1x1`` (channel compression) ``-> 2x pooling``.

    Args:
        spatial_dims: number of spatial dimensions (2 or 3).
        in_channels: number of input channels.
        out_channels: number of output channels (DenseNet uses ``compression * in_channels``).
        act: activation type and arguments. Defaults to ReLU.
        norm: feature normalization type and arguments. Defaults to batch norm.
        pool: pooling type, ``"avg"`` (DenseNet) or ``"max"``. Defaults to ``"avg"``.

    Examples::

        >>> down = DenseTransition(spatial_dims=2, in_channels=96, out_channels=48)
        >>> down(torch.zeros(1, 96, 8, 8)).shape
        torch.Size([1, 48, 4, 4])
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        out_channels: int,
        act: str | tuple = ("relu", {"inplace": True}),
        norm: str | tuple = "batch",
        pool: str = "avg",
    ) -> None:
        super().__init__()
        self.add_module("norm", get_norm_layer(name=norm, spatial_dims=spatial_dims, channels=in_channels))
        self.add_module("act", get_act_layer(name=act))
        self.add_module("conv", Conv[Conv.CONV, spatial_dims](in_channels, out_channels, kernel_size=1, bias=False))
        # halves every spatial size; DenseUNet pads its input so that every halving is exact
        self.add_module("pool", Pool[pool, spatial_dims](kernel_size=2, stride=2))
