"""MetricsReportSaver: the files it writes agree with a direct numpy computation on the same predictions."""

import csv
import json

import numpy as np
import pytest
import torch
from ignite.engine import Engine
from metrics_reference import confusion_metrics, roc_auc
from monai.handlers import ConfusionMatrix, from_engine

from monai_jattn.handlers import (
    OBSERVER2_PREFIX,
    MetricsReportSaver,
    PixelROCAUC,
    class_dice_metrics,
    metric_key,
    segmentation_metrics,
)

NAMES = {"recall": "sensitivity", "tnr": "specificity", "dice": "f1 score", "accuracy": "accuracy", "jaccard": "ts"}


def make_images(num_images=5, seed=0):
    rng = np.random.default_rng(seed)
    images = []
    for i in range(num_images):
        shape = (1, 12 + i, 9 + 2 * i)  # different sizes, as at the original resolution
        label = (rng.random(shape) < 0.3).astype(np.float32)
        prob = np.clip(0.35 * label + 0.65 * rng.random(shape), 0, 1).astype(np.float32)
        images.append({"id": f"img{i}", "label": label, "prob": prob, "pred": (prob >= 0.5).astype(np.float32)})
    return images


def run_report(tmp_path, images, compute_sample):
    batches = [
        [{k: torch.as_tensor(v) if k != "id" else v for k, v in im.items()} for im in images[i : i + 2]]
        for i in range(0, len(images), 2)
    ]
    engine = Engine(lambda engine, batch: batch)
    reduction = "mean" if compute_sample else "sum"
    for name, cm_name in NAMES.items():
        ConfusionMatrix(
            metric_name=cm_name,
            compute_sample=compute_sample,
            reduction=reduction,
            output_transform=from_engine(["pred", "label"]),
        ).attach(engine, name)
    PixelROCAUC(pooled=not compute_sample, output_transform=from_engine(["prob", "label"])).attach(engine, "auc")
    order = ["recall", "tnr", "dice", "accuracy", "auc", "jaccard"]
    MetricsReportSaver(tmp_path, metric_names=order, model_name="DenseUNet-JA", description="Test pixels.").attach(
        engine
    )
    engine.run(batches)
    return engine


@pytest.mark.parametrize("compute_sample", [False, True])
def test_summary_table_and_csv_match_numpy(tmp_path, compute_sample):
    images = make_images()
    run_report(tmp_path, images, compute_sample)
    per_image = [
        confusion_metrics(im["pred"], im["label"]) | {"auc": roc_auc(im["prob"].ravel(), im["label"].ravel())}
        for im in images
    ]
    if compute_sample:  # mean of per-image values
        expected = {k: np.mean([m[k] for m in per_image]) for k in per_image[0]}
    else:  # one confusion matrix over all pixels
        expected = confusion_metrics(
            np.concatenate([im["pred"].ravel() for im in images]),
            np.concatenate([im["label"].ravel() for im in images]),
        )
        expected["auc"] = roc_auc(
            np.concatenate([im["prob"].ravel() for im in images]),
            np.concatenate([im["label"].ravel() for im in images]),
        )

    summary = json.loads((tmp_path / "metrics_summary.json").read_text())
    assert list(summary) == ["recall", "tnr", "dice", "accuracy", "auc", "jaccard"]
    for key, value in expected.items():
        assert summary[key] == pytest.approx(value, abs=1e-6), key

    table = (tmp_path / "metrics.md").read_text().splitlines()
    assert table[0] == "Test pixels."
    assert table[2] == "| Model | Recall | TNR | Dice | Accuracy | AUC | Jaccard |"
    assert table[4] == "| DenseUNet-JA | " + " | ".join(f"{summary[k]:.4f}" for k in summary) + " |"

    with open(tmp_path / "metrics_per_image.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == [im["id"] for im in images]
    for row, values in zip(rows, per_image):
        for key, value in values.items():
            assert float(row[key]) == pytest.approx(value, abs=2e-6), (row["id"], key)


def test_missing_metric_is_a_clear_error(tmp_path):
    engine = Engine(lambda engine, batch: batch)
    MetricsReportSaver(tmp_path, metric_names=["dice"]).attach(engine)
    with pytest.raises(KeyError, match="dice"):
        engine.run([[{"id": "a"}]])
    assert not list(tmp_path.iterdir())


def test_two_protocols_and_a_reference_row_match_numpy(tmp_path):
    """segmentation_metrics in two protocols (all pixels; those inside a mask) and a second observer's row."""
    images = make_images()
    rng = np.random.default_rng(1)
    for im in images:
        im["mask"] = (rng.random(im["label"].shape) < 0.6).astype(np.float32)
        im["observer2"] = np.where(rng.random(im["label"].shape) < 0.8, im["label"], 1 - im["label"])
        inside = im["mask"] > 0
        for key in ("pred", "prob", "label", "observer2"):
            im[f"{key}_fov"] = im[key][inside][None]
    engine = Engine(lambda engine, batch: batch)
    protocols = {"whole_image": "", "inside_fov": "_fov"}
    names = ["recall", "tnr", "dice", "accuracy", "auc"]
    metrics = segmentation_metrics(names, protocols) | segmentation_metrics(
        names[:4], protocols, pred_key="observer2", prob_key=None, prefix=OBSERVER2_PREFIX
    )
    for name, handler in metrics.items():
        handler.attach(engine, name)
    MetricsReportSaver(
        tmp_path, names, "DenseUNet-JA", protocols=list(protocols), reference_rows={"2nd observer": OBSERVER2_PREFIX}
    ).attach(engine)
    engine.run([[{k: torch.as_tensor(v) if k != "id" else v for k, v in im.items()} for im in images]])

    summary = json.loads((tmp_path / "metrics_summary.json").read_text())
    assert list(summary) == [metric_key(n, p) for p in protocols for n in names] + [
        metric_key(n, p, OBSERVER2_PREFIX) for p in protocols for n in names[:4]
    ]
    for protocol, postfix in protocols.items():
        pooled = {
            k: np.concatenate([im[f"{k}{postfix}"].ravel() for im in images])
            for k in ("pred", "prob", "label", "observer2")
        }
        expected = confusion_metrics(pooled["pred"], pooled["label"]) | {
            "auc": roc_auc(pooled["prob"], pooled["label"])
        }
        observer = confusion_metrics(pooled["observer2"], pooled["label"])
        for name in names:
            assert summary[f"{name}_{protocol}"] == pytest.approx(expected[name], abs=1e-6), (name, protocol)
        for name in names[:4]:
            assert summary[f"observer2_{name}_{protocol}"] == pytest.approx(observer[name], abs=1e-6), (name, protocol)
    table = (tmp_path / "metrics.md").read_text().splitlines()
    assert table[0] == "| Model | Protocol | Recall | TNR | Dice | Accuracy | AUC |"
    assert table[2].startswith("| DenseUNet-JA | whole image | ") and table[3].startswith(
        "| DenseUNet-JA | inside FOV | "
    )
    assert (
        table[5]
        == "| 2nd observer | inside FOV | "
        + " | ".join(f"{summary['observer2_' + n + '_inside_fov']:.4f}" for n in names[:4])
        + " | – |"
    )
    with open(tmp_path / "metrics_per_image.csv") as f:
        rows = list(csv.DictReader(f))
    first = images[0]
    inside = confusion_metrics(first["observer2_fov"], first["label_fov"])
    assert float(rows[0]["observer2_dice_inside_fov"]) == pytest.approx(inside["dice"], abs=2e-6)
    assert float(rows[0]["auc_whole_image"]) == pytest.approx(roc_auc(first["prob"], first["label"]), abs=2e-6)


def test_segmentation_metrics_refuses_what_it_cannot_compute():
    with pytest.raises(ValueError, match="unknown metric"):
        segmentation_metrics(["hausdorff"])
    with pytest.raises(ValueError, match="prob_key"):
        segmentation_metrics(["auc"], prob_key=None)


def test_segmentation_metrics_per_image_is_the_mean_of_each_images_value():
    """ISIC-2017's convention: each metric per image, then the mean (not the pooled pixels)."""
    images = make_images()
    engine = Engine(lambda engine, batch: batch)
    names = ["recall", "tnr", "dice", "accuracy", "jaccard", "auc"]
    for name, handler in segmentation_metrics(names, per_image=True).items():
        handler.attach(engine, name)
    engine.run([[{k: torch.as_tensor(v) for k, v in im.items() if k != "id"} for im in images]])
    for name in names:
        each = [
            roc_auc(im["prob"], im["label"]) if name == "auc" else confusion_metrics(im["pred"], im["label"])[name]
            for im in images
        ]
        assert engine.state.metrics[name] == pytest.approx(np.mean(each), abs=1e-6), name
    pooled = {k: np.concatenate([im[k].ravel() for im in images]) for k in ("pred", "label")}
    assert engine.state.metrics["dice"] != pytest.approx(confusion_metrics(pooled["pred"], pooled["label"])["dice"])


def test_class_dice_metrics_score_each_foreground_class():
    rng = np.random.default_rng(2)
    classes = ["background", "liver", "liver tumour"]
    labels = [rng.integers(0, 3, size=(1, 6, 7, 5)) for _ in range(3)]
    preds = [np.where(rng.random(y.shape) < 0.7, y, rng.integers(0, 3, size=y.shape)) for y in labels]
    onehot = [{"pred": torch.as_tensor(np.concatenate([p == c for c in range(3)]).astype(np.float32)),
               "label": torch.as_tensor(np.concatenate([y == c for c in range(3)]).astype(np.float32))}
              for p, y in zip(preds, labels)]  # fmt: skip
    engine = Engine(lambda engine, batch: batch)
    metrics = class_dice_metrics(classes)
    assert list(metrics) == ["dice_liver", "dice_liver_tumour"]
    for name, handler in metrics.items():
        handler.attach(engine, name)
    engine.run([onehot])
    for c, name in enumerate(metrics, start=1):
        dice = [confusion_metrics((p == c).astype(np.float32), (y == c).astype(np.float32))["dice"]
                for p, y in zip(preds, labels)]  # fmt: skip
        assert engine.state.metrics[name] == pytest.approx(np.mean(dice), abs=1e-6), name


def test_confusion_matrix_values_define_an_empty_reference():
    from monai_jattn.metrics import confusion_matrix_values

    # TP, FP, TN, FN: both empty, a prediction on an empty reference, an ordinary image
    confusion = torch.tensor([[0.0, 0, 9, 0], [0, 3, 6, 0], [2, 1, 5, 2]])
    assert confusion_matrix_values("f1 score", confusion).tolist() == pytest.approx([1.0, 0.0, 4 / 7])
    assert confusion_matrix_values("threat score", confusion).tolist() == pytest.approx([1.0, 0.0, 2 / 5])
    recall = confusion_matrix_values("sensitivity", confusion)
    assert recall[:2].isnan().all() and recall[2] == pytest.approx(0.5)
    assert confusion_matrix_values("accuracy", confusion).tolist() == pytest.approx([1.0, 6 / 9, 7 / 10])


@pytest.mark.parametrize("per_image", [True, False])
def test_images_where_a_metric_is_undefined_are_counted_and_named(tmp_path, per_image):
    """Issue 28 S8: an empty reference is scored (Dice 1 with an empty prediction), and the report says over how
    many images each mean is and which images it leaves out; pooled metrics say they pool every image."""
    images = make_images(num_images=3)
    images[1]["label"][:] = 0
    images[1]["pred"][:] = 0
    engine = Engine(lambda engine, batch: batch)
    names = ["recall", "dice", "auc"]
    for name, handler in segmentation_metrics(names, per_image=per_image).items():
        handler.attach(engine, name)
    MetricsReportSaver(tmp_path, metric_names=names, per_image_mean=per_image).attach(engine)
    engine.run([[{k: torch.as_tensor(v) if k != "id" else v for k, v in im.items()} for im in images]])
    each = [confusion_metrics(im["pred"], im["label"]) for im in images]
    if per_image:
        assert engine.state.metrics["dice"] == pytest.approx((each[0]["dice"] + 1 + each[2]["dice"]) / 3, abs=1e-6)
        assert engine.state.metrics["recall"] == pytest.approx((each[0]["recall"] + each[2]["recall"]) / 2, abs=1e-6)
    report = (tmp_path / "metrics.md").read_text()
    assert "1 of the 3 images have an empty reference (no foreground pixel): img1." in report
    for title in ("Recall", "AUC"):
        if per_image:
            assert f"- {title}: mean over 2 of the 3 images; undefined (nan in metrics_per_image.csv) for 1: img1." in (
                report
            )
        else:
            assert f"- {title}: pooled over the pixels of all 3 images; undefined for 1 of them alone" in report
    assert "- Dice" not in report
    with open(tmp_path / "metrics_per_image.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["dice"], r["recall"], r["empty_reference"]) for r in rows][1] == ("1.000000", "nan", "1")
    assert [r["empty_reference"] for r in rows] == ["0", "1", "0"]


def test_class_dice_of_a_case_without_the_class_counts():
    """Issue 28 S8 (MSD): a case whose reference lacks a class scored NaN and left the mean; now 1 where the
    prediction lacks it too, else 0."""
    label = torch.zeros(2, 4, 4)
    label[1, :2] = 1  # class 1 present
    label[0] = 1 - label[1]
    found, false_alarm = label.clone(), label.clone()
    false_alarm[:, 3, 3] = torch.tensor([0.0, 1.0])  # class 1 predicted where the reference is background
    engine = Engine(lambda engine, batch: batch)
    class_dice_metrics(["background", "organ"], save_details=True)["dice_organ"].attach(engine, "dice_organ")
    empty_label = torch.stack([torch.ones(4, 4), torch.zeros(4, 4)])
    engine.run([[{"pred": empty_label, "label": empty_label}, {"pred": false_alarm, "label": empty_label},
                 {"pred": found, "label": label}]])  # fmt: skip
    assert engine.state.metric_details["dice_organ"].flatten().tolist() == pytest.approx([1.0, 0.0, 1.0])
    assert engine.state.metrics["dice_organ"] == pytest.approx(2 / 3)
