"""check_datalist: every bad input is reported by file, all in one DatasetError."""

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monai_jattn.data import DatasetError, check_datalist
from monai_jattn.datasets.drive import drive_datalist, write_drive_sample
from monai_jattn.datasets.isic2017 import isic2017_datalist, write_isic2017_sample


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_drive_sample(root / "DRIVE", num_train=3, num_test=1, image_size=(48, 40))
    write_isic2017_sample(root / "ISIC", 2, 1, 1, image_size=(30, 40))
    return root


@pytest.fixture
def drive(samples, tmp_path):
    return drive_datalist(shutil.copytree(samples / "DRIVE", tmp_path / "DRIVE"), "training")


@pytest.fixture
def isic(samples, tmp_path):
    return isic2017_datalist(shutil.copytree(samples / "ISIC", tmp_path / "ISIC"), "training")


def truncate(path, keep=0.5):
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: int(len(data) * keep)])


def test_valid_datalists_pass_and_are_returned(samples):
    for datalist in (
        drive_datalist(samples / "DRIVE"),
        drive_datalist(samples / "DRIVE", "test"),
        isic2017_datalist(samples / "ISIC"),
    ):
        assert check_datalist(datalist) is datalist


def test_empty_datalist():
    with pytest.raises(DatasetError, match="empty"):
        check_datalist([])


def test_missing_file(drive):
    Path(drive[0]["mask"]).unlink()
    with pytest.raises(DatasetError, match=f"{drive[0]['mask']}: file not found"):
        check_datalist(drive)


def test_entry_without_image():
    with pytest.raises(DatasetError, match="entry 0 .* has no 'image' key"):
        check_datalist([{"label": "a.png"}])


def test_corrupt_image(drive):
    Path(drive[1]["image"]).write_bytes(b"this is not a TIFF file")
    with pytest.raises(DatasetError, match=f"{drive[1]['image']}: cannot read the image"):
        check_datalist(drive)


@pytest.mark.parametrize("key", ["image", "label"])
def test_truncated_jpeg_and_png(isic, key):
    truncate(isic[0][key])
    with pytest.raises(DatasetError, match=f"{isic[0][key]}: cannot read the image, corrupt or truncated"):
        check_datalist(isic)


@pytest.mark.parametrize("key", ["image", "mask"])
def test_truncated_tif_and_gif(drive, key):
    truncate(drive[2][key], keep=0.8)
    with pytest.raises(DatasetError, match=f"{drive[2][key]}: cannot read the image"):
        check_datalist(drive)


def test_label_of_another_size(isic):
    Image.new("L", (41, 30)).save(isic[1]["label"])
    with pytest.raises(DatasetError, match=f"{isic[1]['label']}: label size 41x30 .* differs from its image .*40x30"):
        check_datalist(isic)


def test_label_that_is_not_binary(isic):
    Image.fromarray(np.arange(30 * 40, dtype=np.uint16).reshape(30, 40).astype(np.uint8) % 3 * 100).save(
        isic[0]["label"]
    )
    with pytest.raises(DatasetError, match=f"{isic[0]['label']}: not binary: 3 grey values \\(0, 100, 200\\)"):
        check_datalist(isic)


def test_binary_mask_with_a_single_non_zero_value_is_fine(isic):
    Image.new("L", (40, 30), 255).save(isic[0]["label"])  # a lesion filling the image
    check_datalist(isic)


def test_palette_gif_with_white_index_zero_is_binary(drive):
    mask = np.zeros((48, 40), np.uint8)
    mask[10:20, 5:30] = 1
    image = Image.fromarray(1 - mask, "P")  # index 0 is white here, index 1 black
    image.putpalette([255, 255, 255, 0, 0, 0])
    image.save(drive[0]["label"])
    check_datalist(drive)


def test_unsupported_file_type(drive, tmp_path):
    drive[0]["image"] = str(tmp_path / "scan.nii.gz")
    Path(drive[0]["image"]).write_bytes(b"x")
    with pytest.raises(DatasetError, match="scan.nii.gz: unsupported file type '.gz'"):
        check_datalist(drive)


def test_duplicate_ids(drive):
    drive[1]["id"] = drive[0]["id"]
    with pytest.raises(DatasetError, match="ids used by more than one entry.*21_training"):
        check_datalist(drive)


def test_all_problems_are_reported_in_one_error(drive, isic):
    Path(drive[0]["label"]).unlink()
    Path(drive[1]["image"]).write_bytes(b"garbage")
    Image.new("L", (10, 10)).save(drive[2]["mask"])
    with pytest.raises(DatasetError) as error:
        check_datalist(drive, num_workers=2)
    lines = str(error.value).splitlines()
    assert lines[0] == "3 problem(s) in the datalist:"
    assert any(drive[0]["label"] in line and "not found" in line for line in lines)
    assert any(drive[1]["image"] in line and "cannot read" in line for line in lines)
    assert any(drive[2]["mask"] in line and "differs" in line for line in lines)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16_bit_images_pass_and_float_images_out_of_range_are_named(tmp_path, suffix):
    deep = tmp_path / f"deep{suffix}"
    Image.fromarray(np.linspace(0, 65535, 48 * 40).astype(np.uint16).reshape(48, 40)).save(deep)
    odd = tmp_path / "odd.tif"
    Image.fromarray(np.full((48, 40), -2.0, np.float32)).save(odd)
    assert check_datalist([{"image": str(deep)}]) == [{"image": str(deep)}]
    with pytest.raises(DatasetError, match=rf"{odd}: 32-bit float pixels must lie in \[0, 1\], found -2..-2"):
        check_datalist([{"image": str(deep)}, {"image": str(odd)}])


def test_inference_refuses_inputs_of_the_same_id_naming_both_files(drive):
    from monai_jattn.data import ReadableImages

    drive[1]["id"] = drive[0]["id"]  # e.g. a.png and a.tif: both would write a_mask.png
    with pytest.raises(DatasetError) as error:
        ReadableImages(drive)
    message = str(error.value)
    assert "ids used by more than one entry (outputs would overwrite each other)" in message
    assert f"{drive[0]['image']} and {drive[1]['image']}" in message


def test_inference_with_no_readable_image_fails_before_running_naming_every_file(drive):
    from monai_jattn.data import ReadableImages

    for entry in drive:
        Path(entry["image"]).write_bytes(b"garbage")
    with pytest.raises(DatasetError) as error:
        ReadableImages(drive)
    message = str(error.value)
    assert f"{len(drive)} problem(s) in the datalist, and no image is readable" in message
    assert all(f"{entry['image']}: cannot read the image" in message for entry in drive)
    with pytest.raises(DatasetError, match="the datalist is empty: no images were found"):
        ReadableImages([])


@pytest.mark.parametrize(
    "size, zoom, problem",
    [
        ((1, 1), 0.5, "1x1 pixels (WxH) become 0x0"),
        ((3, 1), 0.5, "3x1 pixels (WxH) become 1x0"),
        ((2, 2), 0.5, None),
        ((3, 3), 1 / 3, None),
        ((1, 1), 1.0, None),
    ],
)
def test_an_image_the_zoom_shrinks_below_one_pixel_is_a_problem_of_that_file(tmp_path, size, zoom, problem):
    from monai_jattn.data.image_2d import inspect_image_2d

    path = tmp_path / "tiny.png"
    Image.new("RGB", size).save(path)
    found = inspect_image_2d(str(path), False, zoom)
    assert found[0] == size
    assert (found[1] is None) if problem is None else found[1].startswith(f"{problem} at image_zoom {zoom}: too small")
    assert inspect_image_2d(str(path), True, zoom)[1] is None  # masks are not zoomed
