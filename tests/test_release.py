"""A release-ready package: the version the bundles pin is the package's, the changelog has it, and
``python -m build`` makes an sdist and a wheel that ``twine check --strict`` passes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import monai_jattn
from monai_jattn.bundles import built_configs

REPO = Path(__file__).resolve().parents[1]
BUNDLES = ["drive_jattn_segmentation", "isic2017_jattn_segmentation", "msd_jattn_segmentation"]


def test_every_bundle_pins_the_package_version():
    for bundle in BUNDLES:
        meta = json.loads(built_configs(REPO / "bundles" / bundle)["metadata.json"])
        assert meta["required_packages_version"] == {"monai-jattn": monai_jattn.__version__}, bundle
    assert f"## {monai_jattn.__version__} " in (REPO / "CHANGELOG.md").read_text()


def test_no_invented_address():
    """Metadata, cards, the README and setup.cfg name only install routes that exist."""
    files = [REPO / "README.md", REPO / "setup.cfg", REPO / "docs" / "bundles.md"]
    files += [p for b in BUNDLES for p in (REPO / "bundles" / b).rglob("*") if p.suffix in (".md", ".json", ".yml")]
    for path in files:
        text = path.read_text()
        assert "github.com/monai-jattn" not in text and "git+https" not in text, path


def test_build_and_twine_check(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(REPO / "monai_jattn", source / "monai_jattn", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("setup.cfg", "pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md"):
        shutil.copy2(REPO / name, source / name)
    dist = tmp_path / "dist"
    build = [sys.executable, "-m", "build", "--sdist", "--wheel", "--no-isolation", "--outdir", str(dist), str(source)]
    result = subprocess.run(build, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    version = monai_jattn.__version__
    built = sorted(p.name for p in dist.iterdir())
    assert built == [f"monai_jattn-{version}-py3-none-any.whl", f"monai_jattn-{version}.tar.gz"], built
    check = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.iterdir())], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    listing = subprocess.run(
        [sys.executable, "-m", "zipfile", "-l", str(dist / built[0])], capture_output=True, text=True, check=True
    ).stdout
    assert "monai_jattn/standalone/images.py" in listing  # export works from the wheel too
