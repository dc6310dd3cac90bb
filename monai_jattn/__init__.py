"""monai-jattn: the joint-attention DenseUNet of Zhang, Dong & Li (ISBI 2022) for MONAI.

The runtime is everything but `monai_jattn.experiments`: the networks, datasets, data checks, transforms,
handlers, metrics and the bundles' build. `monai_jattn.experiments` is the paper-reproduction harness on top of
it; no runtime module imports it (checked by ``tests/test_package_layers.py``).
"""

__version__ = "0.2.0"
