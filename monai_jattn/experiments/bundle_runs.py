"""Running a dataset's MONAI bundle from the harness: which datasets have one, where it is, and one workflow run
in this process (as ``python -m monai.bundle run`` would), shared by the ablation, time to quality, the
end-to-end measurement and the attention maps."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from monai.bundle import ConfigWorkflow

from monai_jattn.bundles import SOURCE, build_bundle, bundles_root
from monai_jattn.datasets import dataset_names, get_dataset

__all__ = ["bundle_datasets", "find_bundle", "run_bundle"]


def bundle_datasets() -> tuple[str, ...]:
    """The registered datasets that have a bundle (`DatasetSpec.bundle`): the ablation's ``--dataset`` choices."""
    return tuple(name for name in dataset_names() if get_dataset(name).bundle)


def find_bundle(dataset: str, bundle_dir: str | os.PathLike | None = None) -> Path:
    """The bundle folder for ``dataset``: ``bundle_dir`` if given, else its registry entry's ``bundle`` under
    `monai_jattn.bundles.bundles_root`. A folder with ``source/`` (a bundle of the source checkout) must have current
    ``configs/`` (`monai_jattn.bundles.build_bundle` with ``check``: the error names the stale files and says to
    run ``python -m monai_jattn.bundles build``).

    Args:
        dataset: a registered dataset with a bundle (see :func:`bundle_datasets`).
        bundle_dir: an explicit bundle folder (with ``configs/train.json``).

    Raises:
        ValueError: for an unknown dataset, or one without a bundle.
        FileNotFoundError: when the folder has no ``configs/train.json`` and ``configs/evaluate.json``, or no
            bundles folder is found (see `monai_jattn.bundles.bundles_root`).
        BundleConfigError: the sources cannot be built, or a built config is stale, missing or edited by hand.
    """
    spec = get_dataset(dataset)
    if not spec.bundle:
        raise ValueError(f"{spec.title} has no bundle; datasets with one: {', '.join(bundle_datasets())}.")
    bundle_dir = Path(bundle_dir if bundle_dir is not None else bundles_root() / spec.bundle).resolve()
    if (bundle_dir / SOURCE).is_dir():  # a bundle of the checkout: its committed configs must be current
        build_bundle(bundle_dir, check=True)
    missing = [name for name in ("train.json", "evaluate.json") if not (bundle_dir / "configs" / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{bundle_dir}: not a {spec.title} bundle, configs/{' and configs/'.join(missing)} missing; "
            "pass --bundle_dir."
        )
    return bundle_dir


def run_bundle(bundle_dir: Path, configs: Sequence[str], workflow_type: str, overrides: Mapping[str, Any]) -> None:
    """Run one bundle workflow in this process, as ``python -m monai.bundle run`` would.

    Args:
        bundle_dir: the bundle folder.
        configs: config file names under ``configs/``, merged in order (e.g. train then evaluate).
        workflow_type: ``"train"`` or ``"eval"``.
        overrides: config id -> value, e.g. ``{"max_iterations": 100, "network_def#attention": "sa"}``.
    """
    config_dir = bundle_dir / "configs"
    workflow = ConfigWorkflow(
        config_file=[str(config_dir / name) for name in configs],
        meta_file=str(config_dir / "metadata.json"),
        logging_file=str(config_dir / "logging.conf"),
        workflow_type=workflow_type,
        bundle_root=str(bundle_dir),
        **overrides,
    )
    workflow.initialize()
    workflow.run()
    workflow.finalize()
