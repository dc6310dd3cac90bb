from __future__ import annotations

import pytest
import torch
from attention_reference import reference_self_attention
from torch.nn.attention import SDPBackend, sdpa_kernel

from monai_jattn.networks import SelfAttention


@pytest.mark.parametrize("num_heads", [1, 2])
@pytest.mark.parametrize("shape", [(2, 8, 5, 7), (1, 8, 3, 4, 5)])
def test_matches_explicit_softmax_reference(shape, num_heads):
    sa = SelfAttention(spatial_dims=len(shape) - 2, in_channels=8, num_heads=num_heads, init_scale=0.7)
    x = torch.randn(shape)
    expected = reference_self_attention(sa, x)
    torch.testing.assert_close(sa(x).double(), expected, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(sa.double()(x.double()), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(2, 16, 20, 24), (1, 16, 6, 7, 8)])
def test_runs_on_flash_kernel_forward_and_backward(shape):
    """Under a flash-only context SDPA raises instead of silently falling back to the N x N path."""
    sa = SelfAttention(spatial_dims=len(shape) - 2, in_channels=16, init_scale=1.0)
    x = torch.randn(shape, requires_grad=True)
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        sa(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for name, param in sa.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_defaults_and_zero_initial_scale():
    sa = SelfAttention(spatial_dims=2, in_channels=12)
    assert sa.inter_channels == 6 and sa.head_channels == 6
    assert sa.gamma.item() == 0.0
    x = torch.randn(1, 12, 4, 4)
    out = sa(x)
    assert torch.count_nonzero(out) == 0
    out.sum().backward()
    assert sa.gamma.grad is not None and sa.gamma.grad.abs() > 0


def test_invalid_arguments():
    with pytest.raises(ValueError, match="num_heads"):
        SelfAttention(spatial_dims=2, in_channels=8, inter_channels=6, num_heads=4)
    with pytest.raises(ValueError, match="spatial_dims"):
        SelfAttention(spatial_dims=1, in_channels=8)
    with pytest.raises(ValueError, match="4D input"):
        SelfAttention(spatial_dims=2, in_channels=8)(torch.randn(1, 8, 2, 2, 2))
