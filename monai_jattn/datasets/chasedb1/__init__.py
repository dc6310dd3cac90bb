"""CHASE_DB1 (Fraz et al. 2012, Kingston University): retinal vessels of 14 children, as a registered dataset.

Layout, one flat folder (the zip unpacks it as it is or inside ``CHASEDB1/``)::

    Image_01L.jpg ... Image_14R.jpg      28 RGB JPEGs, 999 x 960 (width x height), both eyes of 14 children
    Image_01L_1stHO.png                  first observer's vessel labels, 0/255
    Image_01L_2ndHO.png                  second observer's vessel labels, 0/255

No field-of-view (FOV) masks are shipped: `chasedb1_fov` computes one from each image (red channel
threshold and OpenCV morphology) and the datalist caches it as a PNG (see `chasedb1_fov_cache_dir`).
The usual split is by child: children 01-10 (``Image_01L`` .. ``Image_10R``, 20 images) for training,
11-14 (8 images) for testing. The split is decided by the name, so a partial copy splits the same way.

CHASE_DB1's FOV is about 1.7 times wider in pixels than DRIVE's, and its vessels are wider in pixels
accordingly; `zoom_to_drive` gives the zoom that brings a CHASE_DB1 image to DRIVE's scale, for
the DRIVE bundle's ``image_zoom`` (cross-dataset evaluation, see docs/data.md).

Modules: `layout` (datalist and the layout's files), `fov` (computed FOV masks and their cache), `zoom`
(`zoom_to_drive`), `sample` (synthetic sample writer), `figure` (panels of the preprocessing figure); `SPEC`
registers it.
"""

from monai_jattn.datasets.chasedb1.figure import _figure_panels
from monai_jattn.datasets.chasedb1.fov import (
    FOV_CACHE_ENV,
    FOV_THRESHOLD,
    FOV_VERSION,
    chasedb1_fov,
    chasedb1_fov_cache_dir,
    fov_diameter,
)
from monai_jattn.datasets.chasedb1.layout import (
    CHASEDB1_IMAGE_SIZE,
    CHASEDB1_SPLITS,
    _computed_fov,
    _official_role,
    chasedb1_datalist,
    chasedb1_has_split,
    find_chasedb1_dir,
)
from monai_jattn.datasets.chasedb1.sample import write_chasedb1_sample
from monai_jattn.datasets.chasedb1.zoom import DRIVE_FOV_DIAMETER, zoom_to_drive
from monai_jattn.datasets.registry import DatasetSpec, SampleOption

__all__ = [
    "CHASEDB1_IMAGE_SIZE",
    "CHASEDB1_SPLITS",
    "DRIVE_FOV_DIAMETER",
    "FOV_CACHE_ENV",
    "FOV_THRESHOLD",
    "FOV_VERSION",
    "SPEC",
    "chasedb1_datalist",
    "chasedb1_fov",
    "chasedb1_fov_cache_dir",
    "chasedb1_has_split",
    "find_chasedb1_dir",
    "fov_diameter",
    "write_chasedb1_sample",
    "zoom_to_drive",
]


SPEC = DatasetSpec(
    name="chasedb1",
    title="CHASE_DB1",
    splits=CHASEDB1_SPLITS,
    datalist=chasedb1_datalist,
    has_split=chasedb1_has_split,
    write_sample=write_chasedb1_sample,
    sample_options=(
        SampleOption("--train", "num_train_children", 2, "training children (0-10), two images (L, R) each"),
        SampleOption("--test", "num_test_children", 1, "test children (0-4), two images (L, R) each"),
    ),
    bundle="drive_jattn_segmentation",
    bundle_overrides={"dataset_name": "chasedb1"},
    spatial_dims=2,
    in_channels=1,
    classes=("background", "vessel"),
    fov_key="mask",
    second_observer=True,
    official_role=_official_role,
    computed_mask=_computed_fov,
    figure_panels=_figure_panels,
    description=(
        "CHASE_DB1 retinal vessels (Fraz et al. 2012, https://blogs.kingston.ac.uk/retinal/chasedb1/): 28 JPEGs "
        "Image_01L.jpg..Image_14R.jpg of 999x960 with two observers' labels (_1stHO.png, _2ndHO.png) in one "
        "folder; children 01-10 training, 11-14 test; FOV computed from the image. Terms: see the download page."
    ),
)
