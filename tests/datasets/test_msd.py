"""The MSD-layout dataset module: the synthetic sample writer, dataset.json facts, the checked datalist and its
errors, and the registry entry."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from monai_jattn.data import DatasetError
from monai_jattn.datasets import dataset_datalist, get_dataset
from monai_jattn.datasets.msd import MSD_FALLBACK_FACTS, msd_datalist, msd_facts, msd_has_split, write_msd_sample

SIZE = (20, 16, 10)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return write_msd_sample(tmp_path_factory.mktemp("msd") / "Task00", num_train=4, num_test=2, image_size=SIZE)


def test_sample_layout_and_dataset_json(sample):
    description = json.loads((sample / "dataset.json").read_text())
    assert description["labels"] == {"0": "background", "1": "organ", "2": "lesion"}
    assert description["modality"] == {"0": "synthetic0"} and description["tensorImageSize"] == "3D"
    assert description["numTraining"] == len(description["training"]) == 4
    assert len(description["test"]) == 2 and all(isinstance(p, str) for p in description["test"])
    for entry in description["training"]:
        image, label = nib.load(sample / entry["image"]), nib.load(sample / entry["label"])
        assert image.shape == label.shape == SIZE
        np.testing.assert_array_equal(image.affine, label.affine)
        spacing = np.linalg.norm(image.affine[:3, :3], axis=0)
        np.testing.assert_allclose(spacing, [0.8, 1.2, 2.0], rtol=1e-6)  # anisotropic
        assert np.any(image.affine[:3, 3] != 0)  # non-zero origin
        values = np.asarray(label.dataobj)
        assert set(np.unique(values)) == {0, 1, 2}  # every class present
        pixels = np.asarray(image.dataobj)
        # learnable: each class has its own mean intensity, well apart compared with the noise
        means = [pixels[values == k].mean() for k in range(3)]
        assert np.all(np.diff(means) > 0.5), means
    for path in description["test"]:
        assert (sample / path).is_file() and path.startswith("./imagesTs/")


def test_sample_is_deterministic(sample, tmp_path):
    again = write_msd_sample(tmp_path / "again", num_train=4, num_test=2, image_size=SIZE)
    for name in ("imagesTr/synth_000.nii.gz", "labelsTr/synth_003.nii.gz", "imagesTs/synth_005.nii.gz"):
        np.testing.assert_array_equal(np.asarray(nib.load(sample / name).dataobj), nib.load(again / name).dataobj)


def test_datalist_entries_and_facts(sample):
    training = msd_datalist(sample, "training")
    assert [e["id"] for e in training] == [f"synth_{i:03d}" for i in range(4)]
    assert all(Path(e["image"]).is_file() and Path(e["label"]).is_file() for e in training)
    test = msd_datalist(sample, "test")
    assert [sorted(e) for e in test] == [["id", "image"]] * 2 and test[0]["id"] == "synth_004"
    with pytest.raises(DatasetError, match="no labels"):
        msd_datalist(sample, "test", require_labels=True)
    facts = msd_facts(sample)
    assert facts["in_channels"] == 1 and facts["out_channels"] == 3 and facts["spatial_dims"] == 3
    assert facts["class_names"] == ["background", "organ", "lesion"]
    assert msd_has_split(sample, "training") and msd_has_split(sample, "test")


def test_facts_without_data_fall_back(tmp_path):
    facts = msd_facts(tmp_path / "absent")
    assert facts["in_channels"] == len(MSD_FALLBACK_FACTS["modality"]) == 1
    assert facts["out_channels"] == 2 and facts["spatial_dims"] == 3
    assert not msd_has_split(tmp_path / "absent", "training")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "dataset.json").write_text("{not json")
    assert msd_has_split(tmp_path / "broken", "training")  # present but broken: the datalist says why
    with pytest.raises(DatasetError, match=f"{tmp_path / 'broken' / 'dataset.json'}: unreadable JSON"):
        msd_datalist(tmp_path / "broken", "training")


def test_2d_and_multimodal_samples(tmp_path):
    flat = write_msd_sample(tmp_path / "flat", num_train=2, num_test=1, spatial_dims=2, num_classes=4)
    assert nib.load(msd_datalist(flat, "training")[0]["image"]).shape == (64, 48)
    assert msd_facts(flat)["spatial_dims"] == 2 and msd_facts(flat)["out_channels"] == 4
    multi = write_msd_sample(tmp_path / "multi", num_train=2, num_test=0, image_size=SIZE, modalities=2)
    assert nib.load(msd_datalist(multi, "training")[0]["image"]).shape == (*SIZE, 2)  # MSD: modalities last
    facts = msd_facts(multi)
    assert facts["in_channels"] == 2 and facts["spatial_dims"] == 3
    assert not msd_has_split(multi, "test")
    for root, dims in ((flat, 2), (multi, 3)):  # without tensorImageSize: the first image's axes tell
        description = json.loads((root / "dataset.json").read_text())
        del description["tensorImageSize"]
        (root / "dataset.json").write_text(json.dumps(description))
        assert msd_facts(root)["spatial_dims"] == dims


def _copy(sample: Path, root: Path) -> Path:
    root.mkdir()
    for path in sample.rglob("*"):
        if path.is_file():
            (root / path.relative_to(sample)).parent.mkdir(parents=True, exist_ok=True)
            (root / path.relative_to(sample)).write_bytes(path.read_bytes())
    return root


def test_errors_name_the_file(sample, tmp_path):
    with pytest.raises(DatasetError, match=str(tmp_path / "none" / "dataset.json")):
        msd_datalist(tmp_path / "none", "training")
    root = _copy(sample, tmp_path / "broken")
    missing = root / "imagesTr" / "synth_000.nii.gz"
    missing.unlink()
    corrupt = root / "labelsTr" / "synth_001.nii.gz"
    corrupt.write_bytes(b"not a nifti file")
    shape = root / "labelsTr" / "synth_002.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((SIZE[0], SIZE[1], SIZE[2] + 1), np.uint8), np.eye(4)), shape)
    values = root / "labelsTr" / "synth_003.nii.gz"
    nib.save(nib.Nifti1Image(np.full(SIZE, 7, np.uint8), nib.load(values).affine), values)
    with pytest.raises(DatasetError) as error:
        msd_datalist(root, "training")
    message = str(error.value)
    assert f"{missing}: image listed in dataset.json does not exist" in message
    assert f"{corrupt}: not a readable NIfTI label" in message
    assert f"{shape}: label shape [20, 16, 11] differs from the spatial shape [20, 16, 10]" in message
    assert f"{values}: label values [7] are not in the 'labels'" in message
    msd_datalist(root, "test")  # the test images are intact


def test_labels_on_another_voxel_grid_and_images_of_other_channels_are_named(sample, tmp_path):
    """A label flipped, resampled or moved against its image would train on voxels that are not its image's
    (issue 18 S6, U8); an image whose channels are not the 'modality' list fails later in the network (U9)."""
    root = _copy(sample, tmp_path / "grids")
    names = ("flipped", "spacing", "origin")
    labels = {name: root / "labelsTr" / f"synth_00{i}.nii.gz" for i, name in enumerate(names)}
    for name, path in labels.items():
        label = nib.load(path)
        affine = label.affine.copy()
        if name == "flipped":
            affine[:3, 0] *= -1  # the first axis mirrored in the header only
        elif name == "spacing":
            affine[:3, 2] *= 1.5
        else:
            affine[:3, 3] += 3 * np.abs(affine[:3, :3]).max()
        nib.save(nib.Nifti1Image(np.asarray(label.dataobj), affine), path)
    image = root / "imagesTr" / "synth_003.nii.gz"
    volume = nib.load(image)
    nib.save(nib.Nifti1Image(np.stack([np.asarray(volume.dataobj)] * 2, axis=-1), volume.affine), image)
    with pytest.raises(DatasetError) as error:
        msd_datalist(root, "training")
    message = str(error.value)
    assert f"{labels['flipped']}: label orientation RPS differs from its image's LPS" in message
    assert f"{labels['spacing']}: label voxel spacing" in message
    assert f"{labels['origin']}: label origin" in message and "more than half a voxel" in message
    read_as = "shape [20, 16, 10, 2], read as 3D images with one channel per modality on a last axis"
    assert f"{image}: 2 channel(s) ({read_as}), but the 'modality' of dataset.json lists 1" in message
    assert message.startswith("4 problem(s)")


def test_truncated_label_is_found_when_values_are_checked(sample, tmp_path):
    root = _copy(sample, tmp_path / "truncated")
    label = root / "labelsTr" / "synth_000.nii.gz"
    label.write_bytes(label.read_bytes()[:-16])  # the header still reads; the voxels do not
    assert len(msd_datalist(root, "training", check_values=False)) == 4
    with pytest.raises(DatasetError, match=f"{label}: not a readable NIfTI label"):
        msd_datalist(root, "training")


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_inspect_nifti_finds_a_truncated_or_damaged_file_and_passes_a_complete_one(tmp_path, suffix):
    from monai_jattn.datasets.msd import inspect_nifti

    path = tmp_path / f"v{suffix}"
    volume = np.random.default_rng(0).random((20, 16, 10)).astype(np.float32)
    nib.save(nib.Nifti1Image(volume, np.eye(4)), path)
    assert inspect_nifti(path) == (None, None)
    whole = path.read_bytes()
    path.write_bytes(whole[:-16])  # the header still reads
    size, problem = inspect_nifti(path, binary=True)
    assert size is None and problem.startswith(f"{path}: not a readable NIfTI label (")
    if suffix == ".nii":
        assert f"truncated: {len(whole) - 16} bytes, its header needs {len(whole)})" in problem
    else:
        damaged = bytearray(whole)
        damaged[len(whole) // 2] ^= 0xFF  # a flipped byte in the compressed voxels
        path.write_bytes(bytes(damaged))
        assert inspect_nifti(path)[1].startswith(f"{path}: not a readable NIfTI image (")


def test_registered(sample, tmp_path):
    spec = get_dataset("msd")
    assert spec.bundle == "msd_jattn_segmentation" and spec.spatial_dims == 3 and spec.splits == ("training", "test")
    assert dataset_datalist("msd", sample, "training") == msd_datalist(sample, "training")
    options = {option.dest: option.default for option in spec.sample_options}
    assert set(options) == {"num_train", "num_test", "num_classes", "spatial_dims", "modalities"}
    root = spec.write_sample(tmp_path / "cli", seed=1, image_size=(12, 12, 8), **(options | {"num_train": 2}))
    assert len(spec.datalist(root, "training")) == 2 and spec.has_split(root, "test")


def test_data_check_command_reads_every_volume(sample, tmp_path, capsys):
    from monai_jattn.datasets.__main__ import main

    root = _copy(sample, tmp_path / "checked")
    assert main(["check", "msd", str(root)]) == 0
    assert "all files OK (training 4, test 2)" in capsys.readouterr().out
    image = root / "imagesTs" / "synth_005.nii.gz"
    image.write_bytes(image.read_bytes()[:-16])  # a test image: the datalist reads no voxel of it
    assert len(msd_datalist(root, "test")) == 2
    assert main(["check", "msd", str(root)]) == 1
    assert f"{image}: not a readable NIfTI image" in capsys.readouterr().err


def test_figure_panels_show_raw_and_resampled_slices(sample, tmp_path):
    from monai_jattn.datasets.figure import plot_preprocessing
    from monai_jattn.datasets.msd import msd_figure_panels

    panels = msd_figure_panels(sample, seed=0)
    assert [title.split(" (")[0] for _, title in panels] == ["raw", "label", "1 mm, RAS, normalised", "label"]
    for picture, _ in panels:
        assert picture.ndim == 3 and picture.shape[0] == 1 and 0.0 <= picture.min() <= picture.max() <= 1.0
    values = set(np.unique(panels[1][0]).tolist())
    assert values <= {0.0, 0.5, 1.0} and len(values) > 1  # classes 0, 1, 2 of 3, on the fullest slice
    assert panels[0][0].shape[1:] == SIZE[:2] and panels[2][0].shape[1:] != SIZE[:2]  # resampled to 1 mm
    assert plot_preprocessing("msd", tmp_path / "msd.png", root=sample).stat().st_size > 0


def test_a_case_listed_twice_is_refused_naming_it(tmp_path):
    """Issue 28 S9: a case listed twice in dataset.json's training list landed in both the training and the
    validation part. (A second entry with its own files but the same image file name is the same case too.)"""
    root = write_msd_sample(tmp_path / "Task00", num_train=4, num_test=0, image_size=SIZE)
    description = json.loads((root / "dataset.json").read_text())
    description["training"].append(dict(description["training"][1]))
    (root / "dataset.json").write_text(json.dumps(description))
    case = Path(description["training"][1]["image"]).name.removesuffix(".nii.gz")
    message = rf"dataset.json: its 'training' list names the same case more than once: {case} \(entries 2, 5\)"
    with pytest.raises(DatasetError, match=message):
        msd_datalist(root, "training")


def test_inspect_nifti_reads_every_chunk_of_a_compressed_file(tmp_path, monkeypatch):
    """The check reads the decompressed stream chunk by chunk to its end: a complete file of many chunks passes and
    damage beyond the first chunk is found (with real chunks of 16 MiB, as a file larger than that would be)."""
    from monai_jattn.datasets import msd

    monkeypatch.setattr(msd.nifti, "READ_CHUNK_BYTES", 1024)
    path = tmp_path / "v.nii.gz"
    volume = np.random.default_rng(0).random((20, 16, 10)).astype(np.float32)  # 12,800 bytes of voxels: 13 chunks
    nib.save(nib.Nifti1Image(volume, np.eye(4)), path)
    assert msd.inspect_nifti(path) == (None, None)
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) * 9 // 10] ^= 0xFF  # near the end of the compressed voxels, far beyond the first chunk
    path.write_bytes(bytes(damaged))
    assert msd.inspect_nifti(path)[1].startswith(f"{path}: not a readable NIfTI image (")
