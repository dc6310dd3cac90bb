"""Loading 2D images (.tif, .gif, .jpg, .png) as channel-first MONAI MetaTensors."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from monai.config import KeysCollection
from monai.data import PILReader
from monai.transforms import LoadImage, MapTransform
from monai.utils import ensure_tuple
from PIL import Image

from monai_jattn.data.errors import DatasetError
from monai_jattn.data.image_2d import (
    binary_foreground,
    check_suffix,
    describe_unreadable,
    displayed,
    high_bit_depth_to_8bit_scale,
)

__all__ = ["LoadImage2Dd"]


def _to_rgb(image: Image.Image) -> Image.Image:
    """PIL converter: the image as displayed (EXIF orientation applied), any 8-bit mode (grey, palette, RGBA, ...)
    to 3-channel RGB; 16-bit and float grey images to one float channel on the 0..255 scale
    (`LoadImage2Dd.load` repeats it to three)."""
    image = displayed(image)
    scaled = high_bit_depth_to_8bit_scale(image)
    if scaled is not None:
        return Image.fromarray(scaled, mode="F")
    return image if image.mode == "RGB" else image.convert("RGB")


def _to_grey(image: Image.Image) -> Image.Image:
    """PIL converter for binary files (labels, masks): the image as displayed (EXIF orientation applied), as an
    8-bit 0/255 grey image of its `monai_jattn.data.image_2d.binary_foreground` (which refuses a file that is not
    binary, as `monai_jattn.data.check_datalist` does)."""
    foreground = binary_foreground(displayed(image))
    return Image.fromarray(np.where(foreground, 255, 0).astype(np.uint8), "L")


class LoadImage2Dd(MapTransform):
    """Load 2D image files with MONAI's `LoadImage` and `PILReader`, channel first, with metadata.

    Every file is read as a viewer shows it: its EXIF orientation (phone photographs stored sideways) is
    applied first, so arrays, shapes and metadata are those of the displayed image.
    Images become 3-channel RGB float32 MetaTensors (values 0-255) whatever their file mode and bit
    depth: 16-bit images are scaled by 255/65535 and 32-bit float images, which must hold values in
    [0, 1], by 255 (see `monai_jattn.data.image_2d.HIGH_BIT_DEPTH_RANGES`); other images are refused;
    ``binary_keys`` (labels, FOV masks) become 1-channel float32 0/1 MetaTensors as
    `monai_jattn.data.image_2d.binary_foreground` defines them (the definition `check_datalist` checks):
    0 and one foreground value; GIFs that open in palette mode "P" go through their palette and are split
    between the two grey levels they use, so that near-black/near-white and 0/1 palettes are both read right;
    float labels are foreground above 0, and a mask held only in the alpha channel is read from it; a file
    with more values, or two values without 0 (e.g. 128 and 255), is refused naming it.
    The metadata (``filename_or_obj``, ``spatial_shape``, ...) is MONAI's, so `Invertd` and
    `SaveImaged` work downstream. Arrays follow MONAI's `PILReader` convention: spatial axes are
    (width, height), i.e. an image of W x H pixels loads as (C, W, H).

    Args:
        keys: keys of the files to load.
        binary_keys: the subset of ``keys`` to load as binary masks.
        allow_missing_keys: do not raise when a key is absent from the data.

    Raises:
        DatasetError: naming the file, when it does not exist, has an unsupported type or bit
            depth, is corrupt or truncated, or is a binary key's file that is not binary.

    Examples::

        >>> load = LoadImage2Dd(keys=("image", "label", "mask"), binary_keys=("label", "mask"))
        >>> data = load({"image": "21_training.tif", "label": "21_manual1.gif", "mask": "21_training_mask.gif"})
        >>> data["image"].shape, data["label"].shape
        (torch.Size([3, 565, 584]), torch.Size([1, 565, 584]))
    """

    def __init__(
        self, keys: KeysCollection, binary_keys: Sequence[str] | str = (), allow_missing_keys: bool = False
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.binary_keys = ensure_tuple(binary_keys)
        unknown = set(self.binary_keys) - set(self.keys)
        if unknown:
            raise ValueError(f"binary_keys {sorted(unknown)} are not in keys {list(self.keys)}")
        self._loader = LoadImage(image_only=True, ensure_channel_first=True, dtype=np.float32)
        self._rgb_reader = PILReader(converter=_to_rgb)
        self._grey_reader = PILReader(converter=_to_grey)

    def load(self, filename: str, binary: bool = False) -> torch.Tensor:
        """Load one file: RGB (3, W, H) 0-255, or binary (1, W, H) 0/1 with ``binary=True``."""
        check_suffix(filename)
        if not Path(filename).is_file():
            raise DatasetError(f"{filename}: file not found")
        try:
            image = self._loader(filename, reader=self._grey_reader if binary else self._rgb_reader)
        except DatasetError as e:  # a bit depth the package does not read
            raise DatasetError(f"{filename}: {e}") from None
        except Exception as e:  # PIL raises several types for unreadable, corrupt or truncated files
            raise DatasetError(f"{filename}: {describe_unreadable(filename, e)}") from e
        if binary:
            return (image > 0).float()
        return image if image.shape[0] == 3 else image.repeat(3, *([1] * (image.ndim - 1)))

    def __call__(self, data: Mapping[Hashable, str]) -> dict:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.load(str(d[key]), binary=key in self.binary_keys)
        return d
