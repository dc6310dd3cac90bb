"""DenseUNet with optional point-wise, self- or joint attention (Zhang, Dong & Li, ISBI 2022)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn as nn
from monai.networks.layers.factories import Conv
from monai.networks.nets.basic_unet import UpCat

from monai_jattn.networks.blocks.attention_block import ATTENTION_TYPES, get_attention_block, get_attention_type
from monai_jattn.networks.blocks.dense_block import DenseBlock, DenseTransition
from monai_jattn.networks.blocks.joint_attention import ja_variant_number
from monai_jattn.setting_checks import check_positive_int

__all__ = ["DenseUNet", "DenseUNetSA", "DenseUNetPWA", "DenseUNetJA"]


class DenseUNet(nn.Module):
    """
    A U-Net whose encoder is a DenseNet, with an optional attention module (point-wise, self- or
    joint attention) inside, following Zhang, Dong & Li, "Joint Attention for Medical Image
    Segmentation", ISBI 2022. The paper does not publish its DenseUNet; this layout is our
    reconstruction (see docs/architecture.md)::

        stem conv3x3 -> level 0: DenseBlock -> [attention] ------------------------------ skip 0
                        level 1: DenseTransition (1x1 conv + 2x pool) -> DenseBlock -> [attention] -- skip 1
                        ...
                        level L: DenseTransition -> DenseBlock -> [attention]   (bottleneck, 1/2^L)
        decoder, per level from L-1 up to 0: UpCat (2x upsample, concatenate skip, two conv3x3 blocks)
        head: conv1x1 -> out_channels logits

    Convolutions followed by a normalization layer have no bias (it would be cancelled). Attention
    (``x + S(x)``, ``P(x)`` or ``JA_n(x)``, see `get_attention_block`) sits after the dense block of the
    levels in ``attention_levels``: the bottleneck by default, where self-attention over all positions is
    cheap. Any input size works: the input is padded (replicate) at the end of every spatial dimension to
    a multiple of ``2 ** (len(block_layers) - 1)`` and the logits are cropped back.

    Args:
        spatial_dims: number of spatial dimensions, 2 or 3. Defaults to 2.
        in_channels: number of input channels. Defaults to 3 (RGB).
        out_channels: number of output channels (classes). Defaults to 2.
        init_features: channels of the stem convolution. Defaults to 32.
        growth_rate: channels each dense layer adds. Defaults to 16.
        block_layers: dense layers per encoder level, full resolution first; its length is the
            number of levels (``len - 1`` downsamplings). Defaults to ``(2, 2, 6, 8, 16)``.
        compression: channel compression of the transitions (DenseNet's theta). Defaults to 0.5.
        decoder_features: output channels of the decoder block of each level, full resolution
            first, one per downsampling. Defaults to ``(32, 32, 64, 128)`` (BasicUNet's widths).
        act: activation type and arguments. Defaults to ReLU.
        norm: feature normalization type and arguments. Defaults to batch norm.
        dropout: dropout ratio in the dense layers and decoder blocks. Defaults to none.
        upsample: decoder upsampling, ``"deconv"``, ``"pixelshuffle"`` or ``"nontrainable"``.
            Defaults to ``"deconv"``.
        attention: ``None``/``"none"``, ``"sa"``, ``"pwa"`` or ``"ja"`` (case-insensitive).
            Defaults to None (the plain DenseUNet).
        ja_variant: joint-attention structure, number 1..9 or name (see
            :py:class:`monai_jattn.networks.JointAttention`); used when ``attention="ja"``. Defaults to 9.
        attention_levels: encoder levels that get the attention module, as indices into
            ``block_layers`` (negative counts from the bottleneck). Defaults to ``(-1,)``, the bottleneck.
        pwa_hidden_channels: hidden channels of the point-wise attention map network. Defaults to 64.
        sa_inter_channels: q/k/v channels of the self-attention. Defaults to half the level's channels.
        sa_num_heads: self-attention heads. Defaults to 1.
        sa_init_scale: initial value of the self-attention's learnable output scale. Defaults to 0.
        sa_qk_norm: layer-normalise the self-attention's queries and keys, which keeps its logits
            bounded in reduced-precision training (see `SelfAttention`). Defaults to True.

    Examples::

        # the paper's DenseUNet-JA (JA-9 at the bottleneck) for RGB input and two classes
        >>> net = DenseUNet(spatial_dims=2, in_channels=3, out_channels=2, attention="ja")
        >>> net(torch.randn(1, 3, 584, 565)).shape
        torch.Size([1, 2, 584, 565])

        # DRIVE grey-level input, self-attention at the two deepest levels
        >>> net = DenseUNet(in_channels=1, attention="sa", attention_levels=(-2, -1))

        # 3D
        >>> net = DenseUNet(spatial_dims=3, in_channels=1, block_layers=(2, 3, 4), decoder_features=(16, 32))
    """

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 3,
        out_channels: int = 2,
        init_features: int = 32,
        growth_rate: int = 16,
        block_layers: Sequence[int] = (2, 2, 6, 8, 16),
        compression: float = 0.5,
        decoder_features: Sequence[int] = (32, 32, 64, 128),
        act: str | tuple = ("relu", {"inplace": True}),
        norm: str | tuple = "batch",
        dropout: float | tuple = 0.0,
        upsample: str = "deconv",
        attention: str | None = None,
        ja_variant: int | str = 9,
        attention_levels: Sequence[int] = (-1,),
        pwa_hidden_channels: int = 64,
        sa_inter_channels: int | None = None,
        sa_num_heads: int = 1,
        sa_init_scale: float = 0.0,
        sa_qk_norm: bool = True,
    ) -> None:
        super().__init__()
        if spatial_dims not in (2, 3):
            raise ValueError(f"spatial_dims must be 2 or 3, got {spatial_dims!r}.")
        for name, value in (
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("init_features", init_features),
            ("growth_rate", growth_rate),
            ("pwa_hidden_channels", pwa_hidden_channels),
            ("sa_num_heads", sa_num_heads),
        ):
            check_positive_int(value, name)
        check_positive_int(sa_inter_channels, "sa_inter_channels", allow_none=True)
        for name, values in (("block_layers", block_layers), ("decoder_features", decoder_features)):
            for value in values:
                check_positive_int(value, f"every value of {name} {list(values)}")
        num_levels = len(block_layers)
        if num_levels < 2:
            raise ValueError(f"block_layers needs at least two levels (one downsampling), got {block_layers}.")
        if len(decoder_features) != num_levels - 1:
            raise ValueError(
                f"decoder_features needs one value per downsampling ({num_levels - 1}), got {decoder_features}."
            )
        if not 0.0 < compression <= 1.0:
            raise ValueError(f"compression must be in (0, 1], got {compression}.")
        self.attention = get_attention_type(attention)
        self.ja_variant = ja_variant_number(ja_variant)
        bad_levels = [i for i in attention_levels if not -num_levels <= i < num_levels]
        if bad_levels:
            raise ValueError(f"attention_levels {bad_levels} out of range for {num_levels} levels.")
        # negative levels count from the bottleneck: stored non-negative, each once
        self.attention_levels = sorted({i % num_levels for i in attention_levels})
        # each of the num_levels - 1 transitions halves the size, so forward pads to a multiple of this
        self.size_divisor = 2 ** (num_levels - 1)
        self.spatial_dims = spatial_dims
        self.in_channels = in_channels

        def attention_block(level: int, channels: int) -> nn.Module:
            if level not in self.attention_levels:
                return nn.Identity()
            return get_attention_block(
                self.attention,
                spatial_dims,
                channels,
                self.ja_variant,
                pwa_hidden_channels,
                sa_inter_channels,
                sa_num_heads,
                sa_init_scale,
                sa_qk_norm,
            )

        # no bias: the first dense layer starts with a normalization
        self.stem = Conv[Conv.CONV, spatial_dims](in_channels, init_features, kernel_size=3, padding=1, bias=False)
        self.encoder = nn.ModuleList()
        skip_channels = []
        channels = init_features
        for level, num_layers in enumerate(block_layers):
            stage = nn.Sequential()
            if level > 0:
                reduced = max(int(channels * compression), 1)  # DenseNet-BC's theta, never below one channel
                stage.add_module("transition", DenseTransition(spatial_dims, channels, reduced, act, norm))
                channels = reduced
            dense = DenseBlock(spatial_dims, channels, num_layers, growth_rate, act, norm, dropout)
            stage.add_module("dense", dense)
            channels = dense.out_channels
            stage.add_module("attention", attention_block(level, channels))
            self.encoder.append(stage)
            skip_channels.append(channels)  # the last entry, the bottleneck, is the decoder's input, not a skip

        # deepest decoder block first, so that forward can pop the skips in order
        # is_pad=False: forward pads the input to a multiple of size_divisor, so every upsampled map already has
        # its skip's size (UpCat's own no-op replicate pad would keep a replication_pad backward in the graph)
        self.decoder = nn.ModuleList()
        for level in range(num_levels - 2, -1, -1):
            features = decoder_features[level]
            self.decoder.append(
                UpCat(
                    spatial_dims,
                    channels,
                    skip_channels[level],
                    features,
                    act,
                    norm,
                    False,  # bias of UpCat's two convolutions, each followed by a normalization
                    dropout,
                    upsample,
                    is_pad=False,
                )
            )
            channels = features
        self.head = Conv[Conv.CONV, spatial_dims](channels, out_channels, kernel_size=1)
        # the attention structure, saved with the weights: JA structures share their weight names and shapes,
        # so only this record tells a JA-9 checkpoint from a JA-3 one when it is loaded (see _load_from_state_dict)
        structure = [ATTENTION_TYPES.index(self.attention), self.ja_variant if self.attention == "ja" else 0]
        self.register_buffer("structure", torch.tensor(structure, dtype=torch.long))

    def _load_from_state_dict(
        self,
        state_dict: dict,
        prefix: str,
        local_metadata: dict,
        strict: bool,
        missing_keys: list,
        unexpected_keys: list,
        error_msgs: list,
    ) -> None:
        """Refuse weights saved from another attention structure, naming both; accept weights saved before
        the structure was recorded (they keep this network's record)."""
        key = prefix + "structure"
        if key not in state_dict:  # weights from before the record: taken as this network's structure
            state_dict[key] = self.structure.clone()
        elif state_dict[key].tolist() != self.structure.tolist():
            error_msgs.append(
                f"the weights are of {_structure_name(state_dict[key].tolist())}, but this network is "
                f"{_structure_name(self.structure.tolist())}: give the network the attention and ja_variant the "
                "weights were trained with (e.g. --network_def#attention ja --network_def#ja_variant 9)"
            )
            # load_state_dict copies every other tensor before it raises: keep this network's own record
            state_dict[key] = self.structure.clone()
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x: input of shape ``(B, in_channels, *spatial)``, any spatial size.

        Returns:
            logits of shape ``(B, out_channels, *spatial)``.

        Raises:
            ValueError: ``x`` has another number of dimensions or channels, or (training) a batch of 1 whose
                bottleneck is a single value per channel.
            TypeError: ``x`` is not floating point, or float64 against other weights (or the reverse).
        """
        if x.dim() != self.spatial_dims + 2 or x.shape[1] != self.in_channels:
            raise ValueError(
                "DenseUNet expects input of shape (batch, in_channels={}, {} spatial dimensions), got {}.".format(
                    self.in_channels, self.spatial_dims, list(x.shape)
                )
            )
        # half-precision inputs are left to autocast; float32 against float64 would fail inside the stem
        if not x.is_floating_point() or (x.dtype == torch.float64) != (self.stem.weight.dtype == torch.float64):
            raise TypeError(
                "DenseUNet input is {} but its weights are {}: convert the input (e.g. x.float()) or the network "
                "(e.g. net.double()).".format(x.dtype, self.stem.weight.dtype)
            )
        spatial = x.shape[2:]
        bottleneck_values = x.shape[0]  # batch x bottleneck positions: what batch norm normalises over there
        for i in range(len(spatial)):
            # replicate-pad the far end up to a multiple of size_divisor by repeating the last row: an index
            # (not F.pad(mode="replicate"), whose backward torch.compile's CPU inductor cannot lower); applied
            # unconditionally (an identity index when nothing is missing), so exported graphs keep any size
            size = spatial[i]
            padded = size + (self.size_divisor - size % self.size_divisor) % self.size_divisor
            x = x.index_select(i + 2, torch.arange(padded, device=x.device).clamp(max=size - 1))
            bottleneck_values *= padded // self.size_divisor
        if self.training and bottleneck_values == 1:
            raise ValueError(
                "DenseUNet: a training batch of 1 input of spatial size {} leaves 1 value per channel at the "
                "bottleneck, where normalisation cannot train: use a batch of 2 or more, or inputs larger than {} "
                "in some dimension.".format(list(spatial), self.size_divisor)
            )

        x = self.stem(x)
        skips: list[torch.Tensor] = []
        for stage in self.encoder:
            x = stage(x)
            skips.append(x)
        x = skips.pop()  # the bottleneck starts the decoder; the other levels' outputs are its skips
        for up in self.decoder:
            x = up(x, skips.pop())
        x = self.head(x)

        for i in range(len(spatial)):  # crop the padding at the far end of each dimension
            x = x.narrow(i + 2, 0, spatial[i])
        return x


def _structure_name(structure: list[int]) -> str:
    """``[attention index, ja variant]`` of `DenseUNet.structure` in words, e.g. ``"DenseUNet-JA-9 (attention 'ja',
    ja_variant 9)"``."""
    attention, variant = structure
    if not 0 <= attention < len(ATTENTION_TYPES):
        return f"an unknown structure {structure}"
    name = ATTENTION_TYPES[attention]
    if name == "none":
        return "DenseUNet (no attention)"
    if name == "ja":
        return f"DenseUNet-JA-{variant} (attention 'ja', ja_variant {variant})"
    return f"DenseUNet-{name.upper()} (attention '{name}')"


class DenseUNetSA(DenseUNet):
    """
    The paper's DenseUNet-SA: :py:class:`DenseUNet` with ``x + S(x)`` (self-attention) at the bottleneck.
    Takes every :py:class:`DenseUNet` argument except ``attention``.
    """

    def __init__(self, spatial_dims: int = 2, in_channels: int = 3, out_channels: int = 2, **kwargs: Any) -> None:
        _reject_attention_arg(type(self).__name__, kwargs)
        super().__init__(spatial_dims, in_channels, out_channels, attention="sa", **kwargs)


class DenseUNetPWA(DenseUNet):
    """
    The paper's DenseUNet-PWA: :py:class:`DenseUNet` with point-wise attention ``P(x)`` at the bottleneck.
    Takes every :py:class:`DenseUNet` argument except ``attention``.
    """

    def __init__(self, spatial_dims: int = 2, in_channels: int = 3, out_channels: int = 2, **kwargs: Any) -> None:
        _reject_attention_arg(type(self).__name__, kwargs)
        super().__init__(spatial_dims, in_channels, out_channels, attention="pwa", **kwargs)


class DenseUNetJA(DenseUNet):
    """
    The paper's DenseUNet-JA: :py:class:`DenseUNet` with joint attention at the bottleneck, JA-9 unless
    ``ja_variant`` says otherwise. Takes every :py:class:`DenseUNet` argument except ``attention``.

    Examples::

        >>> net = DenseUNetJA(in_channels=1, ja_variant=8)
    """

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 3,
        out_channels: int = 2,
        ja_variant: int | str = 9,
        **kwargs: Any,
    ) -> None:
        _reject_attention_arg(type(self).__name__, kwargs)
        super().__init__(spatial_dims, in_channels, out_channels, attention="ja", ja_variant=ja_variant, **kwargs)


def _reject_attention_arg(name: str, kwargs: dict[str, Any]) -> None:
    if "attention" in kwargs:
        raise ValueError(f"{name} fixes the attention type; use DenseUNet(attention=...) to choose another.")
