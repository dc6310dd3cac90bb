"""Self-attention (non-local / position attention) over all spatial positions, on fused SDPA kernels."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SelfAttention"]


class SelfAttention(nn.Module):
    """
    Self-attention over all spatial positions of a 2D/3D feature map, as in the non-local block
    (Wang et al., CVPR 2018) and DANet's position attention (Fu et al., CVPR 2019)::

        q, k, v = W_q x, W_k x, W_v x                      (1x1 projections, per position)
        S(x)    = gamma * W_o softmax(LN(q) LN(k)^T / sqrt(d)) v    (gamma learnable, starts at init_scale;
                                                                  LN: per-head LayerNorm, ``qk_norm``)

    The attention runs through :py:func:`torch.nn.functional.scaled_dot_product_attention`'s fused kernels,
    so the N x N affinity map (N positions) is never built (docs/architecture.md). Under autocast (the
    bundles' ``amp``) the module runs in, and returns, float32: in bfloat16 or float16 the bottleneck's
    logits grew until rounding decided the softmax (docs/performance.md, "Precision"). There is no
    shortcut: ``forward`` returns ``S(x)``, and with ``gamma`` at 0 (the default, as in DANet) the
    caller's ``x + S(x)`` starts as ``x``.

    Args:
        spatial_dims: number of spatial dimensions of the input (2 or 3).
        in_channels: number of input (and output) channels.
        inter_channels: channels of q, k and v (all three the same, split across heads). Defaults to
            ``max(in_channels // 2, 1)`` as in the non-local block.
        num_heads: number of attention heads; must divide ``inter_channels``. Defaults to 1.
        init_scale: initial value of the learnable output scale ``gamma``. Defaults to 0.
        bias: whether the q/k/v and output projections have a bias. Defaults to True.
        qk_norm: layer-normalise q and k per head before their product (as timm's ``Attention`` and
            ViT-22B do), which bounds the logits that Adam otherwise grows into the thousands in
            reduced-precision training (docs/performance.md, "Precision"). Defaults to True.

    Examples::

        >>> sa = SelfAttention(spatial_dims=2, in_channels=64)
        >>> sa(torch.randn(2, 64, 12, 10)).shape
        torch.Size([2, 64, 12, 10])

        # fail loudly instead of falling back to the unfused (N x N) path
        >>> from torch.nn.attention import SDPBackend, sdpa_kernel
        >>> with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        ...     y = sa(torch.randn(1, 64, 32, 32))
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        inter_channels: int | None = None,
        num_heads: int = 1,
        init_scale: float = 0.0,
        bias: bool = True,
        qk_norm: bool = True,
    ) -> None:
        super().__init__()
        if spatial_dims not in (2, 3):
            raise ValueError(f"spatial_dims must be 2 or 3, got {spatial_dims}.")
        # the non-local block's C // 2, at least one channel for a 1-channel input
        inter_channels = max(in_channels // 2, 1) if inter_channels is None else inter_channels
        if num_heads < 1 or inter_channels % num_heads != 0:
            raise ValueError(f"num_heads ({num_heads}) must be >= 1 and divide inter_channels ({inter_channels}).")
        self.spatial_dims = spatial_dims
        self.inter_channels = inter_channels
        self.num_heads = num_heads
        self.head_channels = inter_channels // num_heads
        self.qk_norm = qk_norm
        # nn.Linear over each position's channels is a 1x1 convolution (as MONAI's SABlock) that keeps the
        # (B, N, C) token layout SDPA takes, without copies; q, k and v come out of one matrix product
        self.qkv = nn.Linear(in_channels, 3 * inter_channels, bias=bias)
        self.out_proj = nn.Linear(inter_channels, in_channels, bias=bias)
        self.gamma = nn.Parameter(torch.tensor(float(init_scale)))  # one scalar scale, DANet's gamma
        self.q_norm: nn.Module = nn.LayerNorm(self.head_channels) if qk_norm else nn.Identity()
        self.k_norm: nn.Module = nn.LayerNorm(self.head_channels) if qk_norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x: input of shape ``(B, in_channels, *spatial)``.

        Returns:
            ``S(x)`` of the same shape as ``x``; float32 when autocast is active (see the class notes).
        """
        if x.dim() != self.spatial_dims + 2:
            raise ValueError(f"SelfAttention expects a {self.spatial_dims + 2}D input, got shape {list(x.shape)}.")
        # left out under TorchScript (_attend_float32 is jit.unused); is_autocast_enabled raises for a device
        # type autocast does not know, hence the availability check first
        if not torch.jit.is_scripting():
            if torch.amp.is_autocast_available(x.device.type) and torch.is_autocast_enabled(x.device.type):
                return self._attend_float32(x)
        return self._attend(x)

    @torch.jit.unused
    def _attend_float32(self, x: torch.Tensor) -> torch.Tensor:
        """``_attend`` with autocast off on a float32 input: projections, logits and softmax in full precision
        (see the class docstring)."""
        with torch.autocast(x.device.type, enabled=False):
            return self._attend(x.float())

    def _attend(self, x: torch.Tensor) -> torch.Tensor:
        batch = x.shape[0]
        tokens = x.flatten(2).transpose(1, 2)  # (B, N, C), a view
        num_tokens = tokens.shape[1]
        # (B, N, 3 * inter) -> (3, B, heads, N, head_channels): one head size and a unit-stride last dimension,
        # the layout SDPA's fused (flash) kernels need, on CPU and GPU
        qkv = self.qkv(tokens).view(batch, num_tokens, 3, self.num_heads, self.head_channels).permute(2, 0, 3, 1, 4)
        q, k = self.q_norm(qkv[0]), self.k_norm(qkv[1])
        out = F.scaled_dot_product_attention(q, k, qkv[2])  # (B, heads, N, head_channels)
        # heads side by side again, (B, N, heads * head_channels), for the output projection
        out = self.out_proj(out.transpose(1, 2).reshape(batch, num_tokens, self.inter_channels))
        return (self.gamma * out).transpose(1, 2).reshape(x.shape)  # tokens back to (B, C, *spatial)

    def attention_weights(self, x: torch.Tensor, positions: torch.Tensor | Sequence[Sequence[int]]) -> torch.Tensor:
        """
        The attention weights of chosen query positions, ``softmax(q_i k^T / sqrt(d))`` per head (q and k
        layer-normalised first where ``qk_norm``), from this module's own layers with autocast off (in float32
        for a float32 module; ``forward`` never builds them). Only the chosen rows are made: ``Q x N``, not
        ``N x N``.

        Args:
            x: input of shape ``(B, in_channels, *spatial)``, as ``forward`` receives it.
            positions: ``Q`` query positions, each a sequence of ``spatial_dims`` indices into
                ``x.shape[2:]``, e.g. ``[(3, 5), (10, 1)]``.

        Returns:
            weights of shape ``(B, num_heads, Q, *spatial)``: for each head and query, how much every
            position contributes to that query's output; each map sums to 1.

        Example::

            >>> sa = SelfAttention(spatial_dims=2, in_channels=8)
            >>> sa.attention_weights(torch.randn(1, 8, 6, 5), [(0, 0), (5, 4)]).shape
            torch.Size([1, 1, 2, 6, 5])
        """
        if x.dim() != self.spatial_dims + 2:
            raise ValueError(f"SelfAttention expects a {self.spatial_dims + 2}D input, got shape {list(x.shape)}.")
        spatial = tuple(x.shape[2:])
        index = torch.as_tensor(positions, dtype=torch.long, device=x.device).reshape(-1, self.spatial_dims)
        for dim, size in enumerate(spatial):
            if index.numel() and not 0 <= int(index[:, dim].min()) <= int(index[:, dim].max()) < size:
                raise ValueError(f"query positions {index.tolist()} lie outside the spatial shape {list(spatial)}.")
        flat = torch.zeros(index.shape[0], dtype=torch.long, device=x.device)
        for dim, size in enumerate(spatial):  # row-major, as x.flatten(2)
            flat = flat * size + index[:, dim]
        batch = x.shape[0]
        with torch.no_grad(), torch.autocast(x.device.type, enabled=False):
            # (B, N, C) in the module's own dtype, whatever x's, as forward computes under autocast
            tokens = x.flatten(2).transpose(1, 2).to(self.qkv.weight.dtype)
            qkv = self.qkv(tokens).view(batch, tokens.shape[1], 3, self.num_heads, self.head_channels)
            query, key = self.q_norm(qkv[:, flat, 0]).float(), self.k_norm(qkv[:, :, 1]).float()  # (B, Q|N, heads, d)
        scores = torch.einsum("bqhd,bnhd->bhqn", query, key) / math.sqrt(self.head_channels)
        return scores.softmax(dim=-1).reshape(batch, self.num_heads, index.shape[0], *spatial)
