"""The end-to-end benchmark runs the DRIVE bundle's loop and the bare step, and writes its report."""

from __future__ import annotations

import json

import pytest

from monai_jattn.data import write_drive_sample
from monai_jattn.experiments.end_to_end import main


@pytest.fixture(scope="module")
def drive_sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("DRIVE")
    write_drive_sample(root, num_train=5, num_test=1, seed=0, image_size=(48, 40))
    return root


def test_end_to_end_report(drive_sample, tmp_path):
    rows = main(
        [
            "--dataset_dir", str(drive_sample),
            "--output_dir", str(tmp_path),
            "--models", "BasicUNet",
            "--iterations", "5",
            "--warmup", "1",
            "--legacy",
            "--patch_size", "32", "32",
        ]
    )  # fmt: skip
    assert [row["data_path"] for row in rows] == ["CachedPatchLoader", "legacy per-item pipeline"]
    for row in rows:
        assert row["model"] == "BasicUNet" and all(float(row[key]) > 0 for key in ("it_per_s", "step_ms", "data_ms"))
    report = json.loads((tmp_path / "end_to_end.json").read_text())
    assert report["rows"] == rows
    table = (tmp_path / "end_to_end.md").read_text()
    assert "| BasicUNet | CachedPatchLoader | cpu |" in table and "legacy per-item pipeline" in table


def test_iterations_must_exceed_warmup(drive_sample, tmp_path):
    with pytest.raises(ValueError, match="must exceed warmup"):
        main(["--dataset_dir", str(drive_sample), "--output_dir", str(tmp_path), "--iterations", "3", "--warmup", "2"])
