"""Independent float64 reimplementations of the attention blocks, from the paper's definitions and each
module's own weights only: the tests compare the modules with them, so that a changed structure (a
missing activation, an added normalisation, a lost shortcut) fails even where it leaves shapes intact."""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

from monai_jattn.networks import JointAttention, PointWiseAttention, SelfAttention

Function = Callable[[torch.Tensor], torch.Tensor]


def layer_norm(t: torch.Tensor, norm: torch.nn.LayerNorm) -> torch.Tensor:
    """LayerNorm over the last dimension, written out, in float64."""
    centred = t - t.mean(-1, keepdim=True)
    return (
        centred / torch.sqrt(centred.pow(2).mean(-1, keepdim=True) + norm.eps) * norm.weight.double()
        + norm.bias.double()
    )


def reference_self_attention(sa: SelfAttention, x: torch.Tensor) -> torch.Tensor:
    """``S(x) = gamma * W_o softmax(q k^T / sqrt(d)) v`` per head, q, k, v the 1x1 projections of ``x``
    (q and k layer-normalised per head where the module has ``qk_norm``)."""
    x = x.double()
    tokens = x.flatten(2).transpose(1, 2)  # (B, N, C)
    weight, bias = sa.qkv.weight.double(), sa.qkv.bias.double()
    q, k, v = (tokens @ weight.T + bias).split(sa.inter_channels, dim=-1)
    heads, d = sa.num_heads, sa.head_channels
    outputs = []
    for h in range(heads):
        qh, kh, vh = (t[..., h * d : (h + 1) * d] for t in (q, k, v))
        if getattr(sa, "qk_norm", False):
            qh, kh = (layer_norm(t, norm) for t, norm in ((qh, sa.q_norm), (kh, sa.k_norm)))
        affinity = torch.softmax(qh @ kh.transpose(1, 2) / math.sqrt(d), dim=-1)  # (B, N, N)
        outputs.append(affinity @ vh)
    out = torch.cat(outputs, dim=-1) @ sa.out_proj.weight.double().T + sa.out_proj.bias.double()
    return (sa.gamma.double() * out).transpose(1, 2).reshape(x.shape)


def convolutions(module: torch.nn.Module) -> list[torch.nn.Module]:
    """The convolution layers of ``module``, in order."""
    return [m for m in module.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Conv3d))]


def reference_pointwise_attention(pwa: PointWiseAttention, x: torch.Tensor) -> torch.Tensor:
    """``P(x) = x * sigmoid(conv3x3(relu(conv3x3(x))))`` (the paper's supplement: 64 then 1 channels)."""
    x = x.double()
    conv = F.conv2d if x.dim() == 4 else F.conv3d
    first, second = convolutions(pwa)
    hidden = torch.relu(conv(x, first.weight.double(), first.bias.double(), padding=1))
    attention_map = torch.sigmoid(conv(hidden, second.weight.double(), second.bias.double(), padding=1))
    return x * attention_map


def reference_sa_block(sa: SelfAttention, x: torch.Tensor) -> torch.Tensor:
    """DenseUNet-SA's attention block, ``x + S(x)``."""
    return x.double() + reference_self_attention(sa, x)


def reference_joint_attention(ja: JointAttention, x: torch.Tensor) -> torch.Tensor:
    """The nine joint-attention structures (docs/architecture.md), from the reference P and S."""
    x = x.double()
    p: Function = lambda t: reference_pointwise_attention(ja.pwa, t)  # noqa: E731
    s: Function = lambda t: reference_self_attention(ja.sa, t)  # noqa: E731
    if ja.variant == 3:
        fuse = convolutions(ja.fuse)[0]
        conv = F.conv2d if x.dim() == 4 else F.conv3d
        both = torch.cat([x + p(x), x + s(x)], dim=1)
        return conv(both, fuse.weight.double(), fuse.bias.double())
    equations: dict[int, Function] = {
        1: lambda x: p(x) + s(x),
        2: lambda x: x + p(x) + s(x),
        4: lambda x: p(s(x)),
        5: lambda x: x + p(s(x)),
        6: lambda x: (x + s(x)) + p(x + s(x)),
        7: lambda x: s(p(x)),
        8: lambda x: x + s(p(x)),
        9: lambda x: (x + p(x)) + s(x + p(x)),
    }
    return equations[ja.variant](x)
