"""Networks: the DenseUNet family of the joint-attention paper."""

from __future__ import annotations

from .dense_unet import DenseUNet, DenseUNetJA, DenseUNetPWA, DenseUNetSA

__all__ = ["DenseUNet", "DenseUNetJA", "DenseUNetPWA", "DenseUNetSA"]
