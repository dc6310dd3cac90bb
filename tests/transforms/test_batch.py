"""Batch augmentations: each against the MONAI transform it mirrors, per-sample draws, seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from monai.transforms import AdjustContrast, Compose, Rotate

from monai_jattn.transforms import (
    RandAdjustContrastBatchd,
    RandFlipBatchd,
    RandGaussianNoiseBatchd,
    RandRotate90Batchd,
    RandRotateBatchd,
    RandScaleIntensityBatchd,
)


def batch(size: int = 6, side: int = 12) -> dict[str, torch.Tensor]:
    image = torch.rand(size, 1, side, side)
    return {"image": image, "label": (image > 0.5).float()}


def test_flip_per_sample_and_keys_together():
    data = batch(64)
    out = RandFlipBatchd(["image", "label"], prob=0.5, spatial_axis=1).set_random_state(0)(data)
    flipped = [i for i in range(64) if torch.equal(out["image"][i], data["image"][i].flip(2))]
    kept = [i for i in range(64) if torch.equal(out["image"][i], data["image"][i])]
    assert len(flipped) + len(kept) == 64 and 10 < len(flipped) < 54
    for i in flipped:
        assert torch.equal(out["label"][i], data["label"][i].flip(2))
    assert not torch.equal(out["image"], data["image"])


def test_inputs_are_not_modified():
    data = batch()
    before = {k: v.clone() for k, v in data.items()}
    Compose(
        [
            RandFlipBatchd(["image", "label"], prob=1.0),
            RandRotate90Batchd(["image", "label"], prob=1.0),
            RandRotateBatchd(["image", "label"], range_x=0.3, prob=1.0, mode=["bilinear", "nearest"]),
            RandAdjustContrastBatchd("image", prob=1.0),
            RandScaleIntensityBatchd("image", factors=0.1, prob=1.0),
            RandGaussianNoiseBatchd("image", prob=1.0),
        ]
    )(data)
    for key in data:
        assert torch.equal(data[key], before[key])


def test_rotate90_same_turns_for_image_and_label():
    data = batch(16)
    out = RandRotate90Batchd(["image", "label"], prob=1.0).set_random_state(1)(data)
    turns = set()
    for i in range(16):
        k = next(k for k in (1, 2, 3) if torch.equal(out["image"][i], torch.rot90(data["image"][i], k, (1, 2))))
        assert torch.equal(out["label"][i], torch.rot90(data["label"][i], k, (1, 2)))
        turns.add(k)
    assert turns == {1, 2, 3}
    with pytest.raises(ValueError, match="square"):
        RandRotate90Batchd("image", prob=1.0)({"image": torch.rand(2, 1, 4, 6)})


@pytest.mark.parametrize("shape", [(16, 16), (12, 20)])
def test_rotate_matches_monai_rotate(shape):
    """Each rotated sample equals MONAI's `Rotate` by the same angle (bilinear, reflection padding)."""
    data = {"image": torch.rand(3, 2, *shape)}
    transform = RandRotateBatchd("image", range_x=0.5, prob=1.0, padding_mode="reflection").set_random_state(3)
    angles = np.random.RandomState(3)
    angles.random_sample(3)  # the per-sample draws of prob come first
    expected_angles = angles.uniform(-0.5, 0.5, size=3)
    out = transform(data)
    for i, angle in enumerate(expected_angles):
        reference = Rotate(angle, keep_size=True, mode="bilinear", padding_mode="reflection", align_corners=False)
        expected = torch.as_tensor(reference(data["image"][i]))
        torch.testing.assert_close(out["image"][i], expected, atol=1e-4, rtol=1e-4)


def test_rotate_labels_stay_binary_and_3d_is_refused():
    data = batch()
    out = RandRotateBatchd(["image", "label"], range_x=math.pi / 5, prob=1.0, mode=["bilinear", "nearest"])(data)
    assert set(out["label"].unique().tolist()) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="2D"):
        RandRotateBatchd("image", range_x=0.1, prob=1.0)({"image": torch.rand(2, 1, 4, 4, 4)})


def test_adjust_contrast_matches_monai():
    data = batch(4)
    out = RandAdjustContrastBatchd("image", prob=1.0, gamma=(1.7, 1.7))(data)
    for i in range(4):
        torch.testing.assert_close(
            out["image"][i], torch.as_tensor(AdjustContrast(1.7)(data["image"][i])), atol=1e-5, rtol=1e-5
        )


def test_scale_intensity_and_noise():
    data = batch(5)
    out = RandScaleIntensityBatchd("image", factors=(0.5, 0.5), prob=1.0)(data)
    torch.testing.assert_close(out["image"], data["image"] * 1.5)
    noisy = RandGaussianNoiseBatchd("image", prob=1.0, std=0.05).set_random_state(0)(data)["image"] - data["image"]
    per_sample_std = noisy.flatten(1).std(1)
    assert torch.all(per_sample_std > 0) and torch.all(per_sample_std < 0.06)
    assert len(set(per_sample_std.round(decimals=4).tolist())) == 5  # each sample its own std
    fields = (noisy / per_sample_std.view(-1, 1, 1, 1)).flatten(1)
    correlation = torch.corrcoef(fields)[~torch.eye(5, dtype=torch.bool)]
    assert correlation.abs().max() < 0.5  # and its own noise field, not one field for the whole batch
    unchanged = RandGaussianNoiseBatchd("image", prob=0.0, std=0.05)(data)
    assert torch.equal(unchanged["image"], data["image"])


def test_same_seed_same_augmentation():
    def pipeline(seed: int) -> Compose:
        transforms = Compose(
            [
                RandFlipBatchd(["image", "label"], prob=0.5),
                RandRotateBatchd(["image", "label"], range_x=0.3, prob=0.5, mode=["bilinear", "nearest"]),
                RandGaussianNoiseBatchd("image", prob=0.5),
            ]
        )
        return transforms.set_random_state(seed)

    data = batch(8)
    first, again, other = pipeline(7)(data), pipeline(7)(data), pipeline(8)(data)
    assert torch.equal(first["image"], again["image"]) and torch.equal(first["label"], again["label"])
    assert not torch.equal(first["image"], other["image"])


def test_bad_arguments():
    with pytest.raises(ValueError, match="prob"):
        RandFlipBatchd("image", prob=1.5)
    with pytest.raises(ValueError, match="batch sizes"):
        RandFlipBatchd(["image", "label"], prob=1.0)({"image": torch.rand(2, 1, 4, 4), "label": torch.rand(3, 1, 4, 4)})
