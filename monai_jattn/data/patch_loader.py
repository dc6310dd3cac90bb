"""A training "loader" that caches the deterministic preprocessing once on the training device and
draws whole batches of random patches there, as MONAI's fast-training guide recommends
(cache, move to the GPU once, no worker processes that only add copies)."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from monai.transforms import Randomizable
from monai.transforms.utils import correct_crop_centers
from monai.utils import convert_to_tensor, ensure_tuple

from monai_jattn.data.sources import batch_files
from monai_jattn.setting_checks import check_positive_int

__all__ = ["CachedPatchLoader"]

logger = logging.getLogger(__name__)


class CachedPatchLoader(Randomizable):
    """
    An endless stream of training batches ``{key: (B, C, *patch)}`` of plain tensors, drawn from items
    preprocessed once and cached on ``device`` as float32. The items are computed on the first iteration
    (not before, so a workflow that builds this loader needs no data until it runs); each batch then crops
    one patch from each of ``batch_size`` items, every item drawn equally often. Randomness comes from this
    object's random state, so ``monai.utils.set_determinism(seed)`` before the run (or
    ``set_random_state``) gives the same batches.

    Args:
        data: the items, each a mapping holding ``keys`` (and ``centre_key``), channel first; typically a
            MONAI ``Dataset`` whose transform is the deterministic part of the pipeline.
        keys: the keys a batch holds, e.g. ``("image", "label")``.
        batch_size: items per batch.
        spatial_size: patch size in the items' array order, or None for whole items (which must then all
            have one size).
        centre_key: key of a map (e.g. the FOV mask) whose non-zero pixels patch centres are drawn from,
            uniformly, as MONAI's ``RandCropByPosNegLabeld(label_key=centre_key, pos=1, neg=0)``; None:
            uniformly from all positions.
        patches_per_image: how often each item is drawn per pass.
        transform: callable applied to every batch dictionary (e.g. a ``Compose`` of the transforms in
            :py:mod:`monai_jattn.transforms.batch`), or None.
        device: where the cache and the batches live (the training device). A cache that would take more
            than half of the free GPU memory stays on the CPU, with a warning.
        num_workers: threads that compute the cached items.

    Examples::

        >>> from monai.data import Dataset
        >>> loader = CachedPatchLoader(Dataset(datalist, preprocessing), ("image", "label"), batch_size=4,
        ...                            spatial_size=(128, 128), centre_key="mask", device="cuda:0")
        >>> batch = next(iter(loader))  # {"image": (4, 1, 128, 128), "label": (4, 1, 128, 128)} on cuda:0
    """

    def __init__(
        self,
        data: Sequence[Mapping[Hashable, object]],
        keys: Sequence[str] | str = ("image", "label"),
        batch_size: int = 4,
        spatial_size: Sequence[int] | None = None,
        centre_key: str | None = None,
        patches_per_image: int = 1,
        transform: Callable[[dict], dict] | None = None,
        device: str | torch.device = "cpu",
        num_workers: int = 0,
    ) -> None:
        self.data = data
        self.keys = tuple(ensure_tuple(keys))
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.spatial_size = (
            None if spatial_size is None else tuple(check_positive_int(s, "spatial_size") for s in spatial_size)
        )
        self.centre_key = centre_key
        self.patches_per_image = check_positive_int(patches_per_image, "patches_per_image")
        self.transform = transform
        self.device = torch.device(device)
        self.num_workers = max(int(num_workers), 0)
        self._cache: list[dict[str, torch.Tensor]] | None = None
        self._centres: list[np.ndarray | None] = []
        self._seeded = False

    def __len__(self) -> int:
        """Batches in one pass over the items (each drawn ``patches_per_image`` times)."""
        return max(math.ceil(len(self.data) * self.patches_per_image / self.batch_size), 1)

    def set_random_state(self, seed: int | None = None, state: np.random.RandomState | None = None):
        super().set_random_state(seed, state)
        # the transform draws from its own random state: seed it from ours, so that one seed fixes both
        if self.transform is not None and isinstance(self.transform, Randomizable):
            self.transform.set_random_state(int(self.R.randint(2**31)))
        self._seeded = True
        return self

    def randomize(self, data: object = None) -> None:
        raise NotImplementedError("CachedPatchLoader draws its randomness while iterating.")

    def cache(self) -> list[dict[str, torch.Tensor]]:
        """Compute and cache every item (once); returns the cached tensors."""
        if self._cache is not None:
            return self._cache
        if len(self.data) == 0:
            raise ValueError("CachedPatchLoader got no training items.")
        # threads, not worker processes: the items end up in this process anyway, processes only add copies
        with ThreadPoolExecutor(max(self.num_workers, 1)) as pool:
            items = list(pool.map(self.data.__getitem__, range(len(self.data))))
        cpu = [self._tensors(item, i) for i, item in enumerate(items)]
        nbytes = sum(t.nelement() * t.element_size() for item in cpu for key, t in item.items() if key in self.keys)
        device = self._cache_device(nbytes)
        # a CPU cache for a GPU run: pinned memory lets the batches' non_blocking copies run asynchronously
        pin = device.type == "cpu" and self.device.type == "cuda"
        # centre_key is only read for the centre indices below; the cache keeps the batch keys alone
        self._cache = [
            {key: t.pin_memory() if pin else t.to(device) for key, t in item.items() if key in self.keys}
            for item in cpu
        ]
        self._centres = [self._centre_indices(tensors, item, i) for i, (tensors, item) in enumerate(zip(cpu, items))]
        return self._cache

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        cache = self.cache()
        if not self._seeded:  # from torch's global generator, as monai.data.DataLoader does
            self.set_random_state(int(torch.empty((), dtype=torch.int64).random_().item()) % 2**32)
        order = np.empty(0, np.int64)
        while True:
            # shuffled passes, each item patches_per_image times, joined end to end: a batch may span two
            # passes, so every batch is full and every item is drawn equally often
            while order.size < self.batch_size:
                order = np.concatenate(
                    [order, self.R.permutation(np.repeat(np.arange(len(cache)), self.patches_per_image))]
                )
            chosen, order = order[: self.batch_size], order[self.batch_size :]
            batch = self._crop(cache, chosen)
            yield batch if self.transform is None else self.transform(batch)

    def _crop(self, cache: list[dict[str, torch.Tensor]], chosen: np.ndarray) -> dict[str, torch.Tensor]:
        if self.spatial_size is None:
            return {
                key: torch.stack([cache[i][key] for i in chosen]).to(self.device, non_blocking=True)
                for key in self.keys
            }
        # one crop per item for all keys: _tensors has checked that they share one spatial shape
        slices = [self._patch_slices(i, cache[i][self.keys[0]].shape[1:]) for i in chosen]
        return {
            key: torch.stack([cache[i][key][(slice(None), *s)] for i, s in zip(chosen, slices)]).to(
                self.device, non_blocking=True
            )
            for key in self.keys
        }

    def _patch_slices(self, index: int, shape: Sequence[int]) -> tuple[slice, ...]:
        """A patch around a random centre, moved inside the image by MONAI's ``correct_crop_centers``."""
        centres = self._centres[index]
        if centres is None:  # no centre map, or an empty one: any position
            flat = int(self.R.randint(int(np.prod(shape))))
        else:
            flat = int(centres[self.R.randint(centres.size)])
        centre = correct_crop_centers([int(c) for c in np.unravel_index(flat, tuple(shape))], self.spatial_size, shape)
        # start at centre - size // 2, as MONAI's SpatialCrop(roi_center=..., roi_size=...) places a patch
        return tuple(slice(int(c) - size // 2, int(c) - size // 2 + size) for c, size in zip(centre, self.spatial_size))

    def _tensors(self, item: Mapping[Hashable, object], index: int) -> dict[str, torch.Tensor]:
        """The item's ``keys`` (and ``centre_key``) as plain float32 CPU tensors, shapes checked."""
        wanted = self.keys + ((self.centre_key,) if self.centre_key and self.centre_key not in self.keys else ())
        if not isinstance(item, Mapping) or any(key not in item for key in wanted):
            have = list(item) if isinstance(item, Mapping) else type(item).__name__
            raise KeyError(f"Training item {index} must hold the keys {list(wanted)}, it has {have}.")
        tensors = {}
        for key in wanted:
            value = convert_to_tensor(item[key], dtype=torch.float32, device="cpu", track_meta=False)
            tensors[key] = value.detach().contiguous()
        shapes = {key: tuple(t.shape[1:]) for key, t in tensors.items()}
        if len(set(shapes.values())) != 1:
            raise ValueError(
                f"Training item {index} ({_files(item, wanted)}) has keys of different spatial shapes: {shapes}."
            )
        shape = next(iter(shapes.values()))
        if self.spatial_size is not None and (
            len(self.spatial_size) != len(shape) or any(s > n for s, n in zip(self.spatial_size, shape))
        ):
            raise ValueError(
                f"Training item {index} ({_files(item, wanted)}) of spatial shape {shape} is smaller than the patch "
                f"{self.spatial_size} (after preprocessing): remove the image or choose a smaller --patch_size."
            )
        return tensors

    def _centre_indices(self, tensors: Mapping[str, torch.Tensor], item: Mapping, index: int) -> np.ndarray | None:
        """Flat indices of the non-zero pixels of ``centre_key`` (None: centre anywhere, warned when empty)."""
        if self.centre_key is None or self.spatial_size is None:
            return None
        centres = np.flatnonzero(tensors[self.centre_key].amax(0).numpy() > 0)  # non-zero in any channel
        if centres.size:
            return centres
        name = getattr(item[self.centre_key], "meta", {}).get("filename_or_obj", f"item {index}")
        logger.warning(f"CachedPatchLoader: '{self.centre_key}' of {name} is empty; its patches are centred anywhere.")
        return None

    def _cache_device(self, nbytes: int) -> torch.device:
        if self.device.type != "cuda":
            return self.device
        free, _ = torch.cuda.mem_get_info(self.device)
        if nbytes <= free // 2:  # the other half is left to the training step
            logger.info(f"CachedPatchLoader: {nbytes / 2**20:.0f} MiB of training data cached on {self.device}.")
            return self.device
        logger.warning(
            f"CachedPatchLoader: the training data ({nbytes / 2**20:.0f} MiB) would take more than half of the free "
            f"GPU memory ({free / 2**20:.0f} MiB); it stays on the CPU and each batch is copied to {self.device}."
        )
        return torch.device("cpu")


def _files(item: Mapping[Hashable, object], keys: Sequence[str]) -> str:
    """The files an item's ``keys`` were loaded from, for error messages."""
    return ", ".join(batch_files({key: item[key] for key in keys})) or "no file name recorded"
