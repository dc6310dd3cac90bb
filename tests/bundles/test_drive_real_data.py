"""The DRIVE bundle's evaluation on the real DRIVE test set (``../shared/data/DRIVE`` beside the repository):
the second observer scored against the first, the human baseline, in both protocols. Skipped without the
real data; the same pipeline is tested on generated data in test_drive_bundle.py."""

from __future__ import annotations

import json

import pytest
import torch
from bundle_helpers import REPO, configs, run_settings, run_workflow
from monai.bundle import ConfigParser

from monai_jattn.datasets.drive import drive_datalist

REAL_DRIVE = REPO.parent / "shared" / "data" / "DRIVE"
CONFIGS = configs("drive_jattn_segmentation")

pytestmark = pytest.mark.skipif(
    not (REAL_DRIVE / "test" / "2nd_manual").is_dir(), reason=f"no real DRIVE at {REAL_DRIVE}"
)


def test_second_observer_on_the_real_test_set(tmp_path):
    test = drive_datalist(REAL_DRIVE, "test", require_labels=True)
    assert len(test) == 20 and all("label2" in entry for entry in test)
    overrides = run_settings(CONFIGS, REAL_DRIVE, tmp_path, save_predictions=False)
    parser = ConfigParser()
    parser.read_config(CONFIGS / "train.json")
    parser.update(overrides)
    (tmp_path / "models").mkdir()
    torch.save(parser.get_parsed_content("network_def").state_dict(), tmp_path / "models" / "model.pt")  # any model
    run_workflow([CONFIGS / "train.json", CONFIGS / "evaluate.json"], **overrides)
    summary = json.loads((tmp_path / "eval" / "metrics_summary.json").read_text())
    expected = {
        "observer2_recall_whole_image": 0.7743,
        "observer2_tnr_whole_image": 0.9819,
        "observer2_dice_whole_image": 0.7889,
        "observer2_accuracy_whole_image": 0.9637,
        "observer2_dice_inside_fov": 0.7891,
        "observer2_accuracy_inside_fov": 0.9473,
    }
    for key, value in expected.items():
        assert summary[key] == pytest.approx(value, abs=5e-5), key
    assert (
        "| 2nd observer | whole image | 0.7743 | 0.9819 | 0.7889 | 0.9637 | – |"
        in (tmp_path / "eval" / "metrics.md").read_text()
    )
