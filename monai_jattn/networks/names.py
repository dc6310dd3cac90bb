"""Model names, defined once: the paper's twelve variants and MONAI's BasicUNet (the field's baseline) by short
name, their display labels, how each one sets the bundles' ``network_def``, and the label of a built network."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

__all__ = [
    "ModelVariant",
    "MODEL_VARIANTS",
    "PAPER_MODELS",
    "parse_model_names",
    "model_label",
    "paper_label",
    "short_label",
]


@dataclass(frozen=True)
class ModelVariant:
    """One model of the ablation.

    Args:
        name: short name used on the command line and in run folder names, e.g. ``"ja9"``.
        label: the paper's name, e.g. ``"DenseUNet-JA-9"``.
        attention: ``DenseUNet``'s ``attention`` argument (``"none"``, ``"sa"``, ``"pwa"`` or ``"ja"``).
        ja_variant: ``DenseUNet``'s ``ja_variant`` argument (only used with ``attention="ja"``).
        network: a whole ``network_def`` replacing the bundle's DenseUNet (e.g. MONAI's BasicUNet);
            None for a DenseUNet variant.
        paper_name: the name the paper's main text uses where it differs from ``label`` (its
            ``"DenseUNet-JA"`` is JA-9); ``""`` otherwise.
    """

    name: str
    label: str
    attention: str = "none"
    ja_variant: int = 9
    network: dict[str, Any] | None = None
    paper_name: str = ""

    def network_overrides(self, network_def: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The bundle config overrides that select this model.

        Args:
            network_def: the bundle's own (raw) ``network_def``; a replacing ``network`` (e.g. BasicUNet) takes its
                ``spatial_dims``, ``in_channels`` and ``out_channels`` (values or ``@`` references), so that it
                fits the bundle's data, e.g. 3D multi-channel volumes. None keeps the ``network``'s own.
        """
        if self.network is None:
            return {"network_def#attention": self.attention, "network_def#ja_variant": self.ja_variant}
        io = {key: network_def[key] for key in _NETWORK_IO if key in (network_def or {})}
        return {"network_def": {**self.network, **io}}


# the network_def entries a replacing network takes from the bundle's own, so that it fits the bundle's data
_NETWORK_IO = ("spatial_dims", "in_channels", "out_channels")

MODEL_VARIANTS: dict[str, ModelVariant] = {
    variant.name: variant
    for variant in (
        ModelVariant("dense_unet", "DenseUNet", "none"),
        ModelVariant("sa", "DenseUNet-SA", "sa"),
        ModelVariant("pwa", "DenseUNet-PWA", "pwa"),
        # JA-9 has its own line: the paper's main text calls it DenseUNet-JA
        *(ModelVariant(f"ja{k}", f"DenseUNet-JA-{k}", "ja", k) for k in range(1, 9)),
        ModelVariant("ja9", "DenseUNet-JA-9", "ja", 9, paper_name="DenseUNet-JA"),
        ModelVariant(
            "basic_unet",
            "BasicUNet (MONAI)",
            network={"_target_": "BasicUNet", "spatial_dims": 2, "in_channels": 1, "out_channels": 2},
        ),
    )
}
"""The paper's twelve variants in its order (DenseUNet, -SA, -PWA, -JA-1 .. -JA-9), then MONAI's BasicUNet
with its default features, trained by the same bundle and recipe as the field's baseline."""

PAPER_MODELS: tuple[str, ...] = tuple(name for name in MODEL_VARIANTS if name != "basic_unet")
"""The paper's twelve variants, the default of the ablation."""


def parse_model_names(names: Iterable[str] | str | None) -> list[str]:
    """Validate model names (comma-separated text or a list; default: the paper's twelve), in the given order.

    Args:
        names: e.g. ``"dense_unet,sa,ja9,basic_unet"`` or ``["dense_unet", "ja9"]``; None for `PAPER_MODELS`.

    Raises:
        ValueError: naming every unknown or repeated name and listing the valid ones.

    Example:
        >>> parse_model_names("dense_unet, ja9")
        ['dense_unet', 'ja9']
    """
    if names is None:
        return list(PAPER_MODELS)
    if isinstance(names, str):
        names = [names]
    parsed = [part.strip() for name in names for part in name.split(",") if part.strip()]
    unknown = [name for name in parsed if name not in MODEL_VARIANTS]
    repeated = sorted({name for name in parsed if parsed.count(name) > 1})
    if unknown or repeated or not parsed:
        problems = [f"unknown {unknown}" if unknown else "", f"repeated {repeated}" if repeated else ""]
        problem = ", ".join(p for p in problems if p) or "no model given"
        raise ValueError(f"bad --models ({problem}); choose from {', '.join(MODEL_VARIANTS)}.")
    return parsed


def model_label(network: nn.Module) -> str:
    """The display label of a built network, as in the paper's tables: e.g. ``"DenseUNet-JA-9"``.

    A `DenseUNet` is labelled by its bottleneck attention, any other network by its class, with the label of
    the matching :data:`MODEL_VARIANTS` entry (e.g. ``"BasicUNet (MONAI)"``) or else the class name. Bundle
    configs use it for the first column of the metrics report:
    ``"model_name": {"_target_": "monai_jattn.networks.model_label", "network": "@network_def"}``.

    Args:
        network: the network, e.g. a bundle's ``network_def``.

    Example:
        >>> from monai_jattn.networks import DenseUNet
        >>> model_label(DenseUNet(2, 1, 2, attention="ja", ja_variant=3))
        'DenseUNet-JA-3'
    """
    from monai_jattn.networks.nets import DenseUNet  # names are imported by the nets package's users too

    if not isinstance(network, DenseUNet):
        name = type(network).__name__
        # a _target_ may be a bare class name or a dotted path (monai.networks.nets.BasicUNet)
        labels = [
            v.label for v in MODEL_VARIANTS.values() if v.network and v.network["_target_"].split(".")[-1] == name
        ]
        return labels[0] if labels else name
    attention = network.attention
    for variant in MODEL_VARIANTS.values():
        if variant.network is None and variant.attention == attention:
            if attention != "ja" or variant.ja_variant == network.ja_variant:
                return variant.label
    raise ValueError(f"no model name for DenseUNet attention={attention!r} ja_variant={network.ja_variant!r}")


def paper_label(name: str) -> str:
    """The label of model ``name`` in a table of the paper's results: its label, with the paper's name first
    where the paper names it otherwise, e.g. ``"DenseUNet-JA (JA-9)"``.

    Args:
        name: a key of :data:`MODEL_VARIANTS`, e.g. ``"ja9"``.
    """
    variant = MODEL_VARIANTS[name]
    return f"{variant.paper_name} ({short_label(variant.label)})" if variant.paper_name else variant.label


def short_label(label: str) -> str:
    """A model label without the DenseUNet family prefix, for crowded figure axes: ``"DenseUNet-JA-9"`` -> ``"JA-9"``,
    the plain ``"DenseUNet"`` -> ``"Baseline"``; other labels unchanged.

    Args:
        label: a model label, e.g. from :data:`MODEL_VARIANTS`.
    """
    return label.replace("DenseUNet-", "").replace("DenseUNet", "Baseline")
