"""The recipe every bundle shares is one recipe: what is code lives in `monai_jattn.recipe`; what is JSON lives once,
in ``bundles/common/``, and no bundle's ``source/`` overrides it, so that a change to the trainer, its handlers or
the run is one edit for every bundle."""

from __future__ import annotations

import json
from pathlib import Path
from pydoc import locate

import pytest
from bundle_helpers import REPO
from monai.bundle import ConfigParser
from monai.bundle.config_item import ComponentLocator
from monai.bundle.reference_resolver import ReferenceResolver

from monai_jattn.bundles import COMMON, SOURCE, bundle_names

BUNDLES = bundle_names(REPO / "bundles")
SHARED_TRAIN_IDS = [
    # speed, run folders, resume, pretrained weights, budget (not load_pretrain: a bundle that ships no weights,
    # the MSD bundle, turns it off)
    "bundle_root", "ckpt_dir", "output_dir", "device", "amp", "amp_dtype", "channels_last", "compile", "cuda_graph",
    "tf32", "speed", "seed", "resume", "overwrite", "pretrained_path", "pretrained_optional", "time_limit",
    "is_main_process", "network", "optimizer",
    # trainer, evaluator, handlers, the run
    "train#inferer", "train#handlers", "train#resume_state", "train#trainer", "train#runner",
    "validate#dataloader", "validate#best_model_saver", "validate#handlers", "validate#evaluator",
    "initialize", "finalize",
]  # fmt: skip
SHARED_EVALUATE_IDS = ["validate#runner", "validate#handlers", "run", "initialize"]


def test_every_bundle_is_built_from_the_shared_recipe():
    assert BUNDLES == ["drive_jattn_segmentation", "isic2017_jattn_segmentation", "msd_jattn_segmentation"]


def _value(config: dict, id: str) -> object:
    """``id`` of a config: a top-level key as written (an overlay's ``validate#runner``), else a nested id."""
    return config[id] if id in config else ConfigParser(config)[id]


def _normalized(id: str) -> str:
    return ReferenceResolver.normalize_id(id.lstrip("+"))


@pytest.mark.parametrize("name, ids", [("train.json", SHARED_TRAIN_IDS), ("evaluate.json", SHARED_EVALUATE_IDS)])
def test_shared_ids_are_written_once(name, ids):
    common = json.loads((REPO / "bundles" / COMMON / name).read_text())
    for id in ids:
        assert id in common or id in ConfigParser(common), f"bundles/{COMMON}/{name} does not declare '{id}'"
        for bundle in BUNDLES:
            source = REPO / "bundles" / bundle / SOURCE / name
            own = json.loads(source.read_text()) if source.is_file() else {}
            overrides = [key for key in own if f"{_normalized(key)}::".startswith(f"{_normalized(id)}::")]
            assert not overrides, f"{source} overrides the shared '{id}' ({overrides}): change bundles/{COMMON}/{name}"
            built = json.loads((REPO / "bundles" / bundle / "configs" / name).read_text())
            assert _value(built, id) == _value(common, id), f"{bundle}/configs/{name} '{id}' is not the shared one"


@pytest.mark.parametrize("name", ["multi_gpu_train.json", "multi_gpu_evaluate.json", "logging.conf"])
def test_files_every_bundle_shares_are_one_file(name):
    assert (REPO / "bundles" / COMMON / name).is_file()
    assert not list(REPO.glob(f"bundles/*/{SOURCE}/{name}")), f"a bundle has its own {name}"
    texts = {(REPO / "bundles" / bundle / "configs" / name).read_text() for bundle in BUNDLES}
    assert texts == {(REPO / "bundles" / COMMON / name).read_text()}


def test_the_bundles_json_stays_small():
    """The issue's target: all JSON that the bundles are written in (shared recipe and sources) within 1,500 lines;
    the built configs/ (committed, generated) are not counted."""
    sources = [*REPO.glob(f"bundles/{COMMON}/*.json"), *REPO.glob(f"bundles/*/{SOURCE}/*.json")]
    lines = sum(len(path.read_text().splitlines()) for path in sources)
    assert 0 < lines <= 1500, f"{lines} lines of bundle JSON in {len(sources)} files"


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
