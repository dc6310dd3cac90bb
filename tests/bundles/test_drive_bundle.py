"""The DRIVE bundle on tiny sample data, CPU only: evaluation in both protocols and with the 2nd observer (checked
against numpy), the field of view, ``image_zoom``, inference on the user's images and into used folders, overwrite,
the last partial validation interval, seeds and NaN losses. What the shared recipe gives every bundle (checkpoints,
settings checks, export, properties, torchrun, kill-and-resume, ...) is tested in test_shared_recipe.py."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from bundle_cases import DRIVE
from bundle_helpers import (
    REPO,
    cli_args,
    load_checkpoint,
    read_binary,
    read_png,
    run_cli,
    run_workflow,
)
from metrics_reference import confusion_metrics, roc_auc
from PIL import Image

from monai_jattn.data import DatasetError
from monai_jattn.datasets.drive import drive_datalist
from monai_jattn.run_folders import RunFolderError

TRAIN, EVALUATE, INFERENCE = DRIVE.train, DRIVE.evaluate, DRIVE.inference
SIZE = DRIVE.size  # (height, width): not square, so that a swapped axis cannot go unnoticed
settings = DRIVE.settings


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return DRIVE.write_sample(tmp_path_factory.mktemp("DRIVE"))


@pytest.fixture(scope="module")
def trained(tiny_runs):
    """Four iterations of training, validated every two: this module's copy of the session's run."""
    return tiny_runs.trained(DRIVE, "drive_run")


@pytest.fixture(scope="module")
def evaluated(dataset, trained):
    """Evaluation in both protocols, keeping the probabilities and labels the metrics saw; an earlier,
    interrupted evaluation left a stale prediction behind."""
    stale = trained / "eval" / "predictions" / "99_test_mask.png"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"stale")
    keys = ("prob", "label", "prob_fov", "label_fov")
    outputs = run_workflow([TRAIN, EVALUATE], collect_keys=keys, **settings(dataset, trained))
    return trained / "eval", outputs


def test_evaluation_writes_into_a_clean_predictions_folder(dataset, evaluated):
    out_dir = evaluated[0]
    ids = [e["id"] for e in drive_datalist(dataset, "test")]
    assert sorted(p.name for p in (out_dir / "predictions").iterdir()) == sorted(
        f"{i}_{s}.png" for i in ids for s in ("prob", "mask", "overlay")
    )
    (moved,) = out_dir.glob("replaced-*")  # the earlier evaluation's files, moved aside, not deleted
    assert (moved / "predictions" / "99_test_mask.png").read_bytes() == b"stale"


PROTOCOLS = ("whole_image", "inside_fov")
METRICS = ("recall", "tnr", "dice", "accuracy", "auc")


def test_evaluation_in_both_protocols_and_2nd_observer_equal_numpy(dataset, evaluated):
    out_dir, outputs = evaluated
    test = drive_datalist(dataset, "test", require_labels=True)
    assert all("label2" in entry for entry in test)  # the sample data has the second observer
    pixels = {protocol: {"pred": [], "label": [], "observer2": []} for protocol in PROTOCOLS}
    per_image = {}
    for entry in test:
        fov = read_binary(entry["mask"])
        pred = read_png(out_dir / "predictions" / f"{entry['id']}_mask.png")
        assert pred.shape == fov.shape == (SIZE[0], SIZE[1]) and set(np.unique(pred)) <= {0, 255}
        assert not pred[~fov].any()  # saved masks are empty outside the FOV
        maps = {"pred": pred > 0, "label": read_binary(entry["label"]), "observer2": read_binary(entry["label2"])}
        for protocol in PROTOCOLS:
            for key, values in maps.items():
                pixels[protocol][key].append(values.ravel() if protocol == "whole_image" else values[fov])
            per_image[entry["id"], protocol] = confusion_metrics(
                pixels[protocol]["pred"][-1], pixels[protocol]["label"][-1]
            )
    summary = json.loads((out_dir / "metrics_summary.json").read_text())
    expected_keys = [f"{m}_{p}" for p in PROTOCOLS for m in METRICS]
    assert list(summary) == expected_keys + [f"observer2_{m}_{p}" for p in PROTOCOLS for m in METRICS[:4]]
    for protocol in PROTOCOLS:
        pooled = {key: np.concatenate(values) for key, values in pixels[protocol].items()}
        expected = confusion_metrics(pooled["pred"], pooled["label"])  # one pooled confusion matrix
        observer = confusion_metrics(pooled["observer2"], pooled["label"])
        # the AUC is computed from the probabilities of exactly the pixels of the saved masks
        postfix = "" if protocol == "whole_image" else "_fov"
        probs = np.concatenate([o[f"prob{postfix}"].ravel() for o in outputs])
        labels = np.concatenate([o[f"label{postfix}"].ravel() for o in outputs])
        assert probs.size == pooled["pred"].size and np.sum(probs > 0.5) == pooled["pred"].sum()
        assert np.array_equal(np.sort(labels), np.sort(pooled["label"]))
        expected["auc"] = roc_auc(probs, labels)
        for metric in METRICS:  # the AUC sums float32 probabilities in another order: 1e-5
            tolerance = 1e-5 if metric == "auc" else 1e-6
            assert summary[f"{metric}_{protocol}"] == pytest.approx(expected[metric], abs=tolerance), (metric, protocol)
        for metric in METRICS[:4]:
            assert summary[f"observer2_{metric}_{protocol}"] == pytest.approx(observer[metric], abs=1e-6), metric
        for output in outputs:
            per_image[output["id"], protocol]["auc"] = roc_auc(output[f"prob{postfix}"], output[f"label{postfix}"])
    # the easy background outside the FOV inflates accuracy
    assert summary["accuracy_whole_image"] > summary["accuracy_inside_fov"]

    table = (out_dir / "metrics.md").read_text()
    assert "| Model | Protocol | Recall | TNR | Dice | Accuracy | AUC |" in table
    for row, protocol in (
        ("DenseUNet-JA-9", "whole image"),
        ("DenseUNet-JA-9", "inside FOV"),
        ("2nd observer", "whole image"),
    ):
        assert f"| {row} | {protocol} | " in table
    assert "whole image, every pixel" in table and "inside FOV, only the pixels inside" in table
    with open(out_dir / "metrics_per_image.csv") as f:
        rows = {row["id"]: row for row in csv.DictReader(f)}
    assert set(rows) == {entry["id"] for entry in test}
    for (image_id, protocol), values in per_image.items():
        for metric in METRICS:
            assert float(rows[image_id][f"{metric}_{protocol}"]) == pytest.approx(values[metric], abs=1e-5)


def test_evaluation_without_2nd_observer_has_no_observer_row(dataset, trained, tmp_path):
    data = tmp_path / "DRIVE"
    shutil.copytree(dataset, data)
    shutil.rmtree(data / "test" / "2nd_manual")
    run_workflow(
        [TRAIN, EVALUATE], **settings(data, trained, output_dir=str(tmp_path / "eval"), save_predictions=False)
    )
    summary = json.loads((tmp_path / "eval" / "metrics_summary.json").read_text())
    assert list(summary) == [f"{m}_{p}" for p in PROTOCOLS for m in METRICS]
    table = (tmp_path / "eval" / "metrics.md").read_text()
    assert "2nd observer" not in table and "| DenseUNet-JA-9 | inside FOV | " in table


def test_inference_writes_every_readable_image_and_then_fails_naming_the_unreadable(dataset, trained, tmp_path):
    images = tmp_path / "mine"
    images.mkdir()
    source = drive_datalist(dataset, "test")[0]["image"]
    names = ("eye.tif", "eye_mask.tif", "scan_segmentation.tif", "x_superpixels.tif", "21_manual2.tif")
    for name in names:  # the official layouts' names mean nothing in a plain folder
        (images / name).write_bytes(Path(source).read_bytes())
    tiny = {"dot.png": (1, 1), "line.png": (1, 20), "column.png": (20, 1)}  # segmented at their size
    for name, size in tiny.items():
        Image.fromarray(np.full((*size, 3), 90, dtype=np.uint8)).save(images / name)
    (images / "broken.png").write_bytes(b"not a png")
    (images / "cut.tif").write_bytes(Path(source).read_bytes()[:300])
    out = tmp_path / "out"
    result = run_cli(
        ["monai.bundle", "run", "--config_file", str(INFERENCE)]
        + cli_args(settings(dataset, trained, dataset_dir=str(images), output_dir=str(out))),
        expect_failure=True,
    )
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{Path(n).stem}_{s}.png" for n in (*names, *tiny) for s in ("prob", "mask", "overlay")] + [".inference_run"]
    )
    for name, size in tiny.items():
        assert read_png(out / f"{Path(name).stem}_mask.png").shape == size
    problems = "2 problem(s) in the datalist: these files were skipped, the other 8 processed"
    assert problems in result.stderr
    assert f"{images / 'broken.png'}: cannot read the image" in result.stderr
    assert f"{images / 'cut.tif'}: cannot read the image" in result.stderr
    # the project's message, not MONAI's wrapping RuntimeError, is what the user reads last
    last_lines = result.stderr.rstrip().splitlines()[-3:]
    assert last_lines[0] == f"DatasetError: {problems}:" and "cut.tif" in result.stderr.rstrip().splitlines()[-1]


def test_image_zoom_evaluates_at_the_original_size_against_the_unresampled_labels(dataset, trained, tmp_path):
    """``--image_zoom 0.5``: the network sees half-size images; predictions come back to the original size
    and are scored against the label and FOV files as they are."""
    out_dir = tmp_path / "eval"
    keys = ("image", "pred", "prob", "label")
    overrides = settings(dataset, trained, output_dir=str(out_dir), image_zoom=0.5)
    outputs = run_workflow([TRAIN, EVALUATE], collect_keys=keys, **overrides)
    test = drive_datalist(dataset, "test", require_labels=True)
    pooled = {"pred": [], "label": []}
    for entry, output in zip(test, outputs, strict=True):
        assert output["id"] == entry["id"]
        assert output["image"].shape[1:] == (SIZE[1] // 2, SIZE[0] // 2)  # MONAI's (W, H)
        pred, prob, label = (output[key][0].T for key in ("pred", "prob", "label"))  # back to (H, W)
        assert np.array_equal(label > 0, read_binary(entry["label"]))
        assert pred.shape == prob.shape == SIZE and not pred[~read_binary(entry["mask"])].any()
        saved = read_png(out_dir / "predictions" / f"{entry['id']}_mask.png")
        assert saved.shape == SIZE and np.array_equal(saved > 0, pred > 0)
        assert np.array_equal(prob > 0.5, pred > 0)  # the mask is the resized probability map at 0.5
        pooled["pred"].append(pred.ravel() > 0)
        pooled["label"].append(label.ravel() > 0)
    expected = confusion_metrics(np.concatenate(pooled["pred"]), np.concatenate(pooled["label"]))
    summary = json.loads((out_dir / "metrics_summary.json").read_text())
    for metric in METRICS[:4]:
        assert summary[f"{metric}_whole_image"] == pytest.approx(expected[metric], abs=1e-6), metric


def test_image_zoom_inference_writes_the_original_size(dataset, trained, tmp_path):
    out = tmp_path / "out"
    test = drive_datalist(dataset, "test")
    overrides = settings(dataset, trained, dataset_dir=str(dataset / "test"), output_dir=str(out), image_zoom=0.5)
    run_workflow([INFERENCE], **overrides)
    for entry in test:
        stem = out / "images" / entry["id"]
        prob, mask = read_png(f"{stem}_prob.png"), read_png(f"{stem}_mask.png")
        assert prob.shape == mask.shape == SIZE and read_png(f"{stem}_overlay.png").shape == (*SIZE, 3)
        assert np.array_equal(mask > 0, prob >= 128)
        assert not prob[~read_binary(entry["mask"])].any()


def test_inference_with_a_corrupt_checkpoint_names_it(dataset, tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "model.pt").write_bytes(b"garbage" * 100)
    result = run_cli(
        ["monai.bundle", "run", "--config_file", str(INFERENCE)]
        + cli_args(settings(dataset, tmp_path, dataset_dir=str(dataset / "test"))),
        expect_failure=True,
    )
    path = tmp_path / "models" / "model.pt"
    assert f"CheckpointError: {path}: the checkpoint is corrupt: not a PyTorch checkpoint" in result.stderr
    assert "weights_only" not in result.stderr  # not even in a chained traceback of torch's own message


def test_overwrite_moves_the_earlier_run_aside(dataset, trained, tmp_path):
    shutil.copytree(trained / "models", tmp_path / "models")
    before = {p.name: p.read_bytes() for p in (tmp_path / "models").glob("*.pt")}
    run_workflow([TRAIN], **settings(dataset, tmp_path, max_iterations=2, val_interval=2, overwrite=True))
    (moved,) = (tmp_path / "models").glob("replaced-*")
    assert {p.name: p.read_bytes() for p in moved.glob("*.pt")} == before
    assert load_checkpoint(tmp_path / "models" / "latest.pt")["trainer"]["iteration"] == 2  # the new run's
    assert not (tmp_path / "models" / "run.lock").exists()  # released at the end


def test_training_stops_at_max_iterations_between_validations(dataset, tmp_path):
    run_workflow([TRAIN], **settings(dataset, tmp_path, max_iterations=5, val_interval=2))
    latest = load_checkpoint(tmp_path / "models" / "latest.pt")
    assert latest["trainer"]["iteration"] == 5 and latest["optimizer"]["state"][0]["step"] == 5
    curve = json.loads((tmp_path / "eval" / "training_curve.json").read_text())
    assert curve["loss"]["iteration"] == [1, 2, 3, 4, 5]
    assert curve["validation"]["iteration"] == [2, 4, 5]  # the final, partial interval is validated too


def test_same_seed_same_run(dataset, tmp_path):
    """The batch data path draws the same patches and augmentations for the same seed: two runs give
    the same losses and weights; another seed gives other losses."""

    def run(name: str, seed: int) -> tuple[list[float], dict]:
        run_workflow([TRAIN], **settings(dataset, tmp_path / name, max_iterations=3, val_interval=3, seed=seed))
        curve = json.loads((tmp_path / name / "eval" / "training_curve.json").read_text())
        return curve["loss"]["value"], load_checkpoint(tmp_path / name / "models" / "latest.pt")["network"]

    losses, weights = run("first", 0)
    again_losses, again_weights = run("again", 0)
    other_losses, _ = run("other", 1)
    assert losses == again_losses and all(torch.equal(weights[k], again_weights[k]) for k in weights)
    assert losses != other_losses


def test_nan_loss_ends_the_run_with_an_error(dataset, tmp_path):
    overrides = settings(dataset, tmp_path, max_iterations=4, val_interval=2)
    command = [sys.executable, "-m", "monai.bundle", "run", "--config_file", str(TRAIN), *cli_args(overrides)]
    command += ["--loss#lambda_ce", "$float('nan')"]  # a loss that is NaN from the first iteration
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1")
    result = subprocess.run(command, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "FloatingPointError: Loss is nan at iteration 1" in result.stderr
    assert not (tmp_path / "models" / "latest.pt").exists()


@pytest.mark.parametrize("inside", [False, True])
def test_inference_refuses_to_write_among_its_input_images(dataset, tmp_path, inside):
    images = tmp_path / "images"
    shutil.copytree(dataset / "test" / "images", images)
    (images / "01_test_mask.png").write_bytes(b"the user's own mask")
    before = sorted(p.name for p in images.iterdir())
    output_dir = images / "out" if inside else images
    with pytest.raises(RuntimeError) as info:
        run_workflow([INFERENCE], **settings(images, tmp_path, output_dir=str(output_dir)))
    assert isinstance(info.value.__cause__, RunFolderError)
    assert "choose an --output_dir outside the dataset_dir" in str(info.value.__cause__)
    assert sorted(p.name for p in images.iterdir()) == before
    assert (images / "01_test_mask.png").read_bytes() == b"the user's own mask"


def _with_orientation(upright: np.ndarray, path: Path, orientation: int, **save) -> None:
    """Save ``upright`` (H, W, 3) as a camera does: the pixels stored turned, with the EXIF orientation that makes
    a viewer show them upright (6: the viewer turns a quarter clockwise, 8: anticlockwise)."""
    stored = np.rot90(upright, 1 if orientation == 6 else -1)
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(np.ascontiguousarray(stored)).save(path, exif=exif, **save)


def test_phone_photos_are_segmented_as_displayed(dataset, trained, tmp_path):
    """EXIF orientation 6 and 8: mask, probability map and overlay come out upright, at the displayed size, equal
    to those of the same photo stored upright."""
    images = tmp_path / "photos"
    images.mkdir()
    with Image.open(drive_datalist(dataset, "test")[0]["image"]) as image:
        upright = np.asarray(image.convert("RGB"))  # SIZE, not square
    Image.fromarray(upright).save(images / "upright.png")
    _with_orientation(upright, images / "turned6.png", 6)
    _with_orientation(upright, images / "turned8.png", 8)
    _with_orientation(upright, images / "phone6.jpg", 6, quality=95)
    out = tmp_path / "out"
    run_workflow([INFERENCE], **settings(dataset, trained, dataset_dir=str(images), output_dir=str(out)))
    reference = {s: read_png(out / f"upright_{s}.png") for s in ("prob", "mask", "overlay")}
    assert reference["prob"].shape == SIZE and 0 < reference["prob"].std()  # the map has structure to compare
    for name in ("turned6", "turned8"):
        for suffix, expected in reference.items():
            np.testing.assert_array_equal(read_png(out / f"{name}_{suffix}.png"), expected, err_msg=f"{name} {suffix}")
    phone = read_png(out / "phone6_prob.png").astype(float)
    assert phone.shape == SIZE  # a turned photograph would be (W, H)
    error = np.abs(phone - reference["prob"]).mean()
    assert error < np.abs(phone - reference["prob"][::-1, ::-1]).mean() / 2  # aligned, not turned by 180 degrees


def test_inference_never_writes_into_a_used_output_folder(dataset, trained, tmp_path):
    images = dataset / "test"
    out = tmp_path / "out"
    out.mkdir()
    (out / "x_mask.png").write_bytes(b"the user's own mask")
    with pytest.raises(RuntimeError) as info:
        run_workflow([INFERENCE], **settings(dataset, trained, dataset_dir=str(images), output_dir=str(out)))
    assert isinstance(info.value.__cause__, RunFolderError)
    assert f"output_dir {out} is not empty: it holds 1 entry (e.g. 'x_mask.png')" in str(info.value.__cause__)
    assert [p.name for p in out.iterdir()] == ["x_mask.png"]
    assert (out / "x_mask.png").read_bytes() == b"the user's own mask"

    used = tmp_path / "used"
    run_workflow([INFERENCE], **settings(dataset, trained, dataset_dir=str(images), output_dir=str(used)))
    before = {p: p.read_bytes() for p in used.rglob("*") if p.is_file()}
    with pytest.raises(RuntimeError) as info:  # the same command again: refused, the first results stay
        run_workflow([INFERENCE], **settings(dataset, trained, dataset_dir=str(images), output_dir=str(used)))
    assert isinstance(info.value.__cause__, RunFolderError)
    assert {p: p.read_bytes() for p in used.rglob("*") if p.is_file()} == before


def test_two_inference_runs_started_at_once_never_mix(dataset, trained, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    out = tmp_path / "out"
    images = {"a": tmp_path / "a", "b": tmp_path / "b"}
    test = drive_datalist(dataset, "test")
    for name, folder in images.items():
        folder.mkdir()
        for entry in test:  # the same names in both folders: mixed outputs would go unnoticed by name
            with Image.open(entry["image"]) as image:
                flipped = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if name == "b" else image
                flipped.save(folder / f"{entry['id']}.png")

    def infer(name):
        try:
            run_workflow([INFERENCE], **settings(dataset, trained, dataset_dir=str(images[name]), output_dir=str(out)))
            return name
        except RuntimeError as error:
            assert isinstance(error.__cause__, RunFolderError), error
            return None

    with ThreadPoolExecutor(max_workers=2) as pool:
        finished = [name for name in pool.map(infer, images) if name]
    assert len(finished) == 1  # one run claimed the folder, the other was refused before writing
    (winner,) = finished
    alone = tmp_path / "alone"
    run_workflow([INFERENCE], **settings(dataset, trained, dataset_dir=str(images[winner]), output_dir=str(alone)))
    names = sorted(p.name for p in alone.iterdir())
    assert sorted(p.name for p in out.iterdir()) == names
    for name in names[1:]:  # the PNGs, after .inference_run (which holds its run's start time)
        assert (out / name).read_bytes() == (alone / name).read_bytes(), name


def test_a_photo_too_small_for_image_zoom_is_named_and_the_others_written(dataset, trained, tmp_path):
    images = tmp_path / "photos"
    shutil.copytree(dataset / "test" / "images", images)
    Image.fromarray(np.full((1, 1, 3), 90, np.uint8)).save(images / "dot.png")
    out = tmp_path / "out"
    with pytest.raises(RuntimeError) as info:
        zoomed = settings(dataset, trained, dataset_dir=str(images), output_dir=str(out), image_zoom=0.5)
        run_workflow([INFERENCE], **zoomed)
    message = str(info.value.__cause__)
    assert isinstance(info.value.__cause__, DatasetError)
    assert f"{images / 'dot.png'}: 1x1 pixels (WxH) become 0x0 at image_zoom 0.5: too small to segment" in message
    written = {p.name for p in out.iterdir()}
    for entry in drive_datalist(dataset, "test"):
        assert {f"{entry['id']}_{s}.png" for s in ("prob", "mask", "overlay")} <= written
    assert not any(name.startswith("dot") for name in written)
