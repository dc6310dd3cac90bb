"""The command line: python -m monai_jattn.datasets sample | datalist | check | figure."""

import json
import runpy
import shutil
import sys
from pathlib import Path

import pytest
from monai.data import load_decathlon_datalist
from PIL import Image

from monai_jattn.datasets.__main__ import main
from monai_jattn.datasets.drive import drive_datalist
from monai_jattn.datasets.isic2017 import isic2017_datalist


@pytest.fixture(scope="module")
def drive_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("data") / "DRIVE"
    assert main(["sample", "drive", str(root), "--train", "5", "--test", "2", "--seed", "1", "--size", "48", "40"]) == 0
    return root


@pytest.fixture(scope="module")
def isic_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("data") / "ISIC"
    assert (
        main(["sample", "isic2017", str(root), "--train", "3", "--val", "2", "--test", "1", "--size", "30", "40"]) == 0
    )
    return root


def test_sample_commands_write_the_requested_counts(drive_root, isic_root):
    assert len(drive_datalist(drive_root)) == 5 and len(drive_datalist(drive_root, "test", require_labels=True)) == 2
    assert Image.open(drive_datalist(drive_root)[0]["image"]).size == (40, 48)
    assert [len(isic2017_datalist(isic_root, s)) for s in ("training", "validation", "test")] == [3, 2, 1]


def test_sample_drive_without_test_labels(tmp_path):
    assert (
        main(
            ["sample", "drive", str(tmp_path), "--train", "1", "--test", "1", "--size", "32", "32", "--no-test-labels"]
        )
        == 0
    )
    assert not (tmp_path / "test" / "1st_manual").exists()


def test_drive_datalist_json_reads_back_with_monai(drive_root, tmp_path):
    out = tmp_path / "lists" / "drive.json"
    assert main(["datalist", "drive", str(drive_root), str(out)]) == 0
    content = json.loads(out.read_text())
    assert not Path(content["training"][0]["image"]).is_absolute()  # portable: relative to the JSON
    for section, split in (("training", "training"), ("test", "test")):
        loaded = load_decathlon_datalist(out, data_list_key=section)
        assert loaded == drive_datalist(drive_root, split)


def test_drive_datalist_json_with_validation_split(drive_root, tmp_path):
    out = tmp_path / "drive.json"
    assert main(["datalist", "drive", str(drive_root), str(out), "--val-fraction", "0.4", "--seed", "2"]) == 0
    train = load_decathlon_datalist(out, data_list_key="training")
    val = load_decathlon_datalist(out, data_list_key="validation")
    assert len(train) == 3 and len(val) == 2
    assert sorted(e["id"] for e in train + val) == [e["id"] for e in drive_datalist(drive_root)]


def test_isic_datalist_json_reads_back_with_monai(isic_root, tmp_path):
    out = tmp_path / "isic.json"
    assert main(["datalist", "isic2017", str(isic_root), str(out)]) == 0
    for split in ("training", "validation", "test"):
        assert load_decathlon_datalist(out, data_list_key=split) == isic2017_datalist(isic_root, split)


def test_isic_datalist_refuses_a_validation_fraction(isic_root, tmp_path):
    with pytest.raises(SystemExit):
        main(["datalist", "isic2017", str(isic_root), str(tmp_path / "x.json"), "--val-fraction", "0.2"])


def test_check_reports_ok(drive_root, capsys):
    assert main(["check", "drive", str(drive_root)]) == 0
    assert "all files OK (training 5, test 2)" in capsys.readouterr().out


def test_check_reports_problems_by_file(isic_root, tmp_path, capsys):
    root = Path(shutil.copytree(isic_root, tmp_path / "ISIC"))
    broken = isic2017_datalist(root, "validation")[0]["image"]
    Path(broken).write_bytes(b"broken")
    assert main(["check", "isic2017", str(root)]) == 1
    assert f"{broken}: cannot read the image" in capsys.readouterr().err


def test_missing_dataset_is_an_error(tmp_path, capsys):
    assert main(["datalist", "drive", str(tmp_path / "none"), str(tmp_path / "x.json")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize("dataset", ["drive", "isic2017"])
def test_figure(dataset, drive_root, isic_root, tmp_path):
    out = tmp_path / f"{dataset}.png"
    root = drive_root if dataset == "drive" else isic_root
    assert main(["figure", dataset, str(out), "--root", str(root)]) == 0
    with Image.open(out) as figure:
        assert figure.format == "PNG" and figure.size[0] > 3 * figure.size[1]


@pytest.mark.filterwarnings("ignore:.*found in sys.modules:RuntimeWarning")
def test_module_entry_point(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["python -m monai_jattn.datasets", "--help"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("monai_jattn.datasets", run_name="__main__")  # what `python -m monai_jattn.datasets` runs
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    assert "sample" in help_text and "datalist" in help_text and "check" in help_text


def test_an_absent_split_is_a_warning_a_broken_one_an_error(drive_root, tmp_path, caplog):
    root = Path(shutil.copytree(drive_root, tmp_path / "DRIVE"))
    shutil.rmtree(root / "test")
    assert main(["datalist", "drive", str(root), str(tmp_path / "only_training.json")]) == 0
    assert "test/images" in caplog.text
    assert list(json.loads((tmp_path / "only_training.json").read_text())) == ["name", "numTraining", "training"]
    (root / "training" / "mask" / "21_training_mask.gif").unlink()
    assert main(["datalist", "drive", str(root), str(tmp_path / "broken.json")]) == 1
    assert not (tmp_path / "broken.json").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["drive", "--train", "-1"], "argument --train: the value must be an integer >= 0, got -1"),
        (["isic2017", "--val", "-2"], "argument --val: the value must be an integer >= 0, got -2"),
        (["drive", "--size", "0", "0"], "argument --size: the value must be a positive integer, got 0"),
        (["isic2017", "--test", "two"], "argument --test: not an integer: 'two'"),
    ],
)
def test_sample_refuses_negative_counts_and_sizes(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as info:
        main(["sample", args[0], str(out), *args[1:]])
    assert info.value.code == 2 and message in capsys.readouterr().err
    assert not out.exists()
