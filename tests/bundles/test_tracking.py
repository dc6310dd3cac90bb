"""``--tracking mlflow`` (MONAI's default MLflow settings) records training, validation, evaluation and
inference of every bundle (issue 17: the trainer's output once gave MLflow a tuple)."""

from __future__ import annotations

import sqlite3

import pytest
from bundle_helpers import configs, run_settings, run_workflow

from monai_jattn.datasets.drive import write_drive_sample
from monai_jattn.datasets.isic2017 import write_isic2017_sample
from monai_jattn.datasets.msd import write_msd_sample

pytest.importorskip("mlflow")

SAMPLES = {
    "drive_jattn_segmentation": lambda root: write_drive_sample(root, 4, 2, seed=0, image_size=(48, 48)),
    "isic2017_jattn_segmentation": lambda root: write_isic2017_sample(root, 4, 2, 2, image_size=(48, 64)),
    "msd_jattn_segmentation": lambda root: write_msd_sample(root, num_train=4, num_test=2, image_size=(24, 20, 12)),
}


def logged_metrics(database) -> set[str]:
    """The names of the metrics MLflow's SQLite store holds."""
    with sqlite3.connect(database) as connection:
        return {row[0] for row in connection.execute("SELECT DISTINCT key FROM metrics")}


@pytest.mark.parametrize("bundle", sorted(SAMPLES))
def test_mlflow_tracks_training_evaluation_and_inference(bundle, tmp_path):
    folder = configs(bundle)
    data = SAMPLES[bundle](tmp_path / "data")
    small = {"patch_size": [16, 16, 16], "val_fraction": 0.5} if bundle.startswith("msd") else {"patch_size": [32, 32]}
    settings = run_settings(folder, data, tmp_path, load_pretrain=False, tracking="mlflow", **small)
    settings["output_dir"] = str(tmp_path / "train")
    run_workflow([folder / "train.json"], max_iterations=2, val_interval=2, **settings)
    metrics = logged_metrics(tmp_path / "train" / "mlruns.db")
    trainer = {"train_loss", "train_mean_dice" if bundle.startswith("msd") else "train_dice"}
    assert trainer <= metrics, metrics  # the trainer, every iteration and epoch
    assert {"mean_dice" if bundle.startswith("msd") else "dice"} <= metrics, metrics  # the validation
    settings["output_dir"] = str(tmp_path / "evaluate")
    run_workflow([folder / "train.json", folder / "evaluate.json"], **settings)
    assert logged_metrics(tmp_path / "evaluate" / "mlruns.db"), "evaluation logged no metric"
    settings["output_dir"] = str(tmp_path / "infer")
    run_workflow([folder / "inference.json"], **settings)
    assert (tmp_path / "infer" / "mlruns.db").is_file()


def test_an_unwritable_store_names_tracking_uri(tmp_path):
    """Issue 28 U8: MLflow's "unable to open database file" or "No such file or directory: '/proc/mlruns'" named no
    setting. The check runs in initialize, before any handler is built (no data needed, nothing written)."""
    from monai_jattn.atomic_write import WriteError
    from monai_jattn.errors import root_cause

    folder = configs("drive_jattn_segmentation")
    uri = "sqlite:////proc/mlflow/mlruns.db"
    settings = run_settings(folder, tmp_path / "data", tmp_path, tracking="mlflow", tracking_uri=uri)
    for files in (
        [folder / "train.json"],
        [folder / "train.json", folder / "evaluate.json"],
        [folder / "inference.json"],
    ):
        with pytest.raises(RuntimeError) as error:
            run_workflow(files, **settings)
        cause = root_cause(error.value)
        assert isinstance(cause, WriteError), error.value
        assert str(cause).startswith(f"tracking_uri {uri}: its MLflow store /proc/mlflow: cannot write there (/proc: ")
        assert "--tracking_uri" in str(cause)
    assert not (tmp_path / "models").exists()


def test_tracking_store_folder():
    from monai_jattn.tracking import tracking_store_folder

    assert str(tracking_store_folder("sqlite:////data/run/mlruns.db")) == "/data/run"
    assert str(tracking_store_folder("file:///data/mlruns")) == "/data/mlruns"
    assert str(tracking_store_folder("/data/mlruns")) == "/data/mlruns"
    assert tracking_store_folder("http://localhost:5000") is None and tracking_store_folder(None) is None
