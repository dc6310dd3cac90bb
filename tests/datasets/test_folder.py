"""image_folder_datalist: the user's own images, or an official layout, for inference."""

from pathlib import Path

import pytest
from PIL import Image

from monai_jattn.data import DatasetError
from monai_jattn.datasets import image_folder_datalist
from monai_jattn.datasets.drive import write_drive_sample
from monai_jattn.datasets.isic2017 import write_isic2017_sample


def test_plain_folder_recursive_ids_keep_the_sub_folders(tmp_path):
    for name in ("b/eye.png", "a/eye.jpg", "a/eye_1.tif", "c/scan.gif", "c/notes.txt", ".hidden/x.png", "top.png"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".txt":
            path.write_text("not an image")
        else:
            Image.new("RGB", (8, 8)).save(path)
    datalist = image_folder_datalist(tmp_path)
    assert [(Path(e["image"]).relative_to(tmp_path).as_posix(), e["id"]) for e in datalist] == [
        ("a/eye.jpg", "a/eye"),  # each output says which input it belongs to
        ("a/eye_1.tif", "a/eye_1"),
        ("b/eye.png", "b/eye"),
        ("c/scan.gif", "c/scan"),
        ("top.png", "top"),
    ]
    assert all("mask" not in entry for entry in datalist)


@pytest.mark.parametrize("names", [("a.png", "a.tif"), ("sub/Eye.jpg", "sub/eye.png")])
def test_images_that_would_give_the_same_outputs_are_refused_naming_both(tmp_path, names):
    for name in (*names, "other.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 8)).save(tmp_path / name)
    with pytest.raises(DatasetError) as error:
        image_folder_datalist(tmp_path)
    message = str(error.value)
    assert "1 name clash(es) among the images" in message
    assert f"{tmp_path / sorted(names)[0]} and {tmp_path / sorted(names)[1]}: both would be written as" in message


def test_drive_layout_skips_labels_and_attaches_fov_masks(tmp_path):
    root = write_drive_sample(tmp_path / "DRIVE", num_train=2, num_test=2, image_size=(32, 32))
    datalist = image_folder_datalist(root)
    names = ["01_test", "02_test", "21_training", "22_training"]
    assert [e["id"] for e in datalist] == [f"{'test' if 'test' in n else 'training'}/images/{n}" for n in names]
    for entry in datalist:
        split, _, stem = entry["id"].split("/")
        assert entry["mask"] == str(root / split / "mask" / f"{stem}_mask.gif")


def test_isic_layout_skips_masks_and_superpixels(tmp_path):
    root = write_isic2017_sample(tmp_path, 2, 1, 1, image_size=(16, 20))
    datalist = image_folder_datalist(root)
    assert len(datalist) == 4
    assert all(entry["image"].endswith(".jpg") and "mask" not in entry for entry in datalist)


def test_empty_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("no images here")
    with pytest.raises(DatasetError, match=f"{tmp_path}: no images found"):
        image_folder_datalist(tmp_path)


def test_missing_folder(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        image_folder_datalist(tmp_path / "nowhere")


def test_official_names_mean_nothing_in_a_plain_folder(tmp_path, caplog):
    names = ("eye_mask.png", "lesion_segmentation.png", "ISIC_0000001_superpixels.png", "21_manual2.gif")
    names += ("01_test_mask.gif",)
    for name in names:
        Image.new("RGB", (8, 8)).save(tmp_path / name)
    (tmp_path / "notes.txt").write_text("not an image")
    with caplog.at_level("INFO", logger="monai_jattn.data"):
        datalist = image_folder_datalist(tmp_path)
    assert sorted(Path(e["image"]).name for e in datalist) == sorted(names)  # every image, whatever its name
    assert all("mask" not in entry for entry in datalist)
    assert f"skipping {tmp_path / 'notes.txt'}: not an image file" in caplog.text


def test_every_file_an_official_layout_skips_is_logged_with_its_reason(tmp_path, caplog):
    root = write_drive_sample(tmp_path / "DRIVE", num_train=1, num_test=1, image_size=(32, 32))
    with caplog.at_level("INFO", logger="monai_jattn.data"):
        image_folder_datalist(root)
    assert f"skipping {root / 'training' / '1st_manual' / '21_manual1.gif'}: DRIVE vessel label" in caplog.text
    assert f"using {root / 'test' / 'mask' / '01_test_mask.gif'} as the DRIVE field-of-view mask" in caplog.text


def test_a_broken_link_is_listed_so_that_the_run_names_it(tmp_path):
    """A link to a file that is gone is not passed over: it is listed, and reading it names the file."""
    from monai_jattn.data import ReadableImages

    Image.new("RGB", (8, 8)).save(tmp_path / "eye.png")
    (tmp_path / "gone.png").symlink_to(tmp_path / "no_such_file.png")
    datalist = image_folder_datalist(tmp_path)
    assert [Path(e["image"]).name for e in datalist] == ["eye.png", "gone.png"]
    readable = ReadableImages(datalist)
    assert [Path(e["image"]).name for e in readable.datalist] == ["eye.png"]
    with pytest.raises(DatasetError, match="gone.png"):
        readable.raise_if_unreadable()


def test_linked_folders_are_followed_once_and_a_link_loop_ends(tmp_path, caplog):
    import os

    root, elsewhere = tmp_path / "photos", tmp_path / "external"
    (root / "sub").mkdir(parents=True)
    elsewhere.mkdir()
    Image.new("RGB", (8, 8)).save(root / "a.jpg")
    Image.new("RGB", (8, 8)).save(elsewhere / "b.png")
    os.symlink(elsewhere, root / "2024")  # a folder kept on another disk: its images are not passed over
    os.symlink(root, root / "sub" / "loop")  # a link back up: listed once, not forever
    with caplog.at_level("INFO", logger="monai_jattn.data"):
        datalist = image_folder_datalist(root)
    assert [e["id"] for e in datalist] == ["2024/b", "a"]
    assert f"skipping {root / 'sub' / 'loop'}: a link to a folder already listed" in caplog.text
