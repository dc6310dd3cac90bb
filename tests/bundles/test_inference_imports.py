"""The package route's inference imports what it uses: not the training recipe, its run lock's users, or the
training handlers (checkpoint savers, iteration budget, metrics reports, training curves)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from bundle_helpers import REPO
from PIL import Image

SCRIPT = """
import sys
from monai.bundle import ConfigWorkflow
workflow = ConfigWorkflow(config_file="configs/inference.json", workflow_type="inference", dataset_dir=sys.argv[1],
                          output_dir=sys.argv[2], num_workers=0)
workflow.initialize()
workflow.parser.get_parsed_content("runner")
print(" ".join(sorted(m for m in sys.modules if m.startswith("monai_jattn"))))
"""
TRAINING_ONLY = [
    "monai_jattn.recipe",
    "monai_jattn.distributed",
    "monai_jattn.experiments",
    "monai_jattn.handlers.iteration_budget",
    "monai_jattn.handlers.latest_checkpoint",
    "monai_jattn.handlers.metrics_report",
    "monai_jattn.handlers.training_curve",
    "monai_jattn.handlers.nan_loss",
]


def test_drive_inference_imports_no_training_module(tmp_path):
    (tmp_path / "images").mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "images" / "eye.png")
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "images"), str(tmp_path / "out")],
        cwd=REPO / "bundles" / "drive_jattn_segmentation",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    modules = set(result.stdout.split())
    assert "monai_jattn.inference" in modules and "monai_jattn.networks.nets.dense_unet" in modules
    assert not modules & set(TRAINING_ONLY), sorted(modules & set(TRAINING_ONLY))
