"""The MONAI model zoo's requirements for a bundle (its CONTRIBUTING.md and CI checks), checked offline on
CPU on each bundle as exported (`monai_jattn.bundles.export_bundle`: inference without the package), laid out
as the zoo holds it (``models/<bundle>/``), with the bundle's shipped ``models/model.pt`` and ``models/model.ts``,
or, where a bundle ships none, fake weights as the zoo's CI makes them and their TorchScript network as a user
makes it with MONAI's ``ckpt_export``.

Where the zoo's own CI scripts are at hand (``shared/monai/model-zoo`` beside the repository), the
last test also runs its ``verify_bundle.py`` in the CPU ("min") and the full mode on the copy, where
``monai_jattn`` cannot be imported."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from bundle_helpers import REPO, SCHEMA
from monai.bundle import ConfigParser, ckpt_export, create_workflow, load, verify_metadata, verify_net_in_out
from monai.bundle.properties import InferProperties, MetaProperties

import monai_jattn
from monai_jattn.bundles import export_bundle

BUNDLES = ["drive_jattn_segmentation", "isic2017_jattn_segmentation", "msd_jattn_segmentation"]
BLOCK = Path(__file__).with_name("standalone")  # its sitecustomize.py makes monai_jattn unimportable
ZOO_CI = REPO.parent / "shared" / "monai" / "model-zoo" / "ci"
MAX_FILE_BYTES = 25 * 1024 * 1024  # the zoo's limit for a single file
CARD_SECTIONS = [
    "Model Overview",
    "Data",
    "Training configuration",
    "Input and Output",
    "Performance",
    "Memory consumption",
    "Commands",
    "License",
    "References",
]
"""``##`` sections every model card has, in this order: the zoo's README template, plus Data and Commands."""


@pytest.fixture(scope="module", params=BUNDLES)
def bundle(request, tmp_path_factory) -> Path:
    """The bundle as it is shared (`monai_jattn.bundles.export_bundle`) in ``<tmp>/models/<bundle>``, with its own
    weights (their hash is in large_files.yml, so nothing is downloaded) or fake ones as the zoo's CI writes."""
    path = export_bundle(REPO / "bundles" / request.param, tmp_path_factory.mktemp("zoo") / "models")
    if not (path / "models" / "model.pt").is_file():
        (path / "models").mkdir()
        parser = ConfigParser()
        parser.read_config(str(REPO / "bundles" / request.param / "configs" / "inference.json"))
        network = parser.get_parsed_content("network_def").eval()
        torch.save(network.state_dict(), path / "models" / "model.pt")
        ckpt_export(  # what the card tells a user to do, with the package installed
            net_id="network_def",
            filepath=str(path / "models" / "model.ts"),
            ckpt_file=str(path / "models" / "model.pt"),
            meta_file=str(path / "configs" / "metadata.json"),
            config_file=str(REPO / "bundles" / request.param / "configs" / "inference.json"),
        )
    return path


@pytest.fixture(autouse=True)
def bundle_on_path(bundle, monkeypatch):
    """The bundle's root on ``sys.path``, as the zoo's CI and MONAI Label put it, for its ``scripts.*``."""
    monkeypatch.syspath_prepend(str(bundle))


def config(bundle: Path, name: str) -> ConfigParser:
    parser = ConfigParser()
    parser.read_config(str(bundle / "configs" / name))
    return parser


def test_necessary_and_preferred_files(bundle):
    for name in ("LICENSE", "configs/metadata.json", "configs/inference.json", "models/model.pt"):
        assert (bundle / name).is_file(), name
    assert (bundle / "docs" / "README.md").is_file() and (bundle / "docs" / "data_license.txt").is_file()
    for path in bundle.rglob("*"):
        assert path.stat().st_size <= MAX_FILE_BYTES, path
    code = {p.relative_to(bundle).parts[0] for p in bundle.rglob("*.py")}
    assert code == {"scripts"}, "a bundle's own code is in scripts/ (the zoo's convention)"


def test_metadata(bundle):
    meta_file = bundle / "configs" / "metadata.json"
    verify_metadata(meta_file=str(meta_file), filepath=str(SCHEMA))
    meta = json.loads(meta_file.read_text())
    assert meta["version"] in meta["changelog"]
    assert isinstance(meta["eval_metrics"], dict)
    assert all(isinstance(v, (int, float)) for v in meta["eval_metrics"].values())
    # the zoo's CI runs Python 3.10: numpy 2.3 and later have no build for it
    assert tuple(int(p) for p in meta["numpy_version"].split(".")[:2]) <= (2, 2), meta["numpy_version"]
    # the zoo's CI installs these pins from the index: monai-jattn is on none, so it is not among them, and the
    # metadata says which configs need it and at which version
    pins = meta["required_packages_version"]
    assert "monai-jattn" not in pins and {"pytorch-ignite", "nibabel", "opencv-python-headless"} <= set(pins)
    assert meta["monai_jattn_package"]["version"] == monai_jattn.__version__


def test_key_names(bundle):
    """The ids CONTRIBUTING.md asks for in inference.json and train.json."""
    inference = config(bundle, "inference.json")
    for id in ("bundle_root", "device", "network_def", "inferer", "output_dir"):
        assert id in inference, f"inference.json: {id}"
    train = config(bundle, "train.json")
    required = ["bundle_root", "device", "dataset_dir", "output_dir", "val_interval"]
    for part, engine in (("train", "trainer"), ("validate", "evaluator")):
        required += [f"{part}#{engine}", f"{part}#handlers", f"{part}#dataset", f"{part}#dataset#data"]
        required += [f"{part}#{id}" for id in ("preprocessing", "postprocessing", "inferer", "key_metric")]
    required.append("train#trainer#max_epochs")
    for id in required:
        assert id in train, f"train.json: {id}"
    validation = [h for h in train["train#handlers"] if h.get("_target_") == "ValidationHandler"]
    assert len(validation) == 1 and validation[0]["interval"] == "@val_interval"


@pytest.mark.parametrize("workflow_type", ["train", "inference"])
def test_workflows_build_without_data_and_load(bundle, workflow_type, monkeypatch):
    """``create_workflow`` with the zoo's meta and inference properties, and ``monai.bundle.load``, where
    the default ``dataset_dir`` does not exist."""
    configs = bundle / "configs"
    workflow = create_workflow(
        workflow_type=workflow_type,
        bundle_root=str(bundle),
        config_file=str(configs / f"{workflow_type}.json"),
        logging_file=str(configs / "logging.conf"),
        meta_file=str(configs / "metadata.json"),
        dataset_dir=str(bundle / "no_data_here"),
    )
    if workflow_type == "inference":
        workflow.properties = {**MetaProperties, **InferProperties}
    assert workflow.check_properties() == []
    if workflow_type == "inference":  # bundle_root "." (the zoo's default): inference.json's network is models/model.ts
        monkeypatch.chdir(bundle)
        scripted = load(name=bundle.name, bundle_dir=str(bundle.parent), load_ts_module=True, device="cpu")[0]
        assert isinstance(scripted, torch.jit.ScriptModule)
    network = load(name=bundle.name, bundle_dir=str(bundle.parent), workflow_type=workflow_type, device="cpu")
    weights = torch.load(bundle / "models" / "model.pt", weights_only=True)
    assert network.state_dict().keys() == weights.keys()
    assert all(torch.equal(network.state_dict()[k], weights[k]) for k in weights)


def test_network_input_output_and_torchscript(bundle, tmp_path):
    configs = bundle / "configs"
    meta, inference = str(configs / "metadata.json"), str(configs / "inference.json")
    verify_net_in_out(net_id="network_def", meta_file=meta, config_file=inference, bundle_root=str(bundle))
    ts_file = tmp_path / "model.ts"
    ckpt_export(
        net_id="network_def",
        filepath=str(ts_file),
        ckpt_file=str(bundle / "models" / "model.pt"),
        meta_file=meta,
        config_file=inference,
        bundle_root=str(bundle),
    )
    torch.jit.load(str(ts_file))


def test_model_card(bundle):
    """The zoo's README sections; links that work outside the repository; how to install monai-jattn."""
    card = (bundle / "docs" / "README.md").read_text()
    sections = [s for s in re.findall(r"^## (.+)$", card, flags=re.M) if s in CARD_SECTIONS]
    assert sections == CARD_SECTIONS  # all of them, in this order (a card may have more)
    for target in re.findall(r"\]\(([^)\s]+)\)", card):
        if not re.match(r"https?://", target):
            assert (bundle / "docs" / target.split("#")[0]).exists(), f"link to a file outside the bundle: {target}"
    assert "git+https" not in card and "github.com/monai-jattn" not in card  # no invented install address
    assert f"monai_jattn-{monai_jattn.__version__}-py3-none-any.whl" in card  # the wheel built from the source
    assert "models/model.ts" in card and "scripts/" in card


@pytest.mark.skipif(not ZOO_CI.is_dir(), reason=f"the model zoo's CI scripts are not at {ZOO_CI}")
def test_zoo_verify_bundle_script(bundle, tmp_path):
    """The zoo's ``ci/verify_bundle.py``, in its CPU ("min") and full modes, on a zoo-like folder."""
    root = tmp_path / "model-zoo"
    shutil.copytree(ZOO_CI, root / "ci")
    shutil.copytree(bundle, root / "models" / bundle.name)
    (root / "models" / "model_info.json").write_text("{}")
    (root / "models" / bundle.name / "eval").mkdir(exist_ok=True)
    shutil.copy(SCHEMA, root / "models" / bundle.name / "eval" / "schema.json")  # what prepare_schema.py downloads
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1", PYTHONPATH=str(BLOCK))
    for mode in ("min", "full"):
        result = subprocess.run(
            [sys.executable, "ci/verify_bundle.py", "-b", bundle.name, "-m", mode],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, f"verify_bundle.py -m {mode}:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
        assert "metadata format is verified correctly." in result.stdout
    assert "export weights into TorchScript module successfully." in result.stdout
