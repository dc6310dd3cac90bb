"""One place that turns an attention name ("none", "sa", "pwa", "ja") into a module."""

from __future__ import annotations

import torch.nn as nn
from monai.networks.layers import SkipConnection
from monai.utils import look_up_option

from monai_jattn.networks.blocks.joint_attention import JointAttention
from monai_jattn.networks.blocks.pointwise_attention import PointWiseAttention
from monai_jattn.networks.blocks.self_attention import SelfAttention

__all__ = ["ATTENTION_TYPES", "get_attention_block", "get_attention_type"]

ATTENTION_TYPES: tuple[str, ...] = ("none", "sa", "pwa", "ja")


def get_attention_type(attention: str | None) -> str:
    """
    Normalise an attention name: ``None`` and ``"none"`` mean no attention; case is ignored.

    Raises:
        ValueError: for a name outside ``ATTENTION_TYPES``, listing the valid ones.
    """
    if attention is None:
        return "none"
    if not isinstance(attention, str):  # e.g. a number from a config: the same ValueError as an unknown name
        raise ValueError(f"attention must be None or one of {ATTENTION_TYPES}, got {attention!r}.")
    return look_up_option(attention.strip().lower(), ATTENTION_TYPES)


def get_attention_block(
    attention: str | None,
    spatial_dims: int,
    channels: int,
    ja_variant: int | str = 9,
    pwa_hidden_channels: int = 64,
    sa_inter_channels: int | None = None,
    sa_num_heads: int = 1,
    sa_init_scale: float = 0.0,
    sa_qk_norm: bool = True,
) -> nn.Module:
    """
    Build the attention module of a DenseUNet level, mapping ``x`` (``channels`` channels) to ``y``:

    - ``None`` / ``"none"``: ``y = x`` (``nn.Identity``);
    - ``"sa"``: ``y = x + S(x)`` (self-attention with a residual shortcut, as in the non-local block);
    - ``"pwa"``: ``y = P(x) = x * sigmoid(map(x))`` (the paper's point-wise attention, no shortcut);
    - ``"ja"``: ``y = JA_n(x)``, :py:class:`JointAttention` structure ``ja_variant`` (default JA-9).

    Args:
        attention: the attention type, see above (case-insensitive).
        spatial_dims: number of spatial dimensions (2 or 3).
        channels: number of feature channels at that level.
        ja_variant: joint-attention structure (number 1..9 or name); only used for ``"ja"``.
        pwa_hidden_channels: hidden channels of the point-wise attention map network.
        sa_inter_channels: q/k/v channels of the self-attention (``channels // 2`` when None).
        sa_num_heads: self-attention heads.
        sa_init_scale: initial value of the self-attention's learnable output scale.
        sa_qk_norm: layer-normalise the self-attention's queries and keys (see `SelfAttention`).

    Examples::

        >>> block = get_attention_block("JA", spatial_dims=2, channels=64, ja_variant=7)
        >>> block.variant
        7
    """
    attention = get_attention_type(attention)
    if attention == "sa":
        sa = SelfAttention(spatial_dims, channels, sa_inter_channels, sa_num_heads, sa_init_scale, qk_norm=sa_qk_norm)
        # SelfAttention returns S(x) alone; the shortcut is added here, not inside the block
        return SkipConnection(sa, mode="add")
    if attention == "pwa":
        # no shortcut: the paper's PWA multiplies the features by its map (docs/architecture.md)
        return PointWiseAttention(spatial_dims, channels, pwa_hidden_channels)
    if attention == "ja":
        return JointAttention(
            spatial_dims,
            channels,
            ja_variant,
            hidden_channels=pwa_hidden_channels,
            inter_channels=sa_inter_channels,
            num_heads=sa_num_heads,
            init_scale=sa_init_scale,
            qk_norm=sa_qk_norm,
        )
    return nn.Identity()  # "none"; get_attention_type has refused every other name
