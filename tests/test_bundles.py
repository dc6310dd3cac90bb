"""Building the bundles' configs from the shared recipe and each bundle's sources (`monai_jattn.bundles`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from monai.bundle import ConfigParser

from monai_jattn.bundles import (
    COMMON,
    SOURCE,
    BundleConfigError,
    build_bundle,
    built_configs,
    bundle_names,
    export_bundle,
    format_config,
    main,
    merge_config,
    reading_order,
)

REPO = Path(__file__).resolve().parents[1]
BUNDLES = bundle_names(REPO / "bundles")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the DRIVE bundle's sources and the shared recipe, nothing built."""
    root = tmp_path / "bundles"
    shutil.copytree(REPO / "bundles" / COMMON, root / COMMON)
    shutil.copytree(REPO / "bundles" / "drive_jattn_segmentation" / SOURCE, root / "drive" / SOURCE)
    (root / "drive" / "docs").mkdir()
    (root / "drive" / "docs" / "README.md").write_text("# card\n")
    (root / "drive" / "LICENSE").write_text("licence\n")
    return root


def test_merge_sets_nested_ids_extends_with_plus_and_keeps_overlay_keys():
    shared = {"imports": ["$import math"], "train": {"trainer": {"max_epochs": 2}, "handlers": []}, "a#b": 1}
    own = {"+imports": ["$import os"], "train#trainer#max_epochs": 5, "train#dataset": {"x": 1}, "validate#c": 3}
    merged = merge_config(shared, own)
    assert merged["imports"] == ["$import math", "$import os"]
    assert merged["train"] == {"trainer": {"max_epochs": 5}, "handlers": [], "dataset": {"x": 1}}
    assert merged["validate#c"] == 3 and merged["a#b"] == 1  # an overlay's key stays for MONAI to apply
    assert shared["train"]["trainer"]["max_epochs"] == 2  # the shared recipe is not changed


def test_merge_refuses_a_repeated_value_and_a_path_the_recipe_lacks():
    shared = {"train": {"trainer": {"max_epochs": 2}}, "seed": 0}
    with pytest.raises(BundleConfigError, match="own.json: 'train#trainer#max_epochs' repeats the shared"):
        merge_config(shared, {"train#trainer#max_epochs": 2}, "own.json")
    with pytest.raises(BundleConfigError, match="own.json: 'seed' repeats"):
        merge_config(shared, {"seed": 0}, "own.json")
    with pytest.raises(BundleConfigError, match="own.json: 'train#trainr#max_epochs' does not fit"):
        merge_config(shared, {"train#trainr#max_epochs": 3}, "own.json")
    with pytest.raises(BundleConfigError, match="own.json: 'validate#runner' repeats"):  # an overlay's key
        merge_config({"validate#runner": {"x": 1}}, {"validate#runner": {"x": 1}}, "own.json")
    assert merge_config({"validate#runner": {"x": 1}}, {"validate#runner": {"x": 2}}) == {"validate#runner": {"x": 2}}


@pytest.mark.parametrize("bundle", BUNDLES)
@pytest.mark.parametrize("name", ["train.json", "inference.json", "metadata.json"])
def test_built_configs_are_what_monai_merges_from_the_two_files(bundle, name):
    """A whole config is MONAI's ``load_config_files`` of the shared file then the bundle's, as if both were given
    to ``python -m monai.bundle run --config_file``; the built file is current."""
    files = [REPO / "bundles" / COMMON / name, REPO / "bundles" / bundle / SOURCE / name]
    expected = ConfigParser.load_config_files([str(f) for f in files if f.is_file()])
    assert json.loads(built_configs(REPO / "bundles" / bundle)[name]) == expected
    assert json.loads((REPO / "bundles" / bundle / "configs" / name).read_text()) == expected


def test_format_is_json_within_120_columns():
    config = json.loads((REPO / "bundles" / "drive_jattn_segmentation" / "configs" / "train.json").read_text())
    text = format_config(config)
    assert json.loads(text) == config
    for line in text.splitlines():
        if len(line) > 120:  # only one long string may pass the width: an id and its text
            assert isinstance(next(iter(json.loads("{" + line.strip().rstrip(",") + "}").values())), str), line
    assert format_config({"a": [1, 2]}) == '{"a": [1, 2]}'


def test_build_writes_checks_and_never_overwrites_a_hand_edit(checkout):
    bundle = checkout / "drive"
    with pytest.raises(BundleConfigError, match="missing or stale"):
        build_bundle(bundle, check=True)
    assert "train.json" in build_bundle(bundle) and build_bundle(bundle) == []  # only what changed is written
    assert build_bundle(bundle, check=True) == []
    assert json.loads((bundle / "configs" / "train.json").read_text())["dataset_name"] == "drive"
    assert (bundle / "configs" / "logging.conf").read_text() == (checkout / COMMON / "logging.conf").read_text()

    source = json.loads((bundle / SOURCE / "train.json").read_text())
    (bundle / SOURCE / "train.json").write_text(json.dumps({**source, "max_iterations": 7}))
    with pytest.raises(BundleConfigError, match=r"train.json missing or stale.*monai_jattn.bundles build"):
        build_bundle(bundle, check=True)
    assert build_bundle(bundle) == ["train.json"]
    assert json.loads((bundle / "configs" / "train.json").read_text())["max_iterations"] == 7

    edited = (bundle / "configs" / "train.json").read_text().replace('"seed": 0', '"seed": 3')
    (bundle / "configs" / "train.json").write_text(edited)
    (bundle / SOURCE / "train.json").write_text(json.dumps({**source, "max_iterations": 8}))
    with pytest.raises(BundleConfigError, match=r"configs/train.json: edited by hand .* move the change into source"):
        build_bundle(bundle)
    assert (bundle / "configs" / "train.json").read_text() == edited  # the edit is kept
    (bundle / "configs" / "train.json").unlink()
    assert build_bundle(bundle) == ["train.json"]


def test_a_broken_source_is_named(checkout):
    (checkout / "drive" / SOURCE / "evaluate.json").write_text('{"save_predictions": tru')
    with pytest.raises(BundleConfigError, match=r"source/evaluate.json: not a readable JSON config"):
        build_bundle(checkout / "drive")
    assert not (checkout / "drive" / "configs" / "train.json").exists()  # nothing half-built


def test_export_copies_the_bundle_as_it_is_shared(checkout, tmp_path):
    (checkout / "drive" / "models" / "trained").mkdir(parents=True)
    (checkout / "drive" / "models" / "model.pt").write_bytes(b"weights")
    (checkout / "drive" / "models" / "trained" / "latest.pt").write_bytes(b"a run")
    (checkout / "drive" / "eval").mkdir()
    folder = export_bundle(checkout / "drive", tmp_path / "zoo")
    assert folder == tmp_path / "zoo" / "drive"
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    configs = [f"configs/{name}" for name in built_configs(checkout / "drive")]
    assert files == sorted(["LICENSE", "docs/README.md", "models/model.pt", *configs])  # no sources, runs or outputs
    with pytest.raises(FileExistsError, match="drive: exists"):
        export_bundle(checkout / "drive", tmp_path / "zoo")


def test_command_line(checkout, tmp_path, capsys):
    assert main(["--bundles_root", str(checkout), "build", "--check"]) == 1
    assert "missing or stale" in capsys.readouterr().err
    assert main(["--bundles_root", str(checkout), "build"]) == 0
    assert main(["--bundles_root", str(checkout), "build", "drive", "--check"]) == 0
    assert main(["--bundles_root", str(checkout), "export", "nothing", str(tmp_path)]) == 1
    assert "no bundle nothing; its bundles: drive" in capsys.readouterr().err
    assert main(["--bundles_root", str(checkout), "export", "drive", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "drive" / "configs" / "metadata.json").is_file()


def test_reading_order_puts_settings_before_sections_and_steps():
    config = {"run": [], "train": {"a": 1}, "loss": {"_target_": "X"}, "seed": 0, "+initialize": [], "version": "1"}
    assert list(reading_order(config)) == ["version", "loss", "seed", "train", "run", "+initialize"]


def test_a_source_that_is_not_an_object_is_named(checkout):
    (checkout / "drive" / SOURCE / "inference.json").write_text("[1, 2]")
    with pytest.raises(BundleConfigError, match=r"source/inference.json: a config must be a JSON object, found list"):
        build_bundle(checkout / "drive")
