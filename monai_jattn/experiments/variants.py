"""The paper's twelve model variants by short name, and how each one sets the bundles' ``network_def``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["ModelVariant", "MODEL_VARIANTS", "parse_model_names"]


@dataclass(frozen=True)
class ModelVariant:
    """One model of the ablation.

    Args:
        name: short name used on the command line and in run folder names, e.g. ``"ja9"``.
        label: the paper's name, e.g. ``"DenseUNet-JA-9"``.
        attention: ``DenseUNet``'s ``attention`` argument (``"none"``, ``"sa"``, ``"pwa"`` or ``"ja"``).
        ja_variant: ``DenseUNet``'s ``ja_variant`` argument (only used with ``attention="ja"``).
    """

    name: str
    label: str
    attention: str
    ja_variant: int = 9

    def network_overrides(self) -> dict[str, Any]:
        """The bundle config overrides that select this model."""
        return {"network_def#attention": self.attention, "network_def#ja_variant": self.ja_variant}


MODEL_VARIANTS: dict[str, ModelVariant] = {
    variant.name: variant
    for variant in (
        ModelVariant("dense_unet", "DenseUNet", "none"),
        ModelVariant("sa", "DenseUNet-SA", "sa"),
        ModelVariant("pwa", "DenseUNet-PWA", "pwa"),
        *(ModelVariant(f"ja{k}", f"DenseUNet-JA-{k}", "ja", k) for k in range(1, 10)),
    )
}
"""All twelve variants, in the paper's order: DenseUNet, -SA, -PWA, -JA-1 .. -JA-9."""


def parse_model_names(names: Iterable[str] | str | None) -> list[str]:
    """Validate model names (comma-separated text or a list; default: all twelve), in the given order.

    Args:
        names: e.g. ``"dense_unet,sa,ja9"`` or ``["dense_unet", "ja9"]``; None for all.

    Raises:
        ValueError: naming every unknown or repeated name and listing the valid ones.

    Example:
        >>> parse_model_names("dense_unet, ja9")
        ['dense_unet', 'ja9']
    """
    if names is None:
        return list(MODEL_VARIANTS)
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
