"""Any dataset in the Medical Segmentation Decathlon (MSD) layout: NIfTI volumes (or 2D images) listed by a
``dataset.json``, read through MONAI's `load_decathlon_datalist` and nibabel.

The layout (http://medicaldecathlon.com)::

    <root>/dataset.json     name, modality {"0": "CT", ...}, labels {"0": "background", "1": ...},
                            tensorImageSize ("3D"; "4D" for several modalities), training [{image, label}], test [paths]
    <root>/imagesTr/*.nii.gz    training images (several modalities: the last axis)
    <root>/labelsTr/*.nii.gz    training labels, one integer value per class of "labels"
    <root>/imagesTs/*.nii.gz    test images, without labels

The bundle ``msd_jattn_segmentation`` trains, evaluates and infers on it; `msd_facts` gives its channels
and classes from ``dataset.json``. `write_msd_sample` writes a small synthetic dataset in this layout.

Modules: `layout` (``dataset.json`` and the datalist), `nifti` (reading files completely), `sample` (synthetic
sample writer), `figure` (panels of the preprocessing figure); `SPEC` registers it.
"""

from monai_jattn.datasets.msd.figure import msd_figure_panels
from monai_jattn.datasets.msd.layout import (
    MSD_DATASET_JSON,
    MSD_FALLBACK_FACTS,
    msd_datalist,
    msd_facts,
    msd_has_split,
    nifti_id,
)
from monai_jattn.datasets.msd.nifti import check_msd_files, inspect_nifti
from monai_jattn.datasets.msd.sample import MSD_SAMPLE_CLASSES, write_msd_sample
from monai_jattn.datasets.registry import DatasetSpec, SampleOption

__all__ = [
    "MSD_DATASET_JSON",
    "MSD_FALLBACK_FACTS",
    "MSD_SAMPLE_CLASSES",
    "SPEC",
    "check_msd_files",
    "inspect_nifti",
    "msd_datalist",
    "msd_facts",
    "msd_has_split",
    "nifti_id",
    "write_msd_sample",
]

SPEC = DatasetSpec(
    name="msd",
    title="Medical Segmentation Decathlon layout (NIfTI)",
    splits=("training", "test"),
    datalist=msd_datalist,
    has_split=msd_has_split,
    write_sample=write_msd_sample,
    check_files=check_msd_files,
    figure_panels=msd_figure_panels,
    sample_options=(
        SampleOption("--train", "num_train", 6, "training cases (image and label)"),
        SampleOption("--test", "num_test", 2, "test images (no labels)"),
        SampleOption("--classes", "num_classes", 3, "classes including the background"),
        SampleOption("--dims", "spatial_dims", 3, "spatial dimensions: 3 (volumes) or 2"),
        SampleOption("--modalities", "modalities", 1, "image channels (3D only)"),
    ),
    bundle="msd_jattn_segmentation",
    spatial_dims=3,
    in_channels=1,
    classes=(),  # each task's dataset.json names its classes (msd_facts)
    description=(
        "any MSD-layout dataset (dataset.json, imagesTr/, labelsTr/, imagesTs/; http://medicaldecathlon.com, "
        "CC-BY-SA 4.0 for the Decathlon tasks); channels, classes and 2D/3D come from its dataset.json"
    ),
)
