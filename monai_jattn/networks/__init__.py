"""The joint-attention DenseUNet family (Zhang, Dong & Li, ISBI 2022) and its attention blocks."""

from __future__ import annotations

from .blocks import (
    ATTENTION_TYPES,
    JA_VARIANTS,
    DenseBlock,
    DenseLayer,
    DenseTransition,
    JointAttention,
    PointWiseAttention,
    SelfAttention,
    get_attention_block,
    get_attention_type,
    ja_variant_number,
)
from .nets import DenseUNet, DenseUNetJA, DenseUNetPWA, DenseUNetSA

__all__ = [
    "ATTENTION_TYPES",
    "JA_VARIANTS",
    "DenseBlock",
    "DenseLayer",
    "DenseTransition",
    "DenseUNet",
    "DenseUNetJA",
    "DenseUNetPWA",
    "DenseUNetSA",
    "JointAttention",
    "PointWiseAttention",
    "SelfAttention",
    "get_attention_block",
    "get_attention_type",
    "ja_variant_number",
]
