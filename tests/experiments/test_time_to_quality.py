"""Time-to-quality runner: recipes trained through the DRIVE bundle, curves with seconds, CSV/PNG/markdown, resuming."""

from __future__ import annotations

import csv
import json

import pytest
import torch
from PIL import Image

from monai_jattn.datasets.drive import write_drive_sample
from monai_jattn.experiments.time_to_quality import first_time_to, main, parse_recipe, read_curves

TINY = [
    "--override", "max_iterations=4",
    "--override", "val_interval=2",
    "--override", "warmup_iterations=1",
    "--override", "device=cpu",
    "--override", "num_workers=0",
    "--override", "amp=false",
    "--override", "channels_last=false",
    "--override", "patch_size=[32, 32]",
    "--override", "network_def#init_features=8",
    "--override", "network_def#growth_rate=4",
    "--override", "network_def#block_layers=[1, 1, 1]",
    "--override", "network_def#decoder_features=[8, 8]",
    "--override", "network_def#pwa_hidden_channels=8",
]  # fmt: skip


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    data = write_drive_sample(tmp_path_factory.mktemp("drive"), num_train=5, num_test=1, seed=0, image_size=(48, 64))
    out = tmp_path_factory.mktemp("ttq")
    main(["--dataset_dir", str(data), "--output_dir", str(out), "--target", "0.0", "--target", "0.99", *TINY])
    return data, out


def test_both_recipes_train_and_report_dice_against_seconds(finished):
    _, out = finished
    with open(out / "time_to_quality.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["recipe"], r["seed"], r["iteration"]) for r in rows] == [
        ("fast", "0", "2"), ("fast", "0", "4"), ("paper", "0", "2"), ("paper", "0", "4")
    ]  # fmt: skip
    for recipe in ("fast", "paper"):
        seconds = [float(r["seconds"]) for r in rows if r["recipe"] == recipe]
        assert 0 < seconds[0] < seconds[1]
        assert all(0.0 <= float(r["dice"]) <= 1.0 for r in rows)
    table = (out / "time_to_quality.md").read_text()
    assert "| fast | 0 | 2 |" in table and "| paper | 0 | 2 |" in table
    assert table.count("not reached") == 2  # nobody reaches Dice 0.99 in 4 iterations; everybody reaches 0
    with Image.open(out / "time_to_quality.png") as png:
        assert png.size[0] > png.size[1] > 100


def test_the_fast_overlay_changes_the_training(finished):
    """The fast recipe's cosine schedule ends at learning rate 0; the paper's keeps 1e-3 and has no scheduler."""
    _, out = finished
    fast = torch.load(out / "runs" / "fast_seed0" / "models" / "latest.pt", weights_only=True)
    paper = torch.load(out / "runs" / "paper_seed0" / "models" / "latest.pt", weights_only=True)
    assert fast["optimizer"]["param_groups"][0]["lr"] == pytest.approx(0.0, abs=1e-12)
    assert fast["lr_scheduler"]["last_epoch"] == 4
    assert paper["optimizer"]["param_groups"][0]["lr"] == pytest.approx(1e-3)
    assert "lr_scheduler" not in paper


def test_rerun_skips_finished_runs_and_other_settings_are_refused(finished):
    data, out = finished
    model = out / "runs" / "fast_seed0" / "models" / "latest.pt"
    before = model.stat().st_mtime_ns
    main(["--dataset_dir", str(data), "--output_dir", str(out), *TINY])
    assert model.stat().st_mtime_ns == before
    (out / "runs" / "fast_seed0" / "done").unlink()
    with pytest.raises(ValueError, match="other settings"):
        main(["--dataset_dir", str(data), "--output_dir", str(out), *TINY, "--override", "learning_rate=0.01"])
    (out / "runs" / "fast_seed0" / "done").write_text("")


def test_collect_only_redraws_from_the_curves(finished, tmp_path):
    _, out = finished
    (out / "time_to_quality.csv").unlink()
    main(["--output_dir", str(out), "--collect_only"])
    assert len((out / "time_to_quality.csv").read_text().splitlines()) == 5


def test_recipes_and_first_time():
    assert parse_recipe("paper") == ("paper", ("train.json",))
    assert parse_recipe("big=train.json, big.json") == ("big", ("train.json", "big.json"))
    for bad in ("nope", "x=", "x=train.yaml", "=train.json"):
        with pytest.raises(ValueError):
            parse_recipe(bad)
    rows = [{"seconds": 30.0, "iteration": 3, "value": 0.7}, {"seconds": 10.0, "iteration": 1, "value": 0.5}]
    assert first_time_to(rows, 0.6) == (30.0, 3)
    assert first_time_to(rows, 0.5) == (10.0, 1)
    assert first_time_to(rows, 0.8) is None


def test_a_curve_without_seconds_is_refused_naming_it(tmp_path):
    path = tmp_path / "training_curve.json"
    path.write_text(json.dumps({"validation": {"metric": "dice", "iteration": [2], "value": [0.5]}}))
    with pytest.raises(ValueError, match="training_curve.json"):
        read_curves({"old_seed0": path})
