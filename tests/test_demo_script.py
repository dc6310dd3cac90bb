"""scripts/demo.sh deletes only a folder that an earlier demo made (marker file inside), never anything else."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("target", ["folder", "file", "dot"])
def test_demo_refuses_an_existing_folder_it_did_not_make(tmp_path, target):
    if target == "folder":
        out = tmp_path / "home"
        out.mkdir()
        (out / "thesis.tex").write_text("years of work")
    elif target == "file":
        out = tmp_path / "notes.txt"
        out.write_text("keep me")
    else:
        out = Path(".")  # relative to the repository root, where the demo runs
    listed = REPO if target == "dot" else out if out.is_dir() else out.parent
    before = sorted(p.name for p in listed.iterdir())
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "demo.sh")],
        env=dict(os.environ, DEMO_OUT=str(out)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert f"DEMO_OUT={out} exists and was not made by the demo" in result.stderr
    assert "nothing was deleted" in result.stderr and "[setup]" not in result.stdout  # stopped before any work
    assert sorted(p.name for p in listed.iterdir()) == before
    if target == "folder":
        assert (out / "thesis.tex").read_text() == "years of work"
