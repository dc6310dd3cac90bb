from __future__ import annotations

import pytest
import torch
from attention_reference import reference_pointwise_attention

from monai_jattn.networks import PointWiseAttention


def test_paper_configuration():
    """Two 3x3 convolutions with 64 and 1 output channels (the paper's supplement)."""
    pwa = PointWiseAttention(spatial_dims=2, in_channels=16)
    convs = [m for m in pwa.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size) for c in convs] == [(64, (3, 3)), (1, (3, 3))]


@pytest.mark.parametrize("shape", [(2, 6, 9, 13), (1, 6, 5, 6, 7)])
def test_output_is_input_times_sigmoid_map(shape):
    pwa = PointWiseAttention(spatial_dims=len(shape) - 2, in_channels=6, hidden_channels=8)
    x = torch.randn(shape)
    attention_map = pwa.attention_map(x)
    assert attention_map.shape == (shape[0], 1, *shape[2:])
    assert attention_map.min() > 0 and attention_map.max() < 1
    # against a float64 reimplementation (conv3x3, ReLU, conv3x3, sigmoid, product), not the module's parts
    torch.testing.assert_close(pwa(x).double(), reference_pointwise_attention(pwa, x), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(pwa(x), x * attention_map)


def test_gradients_reach_every_parameter():
    pwa = PointWiseAttention(spatial_dims=2, in_channels=4, hidden_channels=8)
    pwa(torch.randn(2, 4, 8, 8)).square().sum().backward()
    for name, param in pwa.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
