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


def test_retina_script_refuses_an_existing_output_folder(tmp_path):
    """scripts/segment_retina.sh (the README's main job) writes a new folder only; it stops before any work."""
    out = tmp_path / "taken"
    out.mkdir()
    (out / "mine.png").write_bytes(b"keep")
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "segment_retina.sh")],
        env=dict(os.environ, RETINA_OUT=str(out)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1 and f"RETINA_OUT={out} exists" in result.stderr
    assert "[setup]" not in result.stdout and sorted(p.name for p in out.iterdir()) == ["mine.png"]


def test_the_shipped_drive_weights_segment_the_scikit_image_retina(tmp_path):
    """The README's main job, its inference step: skimage.data.retina() at DRIVE's pixel scale (downscaled here,
    as the script's --image_zoom 0.4 does) segmented with the shipped weights; the vessels cover a plausible part
    of the fundus."""
    data = pytest.importorskip("skimage.data")
    from PIL import Image

    photo = Image.fromarray(data.retina()).resize((565, 565), Image.BILINEAR)
    (tmp_path / "input").mkdir()
    photo.save(tmp_path / "input" / "retina.png")
    bundle = REPO / "bundles" / "drive_jattn_segmentation"
    command = ["python", "-m", "monai.bundle", "run", "--config_file", f"{bundle}/configs/inference.json"]
    command += ["--bundle_root", str(bundle), "--dataset_dir", str(tmp_path / "input"), "--device", "cpu"]
    command += ["--output_dir", str(tmp_path / "out"), "--num_workers", "0"]
    env = dict(os.environ, OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    masks = list((tmp_path / "out").rglob("retina_mask.png"))
    assert len(masks) == 1 and masks[0].with_name("retina_overlay.png").is_file()
    import numpy as np

    vessels = (np.asarray(Image.open(masks[0])) > 0).mean()
    assert 0.02 < vessels < 0.3, vessels  # DRIVE's vessels cover about 12 % of an image
