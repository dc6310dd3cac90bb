"""Every `_target_` of every bundle config names a class or function, never a module.

MONAI finds a `_target_` with `pydoc.locate`. Up to Python 3.11 `pydoc.locate("pkg.name")` returns the
package attribute `name`; from 3.12 on it returns the submodule `pkg.name` where one exists. A function
exported under its own module's name (as `monai_jattn.handlers.segmentation_metrics` was) then works
on 3.11 and breaks on 3.12 (found on the GPU machine, Python 3.12). Importing each target as a module
catches that on any Python."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from bundle_helpers import REPO

CONFIGS = sorted(REPO.glob("bundles/*/configs/*.json"))


def _targets(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("_target_"), str):
            yield node["_target_"]
        for value in node.values():
            yield from _targets(value)
    elif isinstance(node, list):
        for value in node:
            yield from _targets(value)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_no_target_names_a_module(config: Path):
    targets = sorted({t for t in _targets(json.loads(config.read_text())) if "." in t})
    modules = []
    for target in targets:
        try:
            importlib.import_module(target)
        except ImportError:
            continue
        modules.append(target)
    assert not modules, f"{config}: these _target_ names are modules on Python >= 3.12: {modules}"


def test_the_check_finds_a_module_target():
    assert list(_targets({"a": [{"_target_": "monai_jattn.handlers.metric_handlers"}]})) == [
        "monai_jattn.handlers.metric_handlers"
    ]
    with pytest.raises(ImportError):
        importlib.import_module("monai_jattn.handlers.segmentation_metrics")
