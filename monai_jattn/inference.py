"""The ``runner`` of every bundle's ``inference.json``, apart from the training recipe (`monai_jattn.recipe`), so
that an inference imports what it uses: the folder and image checks, not the trainer's handlers, run lock or
experiment modules."""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch
from ignite.engine import Engine

from monai_jattn.data.checks import FileInspector, ReadableImages
from monai_jattn.run_folders import check_inference_folders, check_writable

__all__ = ["InferenceRun"]


class InferenceRun:
    """
    The ``run`` of every bundle's ``inference.json`` over a user's images: ``output_dir`` is checked against
    ``dataset_dir`` (`monai_jattn.run_folders.check_inference_folders`: never inside it, never overwriting an
    input), every image is read completely, the readable ones are segmented and the unreadable ones are reported
    together at the end (`monai_jattn.data.ReadableImages`), so that one bad file neither stops the others nor
    passes unnoticed.

    Args:
        evaluator: the bundle's ``evaluator``.
        dataset: the evaluator's dataset, whose ``data`` becomes the readable entries.
        datalist: every image to segment.
        dataset_dir: the folder the 2D bundles list every image under, which ``output_dir`` must stay out of;
            None where outputs cannot be mistaken for inputs (the MSD bundle reads only the files that
            ``dataset.json`` lists, and writes ``<id>_seg.nii.gz``), where ``output_dir`` is only checked to be
            writable.
        output_dir: the bundle's ``output_dir``.
        inspect_file: how to read one file completely (`monai_jattn.data.FileInspector`); default: the 2D
            images' check (e.g. `monai_jattn.datasets.msd.inspect_nifti` for NIfTI volumes).
    """

    def __init__(
        self,
        evaluator: Engine,
        dataset: torch.utils.data.Dataset,
        datalist: Sequence[dict],
        dataset_dir: str | os.PathLike | None,
        output_dir: str | os.PathLike,
        inspect_file: FileInspector | None = None,
    ) -> None:
        self.evaluator = evaluator
        self.dataset = dataset
        self.datalist = datalist
        self.dataset_dir = dataset_dir
        self.output_dir = output_dir
        self.inspect_file = inspect_file

    def run(self) -> None:
        """Check the folders and the images, segment the readable ones, raise for the others."""
        if self.dataset_dir is None:
            check_writable(self.output_dir, "output_dir")
        else:
            check_inference_folders(self.dataset_dir, self.output_dir)
        readable = ReadableImages(self.datalist, inspect_file=self.inspect_file)
        self.dataset.data = readable.datalist
        self.evaluator.run()
        readable.raise_if_unreadable()
