"""2D photographs for the standalone bundles: listing a folder of images, reading them as a viewer shows them,
DRIVE's preprocessing (grey or green channel, CLAHE, gamma) and the PNG outputs (probability, mask, overlay)."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Hashable, Mapping
from pathlib import Path

import cv2
import numpy as np
import torch
from monai.data import PILReader, PILWriter
from monai.transforms import LabelToContour, LoadImage, MapTransform
from monai.utils import convert_data_type, convert_to_dst_type, ensure_tuple
from monai.visualize import blend_images
from PIL import Image, ImageOps

__all__ = ["InputError", "list_images", "LoadPhotod", "DRIVEPreprocessd", "ForegroundProbabilityd", "SavePNGd"]

logger = logging.getLogger(__name__)

SUFFIXES = (".tif", ".tiff", ".gif", ".jpg", ".jpeg", ".png")
FULL_SCALE = {"I;16": 65535.0, "I;16L": 65535.0, "I;16B": 65535.0, "I;16N": 65535.0, "F": 1.0}
GREY = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601 luma
# files of the official DRIVE and ISIC-2017 layouts that are not images to segment
DRIVE_LABEL = re.compile(r"\d+_manual\d", re.IGNORECASE)  # in 1st_manual/ or 2nd_manual/
DRIVE_FOV = re.compile(r"(\d+_(?:training|test))_mask", re.IGNORECASE)  # mask/<stem>_mask.gif
ISIC_MASK = re.compile(r"ISIC_\d+_segmentation", re.IGNORECASE)
ISIC_SUPERPIXELS = re.compile(r"(ISIC_\d+)_superpixels", re.IGNORECASE)
CHASE_LABEL = re.compile(r"Image_\d+[LR]_(1st|2nd)HO", re.IGNORECASE)


class InputError(ValueError):
    """An input that cannot be segmented; the message names the file or folder and the problem."""


def _role(path: Path) -> tuple[str, Path | None] | None:
    """What ``path`` is when it is not an image to segment: (what, the image it belongs to or None)."""
    folder, stem = path.parent.name.lower(), path.stem
    if folder in ("1st_manual", "2nd_manual") and DRIVE_LABEL.fullmatch(stem):
        return "DRIVE vessel label", None
    if folder == "mask" and (fov := DRIVE_FOV.fullmatch(stem)):
        return "DRIVE field-of-view mask", path.parent.parent / "images" / f"{fov.group(1)}.tif"
    if folder.startswith("isic-2017_") and folder.endswith("_groundtruth") and ISIC_MASK.fullmatch(stem):
        return "ISIC-2017 ground-truth mask", None
    if (sp := ISIC_SUPERPIXELS.fullmatch(stem)) and (path.parent / f"{sp.group(1)}.jpg").is_file():
        return "ISIC-2017 superpixel file", None
    if CHASE_LABEL.fullmatch(stem):
        raise InputError(
            f"{path}: a CHASE_DB1 label; the standalone bundle does not compute CHASE_DB1's field of view, "
            "segment this data set with the monai-jattn package (python -m monai.bundle run in its bundle)"
        )
    return None


def list_images(root: str | os.PathLike, missing_ok: bool = False) -> list[dict]:
    """Every image under ``root`` (recursively), sorted by path, as ``{"image", "id"}`` (``"mask"``: a DRIVE
    field-of-view mask ``mask/<stem>_mask.gif`` beside ``images/<stem>.tif``). Hidden files, other file types and
    the labels, masks and superpixel files of the DRIVE and ISIC-2017 layouts are left out and logged. ``id`` is
    the path relative to ``root`` without its suffix (``sub/eye.png`` -> ``sub/eye``): outputs keep sub-folders.

    Args:
        root: the folder of images.
        missing_ok: return ``[]`` when ``root`` is not a folder (for configs read before the data exists).

    Raises:
        InputError: ``root`` is not a folder or holds no image; two images give the same id (``a.png``, ``a.tif``).
    """
    root = Path(root)
    if not root.is_dir():
        if missing_ok:
            return []
        raise InputError(f"{root}: folder of images {'is not a folder' if root.exists() else 'does not exist'}")
    masks, images = {}, []
    for path in sorted(p for p in root.rglob("*") if p.is_file() or (p.is_symlink() and not p.exists())):
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            logger.info("skipping %s: hidden file", path)
        elif path.suffix.lower() not in SUFFIXES:
            logger.info("skipping %s: not an image file (%s)", path, ", ".join(SUFFIXES))
        elif (role := _role(path)) is None:
            images.append(path)
        elif role[1] is not None and role[1].is_file():
            masks[role[1]] = path
            logger.info("using %s as the %s of %s", path, role[0], role[1])
        else:
            logger.info("skipping %s: %s", path, role[0])
    if not images:
        raise InputError(f"{root}: no images found (looked for {', '.join(SUFFIXES)} files)")
    datalist, owners = [], {}
    for path in images:
        image_id = path.relative_to(root).with_suffix("").as_posix()
        if image_id.lower() in owners:
            raise InputError(
                f"{owners[image_id.lower()]} and {path}: both would be written as {image_id}_mask.png; rename one"
            )
        owners[image_id.lower()] = path
        entry = {"image": str(path), "id": image_id}
        if path in masks:
            entry["mask"] = str(masks[path])
        datalist.append(entry)
    return datalist


def _to_rgb(image: Image.Image) -> Image.Image:
    """PIL converter: the EXIF orientation applied, then any 8-bit mode to RGB; 16-bit and float grey to one
    float channel on the 0..255 scale."""
    image = ImageOps.exif_transpose(image)
    if image.mode == "I":
        raise InputError("32-bit integer pixels (PIL mode 'I') have no documented range; save 8 or 16 bits")
    if image.mode in FULL_SCALE:
        pixels = np.asarray(image, dtype=np.float32)
        if image.mode == "F" and not (np.isfinite(pixels).all() and pixels.min() >= 0 and pixels.max() <= 1):
            raise InputError("32-bit float pixels must be finite and lie in [0, 1]")
        return Image.fromarray(pixels * np.float32(255.0 / FULL_SCALE[image.mode]), mode="F")
    return image if image.mode == "RGB" else image.convert("RGB")


def _to_grey(image: Image.Image) -> Image.Image:
    """PIL converter for binary masks: the EXIF orientation applied, then 0/255 grey (a palette image split
    between its two grey levels, a mask held in the alpha channel read from it, others foreground above 0)."""
    image = ImageOps.exif_transpose(image)
    if image.mode == "P":
        grey = np.asarray(image.convert("L"))
        levels = np.unique(grey)
        threshold = (int(levels[0]) + int(levels[-1])) / 2 if len(levels) == 2 else 127
        return Image.fromarray(np.where(grey > threshold, 255, 0).astype(np.uint8), "L")
    if image.mode in ("LA", "RGBA", "PA"):
        colour = np.asarray(image.convert("L"))
        if colour.min() == colour.max():
            return Image.fromarray(np.where(np.asarray(image.getchannel("A")) > 0, 255, 0).astype(np.uint8), "L")
    grey = np.asarray(image if image.mode in ("F", "I", "L") or image.mode.startswith("I;") else image.convert("L"))
    return Image.fromarray(np.where(grey > 0, 255, 0).astype(np.uint8), "L")


class LoadPhotod(MapTransform):
    """Load 2D image files as a viewer shows them (EXIF orientation applied) with MONAI's `LoadImage` and
    `PILReader`: images as 3-channel float32 0..255, ``binary_keys`` as 1-channel 0/1, arrays (C, W, H) as
    MONAI's `PILReader` gives them, with MONAI's metadata (so `Invertd` works downstream).

    Args:
        keys: keys of the files to load.
        binary_keys: the keys to load as binary masks.
        allow_missing_keys: do not raise when a key is absent.

    Raises:
        InputError: naming the file, when it is missing, of another type, or cannot be read.
    """

    def __init__(self, keys, binary_keys=(), allow_missing_keys: bool = False) -> None:
        super().__init__(keys, allow_missing_keys)
        self.binary_keys = ensure_tuple(binary_keys)
        self._loader = LoadImage(image_only=True, ensure_channel_first=True, dtype=np.float32)
        self._readers = {False: PILReader(converter=_to_rgb), True: PILReader(converter=_to_grey)}

    def load(self, filename: str, binary: bool = False) -> torch.Tensor:
        """One file: RGB (3, W, H) 0..255, or with ``binary`` (1, W, H) 0/1."""
        if Path(filename).suffix.lower() not in SUFFIXES:
            raise InputError(f"{filename}: unsupported file type; supported: {', '.join(SUFFIXES)}")
        if not Path(filename).is_file():
            raise InputError(f"{filename}: file not found")
        try:
            image = self._loader(filename, reader=self._readers[binary])
        except Exception as e:  # PIL raises several types for corrupt or truncated files
            cause = e if isinstance(e, InputError) else f"cannot read the image, corrupt or truncated ({e})"
            raise InputError(f"{filename}: {cause}") from e
        if binary:
            return (image > 0).float()
        return image if image.shape[0] == 3 else image.repeat(3, 1, 1)

    def __call__(self, data: Mapping[Hashable, str]) -> dict:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.load(str(d[key]), binary=key in self.binary_keys)
        return d


class DRIVEPreprocessd(MapTransform):
    """DRIVE's preprocessing: the grey (BT.601) or green channel, min-max to 8 bits, OpenCV's CLAHE (clip 2,
    8 x 8 tiles), gamma ``x ** (1 / gamma)``; one float32 channel in [0, 1].

    Args:
        keys: the images (channel-first, 1 or 3 channels).
        channel: ``"gray"`` (``"grey"``) or ``"green"``.
        clahe: apply CLAHE.
        clip_limit: CLAHE contrast limit.
        tile_grid_size: CLAHE tiles per side.
        gamma: the gamma (1.0: unchanged).
    """

    def __init__(self, keys, channel="gray", clahe=True, clip_limit=2.0, tile_grid_size=8, gamma=1.2) -> None:
        super().__init__(keys)
        if channel not in ("gray", "grey", "green") or gamma <= 0:
            raise ValueError(f"channel must be 'gray' or 'green' and gamma positive, got {channel!r}, {gamma}")
        self.channel, self.gamma = channel, gamma
        self.clahe = cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tile_grid_size,) * 2) if clahe else None

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict:
        d = dict(data)
        for key in self.key_iterator(d):
            array = convert_data_type(d[key], np.ndarray, dtype=np.float32)[0]
            if array.ndim != 3 or array.shape[0] not in (1, 3):
                raise ValueError(f"expected a channel-first 2D image of 1 or 3 channels, got {tuple(array.shape)}")
            single = array[0] if array.shape[0] == 1 else array[1] if self.channel == "green" else None
            single = np.tensordot(GREY, array, axes=1) if single is None else single
            low, high = float(single.min()), float(single.max())
            eight_bit = np.round((single - low) * (255.0 / (high - low)) if high > low else np.zeros_like(single))
            eight_bit = eight_bit.astype(np.uint8)
            if self.clahe is not None:
                eight_bit = self.clahe.apply(np.ascontiguousarray(eight_bit))
            out = (eight_bit.astype(np.float32) / 255.0) ** (1.0 / self.gamma)
            d[key] = convert_to_dst_type(out[None], d[key], dtype=torch.float32)[0]
        return d


class ForegroundProbabilityd(MapTransform):
    """From class probabilities (C, ...): ``data[prob_key]`` the foreground channels 1..C-1, ``data[key]`` the
    argmax label map (1, ...) as float32."""

    def __init__(self, keys="pred", prob_key: str = "prob") -> None:
        super().__init__(keys)
        self.prob_key = prob_key

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict:
        d = dict(data)
        for key in self.key_iterator(d):
            d[self.prob_key] = d[key][1:].clone()
            d[key] = torch.argmax(d[key], dim=0, keepdim=True).float()
        return d


class SavePNGd:
    """Write one prediction as ``<id>_prob.png`` (foreground probability 0..255), ``<id>_mask.png`` (0/255) and
    ``<id>_overlay.png`` (the photograph, as read, with the mask blended in or its outline) in ``output_dir``
    (sub-folders of ``id`` kept). Each file is written under a temporary name and moved into place; an existing
    file is never replaced. With ``fov_key`` present, probability and mask are 0 outside that mask.

    Args:
        output_dir: the output folder.
        fov_key: key of an optional field-of-view mask.
        overlay: ``"fill"`` or ``"contour"``.
        alpha: opacity of the overlay colour.
        cmap: matplotlib colour map of the overlay.
    """

    def __init__(self, output_dir, fov_key=None, overlay="fill", alpha=0.6, cmap="winter") -> None:
        if overlay not in ("fill", "contour"):
            raise ValueError(f"overlay must be 'fill' or 'contour', got {overlay!r}")
        self.output_dir, self.fov_key, self.overlay, self.alpha, self.cmap = output_dir, fov_key, overlay, alpha, cmap
        self._loader = LoadPhotod("image")

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> Mapping[Hashable, torch.Tensor]:
        prob = torch.as_tensor(data["prob"]).detach().float().cpu()
        pred = (torch.as_tensor(data["pred"]).detach().cpu() > 0).float()
        if self.fov_key is not None and self.fov_key in data:
            fov = (torch.as_tensor(data[self.fov_key]).detach().cpu() > 0).float()
            prob, pred = prob * fov, pred * fov
        source = str(data["image"].meta["filename_or_obj"])
        original = self._loader.load(source)
        if tuple(original.shape[1:]) != tuple(pred.shape[1:]) or prob.shape != pred.shape:
            raise ValueError(
                f"{source}: prediction shape {tuple(pred.shape)} unlike the image's {tuple(original.shape)}"
            )
        outline = LabelToContour()(pred) if self.overlay == "contour" else pred
        overlay = blend_images(
            original / 255.0, outline, self.alpha, self.cmap, rescale_arrays=False, transparent_background=True
        )
        stem = os.path.join(os.fspath(self.output_dir), str(data["id"]))
        for suffix, array in (("prob", prob), ("mask", pred), ("overlay", overlay)):
            write_png(_to_uint8(array), f"{stem}_{suffix}.png")
        return data


def _to_uint8(array) -> np.ndarray:
    pixels = np.asarray(torch.as_tensor(array).cpu(), dtype=np.float32)
    return np.rint(np.clip(pixels, 0.0, 1.0) * np.float32(255.0)).astype(np.uint8)


def write_png(pixels: np.ndarray, path: str) -> None:
    """A channel-first uint8 array (MONAI's PIL orientation) as an 8-bit PNG: written to a temporary file in the
    same folder, then linked to ``path``, which must not exist (`FileExistsError` otherwise; nothing replaced)."""
    pixels = pixels[0] if pixels.shape[0] == 1 else np.moveaxis(pixels, 0, -1)
    png = PILWriter.create_backend_obj(pixels, dtype=np.uint8, scale=None, reverse_indexing=True)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".png", dir=os.path.dirname(path))
    os.close(handle)
    try:
        png.save(tmp, format="PNG")
        os.link(tmp, path)  # fails when path exists: an existing file is never replaced
    finally:
        os.unlink(tmp)
