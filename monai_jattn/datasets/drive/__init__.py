"""DRIVE (Digital Retinal Images for Vessel Extraction, Staal et al. 2004): 40 RGB fundus images of 565 x 584,
20 for training and 20 for testing, with vessel labels, field-of-view masks and, in older releases, a second
observer's test labels.

Modules: `layout` (datalist and official file names), `sample` (synthetic sample writer), `transforms`
(training and evaluation pipelines), `figure` (panels of the preprocessing figure); `SPEC` registers it.
"""

from monai_jattn.datasets.drive.figure import drive_figure_panels
from monai_jattn.datasets.drive.layout import (
    DRIVE_SPLITS,
    drive_datalist,
    drive_official_role,
    find_drive_dir,
    has_drive_split,
)
from monai_jattn.datasets.drive.sample import write_drive_sample
from monai_jattn.datasets.drive.transforms import drive_eval_transforms, drive_train_transforms
from monai_jattn.datasets.registry import DatasetSpec, SampleOption

__all__ = [
    "DRIVE_SPLITS",
    "SPEC",
    "drive_datalist",
    "drive_eval_transforms",
    "drive_figure_panels",
    "drive_official_role",
    "drive_train_transforms",
    "find_drive_dir",
    "has_drive_split",
    "write_drive_sample",
]

SPEC = DatasetSpec(
    name="drive",
    title="DRIVE",
    splits=DRIVE_SPLITS,
    datalist=drive_datalist,
    has_split=has_drive_split,
    write_sample=write_drive_sample,
    sample_options=(
        SampleOption("--train", "num_train", 20, "training images"),
        SampleOption("--test", "num_test", 20, "test images"),
        SampleOption("--no-test-labels", "with_test_labels", True, "omit test/1st_manual, like current downloads"),
    ),
    bundle="drive_jattn_segmentation",
    bundle_overrides={"dataset_name": "drive"},
    spatial_dims=2,
    in_channels=1,
    classes=("background", "vessel"),
    fov_key="mask",
    second_observer=True,
    official_role=drive_official_role,
    figure_panels=drive_figure_panels,
    description="retinal vessels: `training/`, `test/` with `images/`, `1st_manual/`, `mask/` (and `2nd_manual/` "
    "in older releases); https://drive.grand-challenge.org",
    truth_title="1st observer",
)
"""DRIVE's entry in the dataset registry."""
