"""The bundles as the tests of the shared recipe see them: each one's tiny sample data and settings, and what its
runs give (`BundleCase`); and `TinyRuns`, each bundle's tiny training, run once per test session."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from bundle_helpers import TINY_NETWORK, configs, read_binary, run_settings, run_workflow

from monai_jattn.datasets.__main__ import main
from monai_jattn.datasets.drive import drive_datalist, write_drive_sample
from monai_jattn.datasets.isic2017 import isic2017_datalist, write_isic2017_sample
from monai_jattn.datasets.msd import msd_datalist


@dataclass(frozen=True)
class BundleCase:
    """One bundle on its tiny sample data, CPU only.

    Attributes:
        name: the bundle's folder under ``bundles/``.
        write_sample: writes the sample dataset into a new folder and returns the ``dataset_dir``.
        size: the spatial size of the sample's test images ((height, width) for photographs).
        tiny: the bundle's settings for a tiny run, besides `run_settings`'.
        network: the tiny network's settings (a narrower one for 3D).
        test_datalist: the test images of a ``dataset_dir`` (datalist entries with ``id`` and ``image``).
        validation_metric: the key metric of validation, as the training curve names it.
        head: the number of classes and the ``ndim`` of the network head's convolution weight.
        verify_args: more arguments for MONAI's ``verify_net_in_out``.
        export_shapes: the image shapes fed to the TorchScript and the ONNX exports (None: not tested here).
        test_folder: the folder of the layout's test images, which inference may be given as ``dataset_dir``.
        roi: the pixels of a test entry that inference may mark (DRIVE's field of view); None: every pixel.
    """

    name: str
    write_sample: Callable[[Path], Path]
    size: tuple[int, ...]
    tiny: dict
    test_datalist: Callable[[Path], list[dict]]
    validation_metric: str
    head: tuple[int, int]
    network: dict = field(default_factory=lambda: dict(TINY_NETWORK))
    verify_args: dict = field(default_factory=dict)
    export_shapes: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    test_folder: Callable[[Path], Path] | None = None
    roi: Callable[[dict], np.ndarray] | None = None

    @property
    def configs(self) -> Path:
        return configs(self.name)

    @property
    def train(self) -> Path:
        return self.configs / "train.json"

    @property
    def evaluate(self) -> Path:
        return self.configs / "evaluate.json"

    @property
    def inference(self) -> Path:
        return self.configs / "inference.json"

    def settings(self, dataset: Path, run_dir: Path, **more) -> dict:
        """Overrides for a tiny CPU run on ``dataset`` writing under ``run_dir``; ``more`` wins over the defaults."""
        common = run_settings(self.configs, dataset, run_dir, **{**self.tiny, **more})
        return common | {key: value for key, value in self.network.items() if key not in more}


def _drive_sample(folder: Path) -> Path:
    write_drive_sample(folder, num_train=6, num_test=3, seed=0, image_size=DRIVE.size)
    return folder


def _isic2017_sample(folder: Path) -> Path:
    write_isic2017_sample(folder, num_train=6, num_val=2, num_test=3, seed=0, image_size=ISIC2017.size)
    return folder


def _msd_sample(folder: Path) -> Path:
    """Five training cases and two test images, written by the data command line."""
    root = folder / "Task00"
    assert main(["sample", "msd", str(root), "--train", "5", "--test", "2", "--size", *map(str, MSD.size)]) == 0
    return root


DRIVE = BundleCase(
    name="drive_jattn_segmentation",
    write_sample=_drive_sample,
    size=(60, 76),  # (height, width): not square, so that a swapped axis cannot go unnoticed
    # val_fraction 0.34: 2 validation images, one for each of the 2 processes under torchrun
    tiny={"patch_size": [32, 32], "val_fraction": 0.34},
    test_datalist=lambda dataset: drive_datalist(dataset, "test"),
    validation_metric="dice",
    head=(2, 4),
    verify_args={"n": 4},
    export_shapes=((1, 1, 44, 52), (1, 1, 45, 53)),
    test_folder=lambda dataset: dataset / "test",  # images/, mask/ (the FOV), 1st_manual/, 2nd_manual/
    roi=lambda entry: read_binary(entry["mask"]),
)
ISIC2017 = BundleCase(
    name="isic2017_jattn_segmentation",
    write_sample=_isic2017_sample,
    size=(44, 60),  # (height, width) of the sample images; the network sees train_size
    tiny={"train_size": [32, 48]},
    test_datalist=lambda dataset: isic2017_datalist(dataset, "test"),
    validation_metric="dice",
    head=(2, 4),
    export_shapes=((1, 3, 48, 36), (2, 3, 37, 51)),
    test_folder=lambda dataset: dataset / "ISIC-2017_Test_v2_Data",  # superpixel files beside the images
)
MSD = BundleCase(
    name="msd_jattn_segmentation",
    write_sample=_msd_sample,
    size=(24, 20, 12),  # stored voxels at 0.8 x 1.2 x 2.0 mm: about 19 x 24 x 24 on the 1 mm grid
    # val_fraction 0.4: 2 of the 5 training cases validate
    tiny={"patch_size": [16, 16, 16], "val_fraction": 0.4},
    # narrower still than the 2D network: 3D convolutions cost a lot more on CPU
    network=TINY_NETWORK | {"network_def#init_features": 4, "network_def#decoder_features": [4, 4]},
    test_datalist=lambda dataset: msd_datalist(dataset, "test"),
    validation_metric="mean_dice",
    head=(3, 5),  # three classes from dataset.json, 3D convolutions
)
CASES = {case.name: case for case in (DRIVE, ISIC2017, MSD)}
"""Every bundle of the repository, by name."""


class TinyRuns:
    """Each bundle's tiny training (four iterations, validated every two), run once per test session on a sample
    of its own and handed to each test module as a copy, which the module's tests may change."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp = tmp_path_factory
        self._runs: dict[str, Path] = {}

    def trained(self, case: BundleCase, name: str) -> Path:
        """A new copy, in a new temporary folder named after ``name``, of ``case``'s tiny run (trained now if this
        session has not yet trained it): ``models/`` (``latest.pt``, ``model.pt``) and ``eval/`` (the curve)."""
        if case.name not in self._runs:
            dataset = case.write_sample(self._tmp.mktemp(f"{case.name}_data"))
            run_dir = self._tmp.mktemp(f"{case.name}_run")
            run_workflow([case.train], **case.settings(dataset, run_dir, max_iterations=4, val_interval=2))
            self._runs[case.name] = run_dir
        copy = self._tmp.mktemp(name)
        shutil.copytree(self._runs[case.name], copy, dirs_exist_ok=True)
        return copy
