"""CHASE_DB1 as a registered dataset: datalist on a sample in the official naming, errors naming the files,
the computed and cached FOV, the sample writer, zoom_to_drive and the registry entry."""

from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from monai_jattn.data import DatasetError
from monai_jattn.datasets import chasedb1, dataset_datalist, get_dataset
from monai_jattn.datasets.chasedb1 import (
    DRIVE_FOV_DIAMETER,
    chasedb1_datalist,
    chasedb1_fov,
    chasedb1_fov_cache_dir,
    chasedb1_has_split,
    fov_diameter,
    write_chasedb1_sample,
    zoom_to_drive,
)
from monai_jattn.setting_checks import SettingError

SIZE = (96, 100)  # (height, width): not square, so that a swapped axis cannot go unnoticed


@pytest.fixture(autouse=True)
def no_cache_env(monkeypatch):
    monkeypatch.delenv(chasedb1.FOV_CACHE_ENV, raising=False)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """Children 01, 02 (training) and 11 (test): six images."""
    return write_chasedb1_sample(tmp_path_factory.mktemp("data") / "CHASEDB1", 2, 1, seed=0, image_size=SIZE)


@pytest.fixture
def sample_copy(sample, tmp_path):
    return Path(shutil.copytree(sample, tmp_path / "CHASEDB1", ignore=shutil.ignore_patterns(".*")))


def read(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def test_sample_writer_names_sizes_and_labels(sample):
    expected = {
        f"Image_{c}{e}{s}" for c in ("01", "02", "11") for e in "LR" for s in (".jpg", "_1stHO.png", "_2ndHO.png")
    }
    assert {p.name for p in sample.iterdir() if not p.name.startswith(".")} == expected
    for child in ("01L", "11R"):
        with Image.open(sample / f"Image_{child}.jpg") as image:
            assert image.format == "JPEG" and image.mode == "RGB" and image.size == (SIZE[1], SIZE[0])
        first, second = (read(sample / f"Image_{child}_{o}HO.png") for o in ("1st", "2nd"))
        assert first.shape == second.shape == SIZE
        assert set(np.unique(first)) == set(np.unique(second)) == {0, 255}
        # the second observer is a slightly different, thinner tracing of the same vessels
        assert 0 < (first != second).mean() < 0.5 * (first > 0).mean() and not (second & ~first).any()


def test_sample_writer_is_deterministic_and_checks_counts(sample, tmp_path):
    again = write_chasedb1_sample(tmp_path / "again", 1, 0, seed=0, image_size=SIZE)
    assert (again / "Image_01R.jpg").read_bytes() == (sample / "Image_01R.jpg").read_bytes()
    with pytest.raises(SettingError, match="num_test_children must be at most 4"):
        write_chasedb1_sample(tmp_path / "bad", 1, 5, image_size=SIZE)
    with pytest.raises(SettingError, match="num_train_children"):
        write_chasedb1_sample(tmp_path / "bad", -1, 1, image_size=SIZE)


def test_full_size_sample_has_chasedb1_geometry_and_zoom(tmp_path):
    root = write_chasedb1_sample(tmp_path, 1, 0, seed=3)
    with Image.open(root / "Image_01L.jpg") as image:
        assert image.size == (999, 960)
    labels = read(root / "Image_01L_1stHO.png") > 0
    # vessels wider in pixels than DRIVE's (at most about 8 px there): the widest trunk measured by the
    # largest inscribed disc of the label (distance transform)
    widest = 2 * cv2.distanceTransform(labels.astype(np.uint8), cv2.DIST_L2, 5).max()
    assert widest > 9
    # the FOV is about 0.94 of the image height across; DRIVE's 540 px then means a zoom of about 0.6
    assert 0.55 < zoom_to_drive(root) < 0.65


def test_training_and_test_split_by_child_number(sample):
    train = chasedb1_datalist(sample, "training")
    assert [e["id"] for e in train] == ["Image_01L", "Image_01R", "Image_02L", "Image_02R"]
    test = dataset_datalist("chasedb1", sample, "test", require_labels=True)
    assert [e["id"] for e in test] == ["Image_11L", "Image_11R"]
    entry = test[1]
    assert set(entry) == {"image", "label", "label2", "mask", "id"}
    assert entry["image"] == str(sample / "Image_11R.jpg")
    assert entry["label"] == str(sample / "Image_11R_1stHO.png")
    assert entry["label2"] == str(sample / "Image_11R_2ndHO.png")
    assert Path(entry["mask"]).is_file()
    assert chasedb1_has_split(sample, "training") and chasedb1_has_split(sample, "test")


def test_a_partial_folder_splits_the_same_way(sample_copy):
    for path in sample_copy.glob("Image_01*"):
        path.unlink()
    assert [e["id"] for e in chasedb1_datalist(sample_copy, "training")] == ["Image_02L", "Image_02R"]
    for path in sample_copy.glob("Image_11*"):
        path.unlink()
    assert not chasedb1_has_split(sample_copy, "test")
    with pytest.raises(DatasetError, match=r"no CHASE_DB1 test images \(Image_11L.jpg .. Image_14R.jpg\)"):
        chasedb1_datalist(sample_copy, "test")


@pytest.mark.parametrize("layout", ["itself", "parent", "nested", "lower-case parent"])
def test_root_may_be_the_folder_its_parent_or_a_nested_copy(sample, tmp_path, layout):
    if layout == "itself":
        root = sample
    elif layout == "parent":
        root = sample.parent
    elif layout == "nested":
        root = tmp_path / "CHASEDB1"
        shutil.copytree(sample, root / "CHASEDB1")
    else:
        root = tmp_path / "downloads"
        shutil.copytree(sample, root / "chasedb1")
    assert len(chasedb1_datalist(root, "test")) == 2


def test_problems_are_listed_together_with_their_files(sample_copy):
    (sample_copy / "Image_02L_1stHO.png").unlink()
    (sample_copy / "Image_02R_2ndHO.png").unlink()
    (sample_copy / "notes.png").write_bytes(b"x")
    (sample_copy / "Image_15L.jpg").write_bytes(b"")
    shutil.copy(sample_copy / "Image_01L_1stHO.png", sample_copy / "Image_03L_1stHO.png")
    with pytest.raises(DatasetError) as error:
        chasedb1_datalist(sample_copy, "training")
    message = str(error.value)
    assert message.startswith(f"5 problem(s) in {sample_copy}")
    assert f"{sample_copy / 'Image_02L.jpg'}: its 1st-observer label Image_02L_1stHO.png is missing" in message
    assert f"{sample_copy / 'Image_02R.jpg'}: its 2nd-observer label Image_02R_2ndHO.png is missing" in message
    assert f"{sample_copy / 'notes.png'}: unexpected file" in message
    assert f"{sample_copy / 'Image_15L.jpg'}: unexpected file" in message
    assert f"{sample_copy / 'Image_03L_1stHO.png'}: a 1st-observer label without its image Image_03L.jpg" in message


def test_test_split_without_labels_lists_images_unless_labels_are_required(sample_copy, caplog):
    for path in sample_copy.glob("Image_11*HO.png"):
        path.unlink()
    entries = chasedb1_datalist(sample_copy, "test")
    assert [sorted(e) for e in entries] == [["id", "image", "mask"]] * 2
    assert "has no first-observer labels" in caplog.text
    with pytest.raises(DatasetError, match=r"Image_11L.jpg: its 1st-observer label Image_11L_1stHO.png is missing"):
        chasedb1_datalist(sample_copy, "test", require_labels=True)


def test_missing_root_and_bad_split(tmp_path):
    with pytest.raises(DatasetError, match=f"{tmp_path / 'absent'}: folder of the CHASE_DB1 dataset does not exist"):
        chasedb1_datalist(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no CHASE_DB1 images"):
        chasedb1_datalist(tmp_path / "empty")
    assert not chasedb1_has_split(tmp_path / "absent", "training")
    with pytest.raises(ValueError, match="split must be one of"):
        chasedb1_datalist(tmp_path, "validation")


def test_a_corrupt_image_is_named(sample_copy, tmp_path):
    (sample_copy / "Image_11L.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DatasetError, match=r"Image_11L.jpg: cannot read the image to compute its FOV"):
        chasedb1_datalist(sample_copy, "test", fov_cache_dir=tmp_path / "cache")


def disc_image(rng: np.random.Generator, size=(300, 320), centre=(164, 146), radius=125, quality=70) -> tuple:
    """A fundus-like disc on black with dark vessels crossing its rim, a dark lesion inside, bright specks and
    speckle outside, through JPEG; returns the decoded image and the disc."""
    yy, xx = np.mgrid[: size[0], : size[1]]
    disc = np.hypot(xx - centre[0], yy - centre[1]) <= radius
    rgb = np.zeros((*size, 3), np.float32)
    rgb[disc] = (150, 70, 30)
    rgb[disc] *= 1 - 0.5 * (np.hypot(xx - centre[0], yy - centre[1])[disc, None] / radius) ** 3  # a darker rim
    for angle in (0.3, 2.0, 4.0):  # dark vessels reaching the rim
        end = (int(centre[0] + 1.1 * radius * np.cos(angle)), int(centre[1] + 1.1 * radius * np.sin(angle)))
        cv2.line(rgb, centre, end, (8, 4, 2), 3)
    cv2.circle(rgb, (centre[0] + 30, centre[1] - 20), 12, (5, 5, 5), -1)  # a dark lesion: a hole to fill
    for x, y in ((8, 8), (310, 280), (10, 284)):
        cv2.circle(rgb, (x, y), 2, (90, 90, 90), -1)  # bright specks in the background
    salt = ~disc & (rng.random(size) < 0.02)  # isolated bright pixels in the background (JPEG speckle)
    rgb[salt] = 60
    rgb += rng.normal(0, 3, rgb.shape)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer)), disc


def test_fov_of_a_noisy_disc_is_the_disc_in_one_piece_without_holes():
    image, disc = disc_image(np.random.default_rng(0))
    fov = chasedb1_fov(image)
    assert (fov & disc).sum() / (fov | disc).sum() > 0.97
    ring = np.ones((7, 7), np.uint8)  # 3 px: the JPEG-blurred rim may go either way, nothing more
    assert fov[cv2.erode(disc.astype(np.uint8), ring) > 0].all()  # no notch where the vessels cross the rim
    assert not fov[cv2.dilate(disc.astype(np.uint8), ring) == 0].any()  # no speck outside
    count, _ = cv2.connectedComponents(fov.astype(np.uint8))
    assert count == 2  # the background and one FOV
    holes, _ = cv2.connectedComponents((~fov).astype(np.uint8))
    assert holes == 2  # the background is one piece: no hole inside the FOV
    assert abs(fov_diameter(fov) - 251) <= 3
    assert not chasedb1_fov(np.zeros((40, 40, 3), np.uint8)).any()


def test_fov_cache_is_computed_once_and_again_for_new_content(sample_copy, monkeypatch):
    calls = []
    compute = chasedb1.chasedb1_fov
    monkeypatch.setattr(chasedb1.fov, "chasedb1_fov", lambda rgb: calls.append(1) or compute(rgb))
    first = chasedb1_datalist(sample_copy, "test")
    assert len(calls) == 2
    mask = Path(first[0]["mask"])
    assert mask.parent == sample_copy / ".monai_jattn_fov"
    assert re.fullmatch(rf"Image_11L_fov_v{chasedb1.FOV_VERSION}_[0-9a-f]{{16}}\.png", mask.name)
    assert set(np.unique(read(mask))) == {0, 255}
    assert [e["mask"] for e in chasedb1_datalist(sample_copy, "test")] == [e["mask"] for e in first]
    assert len(calls) == 2  # the second call reads the cache
    image = sample_copy / "Image_11R.jpg"
    os.utime(image, (mask.stat().st_mtime + 10,) * 2)
    chasedb1_datalist(sample_copy, "test")
    assert len(calls) == 2  # a touched image has the same content
    Image.new("RGB", Image.open(image).size).save(image)  # another image (black: an empty FOV) ...
    os.utime(image, (0, 0))  # ... dated 1970, as an unzip may keep an archive's dates
    replaced = chasedb1_datalist(sample_copy, "test")[1]["mask"]
    assert len(calls) == 3 and not read(replaced).any()
    assert sorted(p.name for p in mask.parent.glob("Image_11R_fov_*")) == [Path(replaced).name]  # old entry gone
    monkeypatch.setattr(chasedb1.fov, "FOV_VERSION", chasedb1.FOV_VERSION + 1)
    assert f"_v{chasedb1.fov.FOV_VERSION}_" in Path(chasedb1_datalist(sample_copy, "test")[0]["mask"]).name
    assert len(calls) == 5  # a new algorithm version recomputes every image


def test_fov_cache_folder_argument_environment_and_read_only_root(sample_copy, tmp_path, monkeypatch):
    entries = chasedb1_datalist(sample_copy, "test", fov_cache_dir=tmp_path / "mine")
    assert Path(entries[0]["mask"]).parent == tmp_path / "mine"
    monkeypatch.setenv(chasedb1.FOV_CACHE_ENV, str(tmp_path / "env"))
    env_dir = chasedb1_fov_cache_dir(sample_copy)
    assert env_dir.parent == tmp_path / "env" / "chasedb1_fov"
    assert Path(chasedb1_datalist(sample_copy, "test")[0]["mask"]).parent == env_dir
    monkeypatch.delenv(chasedb1.FOV_CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # a read-only dataset folder
    user_dir = chasedb1_fov_cache_dir(sample_copy)
    assert user_dir.parent == tmp_path / "xdg" / "monai_jattn" / "chasedb1_fov"
    assert user_dir.name != chasedb1_fov_cache_dir(tmp_path).name  # one folder per dataset root


def test_zoom_to_drive_follows_the_sample_geometry(sample):
    zoom = zoom_to_drive(sample)
    diameters = [fov_diameter(read(e["mask"]) > 0) for s in ("training", "test") for e in chasedb1_datalist(sample, s)]
    assert zoom == pytest.approx(DRIVE_FOV_DIAMETER / np.median(diameters))
    # the synthetic FOV spans 0.92-0.96 of the shorter side
    assert 0.9 * SIZE[0] < DRIVE_FOV_DIAMETER / zoom < 0.98 * SIZE[0]


def test_registered_spec(sample):
    spec = get_dataset("CHASEDB1")
    assert spec is chasedb1.SPEC and spec.title == "CHASE_DB1" and spec.splits == ("training", "test")
    assert spec.bundle == "drive_jattn_segmentation" and spec.bundle_overrides == {"dataset_name": "chasedb1"}
    assert spec.fov_key == "mask" and spec.second_observer and spec.classes == ("background", "vessel")
    assert {o.dest for o in spec.sample_options} == {"num_train_children", "num_test_children"}
    assert spec.official_role(sample / "Image_01L_1stHO.png")[0] == "CHASE_DB1 1st-observer vessel label"
    assert spec.official_role(sample / ".monai_jattn_fov" / "Image_01L_fov_v1_0123456789abcdef.png") is not None
    assert spec.official_role(sample / "Image_01L.jpg") is None
    panels = spec.figure_panels(sample, 0)
    assert [p[0].shape for p in panels] == [(3, SIZE[1], SIZE[0]), (1, SIZE[1], SIZE[0])] + [(1, SIZE[1], SIZE[0])] * 2


def test_files_that_are_not_images_are_ignored_with_a_warning(sample_copy, caplog):
    (sample_copy / "Thumbs.db").write_bytes(b"\0" * 8)
    (sample_copy / "readme.txt").write_text("CHASE_DB1")
    with caplog.at_level("WARNING"):
        assert len(chasedb1_datalist(sample_copy, "test")) == 2
    assert f"{sample_copy / 'Thumbs.db'}: not an image, ignored" in caplog.text
    (sample_copy / "Image_01L_copy.jpg").write_bytes(b"")
    with pytest.raises(DatasetError, match="Image_01L_copy.jpg: unexpected file in a CHASE_DB1 folder"):
        chasedb1_datalist(sample_copy, "test")


def test_drive_fov_diameter_is_the_median_of_the_real_drive_masks():
    drive = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "DRIVE"
    masks = sorted(drive.glob("*/mask/*_mask.gif"))
    if len(masks) < 40:
        pytest.skip(f"the real DRIVE data set is not at {drive}")
    diameters = [fov_diameter(np.asarray(Image.open(path)) > 0) for path in masks]
    assert np.median(diameters) == chasedb1.DRIVE_FOV_DIAMETER


def test_a_chasedb1_folder_for_inference_lists_images_with_their_computed_fov(sample_copy):
    from monai_jattn.datasets import image_folder_datalist

    entries = image_folder_datalist(sample_copy)
    assert [e["id"] for e in entries] == [
        e["id"] for s in ("training", "test") for e in chasedb1_datalist(sample_copy, s)
    ]
    for entry in entries:  # labels and cached FOVs are not images to segment; each image has its FOV
        assert Path(entry["mask"]).parent == sample_copy / ".monai_jattn_fov" and read(entry["mask"]).any()
    (sample_copy / "Image_02R_1stHO.png").unlink()
    (sample_copy / "Image_02R_2ndHO.png").unlink()
    assert "mask" not in {e["id"]: e for e in image_folder_datalist(sample_copy)}["Image_02R"]  # no label: any JPEG
