"""Tests of the ablation runner on tiny synthetic DRIVE, ISIC-2017 and MSD sets: tables, figures, skipping, resuming,
refusing."""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import shutil

import pytest

import monai_jattn.bundles
import monai_jattn.experiments.ablation as ablation
import monai_jattn.experiments.ablation_report as ablation_report
import monai_jattn.experiments.bundle_runs as bundle_runs
from monai_jattn.datasets.drive import write_drive_sample
from monai_jattn.datasets.isic2017 import write_isic2017_sample
from monai_jattn.datasets.msd import write_msd_sample
from monai_jattn.datasets.registry import DatasetSpec
from monai_jattn.experiments.__main__ import main
from monai_jattn.experiments.arguments import parse_override
from monai_jattn.experiments.paper_results import PAPER_RESULTS
from monai_jattn.experiments.results import (
    main_dice,
    metric_columns,
    metric_title,
    paper_table_markdown,
    results_markdown,
    summarise,
    write_results_csv,
)
from monai_jattn.networks.names import MODEL_VARIANTS, paper_label, parse_model_names, short_label

TINY = [
    "--max_iterations", "2",
    "--seeds", "0,1",
    "--device", "cpu",
    "--override", "num_workers=0",
    "--override", "patch_size=[32, 32]",
    "--network_overrides", '{"growth_rate": 4, "block_layers": [1, 1, 1, 1, 1], "decoder_features": [8, 8, 8, 8]}',
]  # fmt: skip


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_drive_sample(tmp_path_factory.mktemp("drive"), num_train=5, num_test=2, seed=0, image_size=(48, 64))


@pytest.fixture(scope="module")
def finished(dataset, tmp_path_factory):
    """An ablation of two models and two seeds, run once for the whole module."""
    out = tmp_path_factory.mktemp("ablation")
    main(["ablation", "--dataset", "drive", "--dataset_dir", str(dataset), "--output_dir", str(out),
          "--models", "dense_unet,ja9", "--num_figure_images", "2", *TINY])  # fmt: skip
    return out


def _args(dataset, out, *extra):
    return ["ablation", "--dataset", "drive", "--dataset_dir", str(dataset), "--output_dir", str(out),
            "--models", "dense_unet", "ja9", *TINY, *extra]  # fmt: skip


def test_ablation_writes_results_table_and_both_figures(finished):
    with open(finished / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["model"], r["seed"]) for r in rows] == [
        ("dense_unet", "0"), ("dense_unet", "1"), ("ja9", "0"), ("ja9", "1"), ("observer2", "")
    ]  # fmt: skip
    metrics = ("recall", "tnr", "dice", "accuracy", "auc")
    keys = [f"{m}_{p}" for p in ("whole_image", "inside_fov") for m in metrics]
    assert list(rows[0])[:13] == ["model", "label", "seed", *keys]
    assert all(0.0 <= float(r[k]) <= 1.0 for r in rows[:4] for k in keys)
    assert {r["max_iterations"] for r in rows[:4]} == {"2"}
    # the 2nd observer's row: the sample data's second observer against the first, no AUC (a binary map)
    observer = rows[4]
    assert (
        observer["label"] == "2nd observer" and observer["auc_whole_image"] == "" and observer["max_iterations"] == ""
    )
    evaluated = (finished / "runs" / "ja9_seed0" / "eval" / "metrics_summary.json").read_text()
    assert f'"observer2_dice_inside_fov": {observer["dice_inside_fov"]}' in evaluated
    markdown = (finished / "results.md").read_text()
    whole, fov = markdown.index("## Whole image"), markdown.index("## Inside FOV")
    assert whole < fov and markdown.count("| Model | Recall | TNR | Dice | Accuracy | AUC | Seeds |") == 2
    assert "| DenseUNet-JA-9 | " in markdown and " ± " in markdown and "| 2 |" in markdown
    assert markdown.count("| 2nd observer | ") == 2 and "| – | – |" in markdown
    assert "0.8164" in markdown and "8.9%" in markdown  # the paper's DRIVE table, compared whole image
    for figure in ("dice_bars.png", "segmentation_grid.png"):
        assert (finished / figure).read_bytes()[:4] == b"\x89PNG"
    for run in ("dense_unet_seed0", "dense_unet_seed1", "ja9_seed0", "ja9_seed1"):
        assert (finished / "runs" / run / "done").exists()
        assert (finished / "runs" / run / "models" / "model.pt").exists()


def test_rerun_skips_finished_runs_and_resumes_an_interrupted_one(finished, dataset, tmp_path, monkeypatch):
    out = tmp_path / "copy"
    shutil.copytree(finished, out)
    interrupted = out / "runs" / "ja9_seed1"
    for name in ("done", "result.json", "train.done", "evaluate.done"):
        (interrupted / name).unlink()
    shutil.rmtree(interrupted / "eval")
    calls = []
    real_run_bundle = ablation.run_bundle

    def spy(bundle_dir, configs, workflow_type, overrides):
        calls.append((workflow_type, overrides["ckpt_dir"], overrides.get("resume")))
        real_run_bundle(bundle_dir, configs, workflow_type, overrides)

    monkeypatch.setattr(ablation, "run_bundle", spy)
    args = _args(dataset, out)
    del args[args.index("--device") : args.index("--device") + 2]  # a run may resume on another device
    main(args)
    ckpt_dir = str(interrupted / "models")
    assert calls == [("train", ckpt_dir, True), ("eval", ckpt_dir, None)]
    assert (interrupted / "done").exists() and (interrupted / "eval" / "metrics_summary.json").exists()
    with open(out / "results.csv") as handle:
        assert len(list(csv.DictReader(handle))) == 4 + 1  # and the 2nd observer

    calls.clear()
    main(_args(dataset, out))
    assert calls == []


def test_rerun_with_another_budget_is_refused(finished, dataset, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(finished, out)
    args = _args(dataset, out)
    args[args.index("--max_iterations") + 1] = "3"
    with pytest.raises(ValueError, match="dense_unet_seed0 was started with other settings.*max_iterations"):
        main(args)


def test_report_command_redraws_from_finished_runs(finished, dataset, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(finished, out)
    for name in ("results.csv", "results.md", "dice_bars.png", "segmentation_grid.png"):
        (out / name).unlink()
    main(["report", "--dataset", "drive", "--dataset_dir", str(dataset), "--output_dir", str(out)])
    assert (out / "results.csv").read_text() == (finished / "results.csv").read_text()
    assert (out / "segmentation_grid.png").exists() and (out / "dice_bars.png").exists()


def test_data_label_names_the_data_in_report_and_figure_titles(finished, dataset, tmp_path, monkeypatch):
    out = tmp_path / "copy"
    shutil.copytree(finished, out)
    titles = []
    for name in ("plot_dice_bars", "plot_segmentation_grid"):
        real = getattr(ablation_report, name)
        monkeypatch.setattr(
            ablation_report, name, lambda *args, real=real, **kwargs: titles.append(args[-1]) or real(*args, **kwargs)
        )
    main(["report", "--dataset", "drive", "--dataset_dir", str(dataset), "--output_dir", str(out),
          "--data_label", "synthetic DRIVE sample"])  # fmt: skip
    assert titles == [
        "synthetic DRIVE sample: Dice per model (2 iterations)",
        "synthetic DRIVE sample: segmentation maps",
    ]
    assert "Ablation on synthetic DRIVE sample" in (out / "results.md").read_text()


def test_report_without_saved_masks_says_why_there_is_no_grid(finished, dataset, tmp_path, caplog):
    out = tmp_path / "copy"
    shutil.copytree(finished, out)
    (out / "segmentation_grid.png").unlink()
    mask = next((out / "runs" / "ja9_seed0" / "eval" / "predictions").glob("*_mask.png"))
    mask.unlink()
    with caplog.at_level(logging.WARNING, logger=ablation_report.__name__):
        main(["report", "--dataset", "drive", "--dataset_dir", str(dataset), "--output_dir", str(out)])
    reason = f"no segmentation grid (it needs the 2D masks the evaluations save): {mask} not found"
    assert f"- {reason}\n" in (out / "results.md").read_text() and f"{out}: {reason}" in caplog.text
    assert not (out / "segmentation_grid.png").exists() and (out / "results.csv").exists()


def test_isic2017_ablation_reports_jaccard(tmp_path):
    dataset = write_isic2017_sample(tmp_path / "isic", 4, 2, 2, seed=0, image_size=(40, 56))
    out = tmp_path / "out"
    args = [
        "ablation",
        "--dataset",
        "isic2017",
        "--dataset_dir",
        str(dataset),
        "--output_dir",
        str(out),
        "--models",
        "pwa",
    ]
    tiny = [a.replace("patch_size", "train_size") for a in TINY]
    main([*args, *tiny[tiny.index("--device") :], "--max_iterations", "1", "--seeds", "3"])
    with open(out / "results.csv") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["model"] == "pwa" and row["seed"] == "3" and 0.0 <= float(row["jaccard"]) <= 1.0
    assert "| AUC | Jaccard | Seeds |" in (out / "results.md").read_text()
    assert "paper" not in (out / "results.md").read_text()  # the paper's table is DRIVE's
    assert (out / "segmentation_grid.png").exists() and (out / "dice_bars.png").exists()


def test_bad_inputs_get_clear_errors(dataset, tmp_path):
    with pytest.raises(ValueError, match=r"unknown \['ja10'\]"):
        parse_model_names("dense_unet,ja10")
    with pytest.raises(ValueError, match=r"repeated \['sa'\]"):
        parse_model_names(["sa", "sa"])
    with pytest.raises(FileNotFoundError, match="configs/train.json and configs/evaluate.json missing"):
        bundle_runs.find_bundle("drive", tmp_path)
    with pytest.raises(FileNotFoundError, match="dataset folder not found"):
        ablation.run_ablation("drive", tmp_path / "nowhere", tmp_path / "out", models="sa", max_iterations=1)
    with pytest.raises(ValueError, match=r"val_interval \(4\) must divide max_iterations \(10\).*would train 12"):
        ablation.run_ablation("drive", dataset, tmp_path / "out", models="sa", max_iterations=10, val_interval=4)
    bundle = bundle_runs.find_bundle("drive")
    assert ablation._default_val_interval(bundle, 1500) == 500  # the DRIVE bundle validates every 500
    assert ablation._default_val_interval(bundle, 700) == 350 and ablation._default_val_interval(bundle, 7) == 7
    with pytest.raises(FileNotFoundError, match="no finished run"):
        ablation.collect_results(tmp_path)
    with pytest.raises(SystemExit):
        main(["ablation", "--dataset", "drive", "--dataset_dir", str(dataset), "--output_dir", str(tmp_path),
              "--max_iterations", "1", "--override", "no_equals_sign"])  # fmt: skip


def test_variants_overrides_and_summaries():
    assert list(MODEL_VARIANTS) == ["dense_unet", "sa", "pwa", *(f"ja{k}" for k in range(1, 10)), "basic_unet"]
    assert MODEL_VARIANTS["ja4"].network_overrides() == {"network_def#attention": "ja", "network_def#ja_variant": 4}
    assert MODEL_VARIANTS["dense_unet"].network_overrides()["network_def#attention"] == "none"
    assert MODEL_VARIANTS["basic_unet"].network_overrides()["network_def"]["_target_"] == "BasicUNet"
    msd = {"spatial_dims": "@spatial_dims", "in_channels": "@in_channels", "out_channels": 4, "growth_rate": 8}
    assert MODEL_VARIANTS["basic_unet"].network_overrides(msd) == {
        "network_def": {
            "_target_": "BasicUNet",
            "spatial_dims": "@spatial_dims",
            "in_channels": "@in_channels",
            "out_channels": 4,
        }
    }  # the bundle's inputs and classes, none of its DenseUNet arguments
    assert parse_model_names(None) == list(MODEL_VARIANTS)[:12]  # the paper's twelve by default
    assert [paper_label(name) for name in ("ja9", "sa")] == ["DenseUNet-JA (JA-9)", "DenseUNet-SA"]
    assert [short_label(MODEL_VARIANTS[name].label) for name in ("dense_unet", "ja3")] == ["Baseline", "JA-3"]
    assert parse_override("patch_size=[64, 64]") == ("patch_size", [64, 64])
    assert parse_override("device=cuda:1") == ("device", "cuda:1")

    rows = [
        {"model": "sa", "seed": 0, "recall": 0.5, "tnr": 0.9, "dice": 0.6, "accuracy": 0.8, "auc": 0.9, "jaccard": 0.4},
        {"model": "sa", "seed": 1, "recall": 0.7, "tnr": 0.9, "dice": 0.8, "accuracy": 0.9, "auc": 0.9, "jaccard": 0.6},
        {
            "model": "ja9",
            "seed": 0,
            "recall": 0.6,
            "tnr": 0.8,
            "dice": 0.7,
            "accuracy": 0.8,
            "auc": 0.8,
            "jaccard": 0.5,
        },
    ]
    sa, ja = summarise(rows)
    assert sa["dice_mean"] == pytest.approx(0.7) and sa["dice_std"] == pytest.approx(0.1414, abs=1e-4)
    assert ja["label"] == "DenseUNet-JA-9" and ja["seeds"] == 1 and ja["dice_std"] is None
    markdown = results_markdown(rows, "t")
    assert "| AUC | Jaccard | Seeds |" in markdown
    assert "| DenseUNet-SA | 0.6000 ± 0.1414 |" in markdown and "| DenseUNet-JA-9 | 0.6000 | 0.8000 |" in markdown


def test_the_papers_results_are_the_harness_not_the_registry():
    """The paper's published numbers and their markdown note live in the harness; the registry entries carry none."""
    assert not {"paper_results", "paper_results_note"} & {field.name for field in dataclasses.fields(DatasetSpec)}
    assert set(PAPER_RESULTS) == {"drive"} and set(PAPER_RESULTS["drive"].table) == {"dense_unet", "sa", "pwa", "ja9"}
    assert PAPER_RESULTS["drive"].table["ja9"]["dice"] == 0.8164  # supplement Table 1
    assert "| DenseUNet-JA (JA-9) | 0.7907 | 0.9864 | 0.8164 |" in paper_table_markdown(PAPER_RESULTS["drive"].table)


def test_tables_of_drive_like_rows_keep_the_papers_columns():
    run = {"model": "ja9", "label": "DenseUNet-JA-9", "seed": 0, "max_iterations": 2, "train_seconds": 1.5}
    metrics = {f"{m}_{p}": 0.5 for p in ("whole_image", "inside_fov") for m in ("auc", "dice", "tnr", "accuracy")}
    rows = [{**run, "recall_whole_image": 0.4, "recall_inside_fov": 0.3, **metrics, "observer2_dice_inside_fov": 0.7}]
    assert metric_columns(rows) == ["recall", "tnr", "dice", "accuracy", "auc"] and main_dice(rows) == "dice"
    assert [metric_title(m) for m in metric_columns(rows)] == ["Recall", "TNR", "Dice", "Accuracy", "AUC"]


def test_tables_of_msd_like_rows_have_a_column_per_class(tmp_path):
    run = {"label": "x", "max_iterations": 2, "train_seconds": 3.0, "evaluate_seconds": 0.5}
    rows = [
        {**run, "model": "dense_unet", "seed": 0, "dice_organ": 0.6, "dice_lesion": 0.2, "mean_dice": 0.4},
        {**run, "model": "dense_unet", "seed": 1, "dice_organ": 0.8, "dice_lesion": 0.4, "mean_dice": 0.6},
        {**run, "model": "ja9", "seed": 0, "dice_organ": 0.7, "dice_lesion": 0.1, "mean_dice": 0.4},
    ]
    assert metric_columns(rows) == ["dice_organ", "dice_lesion", "mean_dice"] and main_dice(rows) == "mean_dice"
    assert [metric_title(m) for m in metric_columns(rows)] == ["Dice organ", "Dice lesion", "mean Dice"]
    dense, ja = summarise(rows)
    assert dense["mean_dice_mean"] == pytest.approx(0.5) and dense["dice_organ_std"] == pytest.approx(0.1414, abs=1e-4)
    assert ja["dice_lesion_mean"] == pytest.approx(0.1) and ja["mean_dice_std"] is None
    assert not any(key.startswith(("seed_", "train_seconds", "max_iterations")) for key in dense)
    markdown = results_markdown(rows, "MSD")
    assert "| Model | Dice organ | Dice lesion | mean Dice | Seeds |\n|---|---:|---:|---:|---:|\n" in markdown
    assert "| DenseUNet | 0.7000 ± 0.1414 | 0.3000 ± 0.1414 | 0.5000 ± 0.1414 | 2 |" in markdown
    assert "| DenseUNet-JA-9 | 0.7000 | 0.1000 | 0.4000 | 1 |" in markdown and "##" not in markdown
    write_results_csv(rows, tmp_path / "results.csv")
    with open(tmp_path / "results.csv") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == [
            "model", "label", "seed", "dice_organ", "dice_lesion", "mean_dice",
            "evaluate_seconds", "max_iterations", "train_seconds",
        ]  # fmt: skip
        assert [row["dice_lesion"] for row in reader] == ["0.2", "0.4", "0.1"]


def test_msd_ablation_reports_per_class_dice_without_a_grid(tmp_path):
    dataset = write_msd_sample(tmp_path / "msd", num_train=4, num_test=1, image_size=(24, 20, 12))
    out = tmp_path / "out"
    network = {"init_features": 4, "growth_rate": 4, "block_layers": [1, 1, 1], "decoder_features": [4, 4],
               "pwa_hidden_channels": 8}  # fmt: skip
    main(["ablation", "--dataset", "msd", "--dataset_dir", str(dataset), "--output_dir", str(out),
          "--models", "dense_unet,ja9", "--max_iterations", "2", "--device", "cpu", "--network_overrides",
          json.dumps(network), "--override", "patch_size=[16, 16, 16]", "--override", "num_workers=0"])  # fmt: skip
    with open(out / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["model"] for row in rows] == ["dense_unet", "ja9"]
    assert list(rows[0])[:6] == ["model", "label", "seed", "dice_organ", "dice_lesion", "mean_dice"]
    assert all(0.0 <= float(row[key]) <= 1.0 for row in rows for key in ("dice_organ", "dice_lesion", "mean_dice"))
    markdown = (out / "results.md").read_text()
    assert "| Model | Dice organ | Dice lesion | mean Dice | Seeds |" in markdown and "| DenseUNet-JA-9 | " in markdown
    assert "- no segmentation grid (it needs a test split with labels): " in markdown and "no labels" in markdown
    assert (out / "dice_bars.png").read_bytes()[:4] == b"\x89PNG" and not (out / "segmentation_grid.png").exists()

    no_dice = [
        {key: value for key, value in row.items() if key != "mean_dice"} for row in ablation.collect_results(out)
    ]
    ablation_report.write_report(no_dice, tmp_path / "report", "msd", dataset)
    assert (
        "- no Dice bar chart: the runs report no dice or mean_dice\n"
        in (tmp_path / "report" / "results.md").read_text()
    )
    assert not (tmp_path / "report" / "dice_bars.png").exists()


def test_basic_unet_runs_through_the_same_bundle(dataset, tmp_path):
    overrides = {"num_workers": 0, "patch_size": [32, 32], "network_def#features": [4, 4, 4, 4, 4, 4]}
    overrides |= {"network_def#growth_rate": 4}  # a DenseUNet argument (--network_overrides): not for BasicUNet
    (row,) = ablation.run_ablation(
        "drive",
        dataset,
        tmp_path,
        models="basic_unet",
        max_iterations=1,
        overrides=overrides,
        device="cpu",
        progress=False,
    )
    assert row["model"] == "basic_unet" and 0.0 <= row["dice_whole_image"] <= 1.0
    assert (
        "| BasicUNet (MONAI) | whole image | "
        in (tmp_path / "runs" / "basic_unet_seed0" / "eval" / "metrics.md").read_text()
    )
    assert "| BasicUNet (MONAI) | " in (tmp_path / "results.md").read_text()


def test_bundles_are_found_by_option_variable_or_checkout(tmp_path, monkeypatch):
    checkout_bundle = bundle_runs.find_bundle("drive")
    assert checkout_bundle.name == "drive_jattn_segmentation"
    assert checkout_bundle.parent == monai_jattn.bundles.bundles_root()
    monkeypatch.setenv(monai_jattn.bundles.BUNDLES_ENV, str(tmp_path))
    assert monai_jattn.bundles.bundles_root() == tmp_path.resolve()
    with pytest.raises(FileNotFoundError, match="drive_jattn_segmentation: not a DRIVE bundle"):
        bundle_runs.find_bundle("drive")  # the variable wins over the checkout
    assert bundle_runs.find_bundle("drive", checkout_bundle) == checkout_bundle  # and --bundle_dir over both
    monkeypatch.setenv(monai_jattn.bundles.BUNDLES_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="MONAI_JATTN_BUNDLES=.*nowhere: not a folder"):
        monai_jattn.bundles.bundles_root()
    monkeypatch.delenv(monai_jattn.bundles.BUNDLES_ENV)
    monkeypatch.setattr(monai_jattn.bundles, "__file__", str(tmp_path / "site-packages" / "monai_jattn" / "bundles.py"))
    with pytest.raises(FileNotFoundError, match="pass --bundle_dir .* or set MONAI_JATTN_BUNDLES"):
        monai_jattn.bundles.bundles_root()
    assert set(bundle_runs.bundle_datasets()) >= {"drive", "isic2017"}
