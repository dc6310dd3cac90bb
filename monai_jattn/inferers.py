"""An inferer that runs the network under ``torch.autocast`` on any device, for CPU mixed precision."""

from __future__ import annotations

from typing import Any

import torch
from monai.inferers import SimpleInferer

__all__ = ["AutocastInferer"]


class AutocastInferer(SimpleInferer):
    """
    MONAI's ``SimpleInferer`` under ``torch.autocast(device_type, dtype)``, returning float32 logits
    so that the loss is computed in full precision.

    MONAI's engines autocast on CUDA only (their ``amp`` flag); this inferer gives the same on the
    CPU, where bfloat16 autocast with channels-last weights runs on the CPU's bfloat16 units
    (AVX-512 BF16, AMX). The bundles switch it on through ``resolve_speed_settings``.

    Args:
        device_type: the autocast device type, ``"cpu"`` or ``"cuda"``.
        dtype: the reduced precision, ``torch.bfloat16`` by default.
        enabled: False makes this a plain ``SimpleInferer``.
    """

    def __init__(self, device_type: str = "cpu", dtype: torch.dtype = torch.bfloat16, enabled: bool = True) -> None:
        super().__init__()
        self.device_type = device_type
        self.dtype = dtype
        self.enabled = bool(enabled)

    def __call__(self, inputs: torch.Tensor, network: Any, *args: Any, **kwargs: Any) -> torch.Tensor:
        if not self.enabled:
            return super().__call__(inputs, network, *args, **kwargs)
        with torch.autocast(self.device_type, dtype=self.dtype):
            outputs = super().__call__(inputs, network, *args, **kwargs)
        return outputs.float()
