"""The dataset registry: generic code imports no dataset, and a dataset registered later
appears in every data command with no other code change."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monai_jattn.data import DatasetError
from monai_jattn.datasets import DatasetSpec, SampleOption, dataset_names, get_dataset, register_dataset, registry
from monai_jattn.datasets.__main__ import main

DOCS = Path(__file__).resolve().parents[2] / "docs" / "data.md"


def test_generic_packages_import_no_dataset_and_hold_no_moved_names():
    """The generic packages import no dataset, and the dataset functions live only in their dataset module (the
    older names in monai_jattn.data and monai_jattn.transforms were never released and are gone)."""
    code = """
import sys
import monai_jattn.data, monai_jattn.transforms, monai_jattn.metrics, monai_jattn.handlers
loaded = sorted(m for m in sys.modules if m.startswith("monai_jattn.datasets."))
assert not loaded, loaded
for module, name in [(monai_jattn.data, "drive_datalist"), (monai_jattn.transforms, "drive_train_transforms")]:
    assert not hasattr(module, name), name
from monai_jattn.datasets.drive import drive_datalist
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def test_no_import_runs_back_up_from_the_generic_data_package():
    """monai_jattn.data (generic pieces) never imports monai_jattn.datasets (the datasets use it)."""
    package = Path(__file__).resolve().parents[2] / "monai_jattn" / "data"
    arrows = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            arrows += [f"{path.name}: {n}" for n in names if n.startswith("monai_jattn.datasets")]
    assert not arrows, arrows


def test_registered_datasets_and_their_splits():
    assert dataset_names()[:2] == ("drive", "isic2017")
    assert get_dataset("DRIVE").splits == ("training", "test")
    assert get_dataset("isic2017").splits == ("training", "validation", "test")
    with pytest.raises(ValueError, match="already registered"):
        register_dataset(get_dataset("drive"))
    with pytest.raises(ValueError, match="unknown dataset 'nope'; registered datasets: drive, isic2017"):
        get_dataset("nope")


def test_every_registered_dataset_is_in_the_docs():
    text = DOCS.read_text()
    assert all(f"`{name}`" in text for name in dataset_names())


@pytest.fixture
def toy_dataset():
    """A toy dataset in the registry for one test: ``<root>/<split>/<k>.png`` with ``<k>_label.png`` beside."""

    def datalist(root, split, require_labels=False):
        folder = Path(root) / split
        if not folder.is_dir():
            raise DatasetError(f"{folder}: folder of toy {split} images does not exist")
        images = sorted(p for p in folder.glob("*.png") if not p.stem.endswith("_label"))
        return [
            {"image": str(p), "label": str(p.with_name(f"{p.stem}_label.png")), "id": f"{split}_{p.stem}"}
            for p in images
        ]

    def write_sample(out_dir, seed=0, image_size=None, num_train=2, num_test=1):
        rng = np.random.default_rng(seed)
        for split, count in (("training", num_train), ("test", num_test)):
            (Path(out_dir) / split).mkdir(parents=True, exist_ok=True)
            for k in range(count):
                image = rng.integers(0, 256, (*(image_size or (8, 8)), 3), dtype=np.uint8)
                Image.fromarray(image).save(Path(out_dir) / split / f"{k}.png")
                Image.fromarray((image[..., 0] > 127).astype(np.uint8) * 255).save(
                    Path(out_dir) / split / f"{k}_label.png"
                )
        return Path(out_dir)

    saved = dict(registry._REGISTRY)
    register_dataset(
        DatasetSpec(
            name="toy",
            title="Toy",
            splits=("training", "test"),
            datalist=datalist,
            has_split=lambda root, split: (Path(root) / split).is_dir(),
            write_sample=write_sample,
            sample_options=(SampleOption("--train", "num_train", 2), SampleOption("--test", "num_test", 1)),
        )
    )
    yield "toy"
    registry._REGISTRY.clear()
    registry._REGISTRY.update(saved)


def test_a_dataset_registered_later_serves_every_command(toy_dataset, tmp_path, capsys):
    root = tmp_path / "toy"
    assert main(["sample", "toy", str(root), "--train", "3", "--test", "2", "--size", "6", "5"]) == 0
    assert Image.open(root / "training" / "2.png").size == (5, 6)
    assert main(["datalist", "toy", str(root), str(tmp_path / "toy.json"), "--val-fraction", "0.34"]) == 0
    content = json.loads((tmp_path / "toy.json").read_text())
    assert content["name"] == "Toy" and [len(content[k]) for k in ("training", "validation", "test")] == [2, 1, 2]
    assert main(["check", "toy", str(root)]) == 0
    assert "all files OK (training 3, test 2)" in capsys.readouterr().out
    assert main(["list"]) == 0
    assert "| `toy` | Toy | training, test |" in capsys.readouterr().out
    assert main(["check", "toy", str(tmp_path / "none")]) == 1
    assert "toy training images does not exist" in capsys.readouterr().err


def test_a_bundle_refuses_the_dataset_of_another_bundle(tmp_path):
    from monai_jattn.datasets import dataset_datalist

    with pytest.raises(
        ValueError, match="'isic2017' is trained by the bundle 'isic2017_jattn_segmentation'.*drive, chasedb1"
    ):
        dataset_datalist("isic2017", tmp_path, "training", bundle="drive_jattn_segmentation")
    with pytest.raises(ValueError, match="unknown dataset 'stare'"):
        dataset_datalist("stare", tmp_path, "training", bundle="drive_jattn_segmentation")


def test_a_folder_in_another_registered_layout_is_named_with_the_setting_that_selects_it(tmp_path):
    from monai_jattn.datasets import dataset_datalist
    from monai_jattn.datasets.isic2017 import write_isic2017_sample

    isic = write_isic2017_sample(tmp_path / "isic", num_train=2, num_val=0, num_test=0, seed=0, image_size=(16, 16))
    with pytest.raises(DatasetError) as error:
        dataset_datalist("drive", isic, "training", bundle="drive_jattn_segmentation")
    assert str(error.value).startswith(f"{isic}: no DRIVE 'training/images' folder found")
    hint = "it holds the ISIC-2017 layout, which the bundle 'isic2017_jattn_segmentation' trains"
    assert str(error.value).endswith(hint)
    with pytest.raises(DatasetError) as error:  # a folder in no registered layout: the error as it was
        dataset_datalist("drive", tmp_path, "training")
    assert "layout" not in str(error.value)


def test_train_val_uses_the_official_validation_split_or_holds_out_a_fraction(tmp_path, caplog):
    from monai_jattn.datasets import dataset_datalist, dataset_train_val
    from monai_jattn.datasets.isic2017 import write_isic2017_sample

    with_val = write_isic2017_sample(tmp_path / "with", num_train=5, num_val=2, num_test=0, seed=0, image_size=(16, 16))
    train = dataset_datalist("isic2017", with_val, "training")
    got_train, got_val = dataset_train_val("isic2017", with_val, train, val_fraction=0.2, seed=0)
    assert got_train == train and got_val == dataset_datalist("isic2017", with_val, "validation")

    without = write_isic2017_sample(
        tmp_path / "without", num_train=5, num_val=0, num_test=0, seed=0, image_size=(16, 16)
    )
    train = dataset_datalist("isic2017", without, "training")
    with caplog.at_level("WARNING", logger="monai_jattn.data"):
        got_train, got_val = dataset_train_val("isic2017", without, train, val_fraction=0.4, seed=1)
    assert len(got_val) == 2 and sorted(e["id"] for e in got_train + got_val) == sorted(e["id"] for e in train)
    assert "no validation split" in caplog.text and "holding out 2 of its 5 training images" in caplog.text
    assert dataset_train_val("isic2017", without, train, val_fraction=0.4, seed=1) == (got_train, got_val)
    assert dataset_train_val("isic2017", without, [], 0.2) == ([], [])
