from __future__ import annotations

import pytest
import torch
from attention_reference import reference_joint_attention

from monai_jattn.networks import JA_VARIANTS, JointAttention, ja_variant_number


@pytest.mark.parametrize("variant", range(1, 10))
@pytest.mark.parametrize("shape", [(2, 8, 6, 7), (1, 8, 3, 4, 5)])
def test_each_variant_computes_its_equation(variant, shape):
    ja = JointAttention(spatial_dims=len(shape) - 2, in_channels=8, variant=variant, hidden_channels=8, init_scale=0.6)
    x = torch.randn(shape)
    out = ja(x)
    assert out.shape == x.shape  # against a float64 reimplementation of P, S and the equation (not ja's parts)
    torch.testing.assert_close(out.double(), reference_joint_attention(ja, x), rtol=1e-4, atol=1e-5)


def test_variants_differ():
    x = torch.randn(1, 8, 6, 6)
    torch.manual_seed(1)
    reference = JointAttention(2, 8, 1, hidden_channels=8, init_scale=0.6)
    outputs = []
    for variant in range(1, 10):
        ja = JointAttention(2, 8, variant, hidden_channels=8, init_scale=0.6)
        ja.load_state_dict(reference.state_dict(), strict=False)  # same P and S (JA-3 adds its fuse conv)
        outputs.append(ja(x))
    for i in range(9):
        for j in range(i + 1, 9):
            assert not torch.allclose(outputs[i], outputs[j]), f"JA-{i + 1} == JA-{j + 1}"


def test_only_ja3_has_a_fuse_convolution():
    for variant in range(1, 10):
        fuse = JointAttention(2, 8, variant, hidden_channels=8).fuse
        assert isinstance(fuse, torch.nn.Conv2d) == (variant == 3)
        if variant == 3:
            assert (fuse.in_channels, fuse.out_channels, fuse.kernel_size) == (16, 8, (1, 1))


@pytest.mark.parametrize("variant", range(1, 10))
def test_gradients_reach_every_parameter(variant):
    ja = JointAttention(2, 8, variant, hidden_channels=8, init_scale=0.6)
    ja(torch.randn(2, 8, 6, 6)).square().sum().backward()
    for name, param in ja.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, f"JA-{variant}: {name}"


def test_variant_names_and_numbers():
    assert len(JA_VARIANTS) == 9 and JA_VARIANTS[8] == "pwa_first_separate_shortcuts"
    for number, name in enumerate(JA_VARIANTS, start=1):
        assert ja_variant_number(name) == ja_variant_number(name.upper()) == number
        assert ja_variant_number(number) == ja_variant_number(str(number)) == number
        assert ja_variant_number(f"ja{number}") == ja_variant_number(f"JA-{number}") == number
    assert JointAttention(2, 8, "JA_9").variant == 9
    assert "pwa_first_separate_shortcuts" in repr(JointAttention(2, 8))


@pytest.mark.parametrize("bad", [0, 10, -1, "-1", "ja10", "ja", "serial", None, True, 9.0])
def test_unknown_variant_lists_valid_choices(bad):
    with pytest.raises(ValueError, match="pwa_first_separate_shortcuts"):
        JointAttention(2, 8, bad)
