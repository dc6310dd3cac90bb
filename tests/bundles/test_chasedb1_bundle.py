"""CHASE_DB1 through the DRIVE bundle's configs (``--dataset_name chasedb1``) on tiny samples, CPU only: training,
evaluation in both protocols with the 2nd-observer row, and the cross-dataset command (train on DRIVE,
evaluate on CHASE_DB1 with ``image_zoom`` from `zoom_to_drive`) as one ``python -m monai.bundle run``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from bundle_helpers import (
    cli_args,
    configs,
    dataset_error,
    load_checkpoint,
    read_binary,
    read_png,
    run_cli,
    run_settings,
    run_workflow,
)
from metrics_reference import confusion_metrics

from monai_jattn.datasets.__main__ import main
from monai_jattn.datasets.chasedb1 import chasedb1_datalist
from monai_jattn.datasets.drive import write_drive_sample

CONFIGS = configs("drive_jattn_segmentation")
TRAIN, EVALUATE = CONFIGS / "train.json", CONFIGS / "evaluate.json"
SIZE = (64, 68)  # (height, width) of the CHASE_DB1 sample: not square
PROTOCOLS = ("whole_image", "inside_fov")
METRICS = ("recall", "tnr", "dice", "accuracy", "auc")
ZOOM_TO_DRIVE = "{'_target_': 'monai_jattn.datasets.chasedb1.zoom_to_drive', 'root': '@dataset_dir'}"
"""``--image_zoom`` on the command line: `zoom_to_drive` of the evaluated ``dataset_dir``."""


@pytest.fixture(scope="module")
def chase(tmp_path_factory):
    """Children 01 and 02 (4 training images) and 11 (2 test images), written by the data command line."""
    root = tmp_path_factory.mktemp("data") / "CHASEDB1"
    assert main(["sample", "chasedb1", str(root), "--train", "2", "--test", "1", "--size", *map(str, SIZE)]) == 0
    return root


def settings(dataset_dir, run_dir, dataset_name="chasedb1", **more):
    """Tiny settings for ``dataset_name`` (a registered name) in ``dataset_dir``; val_fraction 0.25: one of the four
    training images validates."""
    more = {"patch_size": [32, 32], "val_fraction": 0.25, **more}
    return run_settings(CONFIGS, dataset_dir, run_dir, **more) | {"dataset_name": dataset_name}


@pytest.fixture(scope="module")
def trained(chase, tmp_path_factory):
    """Two iterations of training on CHASE_DB1 through the DRIVE bundle."""
    run_dir = tmp_path_factory.mktemp("chase_run")
    run_workflow([TRAIN], **settings(chase, run_dir, max_iterations=2, val_interval=2))
    return run_dir


def test_training_on_a_chasedb1_folder_with_the_drive_dataset_name_says_which_name_to_set(chase, tmp_path):
    overrides = settings(chase, tmp_path, dataset_name="drive", max_iterations=2, val_interval=2)
    with pytest.raises(RuntimeError) as failure:
        run_workflow([TRAIN], **overrides)
    message = str(dataset_error(failure.value))
    assert message.startswith(f"{chase}: no DRIVE 'training/images' folder found")
    assert message.endswith("it holds the CHASE_DB1 layout: set the config id dataset_name to 'chasedb1' "
                            "(--dataset_name chasedb1)")  # fmt: skip
    assert not (tmp_path / "models").exists(), "the run folder was created before the data were checked"


def test_training_on_chasedb1(trained):
    latest = load_checkpoint(trained / "models" / "latest.pt")
    assert latest["trainer"]["iteration"] == 2
    assert (trained / "models" / "model.pt").is_file()
    curve = json.loads((trained / "eval" / "training_curve.json").read_text())
    assert curve["validation"]["iteration"] == [2]


def pooled_metrics(chase, predictions) -> dict:
    """numpy metrics of the saved masks and of the 2nd observer against the 1st, pooled, in both protocols
    (inside FOV: the computed FOV masks of the datalist)."""
    test = chasedb1_datalist(chase, "test", require_labels=True)
    pixels = {p: {"pred": [], "label": [], "observer2": []} for p in PROTOCOLS}
    for entry in test:
        fov = read_binary(entry["mask"])
        pred = read_png(predictions / f"{entry['id']}_mask.png") > 0
        assert pred.shape == fov.shape == SIZE  # at the original size, also after a zoom
        assert not pred[~fov].any()
        maps = {"pred": pred, "label": read_binary(entry["label"]), "observer2": read_binary(entry["label2"])}
        for protocol in PROTOCOLS:
            for key, values in maps.items():
                pixels[protocol][key].append(values.ravel() if protocol == "whole_image" else values[fov])
    expected = {}
    for protocol in PROTOCOLS:
        pooled = {key: np.concatenate(values) for key, values in pixels[protocol].items()}
        for metric, value in confusion_metrics(pooled["pred"], pooled["label"]).items():
            expected[f"{metric}_{protocol}"] = value
        for metric, value in confusion_metrics(pooled["observer2"], pooled["label"]).items():
            expected[f"observer2_{metric}_{protocol}"] = value
    return expected


def check_report(chase, out_dir) -> dict:
    """Both protocols and the 2nd-observer row, in metrics_summary.json (equal to numpy) and metrics.md."""
    summary = json.loads((out_dir / "metrics_summary.json").read_text())
    assert list(summary) == [f"{m}_{p}" for p in PROTOCOLS for m in METRICS] + [
        f"observer2_{m}_{p}" for p in PROTOCOLS for m in METRICS[:4]
    ]
    expected = pooled_metrics(chase, out_dir / "predictions")
    for key, value in summary.items():
        if not key.startswith("auc"):
            assert value == pytest.approx(expected[key], abs=1e-6), key
    table = (out_dir / "metrics.md").read_text()
    for row, protocol in (
        ("DenseUNet-JA-9", "whole image"),
        ("DenseUNet-JA-9", "inside FOV"),
        ("2nd observer", "inside FOV"),
    ):
        assert f"| {row} | {protocol} | " in table
    return summary


def test_evaluation_on_chasedb1_in_both_protocols_with_the_2nd_observer(chase, trained):
    run_workflow([TRAIN, EVALUATE], **settings(chase, trained))
    check_report(chase, trained / "eval")


def test_cross_dataset_train_on_drive_evaluate_on_chasedb1_zoomed_in_one_command(chase, tmp_path):
    drive = write_drive_sample(tmp_path / "DRIVE", num_train=4, num_test=0, seed=0, image_size=(60, 76))
    run_workflow([TRAIN], **settings(drive, tmp_path / "drive_run", "drive", max_iterations=2, val_interval=2))
    models = tmp_path / "drive_run" / "models"
    evaluate = ["monai.bundle", "run", "--config_file", str([str(TRAIN), str(EVALUATE)])]
    outputs = {}
    for name, zoom in (("zoomed", ZOOM_TO_DRIVE), ("unzoomed", 1.0)):
        outputs[name] = tmp_path / name
        overrides = settings(chase, tmp_path / "drive_run", ckpt_dir=str(models))
        run_cli(evaluate + cli_args(overrides | {"output_dir": str(outputs[name]), "image_zoom": zoom}))
    check_report(chase, outputs["zoomed"])
    # the zoom reached the network: the DRIVE model sees other pixels than without it
    test = chasedb1_datalist(chase, "test")
    probs = {
        name: [read_png(out / "predictions" / f"{e['id']}_prob.png") for e in test] for name, out in outputs.items()
    }
    assert any(not np.array_equal(z, u) for z, u in zip(probs["zoomed"], probs["unzoomed"]))


def test_inference_on_a_chasedb1_folder_blanks_outside_the_computed_fov(chase, trained, tmp_path):
    out = tmp_path / "out"
    overrides = run_settings(CONFIGS, chase, trained, patch_size=[32, 32], output_dir=str(out))  # no dataset id
    run_workflow([CONFIGS / "inference.json"], **overrides)
    entries = [e for split in ("training", "test") for e in chasedb1_datalist(chase, split)]
    assert sorted(p.name for p in out.glob("*_mask.png")) == sorted(f"{e['id']}_mask.png" for e in entries)
    for entry in entries:  # the network sees every pixel; only inside the FOV is a vessel kept
        prob = read_png(out / f"{entry['id']}_prob.png")
        assert prob.shape == SIZE and not prob[~read_binary(entry["mask"])].any()
