#!/usr/bin/env python
"""End-to-end training speed of the DRIVE bundle; see ``monai_jattn.experiments.end_to_end``.

Examples:
    python scripts/benchmark_end_to_end.py --dataset_dir ../shared/data/DRIVE --iterations 60 --legacy
    python scripts/benchmark_end_to_end.py --dataset_dir /data/DRIVE --device cuda --iterations 600
"""

from monai_jattn.experiments.end_to_end import main

if __name__ == "__main__":
    main()
