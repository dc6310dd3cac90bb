"""What the shared recipe (``bundles/common/``) gives every bundle, tested once for all the bundles it applies to, on
their tiny sample data, CPU only: the workflows build without their data and check it when run, the multi-GPU
overlays take the GPU of the local rank, training writes its checkpoints and curve and refuses an earlier run's
``ckpt_dir``, properties, metadata, and the TorchScript and ONNX exports. What only one dataset has (DRIVE's
protocols and field of view, ISIC-2017's original-size evaluation, MSD's NIfTI geometry, ...) is tested in that
bundle's own file."""

from __future__ import annotations

import json

import pytest
import torch
from bundle_cases import CASES, DRIVE, ISIC2017, MSD, BundleCase
from bundle_helpers import (
    REPO,
    check_builds_without_data,
    check_multi_gpu_device_is_local_rank,
    check_onnx_export,
    check_properties_and_metadata,
    check_torchscript_export,
    load_checkpoint,
    run_workflow,
)

from monai_jattn.bundles import bundle_names
from monai_jattn.run_folders import RunFolderError

BUNDLES = bundle_names(REPO / "bundles")
EVALUATE_IDS = {  # ids evaluation builds (train.json + evaluate.json) besides the properties
    "drive_jattn_segmentation": ("validate#evaluator", "metrics_description"),
    "isic2017_jattn_segmentation": ("validate#evaluator", "metrics_description"),
    "msd_jattn_segmentation": ("validate#evaluator", "test_datalist"),
}
EVERY_BUNDLE = [DRIVE.name, ISIC2017.name, MSD.name]
PHOTOGRAPHS = [DRIVE.name, ISIC2017.name]
"""The 2D bundles, on photographs: the export tests feed their 2D tiny network 2D images."""


@pytest.fixture(scope="module")
def bundle(request) -> BundleCase:
    """The bundle a test is parametrised over (``indirect``), by name."""
    return CASES[request.param]


@pytest.fixture(scope="module")
def dataset(bundle, tmp_path_factory):
    return bundle.write_sample(tmp_path_factory.mktemp(f"{bundle.name}_data"))


@pytest.fixture(scope="module")
def trained(bundle, tiny_runs):
    """Four iterations of training, validated every two: this module's copy of the session's run."""
    return tiny_runs.trained(bundle, f"{bundle.name}_run")


def test_every_bundle_is_tested():
    assert sorted(EVALUATE_IDS) == sorted(CASES) == sorted(EVERY_BUNDLE) == BUNDLES


@pytest.mark.parametrize("bundle", BUNDLES, indirect=True)
def test_workflows_build_without_data_and_check_it_when_run(bundle, tmp_path):
    check_builds_without_data(bundle.configs, tmp_path / "no_such_folder", tmp_path, EVALUATE_IDS[bundle.name])


@pytest.mark.parametrize("bundle", BUNDLES, indirect=True)
def test_multi_gpu_configs_use_the_local_rank_for_the_device(bundle, monkeypatch):
    check_multi_gpu_device_is_local_rank(bundle.configs, monkeypatch)


@pytest.mark.parametrize("bundle", EVERY_BUNDLE, indirect=True)
def test_training_writes_checkpoints_and_curve(bundle, trained):
    latest = load_checkpoint(trained / "models" / "latest.pt")
    assert set(latest) == {"network", "optimizer", "trainer", "best_model_saver"}
    assert latest["trainer"]["iteration"] == 4
    assert latest["optimizer"]["state"][0]["step"] == 4
    head = load_checkpoint(trained / "models" / "model.pt")["head.weight"]
    assert (head.shape[0], head.ndim) == bundle.head  # the classes, 2D or 3D convolutions
    curve = json.loads((trained / "eval" / "training_curve.json").read_text())
    assert curve["loss"]["iteration"] == [1, 2, 3, 4]
    assert curve["validation"]["metric"] == bundle.validation_metric and curve["validation"]["iteration"] == [2, 4]
    assert (trained / "eval" / "training_curve.png").is_file()


@pytest.mark.parametrize("bundle", EVERY_BUNDLE, indirect=True)
def test_a_fresh_run_into_an_earlier_runs_ckpt_dir_stops_and_names_its_checkpoints(bundle, dataset, trained):
    before = {p.name: p.read_bytes() for p in (trained / "models").glob("*.pt")}
    with pytest.raises(RuntimeError) as info:  # MONAI's "Failed to instantiate ...", caused by ours
        run_workflow([bundle.train], **bundle.settings(dataset, trained, max_iterations=2, val_interval=2))
    assert isinstance(info.value.__cause__, RunFolderError)
    message = str(info.value.__cause__)
    assert f"ckpt_dir {trained / 'models'} already holds checkpoints" in message
    assert "latest.pt, model.pt" in message
    assert "--resume True" in message and "--overwrite True" in message
    assert {p.name: p.read_bytes() for p in (trained / "models").glob("*.pt")} == before  # nothing lost
    assert not (trained / "models" / "run.lock").exists()


@pytest.mark.parametrize("bundle", EVERY_BUNDLE, indirect=True)
def test_bundle_properties_and_metadata(bundle, dataset, tmp_path):
    check_properties_and_metadata(bundle.configs, bundle.settings(dataset, tmp_path), **bundle.verify_args)


@pytest.mark.parametrize("bundle", PHOTOGRAPHS, indirect=True)
def test_export_to_torchscript(bundle, trained, tmp_path):
    image = torch.rand(*bundle.export_shapes[0])
    check_torchscript_export(bundle.configs, trained / "models" / "model.pt", tmp_path / "model.ts", image)


@pytest.mark.parametrize("bundle", PHOTOGRAPHS, indirect=True)
def test_export_to_onnx_with_any_image_size(bundle, trained, tmp_path):
    image = torch.rand(*bundle.export_shapes[1])
    check_onnx_export(bundle.configs, trained / "models" / "model.pt", tmp_path / "model.onnx", image)
