"""The exported bundles, tried as a stranger would: a fresh virtual environment without monai_jattn (CPU torch as
the set-up scripts pick it) gets only what the exported ``metadata.json`` names (the model zoo's requirements
step, ``ci/get_bundle_requirements.py`` where the zoo's CI scripts are at hand), then each exported bundle's
inference runs there on sample images and gives the package route's masks, MONAI's ``check_properties`` passes
for inference, and the zoo's ``verify_bundle.py`` passes in its ``min`` and ``full`` modes.

One environment serves every bundle; pip's cache is used, so a second run installs from it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from bundle_helpers import REPO, SCHEMA, msd_bundle_with_weights, read_png

from monai_jattn.bundle_export import export_bundle
from monai_jattn.datasets.__main__ import main as datasets_main

ZOO_CI = REPO.parent / "shared" / "monai" / "model-zoo" / "ci"
ZOO_TOOLS = ["jsonschema", "pyyaml"]  # what the zoo's CI installs for its own checks (verify_metadata, large_files.yml)
CHECK_PROPERTIES = """
import sys
from monai.bundle import create_workflow
from monai.bundle.properties import InferProperties, MetaProperties
root = sys.argv[1]
sys.path.insert(0, root)
workflow = create_workflow(workflow_type="inference", bundle_root=root, config_file=root + "/configs/inference.json",
                           meta_file=root + "/configs/metadata.json", logging_file=root + "/configs/logging.conf")
workflow.properties = {**MetaProperties, **InferProperties}
missing = workflow.check_properties()
assert not missing, missing
print("check_properties: passed")
"""


def requirements(models: Path, bundle: str, cwd: Path) -> list[str]:
    """The zoo's requirements step: the pins its CI derives from ``metadata.json`` (its own script where present)."""
    if ZOO_CI.is_dir():
        script = [sys.executable, str(ZOO_CI / "get_bundle_requirements.py"), "-b", bundle, "-p", str(models)]
        name = subprocess.run(script, cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()
        return (cwd / name).read_text().split()
    meta = json.loads((models / bundle / "configs" / "metadata.json").read_text())
    pins = [f"monai=={meta['monai_version']}", f"torch=={meta['pytorch_version']}", f"numpy=={meta['numpy_version']}"]
    for key in ("optional_packages_version", "required_packages_version"):
        pins += [f"{name}=={version}" for name, version in meta.get(key, {}).items()]
    return pins


@pytest.fixture(scope="module")
def stranger(tmp_path_factory):
    """The exported bundles under ``models/``, sample data for each, and a virtual environment holding only what
    their metadata names."""
    root = tmp_path_factory.mktemp("stranger")
    data = {
        "drive_jattn_segmentation": root / "data" / "drive",
        "isic2017_jattn_segmentation": root / "data" / "isic",
        "msd_jattn_segmentation": root / "data" / "msd",
    }
    sizes = ["--size", "96", "128"]
    assert (
        datasets_main(["sample", "drive", str(data["drive_jattn_segmentation"]), "--train", "0", "--test", "1", *sizes])
        == 0
    )
    isic = ["--train", "0", "--val", "0", "--test", "1", *sizes]
    assert datasets_main(["sample", "isic2017", str(data["isic2017_jattn_segmentation"]), *isic]) == 0
    msd = ["--train", "1", "--test", "1", "--dims", "3", "--size", "32", "32", "24"]
    assert datasets_main(["sample", "msd", str(data["msd_jattn_segmentation"]), *msd]) == 0
    sources = {name: REPO / "bundles" / name for name in data}
    sources["msd_jattn_segmentation"] = msd_bundle_with_weights(root / "bundles", data["msd_jattn_segmentation"])
    models = root / "models"
    exported = {name: export_bundle(source, models) for name, source in sources.items()}
    pins = sorted({pin for name in exported for pin in requirements(models, name, root)})
    env_dir = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *pins, *ZOO_TOOLS]
    result = subprocess.run(install, capture_output=True, text=True, timeout=1200, env=clean_env())
    assert result.returncode == 0, f"{' '.join(install)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return {"python": python, "exported": exported, "sources": sources, "data": data, "models": models, "pins": pins}


def clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return env | {"CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}


def run(python, args, cwd) -> subprocess.CompletedProcess:
    result = subprocess.run([str(python), *args], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{' '.join(map(str, args))}:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result


def test_the_environment_has_no_monai_jattn(stranger):
    # run outside the repository: from its root, `python -c` would find the checkout's monai_jattn/ on sys.path[0]
    result = subprocess.run(
        [str(stranger["python"]), "-c", "import monai_jattn"],
        capture_output=True,
        env=clean_env(),
        cwd=stranger["models"],
    )
    assert result.returncode != 0
    assert not any(pin.lower().startswith("monai-jattn") for pin in stranger["pins"])


@pytest.mark.parametrize("name", ["drive_jattn_segmentation", "isic2017_jattn_segmentation", "msd_jattn_segmentation"])
def test_exported_inference_runs_there_with_the_package_routes_answers(stranger, name, tmp_path):
    bundle, data = stranger["exported"][name], stranger["data"][name]
    args = ["--dataset_dir", str(data), "--num_workers", "0", "--device", "cpu"]
    command = ["-m", "monai.bundle", "run", "--config_file", "configs/inference.json", *args]
    run(stranger["python"], [*command, "--output_dir", str(tmp_path / "standalone")], bundle)
    run(sys.executable, [*command, "--output_dir", str(tmp_path / "package")], stranger["sources"][name])
    suffix = "_seg.nii.gz" if name.startswith("msd") else "_mask.png"
    package = {p.name: p for p in (tmp_path / "package").rglob(f"*{suffix}")}
    standalone = {p.name: p for p in (tmp_path / "standalone").rglob(f"*{suffix}")}
    assert package and package.keys() == standalone.keys()
    for file, path in package.items():
        read = (lambda p: np.asarray(nib.load(p).dataobj)) if name.startswith("msd") else read_png
        a, b = read(path), read(standalone[file])
        assert a.shape == b.shape and (a == b).mean() >= 0.999, file


@pytest.mark.parametrize("name", ["drive_jattn_segmentation", "isic2017_jattn_segmentation", "msd_jattn_segmentation"])
def test_zoo_checks_pass_there(stranger, name, tmp_path):
    bundle = stranger["exported"][name]
    assert "check_properties: passed" in run(stranger["python"], ["-c", CHECK_PROPERTIES, str(bundle)], tmp_path).stdout
    if not ZOO_CI.is_dir():
        pytest.skip(f"the model zoo's CI scripts are not at {ZOO_CI}")
    zoo = tmp_path / "model-zoo"
    shutil.copytree(ZOO_CI, zoo / "ci")
    shutil.copytree(bundle, zoo / "models" / name)
    (zoo / "models" / "model_info.json").write_text("{}")
    (zoo / "models" / name / "eval").mkdir(exist_ok=True)
    shutil.copy(SCHEMA, zoo / "models" / name / "eval" / "schema.json")  # what prepare_schema.py downloads
    for mode in ("min", "full"):
        out = run(stranger["python"], ["ci/verify_bundle.py", "-b", name, "-m", mode], zoo).stdout
        assert "metadata format is verified correctly." in out
    assert "export weights into TorchScript module successfully." in out and "data shape is verified correctly." in out
