"""The synthetic sample datasets: exact official layouts and formats, realistic content, determinism."""

import hashlib

import cv2
import numpy as np
import pytest
from PIL import Image

from monai_jattn.data import check_datalist
from monai_jattn.datasets.drive import drive_datalist, write_drive_sample
from monai_jattn.datasets.isic2017 import ISIC2017_SAMPLE_SIZES, isic2017_datalist, write_isic2017_sample
from monai_jattn.datasets.synthetic import synthesize_dermoscopy, synthesize_fundus
from monai_jattn.setting_checks import SettingError
from monai_jattn.transforms import LoadImage2Dd


def tree(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def digest(root):
    return {name: hashlib.md5((root / name).read_bytes()).hexdigest() for name in tree(root)}


def test_drive_layout_names_and_formats(tmp_path):
    root = write_drive_sample(tmp_path / "DRIVE", num_train=2, num_test=2, image_size=(40, 36))
    assert tree(root) == [
        "test/1st_manual/01_manual1.gif",
        "test/1st_manual/02_manual1.gif",
        "test/2nd_manual/01_manual2.gif",
        "test/2nd_manual/02_manual2.gif",
        "test/images/01_test.tif",
        "test/images/02_test.tif",
        "test/mask/01_test_mask.gif",
        "test/mask/02_test_mask.gif",
        "training/1st_manual/21_manual1.gif",
        "training/1st_manual/22_manual1.gif",
        "training/images/21_training.tif",
        "training/images/22_training.tif",
        "training/mask/21_training_mask.gif",
        "training/mask/22_training_mask.gif",
    ]
    with Image.open(root / "training/images/21_training.tif") as image:
        assert (image.format, image.mode, image.size) == ("TIFF", "RGB", (36, 40))
    modes = set()
    for name in tree(root):
        if name.endswith(".gif"):
            with Image.open(root / name) as image:
                assert image.format == "GIF" and image.size == (36, 40)
                modes.add(image.mode)
                if "2nd_manual" not in name:
                    assert set(np.unique(np.asarray(image.convert("L")))) <= {0, 255}
    assert modes == {"P", "L"}  # loaders must handle both
    check_datalist(drive_datalist(root) + drive_datalist(root, "test"))


def test_drive_second_observer_is_a_palette_gif_like_the_real_one(tmp_path):
    root = write_drive_sample(tmp_path / "DRIVE", num_train=1, num_test=2, image_size=(40, 36))
    test = drive_datalist(root, "test")
    assert [entry["label2"] for entry in test] == [str(root / f"test/2nd_manual/0{i}_manual2.gif") for i in (1, 2)]
    with Image.open(test[0]["label2"]) as image:  # DRIVE's 2nd_manual: indices 0/1, colours not pure black/white
        assert image.mode == "P" and image.getpalette()[:6] == [4, 2, 4, 252, 254, 252]
        indices = np.asarray(image)
    assert set(np.unique(indices)) == {0, 1}
    for entry in test:
        loaded = LoadImage2Dd(("label", "label2"), binary_keys=("label", "label2"))(entry)
        observer2, observer1 = loaded["label2"][0].numpy().T, loaded["label"][0].numpy().T  # (W, H) -> (H, W)
        assert 0 < observer2.sum() < observer1.sum()  # the second observer misses the thinnest vessels
        assert np.all(observer1[observer2 > 0] == 1)
    assert np.array_equal(LoadImage2Dd("label2", binary_keys="label2")(test[0])["label2"][0].numpy().T, indices)


def test_drive_without_test_labels(tmp_path):
    root = write_drive_sample(tmp_path, num_train=1, num_test=1, image_size=(32, 32), with_test_labels=False)
    assert not (root / "test/1st_manual").exists() and not (root / "test/2nd_manual").exists()
    assert (root / "test/mask/01_test_mask.gif").is_file()


def test_drive_full_size_default(tmp_path):
    root = write_drive_sample(tmp_path, num_train=1, num_test=0)
    with Image.open(root / "training/images/21_training.tif") as image:
        assert image.size == (565, 584)


def test_drive_is_deterministic_by_seed(tmp_path):
    first = write_drive_sample(tmp_path / "a", 2, 1, seed=5, image_size=(40, 40))
    again = write_drive_sample(tmp_path / "b", 2, 1, seed=5, image_size=(40, 40))
    other = write_drive_sample(tmp_path / "c", 2, 1, seed=6, image_size=(40, 40))
    assert digest(first) == digest(again)
    assert digest(first)["training/images/21_training.tif"] != digest(other)["training/images/21_training.tif"]


def test_fundus_content_is_realistic():
    rgb, vessels, second, fov = synthesize_fundus(np.random.default_rng(0))
    assert rgb.shape == (584, 565, 3) and vessels.shape == fov.shape == (584, 565)
    # a circular FOV of about 540 px across, dark outside
    diameter = 2 * np.sqrt(fov.sum() / np.pi)
    assert 520 < diameter < 560
    assert rgb[~fov].mean() < 10 and rgb[fov].mean() > 60
    assert not (vessels & ~fov).any()
    assert 0.06 < vessels[fov].mean() < 0.25 and (second <= vessels).all() and second.sum() < vessels.sum()
    # vessels from about 8 px wide (a distance of 4 px to the background) down to 1 px wide
    distance = cv2.distanceTransform(vessels.astype(np.uint8), cv2.DIST_L2, 5)
    assert distance.max() >= 3.5
    thin = vessels & (cv2.morphologyEx(vessels.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2))) == 0)
    assert thin.sum() > 500  # many 1-px vessel pixels (removed by a 2x2 opening)
    # darker than the background in green, with contrast falling with width
    green = rgb[..., 1].astype(np.float32)
    background = green[fov & (cv2.dilate(vessels.astype(np.uint8), np.ones((9, 9))) == 0)]
    thick_core = green[distance >= 3]
    local_background = cv2.blur(np.where(vessels, 0, green), (15, 15)) / np.maximum(
        cv2.blur((~vessels & fov).astype(np.float32), (15, 15)), 1e-3
    )
    thick_contrast = 1 - (thick_core / local_background[distance >= 3]).mean()
    thin_contrast = 1 - (green[thin] / local_background[thin]).mean()
    assert thick_core.mean() < background.mean()
    assert thick_contrast > 2 * thin_contrast > 0


def test_isic_layout_names_and_formats(tmp_path):
    root = write_isic2017_sample(tmp_path, num_train=2, num_val=1, num_test=1, image_size=(30, 40))
    names = tree(root)
    assert {name.split("/")[0] for name in names} == {
        "ISIC-2017_Training_Data",
        "ISIC-2017_Training_Part1_GroundTruth",
        "ISIC-2017_Validation_Data",
        "ISIC-2017_Validation_Part1_GroundTruth",
        "ISIC-2017_Test_v2_Data",
        "ISIC-2017_Test_v2_Part1_GroundTruth",
    }
    training = [n.split("/")[1] for n in names if n.startswith("ISIC-2017_Training_Data/")]
    ids = sorted(n[:-4] for n in training if n.endswith(".jpg"))
    assert len(ids) == 2 and all(len(i) == 12 and i.startswith("ISIC_") for i in ids)
    assert sorted(training) == sorted(
        ["ISIC-2017_Training_Data_metadata.csv"] + [f"{i}.jpg" for i in ids] + [f"{i}_superpixels.png" for i in ids]
    )
    with Image.open(root / "ISIC-2017_Training_Data" / f"{ids[0]}.jpg") as image:
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (40, 30))
    with Image.open(root / "ISIC-2017_Training_Part1_GroundTruth" / f"{ids[0]}_segmentation.png") as mask:
        assert (mask.format, mask.mode, mask.size) == ("PNG", "L", (40, 30))
        assert set(np.unique(np.asarray(mask))) <= {0, 255}
    with Image.open(root / "ISIC-2017_Training_Data" / f"{ids[0]}_superpixels.png") as decoy:
        assert decoy.mode == "RGB"
    check_datalist(isic2017_datalist(root) + isic2017_datalist(root, "validation") + isic2017_datalist(root, "test"))


def test_isic_default_sizes_are_realistic_and_vary(tmp_path):
    root = write_isic2017_sample(tmp_path, num_train=3, num_val=0, num_test=0, seed=1)
    sizes = {Image.open(entry["image"]).size[::-1] for entry in isic2017_datalist(root)}
    assert sizes <= set(ISIC2017_SAMPLE_SIZES)


def test_isic_is_deterministic_by_seed(tmp_path):
    assert digest(write_isic2017_sample(tmp_path / "a", 2, 1, 1, seed=3, image_size=(24, 32))) == digest(
        write_isic2017_sample(tmp_path / "b", 2, 1, 1, seed=3, image_size=(24, 32))
    )
    assert tree(tmp_path / "a") != tree(write_isic2017_sample(tmp_path / "c", 2, 1, 1, seed=4, image_size=(24, 32)))


@pytest.mark.parametrize("seed", range(4))
def test_dermoscopy_content(seed):
    rgb, lesion = synthesize_dermoscopy(np.random.default_rng(seed), (300, 400))
    assert rgb.shape == (300, 400, 3) and lesion.shape == (300, 400)
    assert 0.01 < lesion.mean() < 0.7
    inner = cv2.erode(lesion.astype(np.uint8), np.ones((15, 15))) > 0
    outer = cv2.dilate(lesion.astype(np.uint8), np.ones((31, 31))) == 0
    # the lesion differs in colour from the skin around it
    assert np.abs(rgb[inner].mean(0) - rgb[outer].mean(0)).max() > 5


def test_dermoscopy_varies_in_size_and_colour():
    samples = [synthesize_dermoscopy(np.random.default_rng(seed), (120, 160)) for seed in range(12)]
    areas = [lesion.mean() for _, lesion in samples]
    colours = [rgb[lesion].mean(0) for rgb, lesion in samples]
    assert max(areas) > 3 * min(areas)
    assert np.ptp(np.array(colours), axis=0).max() > 40


@pytest.mark.parametrize(
    "write, kwargs, message",
    [
        (write_drive_sample, {"num_train": -1}, "num_train must be an integer >= 0, got -1"),
        (write_drive_sample, {"image_size": (0, 8)}, "image_size height must be a positive integer, got 0"),
        (write_isic2017_sample, {"num_val": -3}, "num_val must be an integer >= 0, got -3"),
        (write_isic2017_sample, {"image_size": (8,)}, r"image_size must be two integers \(height, width\)"),
    ],
)
def test_sample_writers_refuse_negative_counts_and_sizes(tmp_path, write, kwargs, message):
    defaults = {"num_train": 1, "num_test": 1} | ({"num_val": 1} if write is write_isic2017_sample else {})
    with pytest.raises(SettingError, match=message):
        write(tmp_path / "out", **(defaults | kwargs))
    assert not (tmp_path / "out").exists()
