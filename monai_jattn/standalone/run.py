"""The inference run of the standalone bundles: the output folder is checked and claimed, every input is read
completely first, the readable ones are segmented and the unreadable ones named together at the end."""

from __future__ import annotations

import gzip
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import nibabel as nib
import numpy as np
from ignite.engine import Engine, Events

from .images import InputError, LoadPhotod

__all__ = ["InferenceRun", "NameFailedItems", "inspect_photo", "inspect_nifti", "claim_output_dir"]

logger = logging.getLogger(__name__)
CLAIM = ".inference_run"


def claim_output_dir(
    output_dir: str | os.PathLike, dataset_dir: str | os.PathLike | None = None, claim: bool = True
) -> Path:
    """Refuse an ``output_dir`` equal to or inside ``dataset_dir`` or holding anything, then (with ``claim``)
    claim it: the file ``output_dir/.inference_run`` is created exclusively (it stays, marking the folder used).

    Raises:
        InputError: naming the folder and what to do.
    """
    out = Path(output_dir)
    if dataset_dir is not None:
        images, outputs = Path(dataset_dir).resolve(), out.resolve()
        if outputs == images or images in outputs.parents:
            raise InputError(
                f"output_dir {output_dir} is {'the' if outputs == images else 'inside the'} dataset_dir {dataset_dir}: "
                "the predictions would be written among the images; choose an --output_dir outside the dataset_dir"
            )

    def refuse_used(entries: list) -> InputError:
        return InputError(
            f"output_dir {output_dir} already holds {len(entries)} entr{'y' if len(entries) == 1 else 'ies'} "
            f"(e.g. {sorted(entries)[0]}); give a new or empty --output_dir"
        )

    if out.is_dir() and (entries := os.listdir(out)):
        raise (
            refuse_used(entries)
            if CLAIM not in entries
            else InputError(
                f"output_dir {output_dir}: another inference run uses this folder ({CLAIM}); give a new --output_dir"
            )
        )
    if not claim:
        return out
    out.mkdir(parents=True, exist_ok=True)
    try:
        with open(out / CLAIM, "x") as f:
            f.write(f"inference run, process {os.getpid()}\n")
    except FileExistsError:
        raise InputError(f"output_dir {output_dir}: another inference run uses this folder ({CLAIM})") from None
    others = [name for name in os.listdir(out) if name != CLAIM]
    if others:
        (out / CLAIM).unlink()
        raise refuse_used(others)
    return out


def inspect_photo(entry: dict) -> str | None:
    """Read every file of a 2D entry completely; the problem, naming the file, or None."""
    loader = LoadPhotod("image")
    try:
        for key in ("image", "mask"):
            if key in entry:
                loader.load(str(entry[key]), binary=key == "mask")
    except InputError as e:
        return str(e)
    return None


def inspect_nifti(entry: dict, in_channels: int | None = None) -> str | None:
    """Read a NIfTI image completely (every voxel its header declares, the gzip checksum); with ``in_channels``
    also check its channel count (the 4th axis of a 4D volume, else 1). The problem, naming the file, or None."""
    path = str(entry["image"])
    try:
        proxy = nib.load(path).dataobj
        needed = int(proxy.offset) + int(np.prod(proxy.shape)) * np.dtype(proxy.dtype).itemsize
        if path.endswith(".gz"):
            found = 0
            with gzip.open(path, "rb") as stream:
                while chunk := stream.read(1 << 24):
                    found += len(chunk)
        else:
            found = os.path.getsize(path)
    except Exception as e:  # noqa: BLE001 (nibabel, zlib, EOF and OS errors of a missing, damaged or truncated file)
        return f"{path}: not a readable NIfTI image ({type(e).__name__}: {e})"
    if found < needed:
        return f"{path}: not a readable NIfTI image (truncated: {found} bytes, its header needs {needed})"
    if in_channels is not None:
        channels = int(proxy.shape[3]) if len(proxy.shape) > 3 else 1
        if channels != in_channels:
            return f"{path}: {channels} channel(s), the network takes {in_channels}: a wrong channel count"
    return None


class InferenceRun:
    """The ``runner`` of a standalone ``inference.json``: claim ``output_dir`` (`claim_output_dir`), list the
    inputs, read each completely (``inspect``), segment the readable ones with ``evaluator``, then raise one
    `InputError` naming every unreadable file.

    Args:
        evaluator: the bundle's evaluator.
        dataset: the evaluator's dataset; its ``data`` becomes the readable entries.
        list_files: lists the inputs, e.g. ``scripts.images.list_images`` bound to the ``dataset_dir``.
        output_dir: the output folder (new or empty).
        dataset_dir: the folder the outputs must stay out of, or None (the MSD bundle reads what dataset.json lists).
        inspect: ``inspect(entry) -> problem or None``; default `inspect_photo`.
    """

    def __init__(
        self,
        evaluator: Engine,
        dataset,
        list_files: Callable[[], Sequence[dict]],
        output_dir: str | os.PathLike,
        dataset_dir: str | os.PathLike | None = None,
        inspect: Callable[[dict], str | None] | None = None,
    ) -> None:
        self.evaluator, self.dataset, self.list_files = evaluator, dataset, list_files
        self.output_dir, self.dataset_dir, self.inspect = output_dir, dataset_dir, inspect or inspect_photo

    def run(self) -> None:
        """Check and claim the folders, read, segment, report."""
        claim_output_dir(self.output_dir, self.dataset_dir, claim=False)  # refused before any image is read
        datalist = list(self.list_files())  # refuses two inputs with one output name
        claim_output_dir(self.output_dir, self.dataset_dir)
        problems, readable = [], []
        for entry in datalist:
            problem = self.inspect(entry)
            if problem:
                logger.error("left out: %s", problem)
                problems.append(problem)
            else:
                readable.append(entry)
        if not readable:
            raise InputError("no readable input:\n  " + "\n  ".join(problems))
        self.dataset.data = readable
        self.evaluator.run()
        if problems:
            raise InputError(
                f"{len(problems)} unreadable input(s), the others were segmented:\n  " + "\n  ".join(problems)
            )


class NameFailedItems:
    """Ignite handler: when the engine raises, raise a `RuntimeError` that starts with the files of the batch it
    was working on (the original error chained)."""

    def attach(self, engine: Engine) -> None:
        engine.add_event_handler(Events.EXCEPTION_RAISED, self)

    def __call__(self, engine: Engine, error: BaseException) -> None:
        batch = getattr(engine.state, "batch", None)
        files = []
        if isinstance(batch, dict) and "image" in batch:
            meta = getattr(batch["image"], "meta", {})
            files = [str(f) for f in np.ravel(np.asarray(meta.get("filename_or_obj", []), dtype=object))]
        if not files or isinstance(error, KeyboardInterrupt) or str(error).startswith(files[0]):
            raise error
        raise RuntimeError(f"{', '.join(files)}: while processing: {type(error).__name__}: {error}") from error
