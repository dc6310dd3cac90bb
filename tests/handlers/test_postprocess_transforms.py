"""MaskedPixelsd and SaveSegmentationPNGd (monai_jattn.transforms.postprocess)."""

import numpy as np
import pytest
import torch
from monai.transforms import LoadImaged
from PIL import Image

from monai_jattn.transforms.postprocess import MaskedPixelsd, SaveSegmentationPNGd


def test_masked_pixels_keeps_the_same_pixels_for_every_key():
    pred = torch.arange(2 * 4 * 5, dtype=torch.float32).reshape(2, 4, 5)
    label = pred[:1] * 10
    mask = torch.zeros(1, 4, 5)
    mask[0, 1, 2] = mask[0, 3, 0] = mask[0, 3, 4] = 1
    out = MaskedPixelsd(keys=["pred", "label"], mask_key="mask")({"pred": pred, "label": label, "mask": mask})
    assert out["pred"].tolist() == [[7.0, 15.0, 19.0], [27.0, 35.0, 39.0]]
    assert out["label"].tolist() == [[70.0, 150.0, 190.0]]
    assert out["mask"] is mask


def test_masked_pixels_with_output_postfix_keeps_the_whole_images():
    pred, label = torch.arange(6.0).reshape(1, 2, 3), torch.ones(1, 2, 3)
    mask = torch.tensor([[[1, 0, 1], [0, 1, 0]]])
    data = {"pred": pred, "label": label, "mask": mask}
    out = MaskedPixelsd(keys=["pred", "label", "absent"], output_postfix="_fov", allow_missing_keys=True)(data)
    assert torch.equal(out["pred"], pred) and torch.equal(out["label"], label)  # unchanged
    assert torch.equal(out["pred_fov"], torch.tensor([[0.0, 2.0, 4.0]])) and out["label_fov"].shape == (1, 3)
    assert "absent_fov" not in out
    with pytest.raises(ValueError, match="output_postfix"):
        MaskedPixelsd(keys="pred", output_postfix="")


def test_masked_pixels_errors_name_the_problem():
    with pytest.raises(KeyError, match="no 'mask' mask"):
        MaskedPixelsd(keys="pred")({"pred": torch.zeros(1, 2, 2)})
    with pytest.raises(ValueError, match="spatial shape"):
        MaskedPixelsd(keys="pred")({"pred": torch.zeros(1, 2, 2), "mask": torch.ones(1, 3, 2)})


@pytest.fixture
def loaded(tmp_path):
    """A 30x20 RGB image with a red square at rows 2..5, columns 10..15, loaded as the bundles load it."""
    rgb = np.full((20, 30, 3), 40, dtype=np.uint8)
    rgb[2:6, 10:16] = (250, 0, 0)
    Image.fromarray(rgb).save(tmp_path / "case_01.png")
    data = LoadImaged("image", reader="PILReader", ensure_channel_first=True)({"image": str(tmp_path / "case_01.png")})
    square = (data["image"][:1] > 200).float()
    data.update(id="case_01", pred=square, prob=0.25 + 0.7 * square)
    return data, rgb


def read(path):
    with Image.open(path) as image:
        return np.asarray(image)


def test_writes_prob_mask_and_overlay_at_the_original_size(tmp_path, loaded):
    data, rgb = loaded
    out_dir = tmp_path / "out"
    assert SaveSegmentationPNGd(out_dir)(data) is data
    square = np.zeros((20, 30), dtype=bool)
    square[2:6, 10:16] = True
    mask, prob, overlay = (read(out_dir / f"case_01_{s}.png") for s in ("mask", "prob", "overlay"))
    assert mask.shape == prob.shape == (20, 30) and overlay.shape == (20, 30, 3)
    np.testing.assert_array_equal(mask, np.where(square, 255, 0))
    np.testing.assert_array_equal(prob, np.where(square, round(0.95 * 255), round(0.25 * 255)))
    changed = np.any(overlay != rgb, axis=-1)
    np.testing.assert_array_equal(changed, square)  # tinted where predicted, the original elsewhere
    assert sorted(p.name for p in out_dir.iterdir()) == ["case_01_mask.png", "case_01_overlay.png", "case_01_prob.png"]


def test_fov_zeroes_outside_and_contour_overlay(tmp_path, loaded):
    data, _ = loaded
    fov = torch.zeros_like(data["pred"])
    fov[:, :13] = 1  # keep columns 0..12 (MONAI's PIL layout is (C, W, H))
    data["fov"] = fov
    SaveSegmentationPNGd(tmp_path, fov_key="fov", overlay="contour")(data)
    mask = read(tmp_path / "case_01_mask.png")
    assert mask[2:6, 10:13].min() == 255 and mask[:, 13:].max() == 0
    assert read(tmp_path / "case_01_prob.png")[:, 13:].max() == 0


def test_shape_mismatch_is_a_clear_error(tmp_path, loaded):
    data, _ = loaded
    data["pred"] = data["prob"] = torch.zeros(1, 8, 8)
    with pytest.raises(ValueError, match="case_01.png.*do not match the original"):
        SaveSegmentationPNGd(tmp_path)(data)
    assert not list(tmp_path.glob("case_01_*"))


@pytest.mark.parametrize("height, width", [(1, 1), (1, 20), (20, 1)])
def test_images_one_pixel_wide_or_high_are_written(tmp_path, height, width):
    """MONAI's PILWriter squeezes size-1 sides away (an IndexError on a 1x1 image); these stay images."""
    rgb = np.zeros((height, width, 3), dtype=np.uint8)
    rgb[0, 0] = (250, 0, 0)
    Image.fromarray(rgb).save(tmp_path / "tiny.png")
    data = LoadImaged("image", reader="PILReader", ensure_channel_first=True)({"image": str(tmp_path / "tiny.png")})
    pred = torch.zeros_like(data["image"][:1])
    pred[0, 0, 0] = 1
    data.update(id="tiny", pred=pred, prob=0.6 * pred)
    SaveSegmentationPNGd(tmp_path / "out")(data)
    mask, prob, overlay = (read(tmp_path / "out" / f"tiny_{s}.png") for s in ("mask", "prob", "overlay"))
    expected = np.zeros((height, width), dtype=np.uint8)
    expected[0, 0] = 255
    np.testing.assert_array_equal(mask, expected)
    np.testing.assert_array_equal(prob, np.where(expected > 0, round(0.6 * 255), 0))
    assert overlay.shape == (height, width, 3)
