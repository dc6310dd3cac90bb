"""Experiments: the ablation runner over the bundles, the paper's table and figures, and the benchmark.

Modules:
    - :mod:`~monai_jattn.experiments.benchmark`: cost of the DenseUNet family against MONAI peers
      (``python scripts/benchmark.py``, which holds the project's pass/fail limits): the models compared
      (:mod:`~monai_jattn.experiments.compared_models`), their measurement
      (:mod:`~monai_jattn.experiments.model_costs`) and the tables (:mod:`~monai_jattn.experiments.benchmark_report`).
    - :mod:`~monai_jattn.experiments.attention_memory`: ``SelfAttention`` memory against positions.
    - :mod:`~monai_jattn.experiments.attention_maps`: a trained network's PWA map and SA weights of
      chosen pixels drawn over an image (``python -m monai_jattn.experiments attention-maps``).
    - :mod:`~monai_jattn.experiments.measure`: device-aware time, peak memory and FLOPs of a call.
"""
