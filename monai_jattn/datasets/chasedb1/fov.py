"""The field-of-view (FOV) masks CHASE_DB1 does not ship: computed from each image and cached as PNG files."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from monai_jattn.atomic_write import save_image_atomic
from monai_jattn.data.errors import DatasetError
from monai_jattn.data.image_2d import displayed

__all__ = ["FOV_CACHE_ENV", "FOV_THRESHOLD", "FOV_VERSION", "chasedb1_fov", "chasedb1_fov_cache_dir", "fov_diameter"]

FOV_THRESHOLD = 20
"""A pixel is inside the FOV when its red channel, median-filtered, exceeds this (0-255)."""
FOV_VERSION = 2
"""Version of the FOV algorithm, part of the cached file names: a new version recomputes every cache entry (2: the
FOV of a photograph with an EXIF orientation is computed on the image as displayed, as the loader reads it)."""
FOV_CACHE_ENV = "MONAI_JATTN_CACHE"
"""Environment variable naming the package's cache folder (the FOV masks go to ``<it>/chasedb1_fov/<hash>/``)."""

_FOV_FILE = re.compile(r"Image_\d{2}[LR]_fov_v\d+_[0-9a-f]+", re.IGNORECASE)


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
