"""DRIVE preprocessing from the retinal-vessel literature: one channel, contrast equalisation, gamma."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import cv2
import numpy as np
import torch
from monai.config import KeysCollection
from monai.transforms import MapTransform, Transform
from monai.utils import TransformBackends, convert_data_type, convert_to_dst_type

__all__ = ["DRIVEPreprocess", "DRIVEPreprocessd"]

_GREY_WEIGHTS = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601 luma, as cv2/PIL convert to grey


class DRIVEPreprocess(Transform):
    """The common DRIVE preprocessing: one channel, min-max to 8 bits, CLAHE, gamma, scale to [0, 1].

    The steps, as in the widely used retina-unet pipeline (Orlando et al. / orobix):

    1. take the grey (BT.601 luma) or the green channel of the RGB image (the green channel has
       the best vessel contrast; grey is the retina-unet default);
    2. stretch it linearly to 0-255 (per-image min-max) and round to 8 bits;
    3. CLAHE, OpenCV ``createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))`` by default;
    4. gamma correction ``x -> x ** (1 / gamma)`` on [0, 1]: gamma 1.2 lifts dark regions;
    5. return one channel, float32 in [0, 1].

    Args:
        channel: ``"gray"`` (or ``"grey"``) or ``"green"``. A 1-channel input is taken as it is.
        clahe: apply CLAHE.
        clip_limit: CLAHE contrast limit.
        tile_grid_size: CLAHE tiles per side.
        gamma: the gamma; 1.0 leaves intensities unchanged.

    Examples::

        >>> out = DRIVEPreprocess()(torch.rand(3, 64, 64) * 255)
        >>> out.shape, bool(out.min() >= 0), bool(out.max() <= 1)
        (torch.Size([1, 64, 64]), True, True)
    """

    backend = [TransformBackends.NUMPY]

    def __init__(
        self,
        channel: str = "gray",
        clahe: bool = True,
        clip_limit: float = 2.0,
        tile_grid_size: int = 8,
        gamma: float = 1.2,
    ) -> None:
        if channel not in ("gray", "grey", "green"):
            raise ValueError(f"channel must be 'gray' or 'green', got {channel!r}")
        if gamma <= 0:
            raise ValueError(f"gamma must be positive, got {gamma}")
        self.channel = channel
        self.clahe = (
            cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tile_grid_size, tile_grid_size)) if clahe else None
        )
        self.gamma = gamma

    def __call__(self, img: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
        """Preprocess a channel-first RGB (3, ...) or 1-channel (1, ...) 2D image of any range."""
        array = convert_data_type(img, np.ndarray, dtype=np.float32)[0]
        if array.ndim != 3 or array.shape[0] not in (1, 3):
            raise ValueError(f"expected a channel-first 2D image with 1 or 3 channels, got shape {tuple(array.shape)}")
        if array.shape[0] == 1:
            single = array[0]
        elif self.channel == "green":
            single = array[1]
        else:
            single = np.tensordot(_GREY_WEIGHTS, array, axes=1)
        low, high = float(single.min()), float(single.max())
        scaled = np.round((single - low) * (255.0 / (high - low)) if high > low else np.zeros_like(single))
        eight_bit = scaled.astype(np.uint8)
        if self.clahe is not None:
            eight_bit = self.clahe.apply(np.ascontiguousarray(eight_bit))
        out = (eight_bit.astype(np.float32) / 255.0) ** (1.0 / self.gamma)
        return convert_to_dst_type(
            out[None], img, dtype=torch.float32 if isinstance(img, torch.Tensor) else np.float32
        )[0]


class DRIVEPreprocessd(MapTransform):
    """Dictionary version of `DRIVEPreprocess`: see it for the steps and arguments.

    Args:
        keys: keys of the images to preprocess (usually ``"image"``).
        channel: ``"gray"`` or ``"green"``.
        clahe: apply CLAHE.
        clip_limit: CLAHE contrast limit.
        tile_grid_size: CLAHE tiles per side.
        gamma: the gamma; 1.0 leaves intensities unchanged.
        allow_missing_keys: do not raise when a key is absent.

    Examples::

        >>> from monai.transforms import Compose
        >>> load_and_prepare = Compose([LoadImage2Dd("image"), DRIVEPreprocessd("image", channel="green")])
    """

    backend = DRIVEPreprocess.backend

    def __init__(
        self,
        keys: KeysCollection,
        channel: str = "gray",
        clahe: bool = True,
        clip_limit: float = 2.0,
        tile_grid_size: int = 8,
        gamma: float = 1.2,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.preprocess = DRIVEPreprocess(channel, clahe, clip_limit, tile_grid_size, gamma)

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.preprocess(d[key])
        return d
