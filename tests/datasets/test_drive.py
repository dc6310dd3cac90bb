"""drive_datalist on DRIVE folders in the official layout (small synthetic samples)."""

import logging
import shutil
from pathlib import Path

import pytest

from monai_jattn.data import DatasetError
from monai_jattn.datasets.drive import drive_datalist, write_drive_sample


@pytest.fixture(scope="module")
def drive_root(tmp_path_factory):
    return write_drive_sample(tmp_path_factory.mktemp("data") / "DRIVE", num_train=3, num_test=2, image_size=(48, 40))


@pytest.fixture
def drive_copy(drive_root, tmp_path):
    return Path(shutil.copytree(drive_root, tmp_path / "DRIVE"))


def test_training_datalist_is_complete_and_correct(drive_root):
    datalist = drive_datalist(drive_root, "training")
    assert [entry["id"] for entry in datalist] == ["21_training", "22_training", "23_training"]
    first = datalist[0]
    assert set(first) == {"image", "label", "mask", "id"}
    assert first["image"] == str(drive_root / "training" / "images" / "21_training.tif")
    assert first["label"] == str(drive_root / "training" / "1st_manual" / "21_manual1.gif")
    assert first["mask"] == str(drive_root / "training" / "mask" / "21_training_mask.gif")


def test_test_datalist_with_labels(drive_root):
    datalist = drive_datalist(drive_root, "test", require_labels=True)
    assert [entry["id"] for entry in datalist] == ["01_test", "02_test"]
    assert datalist[1]["label"] == str(drive_root / "test" / "1st_manual" / "02_manual1.gif")
    assert datalist[1]["mask"] == str(drive_root / "test" / "mask" / "02_test_mask.gif")
    assert datalist[1]["label2"] == str(drive_root / "test" / "2nd_manual" / "02_manual2.gif")


def test_second_observer_only_where_its_folder_exists(drive_copy):
    shutil.rmtree(drive_copy / "test" / "2nd_manual")
    assert all("label2" not in entry for entry in drive_datalist(drive_copy, "test"))
    (drive_copy / "test" / "2nd_manual").mkdir()
    with pytest.raises(DatasetError, match="second-observer label .*01_manual2.gif is missing"):
        drive_datalist(drive_copy, "test")


@pytest.mark.parametrize("layout", ["itself", "parent", "nested"])
def test_root_may_be_the_folder_its_parent_or_a_nested_copy(drive_root, tmp_path, layout):
    if layout == "itself":
        root = drive_root
    elif layout == "parent":
        root = drive_root.parent
    else:
        root = tmp_path / "DRIVE"
        shutil.copytree(drive_root, root / "DRIVE")
    datalist = drive_datalist(root, "training")
    assert len(datalist) == 3 and Path(datalist[0]["image"]).is_file()


def test_test_split_without_labels_warns_and_can_be_required(drive_copy, caplog):
    shutil.rmtree(drive_copy / "test" / "1st_manual")
    with caplog.at_level(logging.WARNING, logger="monai_jattn.data"):
        datalist = drive_datalist(drive_copy, "test")
    assert len(datalist) == 2 and all("label" not in entry and "mask" in entry for entry in datalist)
    assert str(drive_copy / "test" / "1st_manual") in caplog.text and "no labels" in caplog.text
    with pytest.raises(DatasetError, match="1st_manual.*does not exist"):
        drive_datalist(drive_copy, "test", require_labels=True)


def test_training_labels_are_always_required(drive_copy):
    shutil.rmtree(drive_copy / "training" / "1st_manual")
    with pytest.raises(DatasetError, match="1st_manual"):
        drive_datalist(drive_copy, "training")


def test_missing_label_and_mask_are_all_named(drive_copy):
    (drive_copy / "training" / "1st_manual" / "22_manual1.gif").unlink()
    (drive_copy / "training" / "mask" / "23_training_mask.gif").unlink()
    with pytest.raises(DatasetError) as error:
        drive_datalist(drive_copy, "training")
    message = str(error.value)
    assert "2 problem(s)" in message
    assert "22_manual1.gif is missing" in message and "23_training_mask.gif is missing" in message


def test_missing_root_folder(tmp_path):
    with pytest.raises(DatasetError, match=f"{tmp_path / 'nowhere'}.*does not exist"):
        drive_datalist(tmp_path / "nowhere")


def test_folder_without_drive_layout(tmp_path):
    with pytest.raises(DatasetError, match="no DRIVE 'training/images' folder"):
        drive_datalist(tmp_path)


def test_unexpected_file_in_images_folder(drive_copy):
    (drive_copy / "training" / "images" / "scan.png").write_bytes(b"x")
    with pytest.raises(DatasetError, match="scan.png: unexpected file"):
        drive_datalist(drive_copy, "training")


def test_empty_split(drive_copy):
    for path in (drive_copy / "test" / "images").iterdir():
        path.unlink()
    with pytest.raises(DatasetError, match="no DRIVE images"):
        drive_datalist(drive_copy, "test")


def test_unknown_split(drive_root):
    with pytest.raises(ValueError, match="split must be one of"):
        drive_datalist(drive_root, "validation")
