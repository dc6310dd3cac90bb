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
    "PAPER_RESULTS",
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

PAPER_RESULTS: dict[str, dict[str, float]] = {
    name: dict(zip(("recall", "tnr", "dice", "accuracy", "auc"), values))
    for name, values in (
        ("dense_unet", (0.7635, 0.9875, 0.8048, 0.9677, 0.9802)),
        ("sa", (0.7691, 0.9881, 0.8109, 0.9687, 0.9838)),
        ("pwa", (0.8087, 0.9828, 0.8118, 0.9673, 0.9826)),
        ("ja9", (0.7907, 0.9864, 0.8164, 0.9690, 0.9845)),
    )
}
"""Table 1 of the paper's supplement: DRIVE test set, 60k iterations (the paper's DenseUNet-JA is JA-9). Its
Recall, TNR and Accuracy fit only a vessel fraction of about 8.9% of the scored pixels (Acc = TNR - p (TNR -
Recall)): whole DRIVE test images (8.76% vessel), not their FOV (12.73%); compare with ``whole_image``."""

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
    paper_results=PAPER_RESULTS,
    paper_results_note="## The paper's DRIVE results (supplement Table 1; real DRIVE, 60k iterations)\n\n"
    "Compare with the whole-image table: the paper's Recall, TNR and Accuracy fit only a vessel fraction of about "
    "8.9% of the scored pixels (Acc = TNR - p (TNR - Recall)), as in whole DRIVE test images (8.76% vessel pixels), "
    "not inside their FOV (12.73%).",
)
"""DRIVE's entry in the dataset registry."""
