"""What the shared recipe (``bundles/common/``) gives every bundle, tested once for all the bundles it applies to, on
their tiny sample data, CPU only: the workflows build without their data and check it when run, the multi-GPU
overlays take the GPU of the local rank, training writes its checkpoints and curve, refuses an earlier run's
``ckpt_dir`` and checks its settings before anything runs, properties, metadata, the TorchScript and ONNX exports,
inference on the command line, multi-process training and evaluation under torchrun, and kill-and-resume. What
only one dataset has (DRIVE's protocols and field of view, ISIC-2017's original-size evaluation, MSD's NIfTI
geometry, ...) is tested in that bundle's own file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from bundle_cases import CASES, DRIVE, ISIC2017, MSD, BundleCase
from bundle_helpers import (
    REPO,
    TORCHRUN,
    check_builds_without_data,
    check_multi_gpu_device_is_local_rank,
    check_onnx_export,
    check_properties_and_metadata,
    check_torchscript_export,
    cli_args,
    kill_and_resume,
    load_checkpoint,
    read_png,
    run_cli,
    run_workflow,
)
from PIL import Image

from monai_jattn.bundles import bundle_names
from monai_jattn.run_folders import RunFolderError
from monai_jattn.setting_checks import SettingError

BUNDLES = bundle_names(REPO / "bundles")
EVALUATE_IDS = {  # ids evaluation builds (train.json + evaluate.json) besides the properties
    "drive_jattn_segmentation": ("validate#evaluator", "metrics_description"),
    "isic2017_jattn_segmentation": ("validate#evaluator", "metrics_description"),
    "msd_jattn_segmentation": ("validate#evaluator", "test_datalist"),
}
EVERY_BUNDLE = [DRIVE.name, ISIC2017.name, MSD.name]
PHOTOGRAPHS = [DRIVE.name, ISIC2017.name]
"""The 2D bundles, on photographs: the export tests feed their 2D tiny network 2D images; inference on a folder of
photographs; torchrun and kill-and-resume, which would cost much more in 3D on CPU."""


@pytest.fixture(scope="module")
def bundle(request) -> BundleCase:
    """The bundle a test is parametrised over (``indirect``), by name."""
    return CASES[request.param]


@pytest.fixture(scope="module")
def dataset(bundle, tmp_path_factory):
    return bundle.write_sample(tmp_path_factory.mktemp(f"{bundle.name}_data"))


@pytest.fixture(scope="module")
def trained(bundle, tiny_runs):
    """Four iterations of training, validated every two: this module's copy of the session's run."""
    return tiny_runs.trained(bundle, f"{bundle.name}_run")


def test_every_bundle_is_tested():
    assert sorted(EVALUATE_IDS) == sorted(CASES) == sorted(EVERY_BUNDLE) == BUNDLES


@pytest.mark.parametrize("bundle", BUNDLES, indirect=True)
def test_workflows_build_without_data_and_check_it_when_run(bundle, tmp_path):
    check_builds_without_data(bundle.configs, tmp_path / "no_such_folder", tmp_path, EVALUATE_IDS[bundle.name])


@pytest.mark.parametrize("bundle", BUNDLES, indirect=True)
def test_multi_gpu_configs_use_the_local_rank_for_the_device(bundle, monkeypatch):
    check_multi_gpu_device_is_local_rank(bundle.configs, monkeypatch)


@pytest.mark.parametrize("bundle", EVERY_BUNDLE, indirect=True)
def test_training_writes_checkpoints_and_curve(bundle, trained):
    latest = load_checkpoint(trained / "models" / "latest.pt")
    assert set(latest) == {"network", "optimizer", "trainer", "best_model_saver"}
    assert latest["trainer"]["iteration"] == 4
    assert latest["optimizer"]["state"][0]["step"] == 4
    head = load_checkpoint(trained / "models" / "model.pt")["head.weight"]
    assert (head.shape[0], head.ndim) == bundle.head  # the classes, 2D or 3D convolutions
    curve = json.loads((trained / "eval" / "training_curve.json").read_text())
    assert curve["loss"]["iteration"] == [1, 2, 3, 4]
    assert curve["validation"]["metric"] == bundle.validation_metric and curve["validation"]["iteration"] == [2, 4]
    assert (trained / "eval" / "training_curve.png").is_file()


@pytest.mark.parametrize("bundle", EVERY_BUNDLE, indirect=True)
def test_a_fresh_run_into_an_earlier_runs_ckpt_dir_stops_and_names_its_checkpoints(bundle, dataset, trained):
    before = {p.name: p.read_bytes() for p in (trained / "models").glob("*.pt")}
    with pytest.raises(RuntimeError) as info:  # MONAI's "Failed to instantiate ...", caused by ours
        run_workflow([bundle.train], **bundle.settings(dataset, trained, max_iterations=2, val_interval=2))
    assert isinstance(info.value.__cause__, RunFolderError)
    message = str(info.value.__cause__)
    assert f"ckpt_dir {trained / 'models'} already holds checkpoints" in message
    assert "latest.pt, model.pt" in message
    assert "--resume True" in message and "--overwrite True" in message
    assert {p.name: p.read_bytes() for p in (trained / "models").glob("*.pt")} == before  # nothing lost
    assert not (trained / "models" / "run.lock").exists()


@pytest.mark.parametrize("bundle", EVERY_BUNDLE, indirect=True)
@pytest.mark.parametrize(
    "setting, value, message",
    [
        ("max_iterations", 0, "max_iterations must be a positive integer, got 0"),
        ("max_iterations", -5, "max_iterations must be a positive integer, got -5"),
        ("val_interval", 0, "val_interval must be a positive integer, got 0"),
        ("batch_size", 0, "batch_size must be a positive integer, got 0"),
        ("device", "cuda", "device 'cuda': this machine has no usable CUDA GPU; use --device cpu"),
        ("learning_rate", "abc", "learning_rate must be a number > 0, got 'abc'"),
        ("learning_rate", 0, "learning_rate must be a number > 0, got 0"),
        ("weight_decay", -1e-8, "weight_decay must be a number >= 0, got -1e-08"),
        ("resume", "maybe", "resume must be True or False, got 'maybe'"),
        ("load_pretrain", "sometimes", "load_pretrain must be True or False, got 'sometimes'"),
    ],
)
def test_training_settings_are_checked_before_anything_runs(bundle, dataset, tmp_path, setting, value, message):
    if setting == "device" and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError) as info:  # MONAI's "Failed to instantiate ...", caused by ours
        run_workflow([bundle.train], **bundle.settings(dataset, tmp_path, **{setting: value}))
    assert isinstance(info.value.__cause__, SettingError) and str(info.value.__cause__) == message
    assert not (tmp_path / "models").exists()  # stopped before touching any folder


@pytest.mark.parametrize("bundle", EVERY_BUNDLE, indirect=True)
def test_bundle_properties_and_metadata(bundle, dataset, tmp_path):
    check_properties_and_metadata(bundle.configs, bundle.settings(dataset, tmp_path), **bundle.verify_args)


@pytest.mark.parametrize("bundle", PHOTOGRAPHS, indirect=True)
def test_export_to_torchscript(bundle, trained, tmp_path):
    image = torch.rand(*bundle.export_shapes[0])
    check_torchscript_export(bundle.configs, trained / "models" / "model.pt", tmp_path / "model.ts", image)


@pytest.mark.parametrize("bundle", PHOTOGRAPHS, indirect=True)
def test_export_to_onnx_with_any_image_size(bundle, trained, tmp_path):
    image = torch.rand(*bundle.export_shapes[1])
    check_onnx_export(bundle.configs, trained / "models" / "model.pt", tmp_path / "model.onnx", image)


@pytest.mark.parametrize("bundle", PHOTOGRAPHS, indirect=True)
def test_inference_command_line_on_a_folder_of_images(bundle, dataset, trained, tmp_path):
    """The user's own photographs (another format, other sizes, one stored turned with the EXIF orientation that
    shows it upright), then the layout's test folder (other files there are skipped; DRIVE's FOV masks are found
    and used): every image gets a probability map, a mask and an overlay at its own size, under its own name."""
    test = bundle.test_datalist(dataset)
    images = tmp_path / "images"
    images.mkdir()
    with Image.open(test[0]["image"]) as image:  # no FOV mask beside them
        image.convert("RGB").resize((50, 40)).save(images / "my_photo.jpg")
        image.resize((70, 52)).save(images / "my_scan.png")
    with Image.open(test[1]["image"]) as image:  # a camera's photo, stored turned, shown upright
        upright = np.asarray(image.convert("RGB"))
    Image.fromarray(upright).save(images / "upright.png")
    exif = Image.Exif()
    exif[0x0112] = 8  # the viewer turns the stored pixels a quarter anticlockwise
    Image.fromarray(np.ascontiguousarray(np.rot90(upright, -1))).save(images / "turned.png", exif=exif)
    out = tmp_path / "out"
    layout = bundle.test_folder(dataset)
    for folder, name in ((images, "mine"), (layout, "layout")):
        run_cli(
            ["monai.bundle", "run", "--config_file", str(bundle.inference)]
            + cli_args(bundle.settings(dataset, trained, dataset_dir=str(folder), output_dir=str(out / name)))
        )
    in_layout = {  # the outputs keep the images' sub-folders of the layout
        entry["id"]: "layout/" + Path(entry["image"]).relative_to(layout).with_suffix("").as_posix() for entry in test
    }
    expected = {"mine/my_photo": (40, 50), "mine/my_scan": (52, 70), "mine/upright": bundle.size}
    expected |= {"mine/turned": bundle.size} | {stem: bundle.size for stem in in_layout.values()}
    files = [f"{i}_{s}.png" for i in expected for s in ("prob", "mask", "overlay")]
    files += ["mine/.inference_run", "layout/.inference_run"]
    folders = {p.as_posix() for f in files for p in Path(f).parents if p != Path(".")}
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == sorted([*files, *folders])
    for image_id, size in expected.items():
        prob, mask = read_png(out / f"{image_id}_prob.png"), read_png(out / f"{image_id}_mask.png")
        assert prob.shape == mask.shape == size and prob.dtype == np.uint8
        assert set(np.unique(mask)) <= {0, 255}
        assert np.array_equal(mask > 0, prob >= 128)  # the mask is the probability map at 0.5
        assert read_png(out / f"{image_id}_overlay.png").shape == (*size, 3)
    for suffix in ("prob", "mask", "overlay"):  # the turned photo's outputs are those of the photo stored upright
        turned = read_png(out / "mine" / f"turned_{suffix}.png")
        np.testing.assert_array_equal(turned, read_png(out / "mine" / f"upright_{suffix}.png"), err_msg=suffix)
        if bundle.roi is None:  # and of the same image in the layout, read there
            np.testing.assert_array_equal(turned, read_png(out / f"{in_layout[test[1]['id']]}_{suffix}.png"))
    if bundle.roi is not None:  # nothing marked outside the layout's region of interest (DRIVE's FOV)
        for entry in test:
            assert not read_png(out / f"{in_layout[entry['id']]}_prob.png")[~bundle.roi(entry)].any(), entry["id"]


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed is not available")
@pytest.mark.parametrize("bundle", PHOTOGRAPHS, indirect=True)
def test_multi_process_training_and_evaluation_with_torchrun(bundle, dataset, tmp_path):
    overrides = cli_args(bundle.settings(dataset, tmp_path, max_iterations=4, val_interval=2))
    train_files = f"['{bundle.train}','{bundle.configs / 'multi_gpu_train.json'}']"
    run_cli(TORCHRUN + ["--config_file", train_files] + overrides)
    latest = load_checkpoint(tmp_path / "models" / "latest.pt")
    assert latest["trainer"]["iteration"] == 4 and "module." not in next(iter(latest["network"]))
    assert len(list((tmp_path / "eval").glob("events.out.tfevents.*"))) == 2  # rank 0 only: trainer and validator
    saved = (tmp_path / "models" / "latest.pt").read_bytes()
    again = run_cli(TORCHRUN + ["--config_file", train_files] + overrides, expect_failure=True)
    assert "latest.pt" in again.stdout + again.stderr and "--overwrite True" in again.stdout + again.stderr
    assert (tmp_path / "models" / "latest.pt").read_bytes() == saved  # rank 0 refused before any rank trained
    eval_files = f"['{bundle.train}','{bundle.evaluate}','{bundle.configs / 'multi_gpu_evaluate.json'}']"
    run_cli(TORCHRUN + ["--config_file", eval_files] + overrides)
    with open(tmp_path / "eval" / "metrics_per_image.csv") as f:
        ids = sorted(row["id"] for row in csv.DictReader(f))
    test = bundle.test_datalist(dataset)
    assert ids == sorted(e["id"] for e in test)  # each test image once, from both ranks
    assert len(list((tmp_path / "eval" / "predictions").glob("*_mask.png"))) == len(test)


@pytest.mark.parametrize("bundle", PHOTOGRAPHS, indirect=True)
def test_killed_run_resumes_from_its_last_checkpoint(bundle, dataset, trained, tmp_path):
    total = 30
    killed_at, resumed, curve = kill_and_resume(
        bundle.train, bundle.settings(dataset, tmp_path, max_iterations=total, val_interval=2), tmp_path
    )
    assert 0 < killed_at < total
    reference = load_checkpoint(trained / "models" / "latest.pt")  # an uninterrupted run, for the structure
    assert resumed["trainer"] == {"epoch_length": 2, "iteration": total, "max_epochs": total // 2}
    assert resumed["optimizer"]["state"][0]["step"] == total  # the optimizer state went on, not restarted
    assert {k: v.shape for k, v in resumed["network"].items()} == {k: v.shape for k, v in reference["network"].items()}
    assert resumed["best_model_saver"]["_saved"]
    assert curve["loss"]["iteration"] == list(range(1, total + 1))  # every iteration once: nothing lost or repeated
    assert curve["validation"]["iteration"] == list(range(2, total + 1, 2))
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["latest.pt", "model.pt"]  # lock released
