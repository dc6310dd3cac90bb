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
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from monai_jattn.data.checks import SUPPORTED_SUFFIXES, DatasetError, displayed, nested_dirs, require_dir
from monai_jattn.datasets.synthetic import synthesize_fundus
from monai_jattn.datasets.registry import DatasetSpec, SampleOption
from monai_jattn.setting_checks import SettingError, check_count, check_image_size
from monai_jattn.atomic_write import save_image_atomic

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

logger = logging.getLogger("monai_jattn.data")

CHASEDB1_SPLITS = ("training", "test")
CHASEDB1_IMAGE_SIZE = (960, 999)
"""(height, width) of the CHASE_DB1 images."""
_SPLIT_CHILDREN = {"training": range(1, 11), "test": range(11, 15)}

DRIVE_FOV_DIAMETER = 540.0
"""DRIVE's FOV diameter in pixels: the median over the 40 official masks (``training/mask`` and ``test/mask``)
of the larger side of the FOV's bounding box (`fov_diameter`); measured 535-541 px wide, 533-536 px high."""

FOV_THRESHOLD = 20
"""A pixel is inside the FOV when its red channel, median-filtered, exceeds this (0-255)."""
FOV_VERSION = 2
"""Version of the FOV algorithm, part of the cached file names: a new version recomputes every cache entry (2: the
FOV of a photograph with an EXIF orientation is computed on the image as displayed, as the loader reads it)."""
FOV_CACHE_ENV = "MONAI_JATTN_CACHE"
"""Environment variable naming the package's cache folder (the FOV masks go to ``<it>/chasedb1_fov/<hash>/``)."""

_IMAGE = re.compile(r"Image_(\d{2})([LR])\.jpg", re.IGNORECASE)
_LABEL = re.compile(r"Image_(\d{2})([LR])_(1st|2nd)HO\.png", re.IGNORECASE)
_FOV_FILE = re.compile(r"Image_\d{2}[LR]_fov_v\d+_[0-9a-f]+", re.IGNORECASE)
_FOLDER_NAMES = ("chasedb1", "chase_db1")


def _child(match: re.Match) -> int:
    return int(match.group(1))


def _is_chasedb1_file(path: Path) -> bool:
    return path.is_file() and bool(_IMAGE.fullmatch(path.name) or _LABEL.fullmatch(path.name))


def find_chasedb1_dir(root: str | os.PathLike) -> Path:
    """Find the CHASE_DB1 folder: ``root`` itself, its ``CHASEDB1`` child (any case), or a nested copy.

    Args:
        root: the folder holding the images, its parent, or a folder nesting a copy of the same name
            (e.g. ``CHASEDB1/CHASEDB1``).

    Raises:
        DatasetError: ``root`` does not exist, or no candidate holds a CHASE_DB1 image or label.
    """
    root = require_dir(root, "the CHASE_DB1 dataset")
    candidates = nested_dirs(root, {*_FOLDER_NAMES, root.name})  # root, root/CHASEDB1, root/CHASEDB1/CHASEDB1
    for candidate in candidates:
        if any(_is_chasedb1_file(p) for p in candidate.iterdir()):
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise DatasetError(f"{root}: no CHASE_DB1 images (Image_01L.jpg ...) found (looked in {looked})")


def chasedb1_has_split(root: str | os.PathLike, split: str) -> bool:
    """Whether ``root`` holds a CHASE_DB1 image or label of ``split`` (children 01-10 or 11-14)."""
    try:
        folder = find_chasedb1_dir(root)
    except DatasetError:
        return False
    children = _SPLIT_CHILDREN[split]
    for path in folder.iterdir():
        match = _IMAGE.fullmatch(path.name) or _LABEL.fullmatch(path.name)
        if match and path.is_file() and _child(match) in children:
            return True
    return False


def chasedb1_datalist(
    root: str | os.PathLike,
    split: str = "training",
    require_labels: bool = False,
    fov_cache_dir: str | os.PathLike | None = None,
) -> list[dict]:
    """List the images of one CHASE_DB1 split with both observers' labels and a computed FOV mask.

    Args:
        root: the folder holding the images, its parent (holding ``CHASEDB1/``, any case), or a nested copy.
        split: ``"training"`` (children 01-10) or ``"test"`` (children 11-14), chosen by the file names.
        require_labels: raise when the test split has no first-observer labels. By default its entries then
            have no ``"label"`` and a warning is logged. Training labels are always required.
        fov_cache_dir: where the computed FOV masks are cached; default `chasedb1_fov_cache_dir`.

    Returns:
        Dicts sorted by name, with ``"image"``, ``"label"`` (first observer, ``_1stHO.png``), ``"label2"``
        (second observer, ``_2ndHO.png``, where the split has them), ``"mask"`` (the cached FOV PNG, 0/255)
        as path strings, and ``"id"`` (e.g. ``"Image_01L"``).

    Raises:
        DatasetError: listing every problem in one message: a file in the folder that is not a CHASE_DB1
            image or label, a label without its image, an image without its first-observer label (or,
            where some images of the split have one, without its second-observer label); or an empty
            split, or an unreadable image.

    Examples::

        >>> train = chasedb1_datalist("/data/CHASEDB1", "training")
        >>> train[0]["id"], sorted(train[0])
        ('Image_01L', ['id', 'image', 'label', 'label2', 'mask'])
    """
    if split not in CHASEDB1_SPLITS:
        raise ValueError(f"split must be one of {CHASEDB1_SPLITS}, got {split!r}")
    folder = find_chasedb1_dir(root)
    children = _SPLIT_CHILDREN[split]
    images, labels, problems = {}, {"1st": {}, "2nd": {}}, []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_dir():
            continue
        image, label = _IMAGE.fullmatch(path.name), _LABEL.fullmatch(path.name)
        match = image or label
        if match is None and path.suffix.lower() not in SUPPORTED_SUFFIXES:  # Thumbs.db, a readme, ...
            logger.warning("%s: not an image, ignored in the CHASE_DB1 folder", path)
        elif match is None or not 1 <= _child(match) <= 14:
            problems.append(
                f"{path}: unexpected file in a CHASE_DB1 folder "
                "(expected Image_01L.jpg .. Image_14R.jpg, Image_01L_1stHO.png, Image_01L_2ndHO.png)"
            )
        elif _child(match) in children:
            name = f"Image_{match.group(1)}{match.group(2).upper()}"
            if image:
                images[name] = path
            else:
                labels[label.group(3).lower()][name] = path
    for observer, found in labels.items():
        problems += [
            f"{path}: a {observer}-observer label without its image {name}.jpg"
            for name, path in found.items()
            if name not in images
        ]
    has_labels = bool(labels["1st"])
    if not has_labels and not (split == "training" or require_labels) and images:
        logger.warning(
            "CHASE_DB1 %s split in %s has no first-observer labels (Image_NNX_1stHO.png); entries have no "
            "'label' (inference only).",
            split,
            folder,
        )
    required = (("1st",) if has_labels or split == "training" or require_labels else ()) + (
        ("2nd",) if labels["2nd"] else ()
    )
    for name, path in images.items():
        problems += [
            f"{path}: its {observer}-observer label {name}_{observer}HO.png is missing"
            for observer in required
            if name not in labels[observer]
        ]
    if problems:
        raise DatasetError(f"{len(problems)} problem(s) in {folder}:\n  " + "\n  ".join(problems))
    if not images:
        first, last = min(children), max(children)
        raise DatasetError(
            f"{folder}: no CHASE_DB1 {split} images (Image_{first:02d}L.jpg .. Image_{last:02d}R.jpg) found"
        )
    cache = Path(fov_cache_dir) if fov_cache_dir is not None else chasedb1_fov_cache_dir(folder)
    datalist = []
    for name in sorted(images):
        entry = {"image": str(images[name]), "id": name}
        for key, observer in (("label", "1st"), ("label2", "2nd")):
            if name in labels[observer]:
                entry[key] = str(labels[observer][name])
        entry["mask"] = str(_cached_fov(images[name], cache))
        datalist.append(entry)
    return datalist


def chasedb1_fov_cache_dir(root: str | os.PathLike) -> Path:
    """The folder where the FOV masks of the CHASE_DB1 images in ``root`` are cached.

    In order: ``$MONAI_JATTN_CACHE/chasedb1_fov/<hash of root>/`` when that variable is set;
    ``<root>/.monai_jattn_fov/`` when ``root`` (or that folder) is writable; else
    ``${XDG_CACHE_HOME:-~/.cache}/monai_jattn/chasedb1_fov/<hash of root>/``. The hash is of the absolute
    path of ``root``, so copies in different places do not share entries.

    Args:
        root: the folder holding the CHASE_DB1 images.
    """
    root = Path(root).absolute()
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:16]
    if os.environ.get(FOV_CACHE_ENV):
        return Path(os.environ[FOV_CACHE_ENV]) / "chasedb1_fov" / digest
    local = root / ".monai_jattn_fov"
    if os.access(local if local.is_dir() else root, os.W_OK):
        return local
    user_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return user_cache / "monai_jattn" / "chasedb1_fov" / digest


def _cached_fov(image: Path, cache_dir: Path) -> Path:
    """The FOV PNG of ``image`` in ``cache_dir``, computed and written (atomically) unless an entry for the same
    image content, threshold and algorithm version exists: these are in its name, so a replaced image (whatever
    its date) or another setting gets its own entry, and the entries of earlier contents are removed."""
    key = hashlib.sha256(image.read_bytes() + f"{FOV_THRESHOLD}".encode()).hexdigest()[:16]
    path = cache_dir / f"{image.stem}_fov_v{FOV_VERSION}_{key}.png"
    if path.is_file():
        return path
    try:
        with Image.open(image) as opened:
            rgb = np.asarray(displayed(opened).convert("RGB"))  # as the loader reads it: EXIF orientation applied
    except Exception as e:  # PIL raises several types for unreadable, corrupt or truncated files
        raise DatasetError(f"{image}: cannot read the image to compute its FOV ({type(e).__name__}: {e})") from e
    save_image_atomic(Image.fromarray(chasedb1_fov(rgb).astype(np.uint8) * 255, "L"), path)
    for stale in cache_dir.glob(f"{image.stem}_fov_v*.png"):
        if stale != path:
            stale.unlink(missing_ok=True)
    return path


def chasedb1_fov(rgb: np.ndarray, threshold: int = FOV_THRESHOLD) -> np.ndarray:
    """The field of view of a fundus photograph on a dark background, as an (H, W) bool mask.

    1. Red channel, 5 x 5 median filter. Red is the brightest channel of a fundus image everywhere inside
       the FOV, also in the vignetted rim where green and blue fall close to black; the median removes the
       JPEG speckle and ringing of the black background (values up to about 10) without moving the edge.
    2. Threshold: inside where the filtered red exceeds ``threshold`` (20 of 255: above the background's
       JPEG noise, below the darkest rim of a fundus).
    3. A closing (OpenCV) with an elliptic kernel of about 2% of the image side (21 px for 960 px) bridges
       notches where dark vessels cross the rim.
    4. The largest connected component with its holes filled (the outer contour drawn filled, OpenCV):
       bright specks left in the background go, dark lesions, vessels and the macula inside the FOV stay. MONAI's
       `KeepLargestConnectedComponent` and `FillHoles` would need scikit-image and SciPy, which the
       package does not require. No erosion: the rim pixels are image, and labelled vessels reach them.

    Args:
        rgb: an (H, W, 3) uint8 RGB image.
        threshold: the red-channel threshold (0-255).

    Returns:
        The FOV, an (H, W) bool array: one component without holes (all False for a black image).
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB image, got shape {rgb.shape}")
    red = cv2.medianBlur(np.ascontiguousarray(rgb[..., 0], dtype=np.uint8), 5)
    inside = (red > threshold).astype(np.uint8)
    side = 2 * max(1, round(min(red.shape) / 100)) + 1  # 21 px for CHASE_DB1's 960 px, 3 px for tiny images
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    inside = cv2.morphologyEx(inside, cv2.MORPH_CLOSE, kernel)
    contours, _ = cv2.findContours(inside, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    fov = np.zeros_like(inside)
    if contours:
        cv2.drawContours(fov, [max(contours, key=cv2.contourArea)], -1, 1, thickness=cv2.FILLED)
    return fov.astype(bool)


def fov_diameter(mask: np.ndarray) -> float:
    """The FOV's diameter in pixels: the larger side of its bounding box (right for a circular FOV, also one
    cut at the top and bottom or at the sides by the image border); 0 for an empty mask."""
    rows, cols = np.nonzero(np.asarray(mask))
    if rows.size == 0:
        return 0.0
    return float(max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1))


def zoom_to_drive(root: str | os.PathLike, fov_cache_dir: str | os.PathLike | None = None) -> float:
    """The zoom that brings the CHASE_DB1 images under ``root`` to DRIVE's scale, for the DRIVE bundle's
    ``image_zoom``: `DRIVE_FOV_DIAMETER` / the median FOV diameter of the images (all splits present).

    Vessel calibre in pixels scales with the FOV diameter in pixels (both data sets image the posterior
    pole around the optic disc and macula), so a network trained on DRIVE sees vessels of the widths it
    learnt when the image is zoomed by this factor. DRIVE's 540 px was measured on its 40 official masks
    (`fov_diameter`); real CHASE_DB1 FOVs are about 900-960 px across, for a zoom of about 0.56-0.6.

    Args:
        root: a CHASE_DB1 folder, as for `chasedb1_datalist`.
        fov_cache_dir: where the FOV masks are cached, as for `chasedb1_datalist`.

    Raises:
        DatasetError: as `chasedb1_datalist`, or when no split is present or every FOV is empty.
    """
    splits = [split for split in CHASEDB1_SPLITS if chasedb1_has_split(root, split)]
    if not splits:
        find_chasedb1_dir(root)  # raises naming the folder
        raise DatasetError(f"{root}: no CHASE_DB1 image of any split")
    diameters = []
    for split in splits:
        for entry in chasedb1_datalist(root, split, fov_cache_dir=fov_cache_dir):
            with Image.open(entry["mask"]) as mask:
                diameters.append(fov_diameter(np.asarray(mask) > 0))
    median = float(np.median(diameters))
    if median <= 0:
        raise DatasetError(f"{root}: the computed FOV masks are empty (are the images black?)")
    return DRIVE_FOV_DIAMETER / median


_DRIVE_SCALE_SIDE = 565  # synthesize at DRIVE's scale (its shorter side), then enlarge, as a camera would


def _synthesize_chasedb1(rng: np.random.Generator, size: tuple[int, int]):
    """One CHASE_DB1-like image and its labels: the generic fundus synthesised at DRIVE's scale and enlarged to
    ``size``, so that vessel calibre grows with the FOV diameter (sizes smaller than DRIVE's are drawn directly)."""
    factor = min(1.0, _DRIVE_SCALE_SIDE / min(size))
    small = (max(1, round(size[0] * factor)), max(1, round(size[1] * factor)))
    rgb, vessels, second, _ = synthesize_fundus(rng, small)
    if small == size:
        return rgb, vessels, second
    dsize = (size[1], size[0])
    rgb = cv2.resize(rgb, dsize, interpolation=cv2.INTER_CUBIC)
    vessels, second = (
        cv2.resize(m.astype(np.float32), dsize, interpolation=cv2.INTER_LINEAR) > 0.5 for m in (vessels, second)
    )
    return rgb, vessels, second


def write_chasedb1_sample(
    out_dir: str | os.PathLike,
    num_train_children: int = 2,
    num_test_children: int = 1,
    seed: int = 0,
    image_size: tuple[int, int] | None = None,
) -> Path:
    """Write a synthetic dataset in the CHASE_DB1 layout (one flat folder), with ``out_dir`` as that folder.

    Training children are numbered from 1, test children from 11; each child has a left and a right eye:
    ``Image_01L.jpg``, ``Image_01R.jpg`` (RGB JPEG, quality 90: JPEG noise on a black background, no FOV
    file), ``Image_01L_1stHO.png`` and ``Image_01L_2ndHO.png`` (0/255, the second observer misses the
    vessels under 1.5 px of the synthesis). Fundus images are drawn at DRIVE's scale and enlarged, so the
    vessels are wider in pixels, as in the real set. Files are written atomically; others are left alone.

    Args:
        out_dir: the folder to write (created if needed).
        num_train_children: children of the training split (0-10), two images each.
        num_test_children: children of the test split (0-4), two images each.
        seed: the seed; an image depends only on ``seed``, its child and its eye.
        image_size: (height, width); None for CHASE_DB1's 960 x 999.

    Returns:
        ``out_dir`` as a `Path`.

    Raises:
        SettingError: a count out of range, or a size that is not two positive integers.
    """
    out_dir = Path(out_dir)
    size = check_image_size(image_size) if image_size is not None else CHASEDB1_IMAGE_SIZE
    counts = {}
    for name, value, split in (
        ("num_train_children", num_train_children, "training"),
        ("num_test_children", num_test_children, "test"),
    ):
        counts[split] = check_count(value, name)
        if counts[split] > len(_SPLIT_CHILDREN[split]):
            raise SettingError(
                f"{name} must be at most {len(_SPLIT_CHILDREN[split])} (CHASE_DB1 {split} children), got {value}"
            )
    for split, count in counts.items():
        for child in _SPLIT_CHILDREN[split][:count]:
            for eye_index, eye in enumerate("LR"):
                rgb, vessels, second = _synthesize_chasedb1(np.random.default_rng((seed, child, eye_index)), size)
                stem = f"Image_{child:02d}{eye}"
                save_image_atomic(Image.fromarray(rgb, "RGB"), out_dir / f"{stem}.jpg", quality=90)
                for observer, label in (("1st", vessels), ("2nd", second)):
                    save_image_atomic(
                        Image.fromarray(label.astype(np.uint8) * 255, "L"), out_dir / f"{stem}_{observer}HO.png"
                    )
    return out_dir


def _official_role(path: Path) -> tuple[str, Path | None] | None:
    """What a file of the CHASE_DB1 layout is when it is not an image to segment (labels, cached FOV masks)."""
    label = _LABEL.fullmatch(path.name)
    if label:
        return f"CHASE_DB1 {label.group(3).lower()}-observer vessel label", None
    if path.suffix.lower() == ".png" and _FOV_FILE.fullmatch(path.stem):
        return "CHASE_DB1 computed field-of-view mask", None
    return None


def _computed_fov(path: Path) -> Path | None:
    """The cached FOV of a CHASE_DB1 image (``Image_01L.jpg`` beside one of its labels), else None."""
    if not _IMAGE.fullmatch(path.name) or not any(
        path.with_name(f"{path.stem}_{o}HO.png").is_file() for o in ("1st", "2nd")
    ):
        return None
    return _cached_fov(path, chasedb1_fov_cache_dir(path.parent))


def _figure_panels(root: str | os.PathLike | None, seed: int) -> list:
    """Raw image, DRIVE preprocessing, first-observer label and computed FOV of the first image, channel-first."""
    from monai_jattn.transforms import DRIVEPreprocessd, LoadImage2Dd

    with tempfile.TemporaryDirectory() as tmp:
        root = root if root is not None else write_chasedb1_sample(tmp, 1, 0, seed=seed)
        split = next((s for s in CHASEDB1_SPLITS if chasedb1_has_split(root, s)), "training")
        entry = chasedb1_datalist(root, split)[0]
        keys = ("image", "label", "mask") if "label" in entry else ("image", "mask")
        data = LoadImage2Dd(keys, binary_keys=keys[1:])(entry)
        panels = [
            (np.asarray(data["image"]), f"raw {entry['id']}"),
            (np.asarray(DRIVEPreprocessd("image")(data)["image"]), "preprocessed as DRIVE: grey, CLAHE, gamma 1.2"),
        ]
        if "label" in data:
            panels.append((np.asarray(data["label"]), "label (1st observer, _1stHO)"))
        panels.append((np.asarray(data["mask"]), f"computed FOV (red > {FOV_THRESHOLD}, morphology)"))
    return panels


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
