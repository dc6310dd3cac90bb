"""ISIC-2017 Part 1 (skin lesion segmentation, Codella et al. 2018): dermoscopy JPEGs of varying size with
binary lesion masks, in official training (2,000), validation (150) and test (600) splits.

Modules: `layout` (datalist and official file names), `sample` (synthetic sample writer), `transforms`
(training and evaluation pipelines), `figure` (panels of the preprocessing figure); `SPEC` registers it.
"""

from monai_jattn.datasets.isic2017.figure import isic2017_figure_panels
from monai_jattn.datasets.isic2017.layout import (
    ISIC2017_FOLDERS,
    find_isic2017_folder,
    has_isic2017_split,
    isic2017_datalist,
    isic2017_official_role,
)
from monai_jattn.datasets.isic2017.sample import ISIC2017_SAMPLE_SIZES, write_isic2017_sample
from monai_jattn.datasets.isic2017.transforms import isic2017_eval_transforms, isic2017_train_transforms
from monai_jattn.datasets.registry import DatasetSpec, SampleOption

__all__ = [
    "ISIC2017_FOLDERS",
    "ISIC2017_SAMPLE_SIZES",
    "SPEC",
    "find_isic2017_folder",
    "has_isic2017_split",
    "isic2017_datalist",
    "isic2017_eval_transforms",
    "isic2017_figure_panels",
    "isic2017_official_role",
    "isic2017_train_transforms",
    "write_isic2017_sample",
]

SPEC = DatasetSpec(
    name="isic2017",
    title="ISIC-2017",
    splits=tuple(ISIC2017_FOLDERS),
    datalist=isic2017_datalist,
    has_split=has_isic2017_split,
    write_sample=write_isic2017_sample,
    sample_options=(
        SampleOption("--train", "num_train", 20, "training images"),
        SampleOption("--val", "num_val", 5, "validation images"),
        SampleOption("--test", "num_test", 10, "test images"),
    ),
    bundle="isic2017_jattn_segmentation",
    bundle_overrides={},
    spatial_dims=2,
    in_channels=3,
    classes=("background", "lesion"),
    official_role=isic2017_official_role,
    figure_panels=isic2017_figure_panels,
    description="skin lesions: `ISIC-2017_{Training,Validation,Test_v2}_Data/` and `..._Part1_GroundTruth/`; "
    "https://challenge.isic-archive.com/data/#2017",
)
"""ISIC-2017's entry in the dataset registry."""
