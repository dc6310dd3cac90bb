"""Random augmentations applied to a whole batch dictionary of plain tensors ``(B, C, *spatial)`` at once,
on whatever device the batch lives on, for use after :py:class:`monai_jattn.data.CachedPatchLoader`.

MONAI's random transforms work one sample at a time through MetaTensors, which costs more than the network
step when small patches come from images cached on the GPU. These draw each sample's parameters with MONAI's
random state (so ``set_random_state``/``set_determinism`` reproduce a run) and apply them with a few vectorised
torch calls; each mirrors the MONAI transform and defaults named in its docstring. Where interpolation is
involved (`RandRotateBatchd`), ``mode`` sets it per key, e.g. nearest-neighbour for labels and masks.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from monai.config import KeysCollection
from monai.transforms import MapTransform, Randomizable
from monai.utils import ensure_tuple, ensure_tuple_rep

__all__ = [
    "RandAdjustContrastBatchd",
    "RandFlipBatchd",
    "RandGaussianNoiseBatchd",
    "RandRotate90Batchd",
    "RandRotateBatchd",
    "RandScaleIntensityBatchd",
]


class _RandBatchTransform(Randomizable, MapTransform):
    """Base: ``prob`` is the chance that each sample of a batch is transformed, drawn per sample."""

    def __init__(self, keys: KeysCollection, prob: float) -> None:
        MapTransform.__init__(self, keys)
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"prob must be in [0, 1], got {prob}.")
        self.prob = prob

    def randomize(self, batch_size: int) -> np.ndarray:
        """Indices of the samples to transform."""
        return np.flatnonzero(self.R.random_sample(batch_size) < self.prob)

    def _batch_size(self, data: Mapping[Hashable, torch.Tensor]) -> int:
        sizes = {int(data[key].shape[0]) for key in self.key_iterator(data)}
        if len(sizes) != 1:
            raise ValueError(f"{type(self).__name__}: the keys {list(self.keys)} hold different batch sizes {sizes}.")
        return sizes.pop()


class RandFlipBatchd(_RandBatchTransform):
    """Flip each sample along ``spatial_axis`` with probability ``prob`` (as MONAI's `RandFlipd`).

    Args:
        keys: keys of the batch tensors ``(B, C, *spatial)`` to flip together.
        prob: probability of flipping each sample. Defaults to 0.5.
        spatial_axis: spatial axis (0 is the first spatial dimension) or axes to flip.
    """

    def __init__(self, keys: KeysCollection, prob: float = 0.5, spatial_axis: int | Sequence[int] = 0) -> None:
        super().__init__(keys, prob)
        self.dims = [int(axis) + 2 for axis in ensure_tuple(spatial_axis)]  # spatial axis 0 is tensor dim 2

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        index = self.randomize(self._batch_size(d))
        if index.size:
            for key in self.key_iterator(d):
                d[key] = d[key].clone()  # never write into the caller's tensor, e.g. the loader's cache
                d[key][index] = d[key][index].flip(self.dims)
        return d


class RandRotate90Batchd(_RandBatchTransform):
    """Rotate each sample by k x 90 degrees, k in 1..``max_k``, with probability ``prob``
    (as MONAI's `RandRotate90d`). The two spatial axes must have the same size.

    Args:
        keys: keys of the batch tensors ``(B, C, *spatial)`` to rotate together.
        prob: probability of rotating each sample. Defaults to 0.1 (MONAI's default).
        max_k: largest number of quarter turns. Defaults to 3.
        spatial_axes: the two spatial axes that define the plane of rotation. Defaults to (0, 1).
    """

    def __init__(
        self, keys: KeysCollection, prob: float = 0.1, max_k: int = 3, spatial_axes: tuple[int, int] = (0, 1)
    ) -> None:
        super().__init__(keys, prob)
        if max_k < 1:
            raise ValueError(f"max_k must be >= 1, got {max_k}.")
        self.max_k = max_k
        self.dims = (spatial_axes[0] + 2, spatial_axes[1] + 2)

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        index = self.randomize(self._batch_size(d))
        turns = self.R.randint(self.max_k, size=index.size) + 1  # k in 1..max_k, drawn once for all keys
        for key in self.key_iterator(d):
            if d[key].shape[self.dims[0]] != d[key].shape[self.dims[1]]:
                raise ValueError(f"RandRotate90Batchd needs square patches, '{key}' has shape {list(d[key].shape)}.")
            if index.size:
                d[key] = d[key].clone()
                for k in np.unique(turns):  # one rot90 call per number of turns, over the samples that take it
                    chosen = index[turns == k]
                    d[key][chosen] = torch.rot90(d[key][chosen], int(k), self.dims)
        return d


class RandRotateBatchd(_RandBatchTransform):
    """Rotate each 2D sample by an angle drawn uniformly from ``range_x`` (radians) about its centre,
    with probability ``prob`` (as MONAI's `RandRotated` with ``keep_size=True``), in one
    ``grid_sample`` call for all chosen samples.

    Args:
        keys: keys of the 2D batch tensors ``(B, C, H, W)`` to rotate together.
        range_x: angle range in radians; one number ``a`` means ``(-a, a)``.
        prob: probability of rotating each sample. Defaults to 0.1 (MONAI's default).
        mode: interpolation per key, ``"bilinear"`` or ``"nearest"``. Defaults to bilinear for all.
        padding_mode: ``"zeros"``, ``"border"`` or ``"reflection"``. Defaults to ``"border"``.
    """

    def __init__(
        self,
        keys: KeysCollection,
        range_x: float | tuple[float, float],
        prob: float = 0.1,
        mode: str | Sequence[str] = "bilinear",
        padding_mode: str = "border",
    ) -> None:
        super().__init__(keys, prob)
        low, high = (-abs(range_x), abs(range_x)) if isinstance(range_x, (int, float)) else range_x
        self.range_x = (float(low), float(high))
        self.mode = ensure_tuple_rep(mode, len(self.keys))
        self.padding_mode = padding_mode

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        index = self.randomize(self._batch_size(d))
        angles = self.R.uniform(*self.range_x, size=index.size)
        if not index.size:
            return d
        grid = None
        for key, mode in self.key_iterator(d, self.mode):
            x = d[key]
            if x.dim() != 4:
                raise ValueError(
                    f"RandRotateBatchd rotates 2D batches (B, C, H, W), '{key}' has shape {list(x.shape)}."
                )
            if grid is None:  # one grid for every key: same angles, same spatial size
                grid = self._grid(angles, x.shape[2:], x.device)
            chosen = torch.as_tensor(index, device=x.device)
            # grid_sample needs floating point; the result goes back to the key's own dtype
            rotated = F.grid_sample(
                x[chosen].float(), grid, mode=mode, padding_mode=self.padding_mode, align_corners=False
            )
            d[key] = x.clone()
            d[key][chosen] = rotated.to(x.dtype)
        return d

    @staticmethod
    def _grid(angles: np.ndarray, size: Sequence[int], device: torch.device) -> torch.Tensor:
        """Sampling grid of a rotation about the centre by ``angles``, in pixel units (non-square sizes
        too), turning the same way as MONAI's `Rotate`: the grid maps output to input pixels, i.e.
        it holds the inverse rotation."""
        height, width = int(size[0]), int(size[1])
        cos, sin = np.cos(angles), -np.sin(angles)
        # grid_sample's normalised coordinates scale x by 2/width and y by 2/height: rotate in pixels
        theta = np.zeros((angles.size, 2, 3), np.float32)
        theta[:, 0, 0], theta[:, 0, 1] = cos, -sin * height / width
        theta[:, 1, 0], theta[:, 1, 1] = sin * width / height, cos
        theta_t = torch.as_tensor(theta, device=device)
        return F.affine_grid(theta_t, [angles.size, 1, height, width], align_corners=False)


class RandAdjustContrastBatchd(_RandBatchTransform):
    """Gamma contrast change per sample, ``((x - min) / range) ** gamma * range + min`` with gamma
    drawn from ``gamma`` (as MONAI's `RandAdjustContrastd`), with probability ``prob``.

    Args:
        keys: keys of the image batches.
        prob: probability of changing each sample. Defaults to 0.1 (MONAI's default).
        gamma: range of gamma values. Defaults to (0.5, 4.5) (MONAI's default).
    """

    def __init__(self, keys: KeysCollection, prob: float = 0.1, gamma: tuple[float, float] = (0.5, 4.5)) -> None:
        super().__init__(keys, prob)
        self.gamma = (float(gamma[0]), float(gamma[1]))

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        index = self.randomize(self._batch_size(d))
        gammas = self.R.uniform(*self.gamma, size=index.size)
        if not index.size:
            return d
        for key in self.key_iterator(d):
            x = d[key]
            chosen = torch.as_tensor(index, device=x.device)
            sub = x[chosen]
            # per-sample minimum and range over all channels and pixels, as MONAI's over the whole image
            flat = sub.flatten(1)
            low = flat.amin(1).view(-1, *[1] * (x.dim() - 1))
            span = flat.amax(1).view_as(low) - low
            gamma = torch.as_tensor(gammas, dtype=x.dtype, device=x.device).view_as(low)
            d[key] = x.clone()
            # MONAI's epsilon: a constant sample (span 0) stays as it is instead of becoming NaN
            d[key][chosen] = ((sub - low) / (span + 1e-7)) ** gamma * span + low
        return d


class RandScaleIntensityBatchd(_RandBatchTransform):
    """Scale each sample by ``1 + f``, f drawn from ``(-factors, factors)`` (as MONAI's
    `RandScaleIntensityd`), with probability ``prob``.

    Args:
        keys: keys of the image batches.
        factors: factor range; one number ``f`` means ``(-f, f)``.
        prob: probability of scaling each sample. Defaults to 0.1 (MONAI's default).
    """

    def __init__(self, keys: KeysCollection, factors: float | tuple[float, float], prob: float = 0.1) -> None:
        super().__init__(keys, prob)
        low, high = (-abs(factors), abs(factors)) if isinstance(factors, (int, float)) else factors
        self.factors = (float(low), float(high))

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        batch = self._batch_size(d)
        index = self.randomize(batch)
        scale = np.ones(batch, np.float32)  # samples not chosen keep factor 1: one multiplication for the batch
        scale[index] += self.R.uniform(*self.factors, size=index.size)
        if not index.size:
            return d
        for key in self.key_iterator(d):
            x = d[key]
            d[key] = x * torch.as_tensor(scale, dtype=x.dtype, device=x.device).view(-1, *[1] * (x.dim() - 1))
        return d


class RandGaussianNoiseBatchd(_RandBatchTransform):
    """Add Gaussian noise to each sample with probability ``prob``; its standard deviation is drawn
    from ``(0, std)`` per sample (as MONAI's `RandGaussianNoised` with ``sample_std=True``). The
    noise is drawn on the batch's device from a generator seeded by this transform's random state.

    Args:
        keys: keys of the image batches.
        prob: probability of adding noise to each sample. Defaults to 0.1 (MONAI's default).
        mean: mean of the noise. Defaults to 0.
        std: largest standard deviation. Defaults to 0.1 (MONAI's default).
    """

    def __init__(self, keys: KeysCollection, prob: float = 0.1, mean: float = 0.0, std: float = 0.1) -> None:
        super().__init__(keys, prob)
        if std < 0:
            raise ValueError(f"std must be >= 0, got {std}.")
        self.mean = float(mean)
        self.std = float(std)

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        batch = self._batch_size(d)
        index = self.randomize(batch)
        sigma = np.zeros(batch, np.float32)
        sigma[index] = self.R.uniform(0.0, self.std, size=index.size)
        # torch draws the noise on the batch's device; seeding its generator from self.R keeps runs reproducible
        seed = int(self.R.randint(2**31))
        if not index.size:
            return d
        for key in self.key_iterator(d):
            x = d[key]
            generator = torch.Generator(device=x.device).manual_seed(seed)
            noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
            shape = (-1, *[1] * (x.dim() - 1))
            sigma_t = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).view(shape)
            d[key] = x + (noise * sigma_t + self.mean * (sigma_t > 0)).to(x.dtype)  # no mean shift where sigma 0
        return d
