"""monai-jattn: the joint-attention DenseUNet of Zhang, Dong & Li (ISBI 2022) for MONAI."""

__version__ = "0.2.0"
