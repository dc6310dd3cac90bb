"""The ready-made DRIVE and ISIC-2017 pipelines: shapes, FOV patches, determinism, inversion, configs."""

from pathlib import Path

import pytest
import torch
from monai.bundle import ConfigParser
from monai.data import CacheDataset, DataLoader
from monai.transforms import Invertd
from monai.utils import set_determinism

from monai_jattn.datasets import image_folder_datalist
from monai_jattn.datasets.drive import drive_datalist, drive_eval_transforms, drive_train_transforms, write_drive_sample
from monai_jattn.datasets.drive import transforms as drive_transforms
from monai_jattn.datasets.isic2017 import (
    isic2017_datalist,
    isic2017_eval_transforms,
    isic2017_train_transforms,
    write_isic2017_sample,
)
from monai_jattn.datasets.isic2017 import transforms as isic2017_transforms
from monai_jattn.transforms.pipelines import augmentation_config


@pytest.fixture(scope="module")
def drive_root(tmp_path_factory):
    return write_drive_sample(
        tmp_path_factory.mktemp("data"), num_train=2, num_test=1, image_size=(96, 88), with_test_labels=False
    )


@pytest.fixture(scope="module")
def isic_root(tmp_path_factory):
    return write_isic2017_sample(tmp_path_factory.mktemp("data"), 2, 1, 1, image_size=(60, 80))


@pytest.fixture(autouse=True)
def reset_determinism():
    yield
    set_determinism(None)


def draw(transforms, entry):
    """The tensors of the patches that a patch-sampling pipeline draws from ``entry``."""
    return [{k: v.clone() for k, v in item.items() if isinstance(v, torch.Tensor)} for item in transforms(entry)]


def test_drive_patches_are_inside_the_fov_with_binary_labels(drive_root):
    entry = drive_datalist(drive_root)[0]
    patches = drive_train_transforms(patch_size=(24, 32), num_patches=6, augment=False)(entry)
    assert len(patches) == 6
    for patch in patches:
        assert set(patch) >= {"image", "label", "mask", "id"} and not any(k.endswith("_indices") for k in patch)
        for key in ("image", "label", "mask"):
            assert patch[key].shape == (1, 32, 24) and patch[key].dtype == torch.float32  # (C, W, H) of a 24 x 32 patch
        assert patch["mask"][0, 16, 12] == 1  # the centre pixel is inside the FOV
        assert set(patch["label"].unique().tolist()) <= {0.0, 1.0}
        assert 0 <= float(patch["image"].min()) and float(patch["image"].max()) <= 1


def test_drive_patches_are_reproducible_under_set_determinism(drive_root):
    entry = drive_datalist(drive_root)[0]
    set_determinism(seed=0)
    first = draw(drive_train_transforms((32, 32), 4), entry)
    set_determinism(seed=0)
    again = draw(drive_train_transforms((32, 32), 4), entry)
    set_determinism(seed=1)
    other = draw(drive_train_transforms((32, 32), 4), entry)
    for a, b in zip(first, again):
        for key in a:
            torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)
    assert any(not torch.equal(a["image"], c["image"]) for a, c in zip(first, other))


def test_drive_training_batches_from_a_cache_dataset(drive_root):
    dataset = CacheDataset(drive_datalist(drive_root), transform=drive_train_transforms(32, 3), progress=False)
    batch = next(iter(DataLoader(dataset, batch_size=2, num_workers=0)))
    assert batch["image"].shape == (6, 1, 32, 32) and batch["label"].shape == (6, 1, 32, 32)


def test_drive_eval_keeps_the_original_size(drive_root):
    entry = drive_datalist(drive_root)[0]
    data = drive_eval_transforms()(entry)
    assert data["image"].shape == (1, 88, 96) and data["label"].shape == data["mask"].shape == (1, 88, 96)
    assert data["image"].meta["filename_or_obj"] == entry["image"]
    torch.testing.assert_close(data["image"], drive_eval_transforms()(entry)["image"])  # nothing random


def test_drive_eval_on_test_split_without_labels_and_on_plain_folders(drive_root, tmp_path):
    data = drive_eval_transforms(with_label=False)(drive_datalist(drive_root, "test")[0])
    assert "label" not in data and data["mask"].shape == (1, 88, 96)
    plain = tmp_path / "mine"
    plain.mkdir()
    (plain / "eye.tif").write_bytes((drive_root / "test" / "images" / "01_test.tif").read_bytes())
    entries = image_folder_datalist(plain) + image_folder_datalist(drive_root / "test")
    transforms = drive_eval_transforms(with_label=False, allow_missing_keys=True)
    outputs = [transforms(entry) for entry in entries]
    assert "mask" not in outputs[0] and "mask" in outputs[1]
    with pytest.raises(RuntimeError):  # without allow_missing_keys the FOV mask is required
        drive_eval_transforms(with_label=False)(entries[0])


def test_isic_training_size_and_binary_labels(isic_root):
    data = isic2017_train_transforms(train_size=(48, 64))(isic2017_datalist(isic_root)[0])
    assert data["image"].shape == (3, 64, 48) and data["label"].shape == (1, 64, 48)
    assert set(data["label"].unique().tolist()) <= {0.0, 1.0}
    assert -0.2 <= float(data["image"].min()) and float(data["image"].max()) <= 1.3


def test_isic_augmentation_is_reproducible(isic_root):
    entry = isic2017_datalist(isic_root)[0]
    set_determinism(seed=3)
    first = isic2017_train_transforms((48, 64))(entry)["image"]
    set_determinism(seed=3)
    again = isic2017_train_transforms((48, 64))(entry)["image"]
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    others = []
    for seed in (4, 5, 6):
        set_determinism(seed=seed)
        others.append(isic2017_train_transforms((48, 64))(entry)["image"])
    assert any(not torch.equal(first, other) for other in others)  # the augmentations are random


def test_isic_eval_resizes_only_the_image_and_invertd_restores_the_size(isic_root):
    entry = isic2017_datalist(isic_root, "test")[0]
    transforms = isic2017_eval_transforms(train_size=(48, 64))
    data = transforms(entry)
    assert data["image"].shape == (3, 64, 48) and data["label"].shape == (1, 80, 60)
    data["pred"] = data["image"][:1].clone()
    restored = Invertd("pred", transform=transforms, orig_keys="image", nearest_interp=False)(data)["pred"]
    assert restored.shape == data["label"].shape
    original = transforms.transforms[0](entry)["image"][:1] / 255.0
    assert (
        torch.corrcoef(torch.stack([restored.flatten(), original.flatten()]))[0, 1] > 0.7
    )  # same content, blurred by the round trip


def test_isic_eval_options(isic_root):
    entry = isic2017_datalist(isic_root)[0]
    assert isic2017_eval_transforms((48, 64), resize_label=True)(entry)["label"].shape == (1, 64, 48)
    assert "label" not in isic2017_eval_transforms((48, 64), with_label=False)({"image": entry["image"]})


def test_pipelines_can_be_built_from_a_bundle_config(isic_root):
    parser = ConfigParser(
        {
            "train_size": [48, 64],
            "preprocessing": {
                "_target_": "monai_jattn.datasets.isic2017.isic2017_train_transforms",
                "train_size": "@train_size",
            },
            "drive": {
                "_target_": "monai_jattn.datasets.drive.drive_train_transforms",
                "patch_size": 32,
                "num_patches": 2,
            },
        }
    )
    data = parser.get_parsed_content("preprocessing")(isic2017_datalist(isic_root)[0])
    assert data["image"].shape == (3, 64, 48)
    assert len(parser.get_parsed_content("drive").transforms) > 3


BUNDLES = Path(__file__).resolve().parents[2] / "bundles"


def bundle_augmentation(bundle: str, **overrides) -> list[dict]:
    """A bundle's built ``train#augmentation`` as configs: the enabled entries, their expressions evaluated."""
    parser, instances = ConfigParser(), ConfigParser()
    for each in (parser, instances):
        each.read_config(BUNDLES / bundle / "configs" / "train.json")
        each.update(overrides)
    listing = []
    for index in range(len(parser["train"]["augmentation"]["transforms"])):
        item = f"train#augmentation#transforms#{index}"
        config = parser.get_parsed_content(item, instantiate=False).get_config()
        if "_disabled_" in config and parser.get_parsed_content(f"{item}#_disabled_"):
            continue
        listing.append({key: value for key, value in config.items() if key != "_disabled_"})
    batch_types = [type(t).__name__ for t in instances.get_parsed_content("train#augmentation").transforms]
    assert batch_types == [config["_target_"].rsplit(".", 1)[-1] for config in listing]
    return listing


def python_augmentation(monkeypatch, module, build) -> list[dict]:
    """The `augmentation_config` from which a dataset's Python pipeline (``build``) makes its augmentations; the
    transforms it gets are checked to be those the listing names."""
    calls, made = [], []
    real = module.augmentations

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        made.extend(real(*args, **kwargs))
        return made

    monkeypatch.setattr(module, "augmentations", spy)
    build()
    assert len(calls) == 1
    listing = augmentation_config(*calls[0][0], **calls[0][1])
    assert [type(t).__name__ for t in made] == [config["_target_"] for config in listing]
    return listing


@pytest.mark.parametrize(
    "bundle,overrides,module,build",
    [
        ("drive_jattn_segmentation", {"patch_size": [128, 128]}, drive_transforms, lambda: drive_train_transforms(128)),
        (
            "drive_jattn_segmentation",
            {"patch_size": [96, 128]},
            drive_transforms,
            lambda: drive_train_transforms((96, 128)),
        ),
        ("isic2017_jattn_segmentation", {}, isic2017_transforms, lambda: isic2017_train_transforms()),
    ],
    ids=["drive-square", "drive-oblong", "isic2017"],
)
def test_python_pipelines_augment_as_the_bundles(monkeypatch, bundle, overrides, module, build):
    """One recipe (`augmentation_config`, which the build writes into the bundles): the Python pipelines'
    augmentations are the bundle's ``train#augmentation`` as it runs, transform by transform (MONAI's ``RandFlipd``
    where the bundle has its batch form ``RandFlipBatchd``) with the same arguments, expressions evaluated; the
    Python route's extra keys (DRIVE's FOV ``mask``) follow the label (nearest)."""
    bundle_listing = bundle_augmentation(bundle, **overrides)
    listing = python_augmentation(monkeypatch, module, build)
    assert len(listing) == len(bundle_listing)
    for mine, theirs in zip(listing, bundle_listing):
        theirs = dict(theirs)
        assert mine.pop("_target_") == theirs.pop("_target_").rsplit(".", 1)[-1].replace("Batchd", "d")
        assert set(mine) == set(theirs)
        for key, value in theirs.items():
            if key in ("keys", "mode") and isinstance(value, list):  # the bundle's batches: image and label only
                assert mine[key][: len(value)] == value and set(mine[key][len(value) :]) <= {"mask", "nearest"}
            else:
                assert mine[key] == pytest.approx(value), key
