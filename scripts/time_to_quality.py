#!/usr/bin/env python
"""Time-to-quality of training recipes through a bundle; see ``monai_jattn.experiments.time_to_quality``.

Examples:
    # the paper's recipe and the fast one on DRIVE, 30 minutes each at most, on the CPU
    python scripts/time_to_quality.py --dataset_dir /data/DRIVE --output_dir outputs/ttq \\
        --override time_limit=1800 --override device=cpu --override num_workers=0 --target 0.8
    # redraw the report of finished runs
    python scripts/time_to_quality.py --output_dir outputs/ttq --collect_only --target 0.8
"""

from monai_jattn.experiments.time_to_quality import main

if __name__ == "__main__":
    main()
