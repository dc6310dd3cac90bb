"""Shared settings for the network tests: a small DenseUNet that keeps the suite fast on CPU."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture
def small_net_kwargs() -> dict:
    """DenseUNet arguments for a tiny network with three levels (inputs padded to a multiple of 4).

    ``sa_init_scale`` is non-zero so that the self-attention branch changes the output.
    """
    return {
        "init_features": 8,
        "growth_rate": 4,
        "block_layers": (1, 1, 2),
        "decoder_features": (8, 8),
        "pwa_hidden_channels": 8,
        "sa_init_scale": 0.5,
    }


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
