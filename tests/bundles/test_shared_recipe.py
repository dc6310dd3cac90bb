"""What the shared recipe (``bundles/common/``) gives every bundle, tested once for all bundles: the workflows
build without their data and check it when run, and the multi-GPU overlays take the GPU of the local rank."""

from __future__ import annotations

import pytest
from bundle_helpers import REPO, check_builds_without_data, check_multi_gpu_device_is_local_rank, configs

from monai_jattn.bundles import bundle_names

BUNDLES = bundle_names(REPO / "bundles")
EVALUATE_IDS = {  # ids evaluation builds (train.json + evaluate.json) besides the properties
    "drive_jattn_segmentation": ("validate#evaluator", "metrics_description"),
    "isic2017_jattn_segmentation": ("validate#evaluator", "metrics_description"),
    "msd_jattn_segmentation": ("validate#evaluator", "test_datalist"),
}


def test_every_bundle_is_tested():
    assert sorted(EVALUATE_IDS) == BUNDLES


@pytest.mark.parametrize("bundle", BUNDLES)
def test_workflows_build_without_data_and_check_it_when_run(bundle, tmp_path):
    check_builds_without_data(configs(bundle), tmp_path / "no_such_folder", tmp_path, EVALUATE_IDS[bundle])


@pytest.mark.parametrize("bundle", BUNDLES)
def test_multi_gpu_configs_use_the_local_rank_for_the_device(bundle, monkeypatch):
    check_multi_gpu_device_is_local_rank(configs(bundle), monkeypatch)
