"""Command-line value parsers (argparse ``type=``) shared by the harness's commands:
``python -m monai_jattn.experiments`` and ``scripts/time_to_quality.py``."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["parse_override", "parse_seeds", "parse_point", "parse_network_overrides"]


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``key=value``; the value is read as JSON when it parses (numbers, booleans, lists), else text.

    Args:
        text: one ``--override`` value.

    Example:
        >>> parse_override("network_def#block_layers=[2, 2, 2]")
        ('network_def#block_layers', [2, 2, 2])
    """
    key, separator, value = text.partition("=")
    if not separator or not key.strip():
        raise argparse.ArgumentTypeError(f"an override must look like key=value, got {text!r}.")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


def parse_seeds(text: str) -> list[int]:
    """Comma-separated seeds, e.g. ``"0,1,2"``.

    Args:
        text: the ``--seeds`` value.
    """
    try:
        return [int(seed) for seed in text.split(",") if seed.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--seeds must be comma-separated integers, got {text!r}.") from error


def parse_point(text: str) -> tuple[int, int]:
    """A pixel ``x,y`` (column, row), e.g. ``"280,290"``.

    Args:
        text: one ``--points`` value.
    """
    try:
        x, y = (int(v) for v in text.split(","))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"a point must be x,y in pixels, e.g. 280,290; got {text!r}.") from error
    return x, y


def parse_network_overrides(text: str) -> dict[str, Any]:
    """A JSON object of DenseUNet arguments, e.g. ``'{"growth_rate": 8}'``.

    Args:
        text: the ``--network_overrides`` value.
    """
    try:
        values = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"--network_overrides is not valid JSON: {error}.") from error
    if not isinstance(values, dict):
        raise argparse.ArgumentTypeError("--network_overrides must be a JSON object of DenseUNet arguments.")
    return values
