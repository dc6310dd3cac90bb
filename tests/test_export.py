"""torch.export of a bundle's network: the saved program gives what the checkpoint's network gives, for any batch
size, and is refused for another spatial size."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from monai.bundle import ConfigParser

from monai_jattn.export import export_program, main
from monai_jattn.handlers import load_checkpoint

BUNDLE = Path(__file__).resolve().parents[1] / "bundles" / "drive_jattn_segmentation"


def test_the_shipped_drive_weights_export_and_run_at_any_batch_size(tmp_path):
    out = tmp_path / "model.pt2"
    config = str(BUNDLE / "configs" / "inference.json")
    weights = str(BUNDLE / "models" / "model.pt")
    arguments = ["--config_file", config, "--ckpt_file", weights, "--filepath", str(out)]
    assert main(arguments + ["--input_shape", "[1, 1, 64, 64]"]) == 0
    parser = ConfigParser()
    parser.read_config(config)
    network = parser.get_parsed_content("network_def")
    network.load_state_dict(load_checkpoint(weights))
    program = torch.export.load(str(out)).module()
    with torch.no_grad():
        for batch in (1, 3):
            image = torch.rand(batch, 1, 64, 64)
            torch.testing.assert_close(program(image), network.eval()(image))
        with pytest.raises(Exception, match="64|shape|size"):
            program(torch.rand(1, 1, 48, 64))  # the spatial size is the exported one


def test_a_bad_input_shape_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"input_shape must be \[batch, channels, \*spatial\]"):
        export_program(torch.nn.Conv2d(1, 2, 3), [1, 64], tmp_path / "x.pt2")
    with pytest.raises(ValueError, match="positive sizes"):
        export_program(torch.nn.Conv2d(1, 2, 3), [1, 0, 64, 64], tmp_path / "x.pt2")
    assert not (tmp_path / "x.pt2").exists()


def test_a_checkpoint_or_existing_file_is_never_written_over(tmp_path):
    """D4: ``--filepath models/model.pt`` (.pt typed for .pt2) would replace the shipped weights."""
    weights = tmp_path / "model.pt"
    shutil.copy2(BUNDLE / "models" / "model.pt", weights)
    before = weights.read_bytes()
    config = str(BUNDLE / "configs" / "inference.json")
    common = ["--config_file", config, "--ckpt_file", str(weights), "--input_shape", "[1, 1, 32, 32]"]
    for filepath in (weights, tmp_path / "other.pt"):
        with pytest.raises(SystemExit):
            main(common + ["--filepath", str(filepath)])
    assert weights.read_bytes() == before and not (tmp_path / "other.pt").exists()
    existing = tmp_path / "mine.pt2"
    existing.write_bytes(b"a file of the user's")
    with pytest.raises(SystemExit):
        main(common + ["--filepath", str(existing)])
    assert existing.read_bytes() == b"a file of the user's"
    assert main(common + ["--filepath", str(existing), "--overwrite"]) == 0
    assert existing.read_bytes() != b"a file of the user's"


def test_network_overrides_are_accepted(tmp_path):
    """U9: ``--network_def#...`` as the docs and the checkpoint error tell the user to pass them."""
    config = str(BUNDLE / "configs" / "inference.json")
    parser = ConfigParser()
    parser.read_config(config)
    parser["network_def#attention"] = "sa"
    network = parser.get_parsed_content("network_def")
    weights = tmp_path / "sa.pt"
    torch.save(network.state_dict(), weights)
    out = tmp_path / "sa.pt2"
    args = [
        "--config_file",
        config,
        "--ckpt_file",
        str(weights),
        "--filepath",
        str(out),
        "--input_shape",
        "[1, 1, 32, 32]",
    ]
    assert main(args + ["--network_def#attention", "sa"]) == 0
    image = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(torch.export.load(str(out)).module()(image), network.eval()(image))
    with pytest.raises(SystemExit):
        main(
            args[:-4] + ["--filepath", str(tmp_path / "x.pt2"), "--input_shape", "[1, 1, 32, 32]", "--no_such#id", "1"]
        )
