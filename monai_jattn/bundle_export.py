"""Export a bundle as a folder that runs without this package: ``python -m monai_jattn.bundles export BUNDLE OUT``.

The exported ``OUT/<bundle>`` is laid out as the MONAI model zoo holds a bundle: ``configs/`` (built from the
sources), ``docs/``, ``LICENSE``, ``large_files.yml``, ``models/model.pt`` and, exported with its weights, the
network as TorchScript ``models/model.ts``, and ``scripts/`` (the few steps MONAI lacks: DRIVE's preprocessing,
reading photographs as a viewer shows them, the PNG outputs, the checks of the input and output folders; the
modules of `monai_jattn.standalone`). Its ``configs/inference.json`` names MONAI's components, ``torch.jit.load``
and ``scripts.*`` only, so inference runs with the packages pinned in ``metadata.json``'s
``required_packages_version``; training and evaluation (``train.json``, ``evaluate.json``, ...) still need the
``monai-jattn`` package of the version the metadata names (``monai_jattn_package``).

Nothing is replaced or deleted that the export did not write: an existing ``OUT/<bundle>`` is refused, the folder
is assembled in a new temporary folder inside ``OUT`` and renamed into place when complete.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import shutil
import tempfile
from copy import deepcopy
from pathlib import Path
from typing import Any

import torch
from monai.bundle import ConfigParser
from monai.data import save_net_with_metadata

import monai_jattn
from monai_jattn.bundle_build import CONFIGS, BundleConfigError, built_configs, format_config

__all__ = ["export_bundle", "standalone_inference", "standalone_metadata", "STANDALONE_PACKAGES"]

logger = logging.getLogger(__name__)

SCRIPTS = Path(__file__).parent / "standalone"
SHIPPED = ("LICENSE", "large_files.yml", "docs", "models/model.pt")
"""What a shared bundle folder holds besides its configs, models/model.ts and scripts/."""
TARGETS = {
    "monai_jattn.transforms.LoadImage2Dd": "scripts.images.LoadPhotod",
    "monai_jattn.transforms.DRIVEPreprocessd": "scripts.images.DRIVEPreprocessd",
    "monai_jattn.transforms.ForegroundProbabilityd": "scripts.images.ForegroundProbabilityd",
    "monai_jattn.transforms.SaveSegmentationPNGd": "scripts.images.SavePNGd",
    "monai_jattn.transforms.LoadImageNamingFilesd": "LoadImaged",
    "monai_jattn.handlers.NameFailedItems": "scripts.run.NameFailedItems",
    "monai_jattn.data.writers.NewFileNibabelWriter": "scripts.volumes.NewFileNibabelWriter",
}
"""The package's components in inference.json and what the standalone inference.json names instead."""
STANDALONE_PACKAGES = ("pytorch-ignite", "fire", "pillow", "nibabel", "opencv-python-headless", "matplotlib")
"""Besides monai, torch and numpy: what the standalone inference imports, pinned at the versions of the exporting
environment in ``required_packages_version`` (MONAI 1.6 reads ``optional_packages_version`` as a deprecated name of
it and replaces one with the other, so the pins are in one place): MONAI's usual bundle dependencies (fire: its
command line), OpenCV (CLAHE) and matplotlib (the overlay's colour map)."""
MODEL_TS = "models/model.ts"


def _installed(name: str) -> str:
    for candidate in (name, "opencv-python", "opencv-contrib-python") if name.startswith("opencv") else (name,):
        try:
            return importlib.metadata.version(candidate)
        except importlib.metadata.PackageNotFoundError:
            continue
    raise BundleConfigError(f"export pins {name} in the bundle's metadata, but it is not installed here; install it")


def _retarget(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _retarget(v) for k, v in node.items()}
        if node.get("_target_") in TARGETS:
            node["_target_"] = TARGETS[node["_target_"]]
            if node["_target_"] == "scripts.images.ForegroundProbabilityd":
                node.pop("softmax", None)  # the standalone one takes probabilities (after Activationsd and Invertd)
        return node
    return [_retarget(v) for v in node] if isinstance(node, list) else node


def standalone_inference(config: dict) -> dict:
    """The standalone ``inference.json`` from the built one: the network is ``<ckpt_dir>/model.ts`` (weights
    inside, so no checkpoint loader; the MSD bundle's channels and dimensions are read from it), the package's
    transforms and handlers are MONAI's or ``scripts.*``, the images are
    listed and checked by ``scripts.images.list_images`` / ``scripts.volumes.list_test_volumes`` and
    ``scripts.run.InferenceRun``.

    Args:
        config: the built ``inference.json``.

    Raises:
        BundleConfigError: a component of the package is left that the standalone route cannot replace.
    """
    out = _retarget(deepcopy(config))
    out["network_def"] = {"_target_": "torch.jit.load", "f": "$@ckpt_dir + '/model.ts'", "map_location": "cpu"}
    out["handlers"] = [h for h in out["handlers"] if "CheckpointLoader" not in str(h.get("_target_"))]
    out["initialize"] = []
    volumes = "msd" in str(config.get("datalist"))
    listing = "scripts.volumes.list_test_volumes" if volumes else "scripts.images.list_images"
    out["datalist"] = {"_target_": listing, "root": "@dataset_dir", "missing_ok": True}
    out["runner"] = {
        "_target_": "scripts.run.InferenceRun",
        "evaluator": "@evaluator",
        "dataset": "@dataset",
        "list_files": {"_target_": listing, "_mode_": "callable", "root": "@dataset_dir"},
        "output_dir": "@output_dir",
        "dataset_dir": None if volumes else "@dataset_dir",
    }
    if volumes:  # the package reads these from dataset.json; here they are the TorchScript network's
        out.pop("facts", None)
        out["spatial_dims"] = "$@network_def.stem.weight.dim() - 2"
        out["in_channels"] = "$int(@network_def.stem.weight.shape[1])"
        out["out_channels"] = "$int(@network_def.head.weight.shape[0])"
        out["runner"]["inspect"] = {"_target_": "scripts.run.inspect_nifti", "_mode_": "callable"}
        out["runner"]["inspect"]["in_channels"] = "@in_channels"
        out["_comment_network"] = "spatial_dims, in_channels, out_channels: those of the network in models/model.ts"
    out = {k: v for k, v in out.items() if not (k.startswith("_comment") and "monai_jattn" in json.dumps(v))}
    left = sorted({k for k, v in out.items() if "monai_jattn" in json.dumps(v)})
    if left:
        raise BundleConfigError(f"inference.json: the standalone export cannot replace the package's {left}")
    return out


def standalone_metadata(meta: dict, needs_package: list[str]) -> dict:
    """``metadata.json`` of the exported folder: the standalone inference's packages pinned in
    ``required_packages_version`` (`STANDALONE_PACKAGES`); ``monai_jattn_package`` says which configs need the
    package and its version
    (it is on no package index, so it is not a requirement the zoo's CI would try to install)."""
    out = deepcopy(meta)
    out.pop("optional_packages_version", None)
    out["required_packages_version"] = {name: _installed(name) for name in STANDALONE_PACKAGES}
    out["monai_jattn_package"] = {
        "version": monai_jattn.__version__,
        "needed_by": needs_package,
        "not_needed_by": ["configs/inference.json"],
        "install": f"pip install monai_jattn-{monai_jattn.__version__}-py3-none-any.whl (a wheel built from the "
        "monai-jattn source with python -m build; it is on no package index)",
    }
    return out


def _network_sizes(weights: dict) -> dict[str, int]:
    stem, head = weights["stem.weight"], weights["head.weight"]
    return {"spatial_dims": stem.ndim - 2, "in_channels": int(stem.shape[1]), "out_channels": int(head.shape[0])}


def _describe_channels(meta: dict, sizes: dict[str, int]) -> None:
    """``network_data_format`` of the MSD bundle's metadata for a network of ``sizes`` (spatial dims, channels)."""
    for part, key in (("inputs", "in_channels"), ("outputs", "out_channels")):
        for item in meta["network_data_format"][part].values():
            if item["num_channels"] != sizes[key]:
                item["num_channels"] = sizes[key]
                names = ("background", *(f"class {i}" for i in range(1, sizes[key])))
                item["channel_def"] = {
                    str(i): names[i] if part == "outputs" else f"channel {i}" for i in range(sizes[key])
                }
            item["spatial_shape"] = ["16*n"] * sizes["spatial_dims"]


def _write_torchscript(inference: dict, overrides: dict, weights: dict, path: Path, extra: dict[str, str]) -> None:
    """The package's ``network_def`` with ``weights`` as TorchScript at ``path``, checked against the eager network
    on a random input; saved as MONAI's ``ckpt_export`` saves it (``extra``: the bundle's ``metadata.json`` and
    ``inference.json`` inside, for ``monai.bundle.load(load_ts_module=True)`` and MONAI Deploy)."""
    parser = ConfigParser(deepcopy(inference))
    for key, value in overrides.items():
        parser[key] = value
    network = parser.get_parsed_content("network_def").eval()
    network.load_state_dict(weights)
    scripted = torch.jit.script(network)
    size = [32] * 3 if overrides.get("spatial_dims") == 3 else [64] * 2
    example = torch.rand(1, int(weights["stem.weight"].shape[1]), *size)
    with torch.no_grad():
        if not torch.allclose(scripted(example), network(example), atol=1e-5):
            raise BundleConfigError(f"{path}: the TorchScript network does not give the network's outputs")
    path.parent.mkdir(parents=True, exist_ok=True)
    more = {name: text.encode() for name, text in extra.items() if name != "metadata.json"}
    meta = json.loads(extra["metadata.json"])
    save_net_with_metadata(scripted, str(path), include_config_vals=False, meta_values=meta, more_extra_files=more)


def _check_configs(bundle_dir: Path, texts: dict[str, str]) -> None:
    """S5: a built ``configs/`` file that differs from what the sources build (edited by hand, or stale) is not
    silently replaced in the export."""
    configs = bundle_dir / CONFIGS
    differing = [n for n, t in texts.items() if (configs / n).is_file() and (configs / n).read_text() != t]
    if differing:
        raise BundleConfigError(
            f"{configs}: {', '.join(differing)} differ(s) from what {bundle_dir.name}/source/ and bundles/common build "
            "(an edit by hand, or sources changed since the last build); the export would leave that out. Move an edit "
            "into source/ and run: python -m monai_jattn.bundles build; then export again."
        )


def export_bundle(bundle_dir: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Write ``out_dir/<bundle>``, the bundle as the model zoo holds it, whose inference runs without this package
    (see the module docstring).

    Args:
        bundle_dir: the bundle folder in the repository (with ``source/``).
        out_dir: where to write ``<bundle>/``; outside ``bundle_dir``.

    Returns:
        the exported folder.

    Raises:
        FileExistsError: ``out_dir/<bundle>`` exists (nothing is replaced).
        BundleConfigError: ``out_dir`` inside the bundle; built configs that differ from the sources; sources
            that cannot be built.
    """
    bundle_dir = Path(bundle_dir).resolve()
    out = Path(out_dir).resolve()
    if out == bundle_dir or bundle_dir in out.parents:
        raise BundleConfigError(
            f"{out_dir}: inside the bundle {bundle_dir}; the export would copy itself. Choose an OUT_DIR outside it."
        )
    target = out / bundle_dir.name
    if target.exists() or target.is_symlink():
        raise FileExistsError(f"{target}: exists; export writes a new folder, choose another OUT_DIR.")
    texts = built_configs(bundle_dir)
    _check_configs(bundle_dir, texts)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{bundle_dir.name}.exporting-", dir=out))  # ours alone
    try:
        inference = json.loads(texts["inference.json"])
        standalone = ("inference.json", "metadata.json")
        needs_package = [f"configs/{n}" for n in texts if n.endswith(".json") and n not in standalone]
        texts["inference.json"] = format_config(standalone_inference(inference)) + "\n"
        meta = standalone_metadata(json.loads(texts["metadata.json"]), sorted(needs_package))
        weights_file = bundle_dir / "models" / "model.pt"
        overrides: dict[str, int] = {}
        if weights_file.is_file():
            from monai_jattn.handlers.checkpoint_loader import load_checkpoint

            weights = load_checkpoint(weights_file, map_location="cpu")
            overrides = _network_sizes(weights) if "msd" in str(inference.get("datalist")) else {}
        if overrides:  # the MSD bundle: the metadata describes the network of these weights
            _describe_channels(meta, overrides)
        texts["metadata.json"] = format_config(meta) + "\n"
        if weights_file.is_file():
            extra = {name: texts[name] for name in ("metadata.json", "inference.json")}
            _write_torchscript(inference, overrides, weights, staging / MODEL_TS, extra)
        for name, text in texts.items():
            (staging / CONFIGS).mkdir(exist_ok=True)
            (staging / CONFIGS / name).write_text(text)
        (staging / "scripts").mkdir()
        for module in sorted(SCRIPTS.glob("*.py")):
            shutil.copy2(module, staging / "scripts" / module.name)
        for name in SHIPPED:
            path = bundle_dir / name
            if path.is_dir():
                shutil.copytree(path, staging / name)
            elif path.is_file():
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, staging / name)
        staging.rename(target)  # fails, replacing nothing, when target appeared meanwhile
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # only the folder made above; gone after the rename
    return target
