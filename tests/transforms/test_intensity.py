"""DRIVEPreprocess(d): channel choice, min-max, CLAHE as OpenCV does it, gamma, [0, 1] output."""

import cv2
import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_jattn.transforms import DRIVEPreprocess, DRIVEPreprocessd


@pytest.fixture
def image():
    rng = np.random.default_rng(0)
    array = rng.uniform(0, 255, (3, 40, 48)).astype(np.float32)
    array[1] *= 0.5  # a dimmer green channel
    return array


def minmax8(channel):
    return np.round((channel - channel.min()) * 255.0 / (channel.max() - channel.min())).astype(np.uint8)


def test_output_is_one_channel_float_in_unit_range_with_metadata(image):
    source = MetaTensor(torch.from_numpy(image), meta={"filename_or_obj": "21_training.tif"})
    out = DRIVEPreprocess()(source)
    assert isinstance(out, MetaTensor) and out.shape == (1, 40, 48) and out.dtype == torch.float32
    assert out.meta["filename_or_obj"] == "21_training.tif"
    assert 0.0 <= float(out.min()) and float(out.max()) <= 1.0 and float(out.max()) == 1.0


def test_green_channel_without_clahe_and_gamma_is_minmax(image):
    out = DRIVEPreprocess(channel="green", clahe=False, gamma=1.0)(image)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out[0], minmax8(image[1]) / 255.0, atol=1e-6)


def test_grey_channel_uses_bt601_weights(image):
    out = DRIVEPreprocess(channel="gray", clahe=False, gamma=1.0)(image)
    grey = 0.299 * image[0] + 0.587 * image[1] + 0.114 * image[2]
    np.testing.assert_allclose(out[0], minmax8(grey) / 255.0, atol=1e-6)


def test_clahe_and_gamma_match_opencv(image):
    out = DRIVEPreprocess(channel="green", clahe=True, clip_limit=2.0, tile_grid_size=8, gamma=1.2)(image)
    expected = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(minmax8(image[1])) / 255.0
    np.testing.assert_allclose(out[0], expected ** (1 / 1.2), atol=1e-6)


def test_clahe_raises_local_contrast_of_a_dim_region():
    array = np.full((1, 64, 64), 100.0, np.float32)
    array[0, :, :32] = 20 + 5 * (np.arange(64)[:, None] % 2)  # faint stripes in a dark half
    array[0, 0, 40] = 255.0
    plain = DRIVEPreprocess(clahe=False, gamma=1.0)(array)[0, :, :32]
    equalised = DRIVEPreprocess(clahe=True, gamma=1.0)(array)[0, :, :32]
    assert equalised.std() > 1.4 * plain.std()


def test_single_channel_input_and_constant_image():
    out = DRIVEPreprocess(clahe=False)(np.full((1, 8, 8), 7.0, np.float32))
    assert out.shape == (1, 8, 8) and not np.isnan(out).any() and float(out.max()) == 0.0


@pytest.mark.parametrize("kwargs", [{"channel": "red"}, {"gamma": 0}])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        DRIVEPreprocess(**kwargs)


def test_bad_shape():
    with pytest.raises(ValueError, match="channel-first 2D image"):
        DRIVEPreprocess()(np.zeros((2, 8, 8), np.float32))


def test_dictionary_version_touches_only_its_keys(image):
    label = torch.ones(1, 40, 48)
    out = DRIVEPreprocessd("image", channel="green")({"image": torch.from_numpy(image), "label": label})
    assert out["image"].shape == (1, 40, 48) and out["label"] is label
    np.testing.assert_allclose(out["image"].numpy(), DRIVEPreprocess(channel="green")(image), atol=1e-6)
