"""Every attention block against its independent float64 reimplementation (tests/attention_reference.py):
point-wise attention, self-attention, DenseUNet-SA's ``x + S(x)`` block, the nine joint-attention
structures, and the blocks as the networks place them. Modules stay in training mode, where an added
normalisation changes the output."""

from __future__ import annotations

import pytest
import torch
from attention_reference import (
    reference_joint_attention,
    reference_pointwise_attention,
    reference_sa_block,
    reference_self_attention,
)

from monai_jattn.networks import DenseUNet, JointAttention, PointWiseAttention, SelfAttention
from monai_jattn.networks.blocks import get_attention_block

SHAPES = [(2, 8, 5, 7), (1, 8, 3, 4, 5)]  # 2D and 3D, odd sizes


def assert_matches(module: torch.nn.Module, reference, x: torch.Tensor) -> None:
    """``module`` equals ``reference`` in float64 (exactly up to rounding) and in float32."""
    expected = reference(x)
    torch.testing.assert_close(module(x).double(), expected, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(module.double()(x.double()), expected, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("shape", SHAPES)
def test_pointwise_attention_is_x_times_sigmoid_of_conv_relu_conv(shape):
    pwa = PointWiseAttention(spatial_dims=len(shape) - 2, in_channels=8, hidden_channels=6)
    assert_matches(pwa, lambda x: reference_pointwise_attention(pwa, x), torch.randn(shape))


def test_pointwise_attention_has_no_other_layers():
    """Two convolutions with a ReLU between them: no normalisation, dropout or second activation."""
    pwa = PointWiseAttention(spatial_dims=2, in_channels=8)
    leaves = [type(m) for m in pwa.modules() if not list(m.children())]
    assert leaves == [torch.nn.Conv2d, torch.nn.ReLU, torch.nn.Conv2d]


@pytest.mark.parametrize("shape", SHAPES)
def test_self_attention_is_softmax_attention(shape):
    sa = SelfAttention(spatial_dims=len(shape) - 2, in_channels=8, num_heads=2, init_scale=0.6)
    assert_matches(sa, lambda x: reference_self_attention(sa, x), torch.randn(shape))


@pytest.mark.parametrize("shape", SHAPES)
def test_sa_block_adds_the_shortcut(shape):
    block = get_attention_block("sa", spatial_dims=len(shape) - 2, channels=8, sa_init_scale=0.6)
    (sa,) = [m for m in block.modules() if isinstance(m, SelfAttention)]
    assert_matches(block, lambda x: reference_sa_block(sa, x), torch.randn(shape))


@pytest.mark.parametrize("variant", range(1, 10))
@pytest.mark.parametrize("shape", SHAPES)
def test_joint_attention_structures(variant, shape):
    ja = JointAttention(len(shape) - 2, in_channels=8, variant=variant, hidden_channels=6, init_scale=0.6)
    assert_matches(ja, lambda x: reference_joint_attention(ja, x), torch.randn(shape))


def bottleneck_input(net: DenseUNet, image: torch.Tensor) -> torch.Tensor:
    """The features that the network's bottleneck attention block receives for ``image``."""
    seen = []
    handle = net.encoder[-1].attention.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    net(image)
    handle.remove()
    return seen[0]


@pytest.mark.parametrize(
    "attention, reference",
    [
        ("sa", lambda block, x: reference_sa_block(block.submodule, x)),
        ("pwa", reference_pointwise_attention),
        ("ja", reference_joint_attention),
    ],
)
def test_networks_place_the_reference_blocks(attention, reference, small_net_kwargs):
    """DenseUNet-SA, -PWA and -JA apply the reference block at the bottleneck (the paper's placement)."""
    net = DenseUNet(spatial_dims=2, in_channels=1, attention=attention, **small_net_kwargs)
    block = net.encoder[-1].attention
    x = bottleneck_input(net, torch.rand(1, 1, 13, 11))
    torch.testing.assert_close(block(x).double(), reference(block, x), rtol=1e-4, atol=1e-5)
