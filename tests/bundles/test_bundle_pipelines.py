"""The transform pipelines the DRIVE and ISIC-2017 bundle configs list: the same tensors as the package's
pipeline factories, overrides of their ids take effect, ``image_zoom`` wiring, and no config calls a factory."""

from __future__ import annotations

import inspect
import json
import re

import numpy as np
import pytest
import torch
from bundle_helpers import REPO, configs
from monai.bundle import ConfigParser
from monai.transforms import Compose, Invertd, Transform, Zoomd
from monai.utils.module import locate

from monai_jattn.datasets.drive import drive_datalist, drive_eval_transforms, write_drive_sample
from monai_jattn.datasets.isic2017 import (
    isic2017_datalist,
    isic2017_eval_transforms,
    isic2017_train_transforms,
    write_isic2017_sample,
)

DRIVE, ISIC = configs("drive_jattn_segmentation"), configs("isic2017_jattn_segmentation")
DRIVE_SIZE, ISIC_SIZE = (30, 38), (22, 30)  # (height, width), not square
TRAIN_SIZE = [16, 24]
DRIVE_KNOBS = {"channel": "green", "clahe": False, "gamma": 1.0}


@pytest.fixture(scope="module")
def drive(tmp_path_factory):
    root = tmp_path_factory.mktemp("DRIVE")
    write_drive_sample(root, num_train=1, num_test=1, seed=0, image_size=DRIVE_SIZE)
    return drive_datalist(root)[0], drive_datalist(root, "test", require_labels=True)[0]


@pytest.fixture(scope="module")
def isic(tmp_path_factory):
    root = tmp_path_factory.mktemp("ISIC2017")
    write_isic2017_sample(root, num_train=1, num_val=1, num_test=1, seed=0, image_size=ISIC_SIZE)
    return isic2017_datalist(root)[0]


def parser(configs_dir, files, **overrides) -> ConfigParser:
    """The bundle configs ``files`` (merged in order) with ``overrides``, as ``python -m monai.bundle run
    --config_file [...] --id value`` reads them."""
    config = ConfigParser()
    config.read_config([str(configs_dir / f) for f in files])
    config.update(overrides)
    return config


def parsed(configs_dir, files, id, **overrides):
    """The parsed content of ``id`` of the bundle configs ``files`` with ``overrides``."""
    return parser(configs_dir, files, **overrides).get_parsed_content(id)


def assert_same_items(actual: dict, expected: dict) -> None:
    assert set(actual) == set(expected)
    for key, value in expected.items():
        if isinstance(value, torch.Tensor):
            assert type(actual[key]) is type(value) and actual[key].dtype == value.dtype, key
            torch.testing.assert_close(actual[key], value, rtol=0, atol=0, msg=key)
            if hasattr(value, "meta"):
                assert actual[key].meta["filename_or_obj"] == value.meta["filename_or_obj"], key
                assert np.array_equal(actual[key].meta["spatial_shape"], value.meta["spatial_shape"]), key
        else:
            assert actual[key] == value, key


@pytest.mark.parametrize("knobs", [{}, DRIVE_KNOBS], ids=["defaults", "green_no_clahe_gamma1"])
@pytest.mark.parametrize(
    "files, id",
    [
        (["train.json"], "train#preprocessing"),
        (["train.json"], "validate#preprocessing"),
        (["train.json", "multi_gpu_train.json"], "train#preprocessing"),
        (["train.json", "multi_gpu_train.json"], "validate#preprocessing"),
        (["train.json", "evaluate.json"], "validate#preprocessing"),
        (["train.json", "evaluate.json", "multi_gpu_evaluate.json"], "validate#preprocessing"),
        (["inference.json"], "preprocessing"),
    ],
)
def test_drive_pipelines_give_what_the_factories_gave(drive, files, id, knobs):
    train_entry, test_entry = drive
    if id == "preprocessing":  # inference: the user's images, FOV masks where found, no labels
        factory = drive_eval_transforms(with_label=False, with_mask=True, allow_missing_keys=True, **knobs)
        entries = [{"image": test_entry["image"], "mask": test_entry["mask"]}, {"image": test_entry["image"]}]
    elif "evaluate.json" in files:  # the test split, with the 2nd observer
        factory = drive_eval_transforms(**knobs)
        entries = [test_entry]
    else:  # training: whole images, the patches are drawn by train#dataloader
        factory = drive_eval_transforms(**knobs)
        entries = [train_entry]
    pipeline = parsed(DRIVE, files, id, **knobs)
    for entry in entries:
        expected = factory(dict(entry))
        actual = pipeline(dict(entry))
        if "label2" in entry:
            assert expected.pop("label2") == entry["label2"]  # the factory left the 2nd observer's file unread
            assert actual.pop("label2").shape == expected["label"].shape  # loaded at the original size
        assert_same_items(actual, expected)


@pytest.mark.parametrize(
    "files, id, factory",
    [
        (["train.json"], "train#preprocessing", lambda: isic2017_train_transforms(TRAIN_SIZE, augment=False)),
        (["train.json"], "validate#preprocessing", lambda: isic2017_eval_transforms(TRAIN_SIZE, with_label=True)),
        (
            ["train.json", "multi_gpu_train.json"],
            "train#preprocessing",
            lambda: isic2017_train_transforms(TRAIN_SIZE, augment=False),
        ),
        (
            ["train.json", "evaluate.json", "multi_gpu_evaluate.json"],
            "validate#preprocessing",
            lambda: isic2017_eval_transforms(TRAIN_SIZE, with_label=True),
        ),
        (["inference.json"], "preprocessing", lambda: isic2017_eval_transforms(TRAIN_SIZE, with_label=False)),
    ],
)
def test_isic2017_pipelines_give_what_the_factories_gave(isic, files, id, factory):
    entry = {"image": isic["image"]} if id == "preprocessing" else dict(isic)
    actual = parsed(ISIC, files, id, train_size=TRAIN_SIZE)(dict(entry))
    expected = factory()(dict(entry))
    assert_same_items(actual, expected)
    assert actual["image"].shape[1:] == (TRAIN_SIZE[1], TRAIN_SIZE[0])  # (W, H) of the MONAI arrays


def test_isic2017_evaluation_inverts_its_resize_to_the_original_size(isic):
    config = parser(ISIC, ["train.json", "evaluate.json"], train_size=TRAIN_SIZE, save_predictions=False)
    data = config.get_parsed_content("validate#preprocessing")(dict(isic))
    data["pred"] = torch.rand(2, *data["image"].shape[1:])
    inverted = config.get_parsed_content("validate#postprocessing")(data)
    assert inverted["pred"].shape[1:] == inverted["label"].shape[1:] == (ISIC_SIZE[1], ISIC_SIZE[0])


def test_drive_preprocessing_overrides_change_the_image(drive):
    train_entry, _ = drive
    images = {
        name: parsed(DRIVE, ["train.json"], "train#preprocessing", **override)(dict(train_entry))["image"]
        for name, override in (("default", {}), ("gamma", {"gamma": 1.0}), ("green", {"channel": "green"}))
    }
    assert not torch.equal(images["gamma"], images["default"])
    assert not torch.equal(images["green"], images["default"])
    torch.testing.assert_close(images["gamma"], drive_eval_transforms(gamma=1.0)(dict(train_entry))["image"])


@pytest.mark.parametrize("configs_dir, flips", [(DRIVE, (0, 1)), (ISIC, (0, 1))], ids=["drive", "isic2017"])
def test_augmentation_overrides_take_effect(configs_dir, flips):
    """All augmentations off but one flip: the batch comes back flipped on that axis, or unchanged with prob 0."""
    augmentation = parsed(configs_dir, ["train.json"], "train#augmentation")
    count = len(augmentation.transforms)
    all_off = {f"train#augmentation#transforms#{i}#prob": 0.0 for i in range(count)}
    batch = {"image": torch.rand(2, 1, 8, 8), "label": (torch.rand(2, 1, 8, 8) > 0.5).float()}
    off = parsed(configs_dir, ["train.json"], "train#augmentation", **all_off)(dict(batch))
    for key, value in batch.items():
        torch.testing.assert_close(off[key], value)
    for index, axis in enumerate(flips):
        one_flip = all_off | {f"train#augmentation#transforms#{index}#prob": 1.0}
        flipped = parsed(configs_dir, ["train.json"], "train#augmentation", **one_flip)(dict(batch))
        for key, value in batch.items():
            torch.testing.assert_close(flipped[key], value.flip(axis + 2))


def _targets(config) -> list[tuple[str, object]]:
    """Every ``_target_`` of a config, with the item that names it."""
    if isinstance(config, dict):
        found = [(config["_target_"], config)] if isinstance(config.get("_target_"), str) else []
        return found + [t for value in config.values() for t in _targets(value)]
    if isinstance(config, list):
        return [t for value in config for t in _targets(value)]
    return []


BUNDLE_CONFIGS = sorted((REPO / "bundles").glob("*_jattn_segmentation/configs/*.json"))


@pytest.mark.parametrize("path", BUNDLE_CONFIGS, ids=lambda p: f"{p.parents[1].name}/{p.name}")
def test_no_config_calls_a_pipeline_factory(path):
    text = path.read_text()
    assert not re.search(r"monai_jattn\.[\w.]*_transforms\b", text), "a bundle config calls a Python pipeline factory"
    for target, _ in _targets(json.loads(text)):
        if target.startswith("monai_jattn.transforms."):  # our own transforms: classes, as MONAI's
            component = locate(target)
            assert inspect.isclass(component) and issubclass(component, Transform), target


@pytest.mark.parametrize("configs_dir", [DRIVE, ISIC], ids=["drive", "isic2017"])
def test_evaluate_labels_the_model_as_the_ablation_does(configs_dir):
    from monai_jattn.networks import MODEL_VARIANTS

    for variant in MODEL_VARIANTS.values():
        overrides = variant.network_overrides()
        assert parsed(configs_dir, ["train.json", "evaluate.json"], "model_name", **overrides) == variant.label


def _types(pipeline) -> list[type]:
    """The transform classes of a (nested) `Compose`, in order."""
    items = pipeline.transforms if isinstance(pipeline, Compose) else [pipeline]
    return [t for item in items for t in (_types(item) if isinstance(item, Compose) else [type(item)])]


@pytest.mark.parametrize(
    "files, ids",
    [
        (["train.json"], ("train#preprocessing", "validate#preprocessing")),
        (["train.json", "multi_gpu_train.json"], ("train#preprocessing", "validate#preprocessing")),
        (["train.json", "evaluate.json"], ("validate#preprocessing", "validate#postprocessing")),
        (
            ["train.json", "evaluate.json", "multi_gpu_evaluate.json"],
            ("validate#preprocessing", "validate#postprocessing"),
        ),
        (["inference.json"], ("preprocessing", "postprocessing")),
    ],
)
def test_drive_image_zoom_steps_are_there_only_when_zooming(files, ids):
    for id in ids:
        plain = _types(parsed(DRIVE, files, id))
        assert Zoomd not in plain and Invertd not in plain, id
        zoomed = _types(parsed(DRIVE, files, id, image_zoom=0.5))
        expected = Invertd if id.endswith("postprocessing") else Zoomd
        assert [t for t in zoomed if t is not expected] == plain and zoomed.count(expected) == 1, id


def test_drive_image_zoom_in_training_and_evaluation(drive):
    train_entry, test_entry = drive
    width, height = DRIVE_SIZE[1], DRIVE_SIZE[0]
    train = parsed(DRIVE, ["train.json"], "train#preprocessing", image_zoom=0.5)(dict(train_entry))
    for key in ("image", "label", "mask"):  # training zooms the image and its binary maps together
        assert train[key].shape[1:] == (width // 2, height // 2), key
    assert set(train["label"].unique().tolist()) == {0.0, 1.0} and set(train["mask"].unique().tolist()) == {0.0, 1.0}

    config = parser(DRIVE, ["train.json", "evaluate.json"], image_zoom=0.5, save_predictions=False)
    data = config.get_parsed_content("validate#preprocessing")(dict(test_entry))
    assert data["image"].shape[1:] == (width // 2, height // 2)  # evaluation zooms the image only
    original = drive_eval_transforms()(dict(test_entry))
    for key in ("label", "mask"):
        torch.testing.assert_close(data[key], original[key])
    data["pred"] = torch.randn(2, *data["image"].shape[1:])
    out = config.get_parsed_content("validate#postprocessing")(data)
    assert out["pred"].shape == out["prob"].shape == (1, width, height)  # back at the original size
