"""The package's error for bad data, and an up-front check of every file in a datalist.

`check_datalist` opens each file once, before any training or evaluation starts, so that a missing,
corrupt or mismatched file fails in seconds with a message naming it, not after an hour of training.
"""

from __future__ import annotations

import logging
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import PIL
from PIL import Image, ImageOps, TiffImagePlugin

logger = logging.getLogger("monai_jattn.data")

__all__ = [
    "DatasetError",
    "FileInspector",
    "nested_dirs",
    "HIGH_BIT_DEPTH_RANGES",
    "ReadableImages",
    "SUPPORTED_SUFFIXES",
    "check_datalist",
    "binary_foreground",
    "check_suffix",
    "describe_unreadable",
    "displayed",
    "displayed_size",
    "high_bit_depth_to_8bit_scale",
    "inspect_image_2d",
    "require_dir",
]

SUPPORTED_SUFFIXES = (".tif", ".tiff", ".gif", ".jpg", ".jpeg", ".png")
"""Image file types that the package reads (with PIL, through MONAI's ``PILReader``)."""

HIGH_BIT_DEPTH_RANGES = {"I;16": 65535.0, "I;16L": 65535.0, "I;16B": 65535.0, "I;16N": 65535.0, "F": 1.0}
"""The full-scale value of the single-channel PIL modes with more than 8 bits per pixel that the package reads:
16-bit unsigned integers (0..65535) and 32-bit floats, which must hold values in [0, 1]. Images in these modes are
scaled to the 0..255 range of 8-bit images; 8-bit modes (``"L"``, ``"RGB"``, ``"P"``, ...) are read as they are and
32-bit integer images (mode ``"I"``, no documented range) are refused."""


class DatasetError(ValueError):
    """Bad, missing or inconsistent data. The message names every file concerned and its problem."""


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


def require_dir(path: str | os.PathLike, what: str) -> Path:
    """Return ``path`` as a `Path`, or raise `DatasetError` when it is not an existing folder.

    Args:
        path: the folder.
        what: what the folder should hold, for the message (e.g. ``"DRIVE training images"``).
    """
    path = Path(path)
    if not path.is_dir():
        problem = "is not a folder" if path.exists() else "does not exist"
        raise DatasetError(f"{path}: folder of {what} {problem}")
    return path


def nested_dirs(root: Path, names: Iterable[str], depth: int = 2) -> list[Path]:
    """``root``, then its sub-folders named one of ``names`` (any case), down to ``depth`` levels: where an
    unzipped dataset may sit (``root``, ``root/DRIVE``, ``root/DRIVE/DRIVE`` as some unzip tools make).

    Args:
        root: an existing folder.
        names: folder names to look into, e.g. ``{"drive", root.name.lower()}``.
        depth: how many levels to descend.
    """
    names = {name.lower() for name in names}
    candidates = level = [root]
    for _ in range(depth):
        level = [c for p in level for c in sorted(p.iterdir()) if c.is_dir() and c.name.lower() in names]
        candidates = candidates + level
    return candidates


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


FileInspector = Callable[[str, bool], tuple[tuple[int, ...] | None, str | None]]
"""``inspect(path, binary) -> (size or None, problem or None)``: reads one file completely, as `_inspect_file` does
for 2D images; a size of None is not compared with the entry's other files."""


def _datalist_problems(
    datalist: Sequence[dict],
    image_key: str,
    binary_keys: Sequence[str],
    num_workers: int | None,
    inspect_file: FileInspector | None = None,
) -> tuple[dict[int, list[str]], list[str]]:
    """Open every file of ``datalist`` once (with ``inspect_file``, default `_inspect_file`): the problems of each
    entry (by index), and those of the whole list."""
    entry_problems: dict[int, list[str]] = {}
    jobs: dict[str, bool] = {}
    for index, entry in enumerate(datalist):
        if not isinstance(entry, dict) or image_key not in entry:
            entry_problems[index] = [f"entry {index} ({entry!r}): has no {image_key!r} key"]
            continue
        for key in (image_key, *binary_keys):
            if key in entry:
                jobs[str(entry[key])] = key != image_key
    workers = num_workers or min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = dict(zip(jobs, pool.map(inspect_file or _inspect_file, jobs, jobs.values())))
    for index, entry in enumerate(datalist):
        if index in entry_problems:
            continue
        problems = []
        for key in (image_key, *binary_keys):
            path = str(entry[key]) if key in entry else None
            if path is not None and results[path][1]:
                problems.append(f"{path}: {results[path][1]}")
        image_size = results[str(entry[image_key])][0]
        for key in binary_keys:
            size = results[str(entry[key])][0] if key in entry else None
            if image_size and size and size != image_size:
                problems.append(
                    f"{entry[key]}: {key} size {size[0]}x{size[1]} (WxH) differs from its image "
                    f"{entry[image_key]} ({image_size[0]}x{image_size[1]})"
                )
        if problems:
            entry_problems[index] = problems
    ids = Counter(entry["id"] for entry in datalist if isinstance(entry, dict) and "id" in entry)
    duplicates = sorted(i for i, count in ids.items() if count > 1)
    list_problems = []
    if duplicates:
        files = {
            i: [str(e.get(image_key)) for e in datalist if isinstance(e, dict) and e.get("id") == i] for i in duplicates
        }
        list_problems.append(
            f"ids used by more than one entry (outputs would overwrite each other): {duplicates}: "
            + "; ".join(f"{i!r}: {' and '.join(paths)}" for i, paths in files.items())
        )
    return entry_problems, list_problems


def _report(problems: Sequence[str], what: str) -> DatasetError:
    problems = list(dict.fromkeys(problems))  # a file shared by several entries is reported once
    return DatasetError(f"{len(problems)} problem(s) in {what}:\n  " + "\n  ".join(problems))


def check_datalist(
    datalist: Sequence[dict],
    image_key: str = "image",
    binary_keys: Sequence[str] = ("label", "mask"),
    num_workers: int | None = None,
) -> Sequence[dict]:
    """Open every file of ``datalist`` once and report all problems found, by file, in one error.

    Checks, for every entry: the image key is present; each file exists, has a supported type and
    decodes completely (no corrupt or truncated file); images have pixels of a known range (see
    `HIGH_BIT_DEPTH_RANGES`); binary files (labels, field-of-view masks)
    hold at most two grey values, one of them 0; binary files have their image's size; ids, where
    present, are unique. Files are read in parallel threads.

    Args:
        datalist: dicts as returned by `drive_datalist`, `isic2017_datalist` or
            `image_folder_datalist`.
        image_key: the key of the image file in each entry.
        binary_keys: keys of binary files (checked where an entry has them).
        num_workers: threads that read files; default: the number of CPUs, at most 8.

    Returns:
        ``datalist`` itself, unchanged, so that a bundle config can wrap a datalist in the check.

    Raises:
        DatasetError: listing every problem as ``<file>: <problem>``; also for an empty datalist.

    Examples::

        >>> train_files = check_datalist(drive_datalist("/data/DRIVE", "training"))
    """
    if len(datalist) == 0:
        raise DatasetError("the datalist is empty: no images were found")
    entry_problems, list_problems = _datalist_problems(datalist, image_key, binary_keys, num_workers)
    problems = [p for index in sorted(entry_problems) for p in entry_problems[index]] + list_problems
    if problems:
        raise _report(problems, "the datalist")
    return datalist


class ReadableImages:
    """
    The entries of a datalist whose files all read, for inference over a user's folder: one unreadable
    file must not stop the others from being segmented. Every file is checked as by `check_datalist`
    when this is created; each entry with a problem is left out and logged at once, naming the file,
    and `raise_if_unreadable` (called after the readable ones are processed) raises one `DatasetError`
    listing them all, so that the run ends with a non-zero exit status.

    Args:
        datalist: dicts as returned by `image_folder_datalist`.
        image_key: the key of the image file in each entry.
        binary_keys: keys of binary files (checked where an entry has them).
        num_workers: threads that read files; default: the number of CPUs, at most 8.
        inspect_file: ``inspect(path, binary) -> (size or None, problem or None)``, reading one file completely;
            default: the 2D images' check of `check_datalist` (e.g. `monai_jattn.datasets.msd.inspect_nifti` for
            NIfTI volumes).

    Raises:
        DatasetError: at once, when no entry is readable, or the datalist is empty or has duplicate ids.

    Example::

        images = ReadableImages(image_folder_datalist("my_photos"))
        run_inference(images.datalist)
        images.raise_if_unreadable()
    """

    def __init__(
        self,
        datalist: Sequence[dict],
        image_key: str = "image",
        binary_keys: Sequence[str] = ("label", "mask"),
        num_workers: int | None = None,
        inspect_file: FileInspector | None = None,
    ) -> None:
        if len(datalist) == 0:
            raise DatasetError("the datalist is empty: no images were found")
        entry_problems, list_problems = _datalist_problems(datalist, image_key, binary_keys, num_workers, inspect_file)
        if list_problems:
            raise _report(list_problems, "the datalist")
        self.problems = list(dict.fromkeys(p for index in sorted(entry_problems) for p in entry_problems[index]))
        self.datalist = [entry for index, entry in enumerate(datalist) if index not in entry_problems]
        if not self.datalist:
            raise _report(self.problems, "the datalist, and no image is readable")
        for problem in self.problems:
            logger.error("skipping an unreadable file: %s", problem)

    def raise_if_unreadable(self) -> None:
        """Raise one `DatasetError` listing every file left out, if any."""
        if self.problems:
            raise _report(
                self.problems, f"the datalist: these files were skipped, the other {len(self.datalist)} processed"
            )
