"""CachedPatchLoader: patch centres inside the map (as MONAI's RandCropByPosNegLabeld), passes, seeds, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms.utils import correct_crop_centers
from monai.utils import set_determinism

from monai_jattn.data import CachedPatchLoader


def items(count: int = 4, shape: tuple[int, int] = (20, 24)) -> list[dict]:
    """Images whose pixel values encode (item, position); a mask that marks a ring of the image."""
    height, width = shape
    position = torch.arange(height * width, dtype=torch.float32).view(1, height, width)
    mask = torch.zeros(1, height, width)
    mask[:, 3:17, 2:9] = 1  # touches the top-left corner region: some centres must be moved inside
    return [
        {"image": MetaTensor(position + 1000 * i), "label": position + 1000 * i, "mask": mask.clone()}
        for i in range(count)
    ]


def origin(patch: torch.Tensor, width: int) -> tuple[int, int, int]:
    value = int(patch[0, 0, 0])
    return value // 1000, (value % 1000) // width, (value % 1000) % width


def test_patch_origins_are_those_of_monai_crop_by_fov():
    data = items()
    loader = CachedPatchLoader(data, ("image", "label"), batch_size=4, spatial_size=(8, 6), centre_key="mask")
    loader.set_random_state(0)
    drawn = set()
    for batch in itertools.islice(iter(loader), 300):
        assert batch["image"].shape == (4, 1, 8, 6) and type(batch["image"]) is torch.Tensor
        assert torch.equal(batch["image"], batch["label"])
        drawn |= {origin(patch, 24)[1:] for patch in batch["image"]}
    expected = set()
    for y, x in zip(*np.nonzero(data[0]["mask"][0].numpy())):
        centre = correct_crop_centers([int(y), int(x)], (8, 6), (20, 24))
        expected.add((int(centre[0]) - 4, int(centre[1]) - 3))
    assert drawn == expected


def test_each_pass_draws_every_item_equally_often():
    loader = CachedPatchLoader(items(6), "image", batch_size=4, spatial_size=(4, 4), patches_per_image=2)
    assert len(loader) == 3
    drawn = [origin(p, 24)[0] for batch in itertools.islice(iter(loader), 3) for p in batch["image"]]
    assert sorted(drawn) == sorted(list(range(6)) * 2)


def test_whole_items_and_same_seed_same_batches():
    set_determinism(0)
    first = [b["image"] for b in itertools.islice(iter(CachedPatchLoader(items(), "image", batch_size=3)), 4)]
    set_determinism(0)
    again = [b["image"] for b in itertools.islice(iter(CachedPatchLoader(items(), "image", batch_size=3)), 4)]
    set_determinism(1)
    other = [b["image"] for b in itertools.islice(iter(CachedPatchLoader(items(), "image", batch_size=3)), 4)]
    set_determinism(None)
    assert first[0].shape == (3, 1, 20, 24)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not all(torch.equal(a, b) for a, b in zip(first, other))


def test_transform_is_applied_and_seeded():
    calls = []

    def transform(batch):
        calls.append(batch["image"].shape)
        return {key: value * 2 for key, value in batch.items()}

    loader = CachedPatchLoader(items(), "image", batch_size=2, transform=transform)
    batch = next(iter(loader))
    assert calls == [(2, 1, 20, 24)] and int(batch["image"].max()) % 2 == 0


def test_data_is_read_only_when_iterating():
    class Exploding:
        def __len__(self):
            return 2

        def __getitem__(self, index):
            raise RuntimeError(f"item {index} read")

    loader = CachedPatchLoader(Exploding(), "image", batch_size=1)
    with pytest.raises(RuntimeError, match="read"):
        next(iter(loader))


def test_clear_errors():
    with pytest.raises(ValueError, match="smaller than the patch"):
        next(iter(CachedPatchLoader(items(), "image", batch_size=2, spatial_size=(32, 8))))
    tiny = MetaTensor(torch.zeros(1, 1, 1), meta={"filename_or_obj": "/data/training/images/22_training.tif"})
    named = r"Training item 0 \(/data/training/images/22_training.tif\) of spatial shape \(1, 1\) is smaller"
    with pytest.raises(ValueError, match=named):
        next(iter(CachedPatchLoader([{"image": tiny}], "image", batch_size=1, spatial_size=(4, 4))))
    with pytest.raises(KeyError, match="mask"):
        next(iter(CachedPatchLoader([{"image": torch.zeros(1, 8, 8)}], "image", 1, (4, 4), centre_key="mask")))
    with pytest.raises(ValueError, match="no training items"):
        next(iter(CachedPatchLoader([], "image")))
    with pytest.raises(ValueError, match="batch_size"):
        CachedPatchLoader(items(), "image", batch_size=0)
