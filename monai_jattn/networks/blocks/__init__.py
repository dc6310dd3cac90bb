"""Building blocks: DenseNet layers and the point-wise, self- and joint attention modules."""

from __future__ import annotations

from .attention_block import ATTENTION_TYPES, get_attention_block, get_attention_type
from .dense_block import DenseBlock, DenseLayer, DenseTransition
from .joint_attention import JA_VARIANTS, JointAttention, ja_variant_number
from .pointwise_attention import PointWiseAttention
from .self_attention import SelfAttention

__all__ = [
    "ATTENTION_TYPES",
    "DenseBlock",
    "DenseLayer",
    "DenseTransition",
    "JA_VARIANTS",
    "JointAttention",
    "PointWiseAttention",
    "SelfAttention",
    "get_attention_block",
    "get_attention_type",
    "ja_variant_number",
]
