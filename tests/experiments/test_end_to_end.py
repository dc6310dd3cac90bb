"""The end-to-end benchmark runs the DRIVE bundle's loop and the bare step, and writes its report."""

from __future__ import annotations

import json

import pytest
import torch

from monai_jattn.datasets.drive import write_drive_sample
from monai_jattn.experiments.bundle_runs import find_bundle
from monai_jattn.experiments.end_to_end import (
    _bare_step_seconds,
    bundle_training_workflow,
    main,
    speed_row,
    steady_iteration_seconds,
)


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


def test_steady_iteration_time_leaves_the_warm_up_out():
    starts = [0.0, 10.0, 20.0, 21.0, 22.5, 23.5, 24.5]  # two slow warm-up iterations, then 1, 1.5, 1, 1 s
    assert steady_iteration_seconds(starts, warmup=2) == 1.0
    assert steady_iteration_seconds(starts, warmup=0) == 1.25  # counted, the warm-up would raise the median
    with pytest.raises(ValueError, match="no iteration after 6 warm-up"):
        steady_iteration_seconds(starts, warmup=6)


def test_speed_row_rates_and_ratio():
    row = speed_row("JA-9", False, "cpu", iteration=0.25, step=0.2, data=0.01, overrides={"amp": True})
    assert row["it_per_s"] == "4.00" and row["iteration_ms"] == "250" and row["step_ms"] == "200"
    assert row["ratio"] == "1.25"  # end-to-end iteration over bare step: > 1 when the loop costs time
    assert row["data_path"] == "CachedPatchLoader" and row["settings"] == {"amp": True}


def test_bare_step_trains_the_network(drive_sample, tmp_path):
    """The bare step is a whole training step: every parameter gets a gradient and the weights move."""
    settings = {"num_workers": 0, "patch_size": [32, 32]}
    bundle = find_bundle("drive")
    workflow = bundle_training_workflow(bundle, str(drive_sample), "BasicUNet", "cpu", settings, str(tmp_path))
    network = workflow.parser.get_parsed_content("network")
    before = [p.detach().clone() for p in network.parameters()]
    assert _bare_step_seconds(workflow, repeats=1) > 0
    for old, new in zip(before, network.parameters()):
        assert new.grad is not None and not torch.equal(old, new)
    workflow.finalize()
