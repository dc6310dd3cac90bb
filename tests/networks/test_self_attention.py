from __future__ import annotations

import pytest
import torch
from attention_reference import reference_self_attention
from torch.nn.attention import SDPBackend, sdpa_kernel

from monai_jattn.networks import DenseUNet, SelfAttention


@pytest.mark.parametrize("qk_norm", [True, False])
@pytest.mark.parametrize("num_heads", [1, 2])
@pytest.mark.parametrize("shape", [(2, 8, 5, 7), (1, 8, 3, 4, 5)])
def test_matches_explicit_softmax_reference(shape, num_heads, qk_norm):
    sa = SelfAttention(spatial_dims=len(shape) - 2, in_channels=8, num_heads=num_heads, init_scale=0.7, qk_norm=qk_norm)
    if qk_norm:  # non-trivial affine parameters, so that the reference checks they are used
        for norm in (sa.q_norm, sa.k_norm):
            torch.nn.init.normal_(norm.weight, 1.0, 0.3)
            torch.nn.init.normal_(norm.bias, 0.0, 0.3)
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


@pytest.mark.parametrize("where", ["SelfAttention", "DenseUNet"])
def test_queries_and_keys_are_layer_normalised_by_default(where):
    """The default (``qk_norm=True``, also DenseUNet's ``sa_qk_norm``): scaling the query and key projections
    by 8 leaves the output unchanged; without the normalisation the attention would sharpen."""
    if where == "SelfAttention":
        sa = SelfAttention(spatial_dims=2, in_channels=12, init_scale=1.0)
    else:
        net = DenseUNet(attention="sa", init_features=8, growth_rate=4, block_layers=(1, 1, 2), decoder_features=(8, 8))
        (sa,) = [m for m in net.modules() if isinstance(m, SelfAttention)]
        torch.nn.init.ones_(sa.gamma)
    x = torch.randn(1, sa.qkv.in_features, 5, 6)
    before = sa(x)
    with torch.no_grad():
        sa.qkv.weight[: 2 * sa.inter_channels] *= 8
        sa.qkv.bias[: 2 * sa.inter_channels] *= 8
    torch.testing.assert_close(sa(x), before, rtol=1e-4, atol=1e-5)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="num_heads"):
        SelfAttention(spatial_dims=2, in_channels=8, inter_channels=6, num_heads=4)
    with pytest.raises(ValueError, match="spatial_dims"):
        SelfAttention(spatial_dims=1, in_channels=8)
    with pytest.raises(ValueError, match="4D input"):
        SelfAttention(spatial_dims=2, in_channels=8)(torch.randn(1, 8, 2, 2, 2))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_autocast_runs_attention_in_float32(dtype):
    """Regression (docs/performance.md, "Precision"): at the logit sizes reached when DenseUNet-JA
    trained in reduced precision (~10^3), bfloat16 logits err by several units and the softmax
    is noise; under autocast the module must compute in float32 and match the float64 reference."""
    torch.manual_seed(0)
    sa = SelfAttention(spatial_dims=2, in_channels=64, init_scale=1.0, qk_norm=False)
    x = (torch.randn(2, 64, 8, 8) * 25).to(dtype)  # the bottleneck features arrive in reduced precision
    expected = reference_self_attention(sa, x)
    with torch.autocast("cpu", dtype=dtype):
        out = sa(x)
        out.float().sum().backward()
    assert out.dtype == torch.float32
    torch.testing.assert_close(out.double(), expected, rtol=1e-3, atol=1e-3 * expected.abs().max().item())
    assert torch.isfinite(sa.qkv.weight.grad).all()


def test_qk_norm_bounds_the_logits_whatever_the_projection_scale():
    """Regression: with Adam, noisy gradients grow the q/k projections (and so the logits) without
    bound in reduced precision; with qk_norm the attention weights do not depend on their scale."""
    torch.manual_seed(0)
    x = torch.randn(1, 16, 6, 6)
    for qk_norm, should_change in ((True, False), (False, True)):
        sa = SelfAttention(spatial_dims=2, in_channels=16, init_scale=1.0, qk_norm=qk_norm)
        with torch.no_grad():
            sa.qkv.bias.zero_()
            before = sa(x)
            sa.qkv.weight[: 2 * sa.inter_channels] *= 20  # q and k rows, as after many noisy Adam steps
            after = sa(x)
        assert (not torch.allclose(before, after, atol=1e-3)) == should_change, f"qk_norm={qk_norm}"
