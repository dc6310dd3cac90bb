from __future__ import annotations

import pytest
import torch

from monai_jattn.networks import DenseBlock, DenseLayer, DenseTransition


@pytest.mark.parametrize("spatial_dims", [2, 3])
def test_dense_block_keeps_every_earlier_feature_map(spatial_dims):
    block = DenseBlock(spatial_dims, in_channels=6, num_layers=3, growth_rate=4, dropout=0.1).eval()
    x = torch.randn(2, 6, *([5] * spatial_dims))
    out = block(x)
    assert block.out_channels == 18 and out.shape == (2, 18, *x.shape[2:])
    torch.testing.assert_close(out[:, :6], x)  # the input passes through unchanged
    first = block.denselayer1(x)
    torch.testing.assert_close(out[:, :10], first)  # later layers only append
    assert isinstance(block.denselayer1, DenseLayer)


@pytest.mark.parametrize("pool, expected", [("avg", 2**0.5 / 4), ("max", 2**0.5)])
def test_transition_compresses_and_pools(pool, expected):
    down = DenseTransition(2, in_channels=8, out_channels=4, pool=pool, norm=("instance", {"affine": False}))
    torch.nn.init.constant_(down.conv.weight, 1 / 8)  # every output channel = mean of the 8 inputs
    x = torch.zeros(1, 8, 4, 6)
    x[..., 0::2, :] = 1.0
    x[..., 1::2, 0::2] = 2.0  # every 2x2 window holds 1, 1, 2, 0: mean 1, variance 1/2
    out = down(x)  # normalised 0, 0, sqrt(2), -sqrt(2) -> ReLU -> 1x1 conv -> pool
    assert out.shape == (1, 4, 2, 3)
    torch.testing.assert_close(out, torch.full_like(out, expected), rtol=1e-4, atol=1e-4)
