from __future__ import annotations

import shutil

import pytest
import torch
import torch.nn.functional as F

from monai_jattn.networks import (
    DenseUNet,
    DenseUNetJA,
    DenseUNetPWA,
    DenseUNetSA,
    JointAttention,
    PointWiseAttention,
    SelfAttention,
)

# every model of the paper, and every JA structure
MODELS = [{"attention": None}, {"attention": "sa"}, {"attention": "pwa"}] + [
    {"attention": "ja", "ja_variant": v} for v in range(1, 10)
]
MODEL_IDS = ["plain", "sa", "pwa"] + [f"ja{v}" for v in range(1, 10)]


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
@pytest.mark.parametrize("batch", [1, 4])
def test_output_shape_2d_odd_size(model, batch, small_net_kwargs):
    net = DenseUNet(spatial_dims=2, in_channels=3, out_channels=2, **model, **small_net_kwargs)
    out = net(torch.randn(batch, 3, 33, 47))
    assert out.shape == (batch, 2, 33, 47)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
@pytest.mark.parametrize("batch", [1, 4])
def test_output_shape_3d_odd_size(model, batch, small_net_kwargs):
    net = DenseUNet(spatial_dims=3, in_channels=1, out_channels=3, **model, **small_net_kwargs)
    assert net(torch.randn(batch, 1, 9, 10, 7)).shape == (batch, 3, 9, 10, 7)


@pytest.mark.parametrize(
    "net_type, attention_type",
    [
        (DenseUNet, type(None)),
        (DenseUNetSA, SelfAttention),
        (DenseUNetPWA, PointWiseAttention),
        (DenseUNetJA, JointAttention),
    ],
)
def test_paper_models_with_default_sizes(net_type, attention_type):
    """The defaults keep every model near MONAI's BasicUNet (1.98M parameters)."""
    net = net_type(in_channels=1)
    assert 1.5e6 < sum(p.numel() for p in net.parameters()) < 2.5e6
    found = [m for m in net.modules() if isinstance(m, (SelfAttention, PointWiseAttention, JointAttention))]
    if attention_type is type(None):
        assert not found
    else:
        assert isinstance(found[0], attention_type)
        assert found[0] is net.encoder[-1].attention or found[0] is net.encoder[-1].attention.submodule
    assert net(torch.randn(2, 1, 48, 40)).shape == (2, 2, 48, 40)


def test_default_ja_model_on_full_drive_image():
    net = DenseUNetJA().eval()
    assert net.ja_variant == 9 and net.encoder[-1].attention.variant == 9
    with torch.no_grad():
        assert net(torch.randn(1, 3, 584, 565)).shape == (1, 2, 584, 565)


def test_padding_is_cropped_back(small_net_kwargs):
    """An odd-sized input gives the same logits as the explicitly padded input, cropped."""
    net = DenseUNet(spatial_dims=2, in_channels=1, attention="ja", **small_net_kwargs).eval()
    x = torch.randn(1, 1, 13, 10)
    padded = F.pad(x, (0, 2, 0, 3), mode="replicate")  # to 16 x 12, multiples of 4
    with torch.no_grad():
        torch.testing.assert_close(net(x), net(padded)[..., :13, :10])


def test_attention_levels(small_net_kwargs):
    net = DenseUNet(attention="pwa", attention_levels=(0, -1), **small_net_kwargs)
    placed = [isinstance(stage.attention, PointWiseAttention) for stage in net.encoder]
    assert placed == [True, False, True]
    assert net(torch.randn(1, 3, 10, 10)).shape == (1, 2, 10, 10)
    plain = DenseUNet(attention="none", attention_levels=(0, 1, 2), **small_net_kwargs)
    assert all(isinstance(stage.attention, torch.nn.Identity) for stage in plain.encoder)


def test_gradients_reach_every_parameter(small_net_kwargs):
    net = DenseUNet(in_channels=1, attention="ja", ja_variant=3, attention_levels=(1, 2), **small_net_kwargs)
    F.cross_entropy(net(torch.randn(2, 1, 12, 12)), torch.randint(0, 2, (2, 12, 12))).backward()
    for name, param in net.named_parameters():
        assert param.grad is not None, name
        if ".attention." in name:
            assert param.grad.abs().sum() > 0, name


def test_zero_initial_scale_still_learns(small_net_kwargs):
    """With the default zero self-attention scale the scale gets a gradient, the rest after one step."""
    small_net_kwargs["sa_init_scale"] = 0.0
    net = DenseUNet(in_channels=1, attention="ja", **small_net_kwargs)
    sa = net.encoder[-1].attention.sa
    x, y = torch.randn(2, 1, 12, 12), torch.randint(0, 2, (2, 12, 12))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    for step in range(2):
        optimizer.zero_grad()
        F.cross_entropy(net(x), y).backward()
        if step == 0:
            assert sa.gamma.grad.abs() > 0
            assert sa.qkv.weight.grad.abs().sum() == 0
        optimizer.step()
    assert sa.qkv.weight.grad.abs().sum() > 0 and sa.out_proj.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("attention", ["JA", "Sa", " pwa ", "None", "NONE", None])
def test_attention_names_are_case_insensitive(attention, small_net_kwargs):
    net = DenseUNet(attention=attention, **small_net_kwargs)
    assert net.attention == (attention or "none").strip().lower()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"attention": "cbam"}, "sa"),
        ({"attention": 1}, "attention"),
        ({"attention": "ja", "ja_variant": 10}, "pwa_first_separate_shortcuts"),
        ({"spatial_dims": 1}, "spatial_dims"),
        ({"spatial_dims": 4}, "spatial_dims"),
        ({"decoder_features": (8,)}, "decoder_features"),
        ({"block_layers": (2,), "decoder_features": ()}, "block_layers"),
        ({"attention_levels": (3,)}, "attention_levels"),
        ({"compression": 0.0}, "compression"),
        ({"in_channels": 0}, "in_channels must be a positive integer, got 0"),
        ({"out_channels": 0}, "out_channels must be a positive integer, got 0"),
        ({"init_features": 0}, "init_features must be a positive integer, got 0"),
        ({"in_channels": "3"}, "in_channels must be a positive integer, got '3'"),
        ({"block_layers": (1, 0, 2)}, r"every value of block_layers \[1, 0, 2\] must be a positive integer, got 0"),
    ],
)
def test_invalid_arguments(kwargs, message, small_net_kwargs):
    with pytest.raises(ValueError, match=message):
        DenseUNet(**{**small_net_kwargs, **kwargs})


def test_input_with_the_wrong_number_of_channels_is_named(small_net_kwargs):
    net = DenseUNet(in_channels=1, **small_net_kwargs)
    with pytest.raises(ValueError, match=r"in_channels=1, 2 spatial dimensions\), got \[1, 3, 16, 16\]"):
        net(torch.rand(1, 3, 16, 16))
    with pytest.raises(ValueError, match=r"got \[3, 16, 16\]"):
        net(torch.rand(3, 16, 16))  # no batch dimension


@pytest.mark.parametrize("attention", ["pwa", "ja"])
def test_pwa_hidden_channels_reach_every_point_wise_attention(attention, small_net_kwargs):
    net = DenseUNet(attention=attention, **{**small_net_kwargs, "pwa_hidden_channels": 5})
    blocks = [m for m in net.modules() if isinstance(m, PointWiseAttention)]
    assert blocks
    for block in blocks:
        first, second = [m for m in block.modules() if isinstance(m, torch.nn.Conv2d)]
        assert first.out_channels == second.in_channels == 5 and second.out_channels == 1


def test_input_of_another_dtype_is_named(small_net_kwargs):
    net = DenseUNet(**small_net_kwargs)
    with pytest.raises(TypeError, match="input is torch.float64 but its weights are torch.float32"):
        net(torch.rand(1, 3, 16, 16, dtype=torch.float64))
    with pytest.raises(TypeError, match="input is torch.uint8 but its weights are torch.float32"):
        net(torch.randint(0, 255, (1, 3, 16, 16), dtype=torch.uint8))
    assert net.double()(torch.rand(1, 3, 16, 16, dtype=torch.float64)).dtype == torch.float64


def test_training_batch_of_one_with_a_single_bottleneck_value_is_named(small_net_kwargs):
    net = DenseUNet(spatial_dims=3, in_channels=1, **small_net_kwargs).train()
    with pytest.raises(ValueError, match=r"batch of 1 input of spatial size \[4, 3, 2\] leaves 1 value per channel"):
        net(torch.rand(1, 1, 4, 3, 2))
    assert net(torch.rand(2, 1, 4, 3, 2)).shape == (2, 2, 4, 3, 2)  # two values per channel train
    assert net(torch.rand(1, 1, 5, 3, 2)).shape == (1, 2, 5, 3, 2)  # padded to 8: a 2x1x1 bottleneck
    assert net.eval()(torch.rand(1, 1, 4, 3, 2)).shape == (1, 2, 4, 3, 2)  # inference uses running statistics


@pytest.mark.skipif(not (shutil.which("cc") or shutil.which("gcc")), reason="torch.compile needs a C compiler")
def test_torch_compile_on_cpu_matches_eager(small_net_kwargs):
    """Inductor on CPU once stopped in replication_pad2d_backward (issue 18 U12); forward and gradients agree."""
    net = DenseUNet(attention="ja", **small_net_kwargs)
    x = torch.rand(2, 3, 14, 11)
    eager = net(x)
    eager.square().mean().backward()
    expected = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    compiled = torch.compile(net)(x)
    compiled.square().mean().backward()
    torch.testing.assert_close(compiled, eager, rtol=1e-4, atol=1e-5)
    for p, grad in zip(net.parameters(), expected):
        torch.testing.assert_close(p.grad, grad, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("net_type", [DenseUNetSA, DenseUNetPWA, DenseUNetJA])
def test_named_models_fix_their_attention(net_type, small_net_kwargs):
    with pytest.raises(ValueError, match="fixes the attention"):
        net_type(attention="sa", **small_net_kwargs)


@pytest.mark.parametrize("other", [dict(attention="ja", ja_variant=3), dict(attention="ja", ja_variant=1)])
def test_weights_of_another_attention_structure_are_refused_naming_both(other):
    """JA structures share weight names and shapes: the recorded structure is what refuses them."""
    trained = DenseUNet(2, 1, 2, init_features=8, growth_rate=4, block_layers=(1, 1, 1), decoder_features=(8, 8))
    other_net = DenseUNet(
        2, 1, 2, init_features=8, growth_rate=4, block_layers=(1, 1, 1), decoder_features=(8, 8), **other
    )
    trained_ja9 = DenseUNet(
        2, 1, 2, init_features=8, growth_rate=4, block_layers=(1, 1, 1), decoder_features=(8, 8), attention="ja"
    )
    with pytest.raises(
        RuntimeError, match=rf"weights are of DenseUNet-JA-9 .* this network is DenseUNet-JA-{other['ja_variant']}"
    ):
        other_net.load_state_dict(trained_ja9.state_dict(), strict=False)
    with pytest.raises(RuntimeError, match=r"weights are of DenseUNet \(no attention\)"):
        trained_ja9.load_state_dict(trained.state_dict(), strict=False)


def test_weights_saved_before_the_structure_record_still_load():
    net = DenseUNet(
        2, 1, 2, init_features=8, growth_rate=4, block_layers=(1, 1, 1), decoder_features=(8, 8), attention="ja"
    )
    state = net.state_dict()
    assert state["structure"].tolist() == [3, 9]
    del state["structure"]
    fresh = DenseUNet(
        2, 1, 2, init_features=8, growth_rate=4, block_layers=(1, 1, 1), decoder_features=(8, 8), attention="ja"
    )
    fresh.load_state_dict(state, strict=True)
    assert torch.equal(fresh.head.weight, net.head.weight) and fresh.structure.tolist() == [3, 9]
