"""The ISIC-2017 bundle on tiny sample data, CPU only: evaluation at the original size (checked against numpy),
empty references, and inference on 16-bit and oddly named images. What the shared recipe gives every bundle
(checkpoints, inference on the command line, export, properties, torchrun, kill-and-resume, ...) is tested in
test_shared_recipe.py."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from bundle_cases import ISIC2017
from bundle_helpers import read_binary, read_png, run_settings, run_workflow
from metrics_reference import confusion_metrics, roc_auc
from PIL import Image

from monai_jattn.data import DatasetError
from monai_jattn.datasets.isic2017 import isic2017_datalist, write_isic2017_sample

CONFIGS = ISIC2017.configs
TRAIN, EVALUATE, INFERENCE = ISIC2017.train, ISIC2017.evaluate, ISIC2017.inference
SIZE = ISIC2017.size  # (height, width) of the sample images; the network sees train_size
settings = ISIC2017.settings


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return ISIC2017.write_sample(tmp_path_factory.mktemp("ISIC2017"))


@pytest.fixture(scope="module")
def trained(tiny_runs):
    """Four iterations of training, validated every two: this module's copy of the session's run."""
    return tiny_runs.trained(ISIC2017, "isic_run")


def test_evaluation_at_original_size_equals_numpy(dataset, trained):
    outputs = run_workflow([TRAIN, EVALUATE], collect_keys=("prob", "label"), **settings(dataset, trained))
    out_dir = trained / "eval"
    per_image = {}
    for entry, output in zip(isic2017_datalist(dataset, "test"), outputs):
        assert output["id"] == entry["id"]
        label = read_binary(entry["label"])
        pred = read_png(out_dir / "predictions" / f"{entry['id']}_mask.png")
        assert pred.shape == label.shape == SIZE and set(np.unique(pred)) <= {0, 255}
        prob = output["prob"][0].T  # MONAI's PIL arrays are (W, H): back to (H, W)
        assert prob.shape == SIZE and np.array_equal(prob > 0.5, pred > 0)  # scored at the original size
        per_image[entry["id"]] = confusion_metrics(pred > 0, label) | {"auc": roc_auc(prob, label)}
    expected = {k: np.mean([m[k] for m in per_image.values()]) for k in next(iter(per_image.values()))}

    summary = json.loads((out_dir / "metrics_summary.json").read_text())
    assert list(summary) == ["recall", "tnr", "dice", "accuracy", "auc", "jaccard"]
    for key, value in summary.items():
        assert value == pytest.approx(expected[key], abs=1e-6), key
    assert "| Model | Recall | TNR | Dice | Accuracy | AUC | Jaccard |" in (out_dir / "metrics.md").read_text()
    with open(out_dir / "metrics_per_image.csv") as f:
        rows = {row["id"]: row for row in csv.DictReader(f)}
    assert set(rows) == set(per_image)
    for image_id, values in per_image.items():
        for key, value in values.items():
            assert float(rows[image_id][key]) == pytest.approx(value, abs=2e-6), (image_id, key)


def _constant_model(path, foreground: bool):
    """A model.pt of the tiny network that predicts every pixel as lesion (or none): only the head's bias is
    non-zero, so each image's metrics follow from its mask alone and per-image means differ from pooled pixels."""
    from monai.bundle import ConfigParser

    parser = ConfigParser()
    parser.read_config(TRAIN)
    parser.update(run_settings(CONFIGS, path, path))
    state = parser.get_parsed_content("network_def").state_dict()  # its "structure" (attention) is kept
    state = {k: v if k == "structure" else torch.zeros_like(v) for k, v in state.items()}
    state["head.bias"] = torch.tensor([0.0, 4.0] if foreground else [4.0, 0.0])
    path.mkdir(parents=True)
    torch.save(state, path / "model.pt")


@pytest.mark.parametrize("foreground", [True, False])
def test_an_empty_reference_is_scored_and_reported_never_dropped(tmp_path, foreground):
    """Issue 28 S8: an image with an empty mask got NaN and vanished from the mean Dice, Jaccard and Recall while
    the report said "mean over the N test images". Dice and Jaccard are 1 where the prediction is empty too,
    else 0; Recall (and AUC) are undefined there, and metrics.md says the mean is over 2 of the 3 images. The
    lesion-everywhere model also tells the per-image mean (ISIC-2017) from pooled pixels."""
    root = tmp_path / "data"
    write_isic2017_sample(root, num_train=2, num_val=0, num_test=3, seed=1, image_size=SIZE)
    test = isic2017_datalist(root, "test")
    empty_id = test[1]["id"]
    Image.fromarray(np.zeros(SIZE, np.uint8)).save(test[1]["label"])
    large = np.zeros(SIZE, np.uint8)
    large[2:-2, 2:-2] = 255  # a lesion over most of the image: its Dice weighs as much as the others' in the mean
    Image.fromarray(large).save(test[0]["label"])
    _constant_model(tmp_path / "models", foreground)
    run_workflow([TRAIN, EVALUATE], **settings(root, tmp_path, save_predictions=False))

    per_image = {}
    for entry in test:
        label = read_binary(entry["label"])
        pred = np.full(SIZE, foreground)
        values = confusion_metrics(pred, label) | {"auc": np.nan if not label.any() else None}  # None: not checked
        if not label.any():
            values |= {"recall": np.nan, "dice": float(not foreground), "jaccard": float(not foreground)}
        per_image[entry["id"]] = values
    summary = json.loads((tmp_path / "eval" / "metrics_summary.json").read_text())
    for key, value in summary.items():
        if key != "auc":  # the probability is one value up to the rounding of the resize back
            assert value == pytest.approx(np.nanmean([m[key] for m in per_image.values()]), abs=1e-6), key
    if foreground:  # the per-image mean, not one confusion matrix over the pixels of all images
        labels = np.concatenate([read_binary(e["label"]).ravel() for e in test])
        pooled = confusion_metrics(np.ones_like(labels), labels)
        assert abs(summary["dice"] - pooled["dice"]) > 0.05

    with open(tmp_path / "eval" / "metrics_per_image.csv") as f:
        rows = {row["id"]: row for row in csv.DictReader(f)}
    for image_id, values in per_image.items():
        assert rows[image_id]["empty_reference"] == str(int(image_id == empty_id))
        for key, value in values.items():
            if value is None:
                assert rows[image_id][key] != "nan", (image_id, key)
            elif np.isnan(value):
                assert rows[image_id][key] == "nan", (image_id, key)
            else:
                assert float(rows[image_id][key]) == pytest.approx(value, abs=2e-6), (image_id, key)
    report = (tmp_path / "eval" / "metrics.md").read_text()
    assert "Mean over the 3 test images" not in report
    assert f"1 of the 3 images have an empty reference (no foreground pixel): {empty_id}." in report
    for title in ("Recall", "AUC"):
        undefined = (
            f"- {title}: mean over 2 of the 3 images; undefined (nan in metrics_per_image.csv) for 1: {empty_id}."
        )
        assert undefined in report
    assert "- Dice:" not in report and "- Jaccard:" not in report  # defined for every image


def test_inference_segments_16_bit_and_oddly_named_images_and_names_the_unreadable(dataset, trained, tmp_path):
    images = tmp_path / "mine"
    images.mkdir()
    with Image.open(isic2017_datalist(dataset, "test")[0]["image"]) as image:
        grey = np.asarray(image.convert("L"))
    Image.fromarray(grey.astype(np.uint16) * 257).save(images / "lesion_segmentation.png")  # 16-bit grey PNG
    Image.fromarray(grey).save(images / "ISIC_0000001_superpixels.png")  # no ISIC_0000001.jpg beside it: an image
    (images / "empty.jpg").write_bytes(b"")
    out = tmp_path / "out"
    with pytest.raises(RuntimeError) as info:  # MONAI's "Failed to evaluate ...", caused by ours
        run_workflow([INFERENCE], **settings(dataset, trained, dataset_dir=str(images), output_dir=str(out)))
    assert isinstance(info.value.__cause__, DatasetError)
    assert f"{images / 'empty.jpg'}: cannot read the image" in str(info.value.__cause__)
    stems = ("lesion_segmentation", "ISIC_0000001_superpixels")
    expected = [f"{i}_{s}.png" for i in stems for s in ("prob", "mask", "overlay")]
    assert sorted(p.name for p in out.iterdir()) == sorted([*expected, ".inference_run"])  # every readable image
