"""A bundle as it is shared, and the command line of `monai_jattn.bundles` (the build itself: test_bundle_build.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from monai_jattn.bundles import COMMON, SOURCE, built_configs, bundle_names, export_bundle, main

REPO = Path(__file__).resolve().parents[1]
BUNDLES = bundle_names(REPO / "bundles")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the DRIVE bundle's sources and the shared recipe, nothing built."""
    root = tmp_path / "bundles"
    shutil.copytree(REPO / "bundles" / COMMON, root / COMMON)
    shutil.copytree(REPO / "bundles" / "drive_jattn_segmentation" / SOURCE, root / "drive" / SOURCE)
    (root / "drive" / "docs").mkdir()
    (root / "drive" / "docs" / "README.md").write_text("# card\n")
    (root / "drive" / "LICENSE").write_text("licence\n")
    return root


def test_export_copies_the_bundle_as_it_is_shared(checkout, tmp_path):
    (checkout / "drive" / "models" / "trained").mkdir(parents=True)
    (checkout / "drive" / "models" / "trained" / "latest.pt").write_bytes(b"a run")
    (checkout / "drive" / "eval").mkdir()
    folder = export_bundle(checkout / "drive", tmp_path / "zoo")
    assert folder == tmp_path / "zoo" / "drive"
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    configs = [f"configs/{name}" for name in built_configs(checkout / "drive")]
    scripts = sorted(f"scripts/{p.name}" for p in (REPO / "monai_jattn" / "standalone").glob("*.py"))
    # no sources, runs or outputs; without models/model.pt (as MSD ships) there is no models/model.ts either
    assert files == sorted(["LICENSE", "docs/README.md", *configs, *scripts])
    with pytest.raises(FileExistsError, match="drive: exists"):
        export_bundle(checkout / "drive", tmp_path / "zoo")


def test_export_refuses_damaged_weights_and_leaves_nothing(checkout, tmp_path):
    (checkout / "drive" / "models").mkdir(parents=True, exist_ok=True)
    (checkout / "drive" / "models" / "model.pt").write_bytes(b"weights")
    with pytest.raises(Exception, match=r"models/model.pt: the checkpoint is corrupt"):
        export_bundle(checkout / "drive", tmp_path / "zoo")
    assert not (tmp_path / "zoo").exists() or not any((tmp_path / "zoo").iterdir())


def test_command_line(checkout, tmp_path, capsys):
    assert main(["--bundles_root", str(checkout), "build", "--check"]) == 1
    assert "evaluate.json missing" in capsys.readouterr().err
    assert main(["--bundles_root", str(checkout), "build"]) == 0
    assert main(["--bundles_root", str(checkout), "build", "drive", "--check"]) == 0
    assert main(["--bundles_root", str(checkout), "export", "nothing", str(tmp_path)]) == 1
    assert "no bundle nothing; its bundles: drive" in capsys.readouterr().err
    assert main(["--bundles_root", str(checkout), "export", "drive", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "drive" / "configs" / "metadata.json").is_file()
