#!/usr/bin/env python
"""Benchmark the DenseUNet family against MONAI peers; see ``monai_jattn.experiments.benchmark``.

Examples:
    python scripts/benchmark.py --quick --output_dir outputs/benchmark_quick
    python scripts/benchmark.py --output_dir outputs/benchmark
    python scripts/benchmark.py --device cuda --amp --output_dir outputs/benchmark_cuda_amp
"""

from monai_jattn.experiments.benchmark import main

if __name__ == "__main__":
    main()
