"""The recipe every bundle shares stays one recipe: what is code lives in `monai_jattn.recipe` (one edit for all
bundles); what the configs must declare themselves (MONAI's and the model zoo's ids) is the same in every bundle,
so that a fix to one bundle's copy that misses another fails here."""

from __future__ import annotations

import json
from pathlib import Path
from pydoc import locate

import pytest
from bundle_helpers import REPO
from monai.bundle import ConfigParser
from monai.bundle.config_item import ComponentLocator

BUNDLES = ["drive_jattn_segmentation", "isic2017_jattn_segmentation", "msd_jattn_segmentation"]
SHARED_TRAIN_IDS = [
    # speed, run folders, resume, pretrained weights, budget
    "bundle_root", "ckpt_dir", "output_dir", "device", "amp", "amp_dtype", "channels_last", "compile", "cuda_graph",
    "tf32", "speed", "seed", "resume", "overwrite", "load_pretrain", "pretrained_path", "time_limit",
    "is_main_process", "network", "optimizer",
    # trainer, evaluator, handlers, the run
    "train#inferer", "train#handlers", "train#resume_state", "train#trainer", "train#runner",
    "validate#dataloader", "validate#best_model_saver", "validate#handlers", "validate#evaluator",
    "initialize", "finalize",
]  # fmt: skip
SHARED_EVALUATE_IDS = ["validate#runner", "run", "initialize"]


def configs(name: str) -> dict[str, object]:
    """Each bundle's config ``name``: train.json parsed (nested ids), an overlay as its JSON (flat ids such as
    ``validate#runner``)."""
    result = {}
    for bundle in BUNDLES:
        path = REPO / "bundles" / bundle / "configs" / name
        if name == "train.json":
            result[bundle] = ConfigParser()
            result[bundle].read_config(str(path))
        else:
            result[bundle] = json.loads(path.read_text())
    return result


@pytest.mark.parametrize("name, ids", [("train.json", SHARED_TRAIN_IDS), ("evaluate.json", SHARED_EVALUATE_IDS)])
def test_shared_ids_are_the_same_in_every_bundle(name, ids):
    for id in ids:
        values = {bundle: json.dumps(config[id], sort_keys=True) for bundle, config in configs(name).items()}
        assert len(set(values.values())) == 1, f"{name} '{id}' differs between bundles: {values}"


@pytest.mark.parametrize("name", ["multi_gpu_train.json", "multi_gpu_evaluate.json"])
def test_multi_gpu_overlays_are_one_file(name):
    texts = {bundle: (REPO / "bundles" / bundle / "configs" / name).read_text() for bundle in BUNDLES}
    assert len(set(texts.values())) == 1, f"{name} differs between bundles"


def _strings(node: object):
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


@pytest.mark.parametrize(
    "config", sorted(REPO.glob("bundles/*/configs/*.json")), ids=lambda p: f"{p.parent.parent.name}/{p.name}"
)
def test_no_python_lambda_in_a_config(config: Path):
    lambdas = [s for s in _strings(json.loads(config.read_text())) if s.startswith("$") and "lambda" in s]
    assert not lambdas, f"{config}: wiring belongs in a class of the package, not a lambda in JSON: {lambdas}"


def _kind(value: object) -> str | None:
    """What a config item is, where the JSON says it without running anything: ``object`` (a component whose
    ``_target_`` is a class), ``section`` (ids under it), or the literal's type; None where it is computed (a
    ``$`` expression, an ``@`` reference, a function's result, or null)."""
    if isinstance(value, dict):
        if "_target_" not in value:
            return "section"
        target = value["_target_"]
        if "." not in target:  # a MONAI name, as MONAI's ConfigComponent finds it
            module = ComponentLocator().get_component_module_name(target)
            target = f"{module if isinstance(module, str) else module[0]}.{target}"
        component = locate(target)
        return "object" if isinstance(component, type) else None
    if value is None or (isinstance(value, str) and value[:1] in "$@"):
        return None
    return {bool: "bool", int: "number", float: "number", str: "text", list: "list"}[type(value)]


def test_each_config_id_means_one_thing_in_every_config():
    kinds: dict[str, dict[str, str]] = {}
    for path in sorted(REPO.glob("bundles/*/configs/*.json")):
        if path.name == "metadata.json":
            continue
        for id, value in json.loads(path.read_text()).items():
            kind = _kind(value)
            if kind is not None:
                kinds.setdefault(id.lstrip("+"), {})[f"{path.parent.parent.name}/{path.name}"] = kind
    mixed = {id: where for id, where in kinds.items() if len(set(where.values())) > 1}
    assert not mixed, f"config ids that are one kind of thing in one config and another kind in another: {mixed}"
    assert {kinds["dataset"][where] for where in kinds["dataset"]} == {"object"}, "'dataset' must be a Dataset"
