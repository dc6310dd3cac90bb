"""Export a bundle's network with `torch.export` (TorchScript's successor; torch 2.13 deprecates
``torch.jit.script``), as ``python -m monai.bundle ckpt_export`` does with TorchScript.

The exported program takes a free batch size and the spatial size it was exported with: the size the bundle's
inferer feeds the network (DRIVE's and the MSD bundle's sliding-window ``patch_size``, ISIC-2017's resized
``train_size``), so the bundles' inference runs it unchanged window by window.

Example::

    python -m monai_jattn.export --config_file configs/inference.json --ckpt_file models/model.pt \\
        --filepath models/model.pt2 --input_shape "[1, 1, 128, 128]"
    # then, in Python, without the package:
    program = torch.export.load("models/model.pt2").module()
    logits = program(torch.rand(4, 1, 128, 128))
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence

import torch
from monai.bundle import ConfigParser

from monai_jattn.handlers.checkpoint_loader import load_checkpoint
from monai_jattn.utils import write_atomic

__all__ = ["export_program", "main"]


def export_program(
    network: torch.nn.Module, input_shape: Sequence[int], filepath: str | os.PathLike, max_batch: int = 1024
) -> torch.export.ExportedProgram:
    """Export ``network`` (in eval mode) for inputs of ``input_shape`` with any batch size from 1 to ``max_batch``
    and save it to ``filepath`` (written whole or not at all).

    Args:
        network: the network, with its weights.
        input_shape: ``[batch, channels, *spatial]`` of an example input; the batch size is left free.
        filepath: the ``.pt2`` file to write.
        max_batch: the largest batch size the program accepts.

    Returns:
        the exported program.

    Raises:
        ValueError: ``input_shape`` has fewer than three entries or a non-positive one.
    """
    shape = [int(s) for s in input_shape]
    if len(shape) < 3 or min(shape) < 1:
        raise ValueError(
            f"input_shape must be [batch, channels, *spatial] with positive sizes, got {list(input_shape)}"
        )
    network = network.eval()
    example = torch.rand(max(shape[0], 2), *shape[1:])  # a batch of 2 or more, so that the batch stays free
    batch = torch.export.Dim("batch", min=1, max=max_batch)
    with torch.no_grad():
        program = torch.export.export(network, (example,), dynamic_shapes=({0: batch},))
    write_atomic(filepath, lambda path: torch.export.save(program, path))
    return program


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: the bundle's ``network_def`` with the weights of ``--ckpt_file`` to ``--filepath``."""
    parser = argparse.ArgumentParser(prog="python -m monai_jattn.export", description=__doc__.split("\n")[0])
    parser.add_argument("--config_file", required=True, help="the bundle config holding network_def")
    parser.add_argument("--ckpt_file", required=True, help="the weights, e.g. models/model.pt")
    parser.add_argument("--filepath", required=True, help="the .pt2 file to write")
    parser.add_argument("--input_shape", required=True, help='e.g. "[1, 1, 128, 128]"; the batch stays free')
    parser.add_argument("--net_id", default="network_def", help="the config id of the network")
    parser.add_argument("--max_batch", type=int, default=1024)
    args = parser.parse_args(argv)
    config = ConfigParser()
    config.read_config(args.config_file)
    network = config.get_parsed_content(args.net_id)
    network.load_state_dict(load_checkpoint(args.ckpt_file, map_location="cpu"))
    export_program(network, json.loads(args.input_shape), args.filepath, args.max_batch)
    print(f"wrote {args.filepath}: {args.net_id} of {args.config_file} for inputs {args.input_shape} (any batch size)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
