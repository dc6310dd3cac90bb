"""The paper-reproduction harness: the ablation over the bundles, the paper's tables and figures, the benchmark,
time to quality, the end-to-end speed measurement and the attention maps.

The harness sits on top of the runtime (the networks, datasets, transforms, handlers and bundles a MONAI user
needs) and the runtime never imports it; ``tests/test_package_layers.py`` checks that, and that the package has
no import circle. It stays a subpackage so that an installed package keeps its documented commands
(``python -m monai_jattn.experiments ablation|report|attention-maps``) and the ``scripts/`` that drive it.

Modules:
    - :mod:`~monai_jattn.experiments.__main__`: the command line (value parsers in
      :mod:`~monai_jattn.experiments.arguments`).
    - :mod:`~monai_jattn.experiments.bundle_runs`: find a dataset's bundle and run one of its workflows in process.
    - :mod:`~monai_jattn.experiments.ablation`: train and evaluate every model and seed through the bundle;
      :mod:`~monai_jattn.experiments.ablation_report` writes its tables and figures
      (:mod:`~monai_jattn.experiments.results`, :mod:`~monai_jattn.experiments.figures`), with the paper's own
      numbers from :mod:`~monai_jattn.experiments.paper_results`.
    - :mod:`~monai_jattn.experiments.benchmark`: cost of the DenseUNet family against MONAI peers
      (``python scripts/benchmark.py``, which holds the project's pass/fail limits): the models compared
      (:mod:`~monai_jattn.experiments.compared_models`), their measurement
      (:mod:`~monai_jattn.experiments.model_costs`) and the tables (:mod:`~monai_jattn.experiments.benchmark_report`).
    - :mod:`~monai_jattn.experiments.attention_memory`: ``SelfAttention`` memory against positions.
    - :mod:`~monai_jattn.experiments.time_to_quality`: validation Dice against wall-clock time of training recipes
      (``python scripts/time_to_quality.py``).
    - :mod:`~monai_jattn.experiments.end_to_end`: a bundle's training iteration against its bare step
      (``python scripts/benchmark_end_to_end.py``).
    - :mod:`~monai_jattn.experiments.attention_maps`: a trained network's PWA map and SA weights of
      chosen pixels drawn over an image (``python -m monai_jattn.experiments attention-maps``).
    - :mod:`~monai_jattn.experiments.measure`: device-aware time (the one median timer), peak memory and FLOPs.
"""
