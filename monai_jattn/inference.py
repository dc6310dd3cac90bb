"""The ``runner`` of every bundle's ``inference.json``, apart from the training recipe (`monai_jattn.recipe`), so
that an inference imports what it uses: the folder and image checks, not the trainer's handlers, run lock or
experiment modules."""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch
from ignite.engine import Engine

from monai_jattn.data.checks import FileInspector, ReadableImages
from monai_jattn.run_folders import claim_inference_folder

__all__ = ["InferenceRun"]


class InferenceRun:
    """
    The ``run`` of every bundle's ``inference.json`` over a user's images: ``output_dir`` must be new or empty and
    is claimed for this run (`monai_jattn.run_folders.claim_inference_folder`: never inside ``dataset_dir``, never
    a folder that holds anything, never shared by two runs), every image is read completely, the readable ones
    are segmented and the unreadable ones are reported together at the end (`monai_jattn.data.ReadableImages`), so
    that one bad file neither stops the others nor passes unnoticed.

    Args:
        evaluator: the bundle's ``evaluator``.
        dataset: the evaluator's dataset, whose ``data`` becomes the readable entries.
        datalist: every image to segment.
        dataset_dir: the folder the 2D bundles list every image under, which ``output_dir`` must stay out of;
            None where outputs cannot be mistaken for inputs (the MSD bundle reads only the files that
            ``dataset.json`` lists, and writes ``<id>_seg.nii.gz``).
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
        claim_inference_folder(self.output_dir, self.dataset_dir)  # new or empty, and this run's alone
        readable = ReadableImages(self.datalist, inspect_file=self.inspect_file)
        self.dataset.data = readable.datalist
        # the evaluator counted its iterations when it was built, before the unreadable files were left out: with
        # the old count it would start the data over and segment (and write) the first images again
        self.evaluator.state.epoch_length = len(self.evaluator.data_loader)
        self.evaluator.run()
        readable.raise_if_unreadable()
