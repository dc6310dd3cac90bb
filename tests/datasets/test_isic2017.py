"""isic2017_datalist on ISIC-2017 folders in the official layout (small synthetic samples)."""

import shutil
from pathlib import Path

import pytest

from monai_jattn.data import DatasetError
from monai_jattn.datasets.isic2017 import isic2017_datalist, write_isic2017_sample


@pytest.fixture(scope="module")
def isic_root(tmp_path_factory):
    return write_isic2017_sample(tmp_path_factory.mktemp("data") / "ISIC", 3, 2, 2, image_size=(30, 40))


@pytest.fixture
def isic_copy(isic_root, tmp_path):
    return Path(shutil.copytree(isic_root, tmp_path / "ISIC"))


@pytest.mark.parametrize("split,count", [("training", 3), ("validation", 2), ("test", 2)])
def test_datalist_is_complete_and_ignores_superpixels(isic_root, split, count):
    datalist = isic2017_datalist(isic_root, split)
    assert len(datalist) == count
    ids = [entry["id"] for entry in datalist]
    assert ids == sorted(ids)
    folders = {"training": "Training", "validation": "Validation", "test": "Test_v2"}[split]
    for entry in datalist:
        assert set(entry) == {"image", "label", "id"}
        assert entry["image"] == str(isic_root / f"ISIC-2017_{folders}_Data" / f"{entry['id']}.jpg")
        assert entry["label"] == str(
            isic_root / f"ISIC-2017_{folders}_Part1_GroundTruth" / f"{entry['id']}_segmentation.png"
        )
    assert any(p.name.endswith("_superpixels.png") for p in (isic_root / f"ISIC-2017_{folders}_Data").iterdir())


def test_splits_are_disjoint(isic_root):
    ids = [entry["id"] for split in ("training", "validation", "test") for entry in isic2017_datalist(isic_root, split)]
    assert len(ids) == len(set(ids)) == 7


def test_nested_folders_of_the_same_name(isic_root, tmp_path):
    for name in ("ISIC-2017_Training_Data", "ISIC-2017_Training_Part1_GroundTruth"):
        shutil.copytree(isic_root / name, tmp_path / name / name)
    datalist = isic2017_datalist(tmp_path)
    assert len(datalist) == 3
    assert Path(datalist[0]["image"]).parent == tmp_path / "ISIC-2017_Training_Data" / "ISIC-2017_Training_Data"


def test_image_without_mask_and_mask_without_image_are_named(isic_copy):
    first, second = isic2017_datalist(isic_copy)[:2]
    Path(first["label"]).unlink()
    Path(second["image"]).unlink()
    with pytest.raises(DatasetError) as error:
        isic2017_datalist(isic_copy)
    message = str(error.value)
    assert f"{first['image']}: its mask" in message and "is missing" in message
    assert f"{second['label']}: its image" in message


def test_missing_folder(isic_copy):
    shutil.rmtree(isic_copy / "ISIC-2017_Validation_Part1_GroundTruth")
    with pytest.raises(DatasetError, match="ISIC-2017_Validation_Part1_GroundTruth.*does not exist"):
        isic2017_datalist(isic_copy, "validation")


def test_empty_split(isic_copy):
    for folder in ("ISIC-2017_Test_v2_Data", "ISIC-2017_Test_v2_Part1_GroundTruth"):
        shutil.rmtree(isic_copy / folder)
        (isic_copy / folder).mkdir()
    with pytest.raises(DatasetError, match="no ISIC-2017 images"):
        isic2017_datalist(isic_copy, "test")


def test_wrongly_named_image_is_reported_and_csv_ignored(isic_copy):
    data = isic_copy / "ISIC-2017_Training_Data"
    assert (data / "ISIC-2017_Training_Data_metadata.csv").is_file()
    (data / "lesion.png").write_bytes(b"x")
    with pytest.raises(DatasetError, match="lesion.png: unexpected image file"):
        isic2017_datalist(isic_copy)


def test_unknown_split(isic_root):
    with pytest.raises(ValueError, match="split must be one of"):
        isic2017_datalist(isic_root, "train")
