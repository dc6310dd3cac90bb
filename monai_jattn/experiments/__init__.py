"""Experiments: the ablation runner over the bundles, the paper's table and figures, and the benchmark.

Modules:
    - :mod:`~monai_jattn.experiments.benchmark`: cost of the DenseUNet family against MONAI peers
      (``python scripts/benchmark.py``).
    - :mod:`~monai_jattn.experiments.attention_memory`: ``SelfAttention`` memory against positions.
    - :mod:`~monai_jattn.experiments.attention_maps`: a trained network's PWA map and SA weights of
      chosen pixels drawn over an image (``python -m monai_jattn.experiments attention-maps``).
    - :mod:`~monai_jattn.experiments.measure`: device-aware time, peak memory and FLOPs of a call.
"""
