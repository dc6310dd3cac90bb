"""Checks of the bundles' settings where they enter, so that a bad value stops the run at once with the setting
named, not later inside ignite or PyTorch."""

from __future__ import annotations

import numbers
from typing import Any

import torch
from monai.utils import str2bool

__all__ = [
    "SettingError",
    "check_count",
    "check_device",
    "check_image_size",
    "check_positive_int",
    "check_training_settings",
]


class SettingError(ValueError):
    """A setting (bundle config id or function argument) has a value that cannot work. The message names it."""


def check_positive_int(value: Any, name: str, allow_none: bool = False) -> int | None:
    """Return ``value`` when it is an integer >= 1 (or None with ``allow_none``), else raise `SettingError`.

    Args:
        value: the value to check (an integer, numpy's included; ``bool`` is refused).
        name: the setting or argument, for the message.
        allow_none: accept None (a setting that can be off).
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise SettingError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_count(value: Any, name: str) -> int:
    """Return ``value`` when it is an integer >= 0 (a number of images, ...), else raise `SettingError`.

    Args:
        value: the value to check.
        name: the setting or argument, for the message.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise SettingError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


def check_image_size(size: Any, name: str = "image_size") -> tuple[int, int]:
    """Return ``size`` as a (height, width) tuple of positive integers, else raise `SettingError`.

    Args:
        size: two integers >= 1.
        name: the setting or argument, for the message.
    """
    try:
        height, width = size
    except (TypeError, ValueError):
        raise SettingError(f"{name} must be two integers (height, width), got {size!r}") from None
    check_positive_int(height, f"{name} height")
    check_positive_int(width, f"{name} width")
    return int(height), int(width)


def check_device(device: str | torch.device, name: str = "device") -> torch.device:
    """Return ``device`` as a `torch.device` when this machine has it, else raise `SettingError`.

    Args:
        device: e.g. ``"cpu"``, ``"cuda"``, ``"cuda:1"``.
        name: the setting, for the message.
    """
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise SettingError(f"{name} {device!r} is not a device name ({e}); use e.g. cpu or cuda:0") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise SettingError(f"{name} {str(device)!r}: this machine has no usable CUDA GPU; use --{name} cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise SettingError(
                f"{name} {str(device)!r}: there is no GPU {device.index} ({torch.cuda.device_count()} visible)"
            )
    return device


def check_training_settings(
    max_iterations: Any,
    val_interval: Any,
    batch_size: Any,
    device: Any,
    time_limit: Any = None,
    learning_rate: Any = None,
    weight_decay: Any = None,
    switches: dict[str, Any] | None = None,
) -> None:
    """Check the training bundle's settings together; raise `SettingError` naming the first bad one.

    Args:
        max_iterations: the bundle's ``max_iterations`` (integer >= 1).
        val_interval: the bundle's ``val_interval``, iterations between validations (integer >= 1).
        batch_size: the bundle's ``batch_size`` (integer >= 1).
        device: the bundle's ``device``, which must exist on this machine.
        time_limit: the bundle's ``time_limit`` in seconds, None or a number > 0.
        learning_rate: the bundle's ``learning_rate``, a number > 0 (None: not checked).
        weight_decay: the bundle's ``weight_decay``, a number >= 0 (None: not checked).
        switches: on/off settings by name, e.g. ``{"resume": "True"}``: each a boolean or a string that
            ``monai.utils.str2bool`` reads (``true``/``false``, ``yes``/``no``, ``1``/``0``, any case).
    """
    check_positive_int(max_iterations, "max_iterations")
    check_positive_int(val_interval, "val_interval")
    check_positive_int(batch_size, "batch_size")
    for name, value, zero_allowed in (("learning_rate", learning_rate, False), ("weight_decay", weight_decay, True)):
        if value is None:
            continue
        is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if not is_number or value < 0 or (value == 0 and not zero_allowed):
            raise SettingError(f"{name} must be a number {'>= 0' if zero_allowed else '> 0'}, got {value!r}")
    for name, value in (switches or {}).items():
        try:
            str2bool(value)
        except (ValueError, TypeError):
            raise SettingError(f"{name} must be True or False, got {value!r}") from None
    check_device(device)
    if time_limit is not None and (
        isinstance(time_limit, bool) or not isinstance(time_limit, numbers.Real) or time_limit <= 0
    ):
        raise SettingError(f"time_limit must be a number of seconds > 0 or None, got {time_limit!r}")
