"""Every test session starts from current bundle configs: ``configs/`` of each bundle built from
``bundles/common`` and its ``source/`` (`monai_jattn.bundles`), as the set-up scripts build them."""

from __future__ import annotations

from pathlib import Path

from monai_jattn.bundles import build_bundle, bundle_names

REPO = Path(__file__).resolve().parents[1]


def pytest_sessionstart(session) -> None:
    for name in bundle_names(REPO / "bundles"):
        build_bundle(REPO / "bundles" / name)
