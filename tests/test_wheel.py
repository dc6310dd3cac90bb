"""Sharing a bundle without the repository (issue 17): the package's wheel, installed into a fresh virtual
environment, runs each bundle folder copied somewhere else: 2 training iterations, evaluation, inference."""

from __future__ import annotations

import os
import shutil
import site as site_module
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from monai_jattn.datasets.drive import write_drive_sample
from monai_jattn.datasets.isic2017 import write_isic2017_sample
from monai_jattn.datasets.msd import write_msd_sample

REPO = Path(__file__).resolve().parents[1]
TINY = [
    "--network_def#init_features", "8", "--network_def#growth_rate", "4", "--network_def#block_layers", "[1,1,1]",
    "--network_def#decoder_features", "[8,8]", "--network_def#pwa_hidden_channels", "8",
]  # fmt: skip
BUNDLES = {
    "drive_jattn_segmentation": (lambda root: write_drive_sample(root, 4, 2, seed=0, image_size=(48, 48)), "[32,32]"),
    "isic2017_jattn_segmentation": (lambda root: write_isic2017_sample(root, 4, 2, 2, image_size=(48, 64)), "[32,32]"),
    "msd_jattn_segmentation": (lambda root: write_msd_sample(root, 4, 2, image_size=(24, 20, 12)), "[16,16,16]"),
}


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory) -> Path:
    """A virtual environment holding only the wheel built from this checkout; the other dependencies (torch,
    MONAI, ...) are this interpreter's, reached through a path entry, without this checkout's package."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    shutil.copytree(REPO / "monai_jattn", source / "monai_jattn")
    for name in ("setup.cfg", "pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, source / name)
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    build = ["wheel", "--no-deps", "--no-build-isolation", str(source), "-w", str(root / "dist")]
    subprocess.run([*pip, *build], check=True)
    (wheel,) = (root / "dist").glob("monai_jattn-*.whl")
    env_dir = root / "env"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = Path(subprocess.check_output([python, "-c", purelib], text=True).strip())
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True)
    # torch, MONAI, ...: this interpreter's site-packages folders as plain path entries, whose own .pth files
    # (this checkout's editable install among them) are not run
    (site / "dependencies.pth").write_text("".join(f"{folder}\n" for folder in site_module.getsitepackages()))
    return python


def run_in(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1")
    result = subprocess.run([str(python), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    return result


def test_the_wheel_alone_provides_the_package(wheel_env, tmp_path):
    where = run_in(wheel_env, tmp_path, "-c", "import monai_jattn; print(monai_jattn.__file__)").stdout.strip()
    assert where.startswith(str(wheel_env.parents[1])), where  # the wheel's copy, not this checkout


@pytest.mark.parametrize("bundle", sorted(BUNDLES))
def test_a_copied_bundle_trains_evaluates_and_infers_from_the_wheel(wheel_env, bundle, tmp_path):
    write_sample, patch = BUNDLES[bundle]
    data = write_sample(tmp_path / "data")
    export = [sys.executable, "-m", "monai_jattn.bundles", "export", bundle, str(tmp_path / "elsewhere")]
    subprocess.run(export, cwd=REPO, check=True, capture_output=True)  # the zoo copy: configs built, no sources
    folder = tmp_path / "elsewhere" / bundle
    assert (folder / "configs" / "train.json").is_file() and not (folder / "source").exists()
    run = ["-m", "monai.bundle", "run", "--config_file"]
    settings = ["--bundle_root", ".", "--dataset_dir", str(data), "--device", "cpu", "--num_workers", "0", *TINY]
    train = ["--max_iterations", "2", "--val_interval", "2", "--patch_size", patch, "--load_pretrain", "False"]
    run_in(wheel_env, folder, *run, "configs/train.json", *settings, *train, "--output_dir", "out/train")
    assert (folder / "models" / "trained" / "model.pt").is_file()
    trained = ["--ckpt_dir", "models/trained"]
    evaluate = "['configs/train.json','configs/evaluate.json']"
    run_in(wheel_env, folder, *run, evaluate, *settings, *trained, "--output_dir", "out/evaluate")
    assert (folder / "out" / "evaluate" / "metrics_summary.json").is_file()
    # the exported inference.json runs the network as TorchScript: <ckpt_dir>/model.ts, made with MONAI's
    # ckpt_export from train.json's network (the package installed, as for training)
    export = ["-m", "monai.bundle", "ckpt_export", "network_def", "--filepath", "models/trained/model.ts"]
    export += ["--ckpt_file", "models/trained/model.pt", "--config_file", "configs/train.json"]
    run_in(wheel_env, folder, *export, "--meta_file", "configs/metadata.json", *settings)
    predictions = tmp_path / "predictions"
    infer = ["--bundle_root", ".", "--dataset_dir", str(data), "--device", "cpu", "--num_workers", "0", *trained]
    run_in(wheel_env, folder, *run, "configs/inference.json", *infer, "--output_dir", str(predictions))
    assert any(predictions.iterdir())
