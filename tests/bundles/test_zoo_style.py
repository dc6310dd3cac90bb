"""Each bundle as the model zoo's unit tests (``ci/unit_tests/test_<bundle>.py``) drive it: ``ConfigWorkflow``
with the bundle's logging and metadata files, ``check_properties``, and ``train#trainer#max_epochs``
overridden. An epoch of these bundles is ``val_interval`` iterations, so ``max_epochs`` 1 trains one
validation interval and validates once (issue 17)."""

from __future__ import annotations

import pytest
from bundle_helpers import TINY_NETWORK, configs, load_checkpoint
from monai.bundle import ConfigWorkflow

from monai_jattn.datasets.drive import write_drive_sample
from monai_jattn.datasets.isic2017 import write_isic2017_sample
from monai_jattn.datasets.msd import write_msd_sample

SAMPLES = {
    "drive_jattn_segmentation": (lambda root: write_drive_sample(root, 4, 2, seed=0, image_size=(48, 48)), [32, 32]),
    "isic2017_jattn_segmentation": (lambda root: write_isic2017_sample(root, 4, 2, 2, image_size=(48, 64)), [32, 32]),
    "msd_jattn_segmentation": (lambda root: write_msd_sample(root, 4, 2, image_size=(24, 20, 12)), [16, 16, 16]),
}


def zoo_workflow(bundle: str, config_file, workflow_type: str, **override) -> ConfigWorkflow:
    """A workflow built the way the zoo's unit tests build it, checked and run."""
    folder = configs(bundle)
    workflow = ConfigWorkflow(
        workflow_type=workflow_type,
        config_file=config_file,
        logging_file=str(folder / "logging.conf"),
        meta_file=str(folder / "metadata.json"),
        **override,
    )
    workflow.initialize()
    assert workflow.check_properties() in (None, [])
    workflow.run()
    workflow.finalize()
    return workflow


@pytest.mark.parametrize("bundle", sorted(SAMPLES))
def test_zoo_unit_test_habits(bundle, tmp_path):
    write_sample, patch_size = SAMPLES[bundle]
    folder = configs(bundle)
    override = {
        "bundle_root": str(folder.parent),
        "dataset_dir": str(write_sample(tmp_path / "data")),
        "ckpt_dir": str(tmp_path / "models"),
        "output_dir": str(tmp_path / "eval"),
        "device": "cpu",
        "num_workers": 0,
        "load_pretrain": False,
        "patch_size": patch_size,
        "val_interval": 2,  # the epoch length
        "train#trainer#max_epochs": 1,
        **TINY_NETWORK,
    }
    zoo_workflow(bundle, str(folder / "train.json"), "train", **override)
    latest = load_checkpoint(tmp_path / "models" / "latest.pt")
    assert latest["trainer"]["iteration"] == 2 and latest["trainer"]["epoch_length"] == 2
    assert (tmp_path / "models" / "model.pt").is_file()  # validated once, at the end of the epoch
    # evaluation overrides train.json, so the zoo builds it as a "train" workflow
    zoo_workflow(bundle, [str(folder / "train.json"), str(folder / "evaluate.json")], "train", **override)
    assert (tmp_path / "eval" / "metrics_summary.json").is_file()
    infer = {k: v for k, v in override.items() if not k.startswith("train#")} | {"output_dir": str(tmp_path / "out")}
    zoo_workflow(bundle, str(folder / "inference.json"), "infer", **infer)
    assert any((tmp_path / "out").iterdir())
