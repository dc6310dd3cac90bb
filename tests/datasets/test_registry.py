"""The dataset registry: generic code imports no dataset, old names resolve, and a dataset registered later
appears in every data command with no other code change."""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monai_jattn.data import DatasetError
from monai_jattn.datasets.__main__ import main
from monai_jattn.datasets import DatasetSpec, SampleOption, dataset_names, get_dataset, register_dataset, registry

DOCS = Path(__file__).resolve().parents[2] / "docs" / "data.md"


def test_generic_packages_import_no_dataset_and_old_names_resolve():
    code = """
import sys
import monai_jattn.data, monai_jattn.transforms, monai_jattn.metrics, monai_jattn.handlers
loaded = sorted(m for m in sys.modules if m.startswith("monai_jattn.datasets."))
assert not loaded, loaded
from monai_jattn.data import check_datalist, drive_datalist, image_folder_datalist, isic2017_datalist
from monai_jattn.data import write_drive_sample, write_isic2017_sample
from monai_jattn.transforms import drive_eval_transforms, drive_train_transforms, isic2017_eval_transforms
from monai_jattn.transforms import isic2017_train_transforms
from monai_jattn.handlers import PerImageROCAUCMetric, PixelROCAUC, METRIC_TITLES, metric_key
assert drive_datalist.__module__ == "monai_jattn.datasets.drive.layout"
assert image_folder_datalist.__module__ == "monai_jattn.datasets.folder"
assert isic2017_train_transforms.__module__ == "monai_jattn.datasets.isic2017.transforms"
import warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        drive_datalist("/no/such/folder")
    except Exception:
        pass
assert any("import it from monai_jattn.datasets.drive" in str(w.message) for w in caught), caught
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def test_nothing_in_the_project_uses_the_old_names():
    """The old names warn; the package, scripts, bundles and tests use the new ones (issue 17)."""
    import monai_jattn.data as data
    import monai_jattn.data.synthetic as synthetic
    import monai_jattn.transforms as transforms

    repo = Path(__file__).resolve().parents[2]
    old = [(module.__name__, name) for module in (data, transforms) for name in module._MOVED]
    old += [(synthetic.__name__, name) for name in synthetic.__all__]
    files = [p for folder in ("monai_jattn", "scripts", "bundles", "tests") for p in (repo / folder).rglob("*")]
    users = []
    for path in files:
        if path.suffix not in (".py", ".json", ".sh") or path == Path(__file__).resolve():
            continue
        text = path.read_text()
        for module, name in old:
            found = re.findall(rf"from {re.escape(module)} import (?:\(([^)]*)\)|([^(\n]*))", text)
            imported = " ".join(a + b for a, b in found)
            if f"{module}.{name}" in text or re.search(rf"\b{name}\b", imported):
                users.append(f"{path.relative_to(repo)}: {module}.{name}")
        if path.parts[-3:] == ("monai_jattn", "data", "__main__.py"):
            continue  # the old command's own hand-over
        old_command = re.compile(r"-m monai_jattn\.data\b(?!\.)|monai_jattn\.data\.__main__")
        for line in text.splitlines():
            if old_command.search(line) and "on purpose" not in line:
                users.append(f"{path.relative_to(repo)}: {line.strip()}")
    assert not users, users


def test_no_import_runs_back_up_from_the_generic_data_package():
    """monai_jattn.data (generic pieces) never imports monai_jattn.datasets (the datasets use it); its one
    compatibility path, the old command's ``__main__``, hands over by name through runpy."""
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
    from monai_jattn.datasets.isic2017 import write_isic2017_sample
    from monai_jattn.datasets import dataset_datalist, dataset_train_val

    with_val = write_isic2017_sample(tmp_path / "with", num_train=5, num_val=2, num_test=0, seed=0, image_size=(16, 16))
    train = dataset_datalist("isic2017", with_val, "training")
    got_train, got_val = dataset_train_val("isic2017", with_val, train, val_fraction=0.2, seed=0)
    assert got_train == train and got_val == dataset_datalist("isic2017", with_val, "validation")

    without = write_isic2017_sample(tmp_path / "without", num_train=5, num_val=0, num_test=0, seed=0, image_size=(16, 16))
    train = dataset_datalist("isic2017", without, "training")
    with caplog.at_level("WARNING", logger="monai_jattn.data"):
        got_train, got_val = dataset_train_val("isic2017", without, train, val_fraction=0.4, seed=1)
    assert len(got_val) == 2 and sorted(e["id"] for e in got_train + got_val) == sorted(e["id"] for e in train)
    assert "no validation split" in caplog.text and "holding out 2 of its 5 training images" in caplog.text
    assert dataset_train_val("isic2017", without, train, val_fraction=0.4, seed=1) == (got_train, got_val)
    assert dataset_train_val("isic2017", without, [], 0.2) == ([], [])
