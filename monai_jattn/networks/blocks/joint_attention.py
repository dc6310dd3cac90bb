"""Joint attention (JA-1 .. JA-9) of Zhang, Dong & Li, "Joint Attention for Medical Image Segmentation"."""

from __future__ import annotations

import torch
import torch.nn as nn
from monai.networks.layers.factories import Conv

from monai_jattn.networks.blocks.pointwise_attention import PointWiseAttention
from monai_jattn.networks.blocks.self_attention import SelfAttention

__all__ = ["JA_VARIANTS", "JointAttention", "ja_variant_number"]

# readable names of the nine structures, JA-1 .. JA-9 in order (P = point-wise, S = self-attention,
# both without shortcut); see docs/architecture.md for why these are our reconstruction.
JA_VARIANTS: tuple[str, ...] = (
    "parallel",  # JA-1: y = P(x) + S(x)
    "parallel_shortcut",  # JA-2: y = x + P(x) + S(x)
    "parallel_separate_shortcuts",  # JA-3: y = fuse([x + P(x), x + S(x)])
    "sa_first",  # JA-4: y = P(S(x))
    "sa_first_shortcut",  # JA-5: y = x + P(S(x))
    "sa_first_separate_shortcuts",  # JA-6: z = x + S(x); y = z + P(z)
    "pwa_first",  # JA-7: y = S(P(x))
    "pwa_first_shortcut",  # JA-8: y = x + S(P(x))
    "pwa_first_separate_shortcuts",  # JA-9: z = x + P(x); y = z + S(z)
)


def ja_variant_number(variant: int | str) -> int:
    """
    Resolve a joint-attention structure to its number 1..9.

    Args:
        variant: the number (``9``, ``"9"``, ``"ja9"``, ``"JA-9"``) or the readable name
            (``"pwa_first_separate_shortcuts"``, case-insensitive) of a structure in ``JA_VARIANTS``.

    Raises:
        ValueError: for anything else, listing the valid choices.

    Examples::

        >>> ja_variant_number("JA-7"), ja_variant_number("pwa_first_separate_shortcuts")
        (7, 9)
    """
    if isinstance(variant, int) and not isinstance(variant, bool):  # bool is an int: True must not mean JA-1
        if 1 <= variant <= len(JA_VARIANTS):
            return variant
    elif isinstance(variant, str):
        key = variant.strip().lower()
        if key in JA_VARIANTS:
            return JA_VARIANTS.index(key) + 1
        # "ja9", "ja-9", "ja_9", "ja 9" and a plain "9" all name structure 9
        number = key[2:].lstrip("-_ ") if key.startswith("ja") else key
        if number.isdigit() and 1 <= int(number) <= len(JA_VARIANTS):
            return int(number)
    choices = ", ".join(f"{i} ({name!r})" for i, name in enumerate(JA_VARIANTS, start=1))
    raise ValueError(
        f"Unknown joint-attention variant {variant!r}; choose a number 1..9, 'ja1'..'ja9' or a name: {choices}."
    )


class JointAttention(nn.Module):
    """
    Joint attention: point-wise attention ``P`` (:py:class:`PointWiseAttention`, local, good
    localisation) combined with self-attention ``S`` (:py:class:`SelfAttention`, global context) in
    one of nine structures (Fig. 2 of the paper; our reconstruction, see docs/architecture.md)::

        JA-1 parallel                      y = P(x) + S(x)
        JA-2 parallel_shortcut             y = x + P(x) + S(x)
        JA-3 parallel_separate_shortcuts   y = fuse(cat(x + P(x), x + S(x)))   fuse: 1x1 conv 2C -> C
        JA-4 sa_first                      y = P(S(x))
        JA-5 sa_first_shortcut             y = x + P(S(x))
        JA-6 sa_first_separate_shortcuts   z = x + S(x);  y = z + P(z)
        JA-7 pwa_first                     y = S(P(x))
        JA-8 pwa_first_shortcut            y = x + S(P(x))
        JA-9 pwa_first_separate_shortcuts  z = x + P(x);  y = z + S(z)      (the paper's best, default)

    Args:
        spatial_dims: number of spatial dimensions (2 or 3).
        in_channels: number of input (and output) channels.
        variant: the structure, by number (``9``, ``"ja9"``) or name (``"pwa_first_separate_shortcuts"``).
            Defaults to 9.
        hidden_channels: hidden channels of the point-wise attention map network. Defaults to 64.
        act: activation type and arguments inside the point-wise attention. Defaults to ReLU.
        norm: optional normalization inside the point-wise attention. Defaults to none.
        inter_channels: q/k/v channels of the self-attention. Defaults to ``in_channels // 2``.
        num_heads: self-attention heads. Defaults to 1.
        init_scale: initial value of the self-attention's learnable output scale. Defaults to 0, so
            that at initialisation ``S(.) = 0`` (JA-4 and JA-7 then output 0 until the scale moves
            away from zero, which it does after the first optimiser step).
        qk_norm: layer-normalise the self-attention's queries and keys (see `SelfAttention`).
            Defaults to True.

    Examples::

        >>> ja = JointAttention(spatial_dims=2, in_channels=64, variant="ja9")
        >>> ja(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 16, 16])
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        variant: int | str = 9,
        hidden_channels: int = 64,
        act: str | tuple = "relu",
        norm: str | tuple | None = None,
        inter_channels: int | None = None,
        num_heads: int = 1,
        init_scale: float = 0.0,
        qk_norm: bool = True,
    ) -> None:
        super().__init__()
        self.variant = ja_variant_number(variant)
        self.pwa = PointWiseAttention(spatial_dims, in_channels, hidden_channels, act=act, norm=norm)
        self.sa = SelfAttention(spatial_dims, in_channels, inter_channels, num_heads, init_scale, qk_norm=qk_norm)
        # only JA-3 fuses two branches (2C -> C channels); the Identity adds no weights to the other structures
        self.fuse: nn.Module = nn.Identity()
        if self.variant == 3:
            self.fuse = Conv[Conv.CONV, spatial_dims](2 * in_channels, in_channels, kernel_size=1)

    def extra_repr(self) -> str:
        return f"variant={self.variant} ({JA_VARIANTS[self.variant - 1]})"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.variant == 1:
            return self.pwa(x) + self.sa(x)
        if self.variant == 2:
            return x + self.pwa(x) + self.sa(x)
        if self.variant == 3:
            return self.fuse(torch.cat([x + self.pwa(x), x + self.sa(x)], dim=1))
        if self.variant == 4:
            return self.pwa(self.sa(x))
        if self.variant == 5:
            return x + self.pwa(self.sa(x))
        if self.variant == 6:
            z = x + self.sa(x)
            return z + self.pwa(z)
        if self.variant == 7:
            return self.sa(self.pwa(x))
        if self.variant == 8:
            return x + self.sa(self.pwa(x))
        # JA-9, the paper's best: two separate shortcuts, PWA first
        z = x + self.pwa(x)
        return z + self.sa(z)
