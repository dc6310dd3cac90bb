"""The ablation report's table of each run (`monai_jattn.experiments.ablation_report.each_run_markdown`): the
scored Dice beside the best and the last value of the run's validation curve."""

from __future__ import annotations

import json

from monai_jattn.experiments.ablation_report import each_run_markdown


def test_each_run_shows_the_scored_dice_and_the_best_and_last_validation(tmp_path):
    curve = {"validation": {"metric": "dice", "iteration": [250, 500, 750], "value": [0.6, 0.81, 0.74]}}
    folder = tmp_path / "runs" / "ja9_seed1" / "train"
    folder.mkdir(parents=True)
    (folder / "training_curve.json").write_text(json.dumps(curve))
    rows = [
        {"model": "ja9", "label": "DenseUNet-JA-9", "seed": 1, "dice": 0.8123},
        {"model": "dense_unet", "label": "DenseUNet", "seed": 0, "dice": 0.79},  # its run folder is gone
    ]
    lines = each_run_markdown(rows, tmp_path).splitlines()
    assert lines[0] == "| Model | Seed | Dice | best validation (iteration) | last validation (iteration) |"
    assert lines[2] == "| DenseUNet-JA-9 | 1 | 0.8123 | 0.8100 (500) | 0.7400 (750) |"
    assert lines[3] == "| DenseUNet | 0 | 0.7900 | – | – |"


def test_each_run_of_drive_reports_the_whole_image_dice(tmp_path):
    rows = [{"model": "ja9", "label": "DenseUNet-JA-9", "seed": 0, "dice_whole_image": 0.83, "dice_inside_fov": 0.82}]
    assert "| DenseUNet-JA-9 | 0 | 0.8300 | – | – |" in each_run_markdown(rows, tmp_path)
