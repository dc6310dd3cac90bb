"""What a 2D image file that the package reads is: its types (suffixes, bit depths), its orientation as a viewer
shows it, the one definition of a binary label or mask file (`binary_foreground`), and the reading of one file
completely that finds a damaged, truncated or unsupported one (`inspect_image_2d`)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import PIL
from PIL import Image, ImageOps, TiffImagePlugin

from monai_jattn.data.errors import DatasetError

__all__ = [
    "HIGH_BIT_DEPTH_RANGES",
    "SUPPORTED_SUFFIXES",
    "binary_foreground",
    "check_suffix",
    "describe_unreadable",
    "displayed",
    "displayed_size",
    "high_bit_depth_to_8bit_scale",
    "inspect_image_2d",
]

SUPPORTED_SUFFIXES = (".tif", ".tiff", ".gif", ".jpg", ".jpeg", ".png")
"""Image file types that the package reads (with PIL, through MONAI's ``PILReader``)."""

HIGH_BIT_DEPTH_RANGES = {"I;16": 65535.0, "I;16L": 65535.0, "I;16B": 65535.0, "I;16N": 65535.0, "F": 1.0}
"""The full-scale value of the single-channel PIL modes with more than 8 bits per pixel that the package reads:
16-bit unsigned integers (0..65535) and 32-bit floats, which must hold values in [0, 1]. Images in these modes are
scaled to the 0..255 range of 8-bit images; 8-bit modes (``"L"``, ``"RGB"``, ``"P"``, ...) are read as they are and
32-bit integer images (mode ``"I"``, no documented range) are refused."""


EXIF_ORIENTATION = 0x0112
"""The EXIF (and TIFF) tag that says how a viewer turns or mirrors the stored pixels: 1 upright, 2-8 the other
seven orientations (6 and 8, a quarter turn, are what phones write for portrait photographs)."""

_QUARTER_TURNS = (5, 6, 7, 8)
"""The orientations that swap width and height."""


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation of ``image`` (1 where it has none, an unknown value, or EXIF that cannot be read: a
    viewer then shows the stored pixels)."""
    try:
        orientation = image.getexif().get(EXIF_ORIENTATION, 1)
    except Exception:  # noqa: BLE001 (a damaged EXIF block: the pixels are still readable, and shown as stored)
        return 1
    return orientation if orientation in range(1, 9) else 1


def displayed(image: Image.Image) -> Image.Image:
    """``image`` as a viewer shows it: its EXIF orientation applied (Pillow's `ImageOps.exif_transpose`), so that
    a portrait phone photograph stored sideways is read upright, at its displayed width and height. An image
    without the tag (or upright) is returned as it is.

    Args:
        image: an open PIL image (any mode).

    Raises:
        DatasetError: (without the file name, which the caller adds) for a TIFF, GIF or PNG of several frames or
            pages (only the first would be read; a JPEG's extra MPO pictures are previews and are left out); or
            when Pillow gives the turned image another
            size than the file's width and height turned (Pillow 13 garbles uncompressed one-channel TIFFs with a
            quarter-turn orientation): refused, not read wrong.
    """
    frames = getattr(image, "n_frames", 1)
    if frames > 1 and image.format in ("TIFF", "GIF", "PNG"):
        raise DatasetError(
            f"a {image.format} of {frames} frames or pages (an animation or a stack), of which only the first would "
            "be read: save each image as a file of its own"
        )
    orientation = _orientation(image)
    if orientation == 1:
        return image
    width, height = _stored_size(image)
    turned = ImageOps.exif_transpose(image)
    expected = (height, width) if orientation in _QUARTER_TURNS else (width, height)
    if turned.size != expected:
        hint = " or compressed" if image.format == "TIFF" else ""
        raise DatasetError(
            f"the image reader (Pillow {PIL.__version__}) does not apply this {image.format} {image.mode} file's EXIF "
            f"orientation {orientation} correctly ({turned.size[0]}x{turned.size[1]} pixels instead of "
            f"{expected[0]}x{expected[1]}): save the image upright (orientation 1){hint}"
        )
    return turned


def _stored_size(image: Image.Image) -> tuple[int, int]:
    """The (width, height) of the pixels as stored in the file: a TIFF's ImageWidth and ImageLength tags (Pillow
    reports some TIFFs turned already), else ``image.size``."""
    tags = getattr(image, "tag_v2", None)
    if tags is not None and 256 in tags and 257 in tags:
        return int(tags[256]), int(tags[257])
    return image.size


def displayed_size(image: Image.Image) -> tuple[int, int]:
    """The (width, height) of a JPEG as a viewer shows it (see `displayed`), without decoding its pixels (ask before
    ``draft`` shrinks it). Other formats: take ``displayed(image).size`` (Pillow turns some TIFFs itself)."""
    width, height = image.size
    return (height, width) if _orientation(image) in _QUARTER_TURNS else (width, height)


_TIFF_SAMPLE_FORMATS = {1: "unsigned integer", 2: "signed integer", 3: "floating-point"}


def _tiff_samples(path: str | os.PathLike) -> tuple[int, int, str] | None:
    """(samples per pixel, bits per sample, sample format) from a TIFF's first directory, or None when the
    file is not a TIFF or its directory cannot be read."""
    try:
        with open(path, "rb") as f:
            header = f.read(8)
            if header[:4] not in (b"II*\x00", b"MM\x00*"):
                return None
            directory = TiffImagePlugin.ImageFileDirectory_v2(header)
            f.seek(directory.next)
            directory.load(f)
    except Exception:  # noqa: BLE001 (a damaged directory: the caller reports the file as corrupt)
        return None
    samples = int(directory.get(277, 1))
    bits = directory.get(258, (1,))
    sample_format = directory.get(339, (1,))
    first = lambda value: int(value[0] if isinstance(value, tuple) else value)  # noqa: E731
    return samples, first(bits), _TIFF_SAMPLE_FORMATS.get(first(sample_format), "unknown")


def describe_unreadable(path: str | os.PathLike, error: BaseException) -> str:
    """Why Pillow could not read ``path``, in words: a TIFF layout it does not decode (floating-point colour,
    64-bit samples) is named as such; anything else is a corrupt or truncated file.

    Args:
        path: the image file.
        error: what Pillow raised.
    """
    layout = _tiff_samples(path)
    if layout is not None:
        samples, bits, sample_format = layout
        if sample_format == "floating-point" and (samples > 1 or bits != 32) or bits > 32:
            return (
                f"a TIFF of {samples} x {bits}-bit {sample_format} sample(s) per pixel, which Pillow (the image "
                "reader) cannot decode: save it with 8 or 16 bits per sample, or as one 32-bit float channel"
            )
    return f"cannot read the image, corrupt or truncated ({type(error).__name__}: {error})"


def _suffix_problem(path: str | os.PathLike) -> str | None:
    """Describe why ``path``'s file type is not supported, or return None if it is."""
    suffix = Path(path).suffix.lower()
    if suffix in SUPPORTED_SUFFIXES:
        return None
    return f"unsupported file type {suffix or '(none)'!r}; supported: {', '.join(SUPPORTED_SUFFIXES)}"


def check_suffix(path: str | os.PathLike) -> None:
    """Raise `DatasetError` naming ``path`` when its file type is not in `SUPPORTED_SUFFIXES`."""
    problem = _suffix_problem(path)
    if problem:
        raise DatasetError(f"{path}: {problem}")


def high_bit_depth_to_8bit_scale(image: Image.Image) -> np.ndarray | None:
    """The pixels of a single-channel image with more than 8 bits per pixel, scaled to 0..255 (float32, H x W).

    Args:
        image: an open PIL image.

    Returns:
        None for images that PIL converts to 8-bit grey or RGB by itself (every mode except those of
        `HIGH_BIT_DEPTH_RANGES` and ``"I"``); else the pixels divided by the mode's full-scale value, times 255.

    Raises:
        DatasetError: (without the file name, which the caller adds) for 32-bit integer images, and for
            float images with values outside [0, 1] or not finite.
    """
    if image.mode == "I":
        raise DatasetError(
            "32-bit integer pixels (PIL mode 'I') have no documented range; save the image with 8 or 16 bits per "
            "channel, or as 32-bit float in [0, 1]"
        )
    if image.mode not in HIGH_BIT_DEPTH_RANGES:
        return None
    pixels = np.asarray(image, dtype=np.float32)
    if image.mode == "F":
        if not np.isfinite(pixels).all():
            raise DatasetError("32-bit float pixels include NaN or infinite values")
        low, high = float(pixels.min()), float(pixels.max())
        if low < 0.0 or high > 1.0:
            raise DatasetError(f"32-bit float pixels must lie in [0, 1], found {low:g}..{high:g}")
    return pixels * np.float32(255.0 / HIGH_BIT_DEPTH_RANGES[image.mode])


def _not_binary(values: Sequence, what: str = "grey values") -> DatasetError:
    shown = ", ".join(f"{v:g}" for v in values[:6]) + (", ..." if len(values) > 6 else "")
    return DatasetError(f"not binary: {len(values)} {what} ({shown}); expected 0 and one foreground value")


def _zero_and_one_value(values: np.ndarray, what: str = "grey values") -> float:
    """The foreground threshold of an image whose distinct ``values`` (sorted) are at most two, the lower one 0
    when there are two: foreground is above 0. Raises `DatasetError` otherwise."""
    if len(values) > 2 or (len(values) == 2 and values[0] != 0):
        raise _not_binary([float(v) for v in values], what)
    return 0.0


def binary_foreground(image: Image.Image) -> np.ndarray:
    """The foreground of a binary file (a label or a field-of-view mask) as an (H, W) bool array: the one
    definition of a binary file that both the loader (`monai_jattn.transforms.LoadImage2Dd`) and the up-front
    check (`check_datalist`) use, so that a file gets the same verdict from both.

    - Palette images ("P", e.g. GIFs) go through their palette: at most two grey levels, split at their
      midpoint (a binary palette's colours need not be black and white: DRIVE's second-observer GIFs use
      (4, 2, 4) and (252, 254, 252), other tools write index 1 as grey level 1); one level is foreground where
      it is above mid-grey.
    - Images with an alpha channel whose colour is all one value hold their mask in the alpha channel.
    - Every other image (grey, RGB, 16-bit, float): at most two values, 0 and one foreground value, in its
      grey conversion (or its own values, for 16-bit and float images); foreground is above 0.

    The image is taken as stored: apply `displayed` first for the viewer's orientation.

    Args:
        image: an open PIL image.

    Raises:
        DatasetError: (without the file name, which the caller adds) for an image with more than two values,
            or two values of which none is 0 (e.g. 128 and 255) outside a palette.
    """
    if image.mode in ("P", "PA") and not _alpha_only(image):
        grey = image.convert("L")
        levels = np.flatnonzero(grey.histogram())
        if len(levels) > 2:
            raise _not_binary([float(v) for v in levels], "grey levels in its palette")
        threshold = (int(levels[0]) + int(levels[-1])) / 2 if len(levels) == 2 else 127
        return np.asarray(grey) > threshold
    if _alpha_only(image):
        alpha = image.getchannel("A")
        _zero_and_one_value(np.flatnonzero(alpha.histogram()), "alpha values")
        return np.asarray(alpha) > 0
    if image.mode in ("F", "I") or image.mode.startswith("I;"):
        pixels = np.asarray(image)
        values = np.unique(pixels)
        if not np.isfinite(values).all():
            raise DatasetError("not binary: NaN or infinite values")
        return pixels > _zero_and_one_value(values)
    grey = image if image.mode == "L" else image.convert("L")
    _zero_and_one_value(np.flatnonzero(grey.histogram()))
    return np.asarray(grey) > 0


def _alpha_only(image: Image.Image) -> bool:
    """Whether ``image`` has an alpha channel and a colour of one value everywhere (its mask is in the alpha)."""
    if image.mode not in ("LA", "RGBA", "PA"):
        return False
    extrema = image.convert("L").getextrema()
    return extrema[0] == extrema[1]


def _inspect_file(path: str, binary: bool) -> tuple[tuple[int, int] | None, str | None]:
    """Open ``path`` once: return its (width, height) as a viewer shows it (EXIF orientation applied, see
    `displayed`) and a problem description (None if fine).

    Every image is decoded completely, since only decoding detects truncation; JPEGs are decoded
    at reduced scale (`Image.draft`), which still reads the whole stream but costs a fraction of a
    full decode. Binary images (labels, masks) are decoded at full size and must pass `binary_foreground`.
    """
    if not os.path.isfile(path):
        return None, "file not found"
    if _suffix_problem(path):
        return None, _suffix_problem(path)
    try:
        with Image.open(path) as img:
            if not binary and img.format in ("JPEG", "MPO"):
                size = displayed_size(img)  # before `draft` shrinks it
                img.draft(None, (max(1, img.size[0] // 8), max(1, img.size[1] // 8)))
                img.load()
                high_bit_depth_to_8bit_scale(img)
                return size, None
            shown = displayed(img)  # before `load`: Pillow turns some TIFFs as they load, then drops the tag
            shown.load()  # decodes it completely, as the loader reads it
            size = shown.size
            if not binary:
                high_bit_depth_to_8bit_scale(shown)
                return size, None
            try:
                binary_foreground(shown)
            except DatasetError as e:
                return size, str(e)
    except DatasetError as e:
        return None, str(e)
    except Exception as e:  # PIL raises several types for unreadable, corrupt or truncated files
        return None, describe_unreadable(path, e)
    return size, None


def inspect_image_2d(
    path: str, binary: bool, zoom: float | Sequence[float] = 1.0
) -> tuple[tuple[int, int] | None, str | None]:
    """`check_datalist`'s reading of one 2D file, for `ReadableImages`, where the images are then zoomed (the DRIVE
    bundle's ``image_zoom``): an image that the zoom would shrink to less than one pixel along a side (MONAI's
    ``Zoom`` gives ``floor(side * zoom)`` pixels) is a problem of that file, named at the end with the unreadable
    ones, instead of a failure that stops every image after it.

    Args:
        path: the file.
        binary: whether it is a label or mask (not zoomed: only read).
        zoom: the zoom of the images, one factor or one per axis in MONAI's (width, height) order.

    Returns:
        ``(size, problem)`` as `check_datalist`'s reading gives them.
    """
    size, problem = _inspect_file(path, binary)
    if problem or binary or size is None:
        return size, problem
    factors = [float(z) for z in (zoom if isinstance(zoom, Sequence) else (zoom, zoom))]
    zoomed = [math.floor(side * factor) for side, factor in zip(size, factors)]
    if min(zoomed) < 1:
        return size, (
            f"{size[0]}x{size[1]} pixels (WxH) become {zoomed[0]}x{zoomed[1]} at image_zoom {zoom}: too small to "
            "segment; leave the file out or use a larger image_zoom"
        )
    return size, None
