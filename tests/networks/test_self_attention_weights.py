"""SelfAttention.attention_weights: the weights that forward's fused attention applies, made visible."""

from __future__ import annotations

import pytest
import torch

from monai_jattn.networks import SelfAttention


@pytest.mark.parametrize("spatial_dims, shape, num_heads", [(2, (5, 7), 1), (2, (4, 6), 2), (3, (3, 4, 2), 2)])
def test_weights_of_every_position_rebuild_forward(spatial_dims, shape, num_heads):
    torch.manual_seed(0)
    sa = SelfAttention(spatial_dims, in_channels=8, num_heads=num_heads, init_scale=0.7).eval()
    x = torch.randn(2, 8, *shape)
    positions = torch.cartesian_prod(*(torch.arange(s) for s in shape)).reshape(-1, spatial_dims)
    weights = sa.attention_weights(x, positions)  # (B, heads, N, *spatial), queries in row-major order
    assert weights.shape == (2, num_heads, positions.shape[0], *shape) and weights.dtype == torch.float32
    flat = weights.flatten(3)
    torch.testing.assert_close(flat.sum(-1), torch.ones(flat.shape[:3]))
    # S(x) = gamma * W_o (weights @ v): the same output as forward's fused kernel
    tokens = x.flatten(2).transpose(1, 2)
    value = sa.qkv(tokens).view(2, -1, 3, num_heads, sa.head_channels)[:, :, 2].transpose(1, 2)  # (B, heads, N, d)
    mixed = (flat @ value).transpose(1, 2).reshape(2, -1, sa.inter_channels)
    expected = (sa.gamma * sa.out_proj(mixed)).transpose(1, 2).reshape(x.shape)
    with torch.no_grad():
        torch.testing.assert_close(expected, sa(x), atol=1e-5, rtol=1e-4)


def test_chosen_queries_are_the_rows_of_those_positions():
    torch.manual_seed(1)
    sa = SelfAttention(2, in_channels=6)
    x = torch.randn(1, 6, 4, 5)
    every = sa.attention_weights(x, torch.cartesian_prod(torch.arange(4), torch.arange(5)))
    chosen = sa.attention_weights(x, [(3, 1), (0, 4)])
    torch.testing.assert_close(chosen[:, :, 0], every[:, :, 3 * 5 + 1])
    torch.testing.assert_close(chosen[:, :, 1], every[:, :, 4])
    assert not chosen.requires_grad
    with pytest.raises(ValueError, match="outside the spatial shape"):
        sa.attention_weights(x, [(4, 0)])
    with pytest.raises(ValueError, match="4D input"):
        sa.attention_weights(x[0], [(0, 0)])


def test_weights_are_float32_under_bfloat16_inputs():
    sa = SelfAttention(2, in_channels=4).to(torch.bfloat16)
    weights = sa.attention_weights(torch.randn(1, 4, 3, 3, dtype=torch.bfloat16), [(1, 1)])
    assert weights.dtype == torch.float32 and torch.isfinite(weights).all()
