from __future__ import annotations

import pytest
import torch
from monai.networks.utils import convert_to_torchscript

from monai_jattn.networks import DenseUNet, JointAttention


@pytest.mark.parametrize("attention", [None, "sa", "pwa", "ja"])
def test_dense_unet_scripts_and_matches_eager(attention, small_net_kwargs):
    net = DenseUNet(spatial_dims=2, in_channels=1, attention=attention, attention_levels=(1, 2), **small_net_kwargs)
    scripted = convert_to_torchscript(net, verify=True, inputs=[torch.randn(2, 1, 13, 10)])
    assert scripted(torch.randn(1, 1, 9, 9)).shape == (1, 2, 9, 9)


def test_dense_unet_3d_scripts(small_net_kwargs):
    net = DenseUNet(spatial_dims=3, in_channels=1, attention="ja", **small_net_kwargs)
    convert_to_torchscript(net, verify=True, inputs=[torch.randn(1, 1, 9, 6, 7)])


@pytest.mark.parametrize("variant", range(1, 10))
def test_every_joint_attention_variant_scripts(variant):
    ja = JointAttention(2, 8, variant, hidden_channels=8, init_scale=0.5)
    convert_to_torchscript(ja, verify=True, inputs=[torch.randn(1, 8, 5, 6)])
