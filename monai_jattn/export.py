"""Export a bundle's network with `torch.export` (TorchScript's successor; torch 2.13 deprecates
``torch.jit.script``), as ``python -m monai.bundle ckpt_export`` does with TorchScript.

The exported program takes a free batch size and the spatial size it was exported with: the size the bundle's
inferer feeds the network (DRIVE's and the MSD bundle's sliding-window ``patch_size``, ISIC-2017's resized
``train_size``), so the bundles' inference runs it unchanged window by window.

Example::

    python -m monai_jattn.export --config_file configs/inference.json --ckpt_file models/model.pt \\
        --filepath models/model.pt2 --input_shape "[1, 1, 128, 128]"
    # network settings given to training are given here too, as to every bundle command:
    python -m monai_jattn.export --config_file configs/inference.json --ckpt_file models/trained/model.pt \
        --filepath sa.pt2 --input_shape "[1, 1, 128, 128]" --network_def#attention sa
    # then, in Python, without the package:
    program = torch.export.load("models/model.pt2").module()
    logits = program(torch.rand(4, 1, 128, 128))
"""

from __future__ import annotations

import argparse
import ast
import json
import os
from collections.abc import Sequence
from pathlib import Path

import torch
from monai.bundle import ConfigParser

from monai_jattn.atomic_write import write_atomic
from monai_jattn.handlers.checkpoint_loader import load_checkpoint

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


def _overrides(extra: Sequence[str], parser: argparse.ArgumentParser) -> dict:
    """Config overrides ``--id value`` / ``--id=value`` (e.g. ``--network_def#attention sa``), values read as
    MONAI's command line reads them: a Python literal where the text is one (``8``, ``True``, ``[1, 2]``), else
    the text."""
    overrides, items = {}, list(extra)
    while items:
        key = items.pop(0)
        if not key.startswith("--") or len(key) < 3:
            parser.error(f"unrecognized argument {key!r}; config overrides are given as --id value")
        key, _, value = key[2:].partition("=")
        if not _:
            if not items or items[0].startswith("--"):
                parser.error(f"--{key}: no value given")
            value = items.pop(0)
        try:
            overrides[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            overrides[key] = {"true": True, "false": False}.get(value.lower(), value)
    return overrides


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: the bundle's ``network_def`` with the weights of ``--ckpt_file`` to ``--filepath``.

    Any other ``--id value`` is a config override, as for ``python -m monai.bundle run`` (the network settings a
    model was trained with: ``--network_def#attention sa``). ``--filepath`` must end in ``.pt2`` and not exist
    unless ``--overwrite`` is given; the checkpoint itself is never written over."""
    parser = argparse.ArgumentParser(
        prog="python -m monai_jattn.export", description=__doc__.split("\n")[0], allow_abbrev=False
    )
    parser.add_argument("--config_file", required=True, help="the bundle config holding network_def")
    parser.add_argument("--ckpt_file", required=True, help="the weights, e.g. models/model.pt")
    parser.add_argument("--filepath", required=True, help="the .pt2 file to write")
    parser.add_argument("--input_shape", required=True, help='e.g. "[1, 1, 128, 128]"; the batch stays free')
    parser.add_argument("--net_id", default="network_def", help="the config id of the network")
    parser.add_argument("--max_batch", type=int, default=1024)
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing --filepath (never the checkpoint)"
    )
    args, extra = parser.parse_known_args(argv)
    overrides = _overrides(extra, parser)
    target = Path(args.filepath)
    if target.suffix != ".pt2":
        parser.error(f"--filepath {args.filepath}: the exported program is a .pt2 file; give a name ending in .pt2")
    if target.exists() and target.resolve() == Path(args.ckpt_file).resolve():
        parser.error(f"--filepath {args.filepath} is the --ckpt_file; the weights are never written over")
    if target.exists() and not args.overwrite:
        parser.error(f"--filepath {args.filepath} exists; give another name, or --overwrite to replace it")
    config = ConfigParser()
    config.read_config(args.config_file)
    for key, value in overrides.items():
        if key.split("#")[0] not in config:
            parser.error(f"--{key}: {args.config_file} has no id {key.split('#')[0]!r}")
        config[key] = value
    network = config.get_parsed_content(args.net_id)
    network.load_state_dict(load_checkpoint(args.ckpt_file, map_location="cpu"))
    export_program(network, json.loads(args.input_shape), args.filepath, args.max_batch)
    print(f"wrote {args.filepath}: {args.net_id} of {args.config_file} for inputs {args.input_shape} (any batch size)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
