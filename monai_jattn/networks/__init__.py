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
from .names import MODEL_VARIANTS, PAPER_MODELS, ModelVariant, model_label, parse_model_names
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
    "MODEL_VARIANTS",
    "ModelVariant",
    "PAPER_MODELS",
    "PointWiseAttention",
    "SelfAttention",
    "get_attention_block",
    "get_attention_type",
    "ja_variant_number",
    "model_label",
    "parse_model_names",
]
