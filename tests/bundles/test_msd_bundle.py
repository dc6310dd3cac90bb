"""The MSD-layout bundle on tiny synthetic NIfTI data, CPU only: evaluation (Dice per class, checked against numpy),
the inference round trip (each mask has its input's shape and affine), truncated images, masks never written over
files, several classes and 2D data. What the shared recipe gives every bundle (3D training's checkpoints and curve,
an earlier run's ``ckpt_dir`` refused, properties, metadata, building without data, ...) is tested in
test_shared_recipe.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from bundle_cases import MSD
from bundle_helpers import cli_args, dataset_error, load_checkpoint, run_cli, run_workflow

from monai_jattn.datasets.msd import msd_datalist, write_msd_sample
from monai_jattn.run_folders import RunFolderError

TRAIN, EVALUATE, INFERENCE = MSD.train, MSD.evaluate, MSD.inference
settings = MSD.settings


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """Five training cases and two test images, written by the data command line."""
    return MSD.write_sample(tmp_path_factory.mktemp("msd"))


@pytest.fixture(scope="module")
def trained(tiny_runs) -> Path:
    """Four iterations of 3D training, validated every two: this module's copy of the session's run."""
    return tiny_runs.trained(MSD, "msd_run")


def _dice(pred: np.ndarray, label: np.ndarray) -> float:
    total = pred.sum() + label.sum()
    return float(pred.sum() == 0) if label.sum() == 0 else 2.0 * (pred & label).sum() / total  # empty: 1 or 0


def test_evaluation_reports_dice_per_class(dataset, trained, tmp_path):
    overrides = settings(dataset, trained, output_dir=str(tmp_path / "eval"))
    outputs = run_workflow([TRAIN, EVALUATE], collect_keys=("pred", "label"), **overrides)
    validation_ids = [e["id"] for e in msd_datalist(dataset)]
    assert len(outputs) == 2 and {o["id"] for o in outputs} < set(validation_ids)
    summary = json.loads((tmp_path / "eval" / "metrics_summary.json").read_text())
    assert list(summary) == ["dice_organ", "dice_lesion", "mean_dice"]
    for channel, name in ((1, "organ"), (2, "lesion")):  # numpy reference on the one-hot outputs
        per_image = [_dice(o["pred"][channel] > 0, o["label"][channel] > 0) for o in outputs]
        assert summary[f"dice_{name}"] == pytest.approx(np.nanmean(per_image), abs=1e-5)
    table = (tmp_path / "eval" / "metrics.md").read_text()
    assert "| DenseUNet-JA-9 |" in table and "dice_lesion" in table
    rows = (tmp_path / "eval" / "metrics_per_image.csv").read_text().splitlines()
    assert rows[0] == "id,dice_organ,dice_lesion" and len(rows) == 3


def test_inference_writes_masks_with_the_input_geometry(dataset, trained, tmp_path):
    output = tmp_path / "masks"
    overrides = settings(dataset, trained, output_dir=str(output))
    run_cli(["monai.bundle", "run", "--config_file", str(INFERENCE)] + cli_args(overrides))
    test = msd_datalist(dataset, "test")
    masks = [f"{e['id']}_seg.nii.gz" for e in test]
    assert sorted(p.name for p in output.iterdir()) == sorted([*masks, ".inference_run"])
    for entry in test:
        image, mask = nib.load(entry["image"]), nib.load(output / f"{entry['id']}_seg.nii.gz")
        assert mask.shape == image.shape
        np.testing.assert_allclose(mask.affine, image.affine, atol=1e-5)
        assert set(np.unique(np.asarray(mask.dataobj))) <= {0, 1, 2}


def test_inference_names_a_truncated_image_and_segments_the_others(dataset, trained, tmp_path):
    """Issue 18 U10/U11, re-checked: a truncated .nii.gz stopped the run before the other test images were written."""
    copy = tmp_path / "Task00"
    shutil.copytree(dataset, copy)
    cut, whole = msd_datalist(copy, "test")
    data = Path(cut["image"]).read_bytes()
    Path(cut["image"]).write_bytes(data[: len(data) // 2])  # a readable header, a truncated body
    output = copy / "predictions"  # inside the dataset folder: allowed, the images are the files dataset.json lists
    with pytest.raises(RuntimeError) as error:
        run_workflow([INFERENCE], **settings(copy, trained, output_dir=str(output)))
    message = str(dataset_error(error.value))
    assert "1 problem(s) in the datalist: these files were skipped, the other 1 processed" in message
    assert f"{cut['image']}: not a readable NIfTI image (EOFError" in message
    assert sorted(p.name for p in output.iterdir()) == [".inference_run", f"{whole['id']}_seg.nii.gz"]


def test_inference_into_a_used_folder_is_refused_and_the_earlier_masks_stay(dataset, trained, tmp_path):
    output = tmp_path / "masks"
    run_workflow([INFERENCE], **settings(dataset, trained, output_dir=str(output)))
    before = {p.name: p.read_bytes() for p in output.iterdir()}
    assert len(before) == 3  # two masks and the claim
    with pytest.raises(RuntimeError) as error:
        run_workflow([INFERENCE], **settings(dataset, trained, output_dir=str(output)))
    assert isinstance(error.value.__cause__, RunFolderError)
    assert "another inference run uses this folder" not in str(error.value.__cause__)  # masks are there
    assert f"output_dir {output} is not empty: it holds 3 entries" in str(error.value.__cause__)
    assert {p.name: p.read_bytes() for p in output.iterdir()} == before


def test_a_mask_is_never_written_over_an_existing_file(tmp_path):
    from monai.data import MetaTensor
    from monai.transforms import SaveImage

    from monai_jattn.data.writers import NewFileNibabelWriter

    save = SaveImage(
        tmp_path, output_postfix="seg", separate_folder=False, print_log=False, writer=NewFileNibabelWriter
    )
    volume = MetaTensor(torch.zeros(1, 4, 5, 6))
    volume[0, 1:3] = 1
    volume.meta["filename_or_obj"] = "case_1.nii.gz"
    save(volume)
    written = nib.load(tmp_path / "case_1_seg.nii.gz")
    assert written.shape == (4, 5, 6) and np.asarray(written.dataobj).sum() == 2 * 5 * 6
    (tmp_path / "case_2_seg.nii.gz").write_bytes(b"the user's own file")
    volume.meta["filename_or_obj"] = "case_2.nii.gz"
    with pytest.raises(RuntimeError, match="case_2_seg.nii.gz: exists already and is not replaced"):
        save(volume)  # MONAI's SaveImage reports our WriteError inside its own "cannot find a suitable writer"
    assert (tmp_path / "case_2_seg.nii.gz").read_bytes() == b"the user's own file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case_1_seg.nii.gz", "case_2_seg.nii.gz"]  # no temporary


def test_2d_data_with_four_classes_trains_and_infers(tmp_path):
    root = write_msd_sample(tmp_path / "Task2D", num_train=3, num_test=1, spatial_dims=2, num_classes=4)
    overrides = settings(root, tmp_path / "run", patch_size=[32, 32], val_fraction=0.34)
    run_workflow([TRAIN], **overrides | {"max_iterations": 2, "val_interval": 2})
    head = load_checkpoint(tmp_path / "run" / "models" / "model.pt")["head.weight"]
    assert head.shape[0] == 4 and head.ndim == 4
    run_workflow([INFERENCE], **overrides | {"output_dir": str(tmp_path / "masks")})
    (entry,) = msd_datalist(root, "test")
    image, mask = nib.load(entry["image"]), nib.load(tmp_path / "masks" / f"{entry['id']}_seg.nii.gz")
    assert mask.shape == image.shape == (64, 48)
    np.testing.assert_allclose(mask.affine, image.affine, atol=1e-5)
