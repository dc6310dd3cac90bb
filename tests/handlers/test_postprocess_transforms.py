"""ForegroundProbabilityd, MaskedPixelsd and SaveSegmentationPNGd (monai_jattn.transforms.postprocess)."""

import numpy as np
import pytest
import torch
from monai.data import MetaTensor, set_track_meta
from monai.transforms import Activationsd, AsDiscreted, Compose, CopyItemsd, Lambdad, LoadImaged
from PIL import Image

from monai_jattn.transforms import ForegroundProbabilityd as ExportedForegroundProbabilityd
from monai_jattn.transforms.postprocess import ForegroundProbabilityd, MaskedPixelsd, SaveSegmentationPNGd


def monai_chain(softmax=True):
    """The bundles' post-processing that ForegroundProbabilityd replaces."""
    return Compose(
        ([Activationsd(keys="pred", softmax=True)] if softmax else [])
        + [
            CopyItemsd(keys="pred", names="prob"),
            Lambdad(keys="prob", func=lambda x: x[1:]),
            AsDiscreted(keys="pred", argmax=True),
        ]
    )


def logits(*shape, seed=0):
    """Random logits as a MetaTensor with an affine, a file name and one applied operation, as inference gives."""
    generator = torch.Generator().manual_seed(seed)
    affine = torch.diag(torch.tensor([0.5, 2.0, 3.0, 1.0], dtype=torch.float64))
    ops = [{"class": "SpatialPad", "id": 1, "orig_size": shape[1:]}]
    meta = {"filename_or_obj": "/data/case_07.png", "affine": affine}
    return MetaTensor(torch.randn(*shape, generator=generator) * 3, meta=meta, applied_operations=ops)


@pytest.mark.parametrize("shape", [(2, 37, 41), (3, 37, 41), (2, 9, 11, 13), (4, 6, 7, 5)])
@pytest.mark.parametrize("softmax", [True, False])
def test_foreground_probability_equals_the_monai_chain(shape, softmax):
    pred = logits(*shape)
    if not softmax:
        pred = torch.softmax(pred, dim=0)  # already probabilities
    expected = monai_chain(softmax)({"pred": pred, "id": "case_07"})
    out = ForegroundProbabilityd(keys="pred", softmax=softmax)({"pred": pred, "id": "case_07"})
    assert out["pred"].shape == (1, *shape[1:]) and out["prob"].shape == (shape[0] - 1, *shape[1:])
    assert torch.equal(out["pred"], expected["pred"])
    assert torch.allclose(out["prob"], expected["prob"], rtol=0, atol=1e-6)
    assert out["id"] == "case_07" and out["pred"].dtype == expected["pred"].dtype == torch.float32
    assert out["prob"].dtype == expected["prob"].dtype == torch.float32
    for key in ("pred", "prob"):
        assert isinstance(out[key], MetaTensor)
        assert out[key].meta["filename_or_obj"] == "/data/case_07.png"
        assert torch.equal(out[key].affine, pred.affine) and torch.equal(out[key].affine, expected[key].affine)
        assert out[key].applied_operations == pred.applied_operations  # kept for Invertd
        assert out[key].is_batch is False
    assert out["pred"].applied_operations == expected["pred"].applied_operations
    # prob owns a (C-1)-channel storage instead of viewing the C-channel softmax as the chain's slice does
    assert out["prob"].untyped_storage().nbytes() == out["prob"].numel() * out["prob"].element_size()
    assert expected["prob"].untyped_storage().nbytes() == pred.numel() * 4
    assert pred.meta["filename_or_obj"] == "/data/case_07.png" and len(pred.applied_operations) == 1  # untouched


def test_foreground_probability_keeps_the_foreground_channels_and_takes_argmax_over_the_channels():
    # one-hot logits whose argmax over the channels differs from argmax over any spatial dim; the background
    # channel (0) is large where the label is 0, so a prob keeping it would have 3 channels and wrong values
    label = torch.tensor([[0, 1, 2, 2], [1, 0, 0, 2], [2, 2, 1, 0]])
    pred = torch.nn.functional.one_hot(label, 3).permute(2, 0, 1).float() * 10.0
    out = ForegroundProbabilityd(keys="pred")({"pred": MetaTensor(pred.clone())})
    assert out["pred"].shape == (1, 3, 4) and torch.equal(out["pred"][0].as_tensor(), label.float())
    assert out["prob"].shape == (2, 3, 4)
    assert torch.equal(out["prob"].as_tensor() > 0.5, (label[None] == torch.tensor([1, 2])[:, None, None]))
    probs = torch.tensor([[[0.7, 0.2]], [[0.3, 0.8]]])  # (2, 1, 2) already probabilities
    out = ForegroundProbabilityd(keys="pred", softmax=False)({"pred": probs})
    assert torch.equal(out["prob"].as_tensor(), torch.tensor([[[0.3, 0.8]]]))
    assert torch.equal(out["pred"].as_tensor(), torch.tensor([[[0.0, 1.0]]]))


def test_foreground_probability_argmax_breaks_ties_and_nans_as_torch_argmax():
    nan, inf = float("nan"), float("inf")
    columns = [
        (0.5, 0.5, 0.5),
        (0.2, 0.4, 0.4),
        (0.4, 0.2, 0.4),
        (nan, 0.9, 0.1),
        (0.1, nan, 0.9),
        (0.1, 0.9, nan),
        (0.1, nan, nan),
        (nan, nan, nan),
        (-inf, -inf, 0.0),
        (0.3, inf, inf),
        (0.0, -0.0, 0.0),
    ]
    probs = torch.tensor(columns).T[:, None, :]  # (3, 1, 11)
    out = ForegroundProbabilityd(keys="pred", softmax=False)({"pred": probs})
    assert torch.equal(out["pred"].as_tensor(), torch.argmax(probs, dim=0, keepdim=True).float())
    two = probs[:2]
    out = ForegroundProbabilityd(keys="pred", softmax=False)({"pred": two})
    assert torch.equal(out["pred"].as_tensor(), torch.argmax(two, dim=0, keepdim=True).float())


def test_foreground_probability_prob_key_dtype_tracking_and_missing_keys():
    pred = torch.randn(2, 5, 6, dtype=torch.float64)
    expected = monai_chain()({"pred": pred})
    out = ExportedForegroundProbabilityd(keys="pred", prob_key="fg")({"pred": pred})
    assert "prob" not in out and out["fg"].dtype == expected["prob"].dtype == torch.float64
    assert out["pred"].dtype == expected["pred"].dtype == torch.float32 and isinstance(out["pred"], MetaTensor)
    assert torch.equal(out["pred"], expected["pred"]) and torch.allclose(out["fg"], expected["prob"])
    set_track_meta(False)
    try:
        out = ForegroundProbabilityd(keys="pred")({"pred": logits(2, 4, 4)})
        assert type(out["pred"]) is torch.Tensor and type(out["prob"]) is torch.Tensor
    finally:
        set_track_meta(True)
    assert ForegroundProbabilityd(keys=["pred", "other"], allow_missing_keys=True)({"label": pred}) == {"label": pred}
    with pytest.raises(KeyError):
        ForegroundProbabilityd(keys="pred")({"label": pred})


def test_foreground_probability_rejects_single_channel_outputs():
    with pytest.raises(ValueError, match=r"'out' has shape \(1, 4, 4\).*sigmoid output is not supported"):
        ForegroundProbabilityd(keys="out")({"out": logits(1, 4, 4)})
    with pytest.raises(ValueError, match=r"/data/case_07.png: 'out' has shape \(1, 4, 4\)"):
        ForegroundProbabilityd(keys="out", softmax=False)({"out": logits(1, 4, 4)})


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


@pytest.mark.parametrize("overlay", ["fill", "contour"])
def test_overlay_blended_in_strips_equals_monai_blend_of_the_whole_image(tmp_path, loaded, monkeypatch, overlay):
    """The overlay is blended strip by strip (bounded memory for huge photographs); with strips of 7 columns
    of MONAI's (C, W, H) layout it is the rounded ``blend_images`` of the whole image, pixel for pixel."""
    from monai.transforms import LabelToContour
    from monai.visualize import blend_images

    import monai_jattn.transforms.postprocess as postprocess

    data, rgb = loaded
    monkeypatch.setattr(postprocess, "_STRIP", 7)
    SaveSegmentationPNGd(tmp_path, overlay=overlay)(data)
    outline = LabelToContour()(data["pred"]) if overlay == "contour" else data["pred"]
    whole = blend_images(
        data["image"] / 255.0, outline, 0.6, "winter", rescale_arrays=False, transparent_background=True
    )
    expected = np.rint(np.clip(np.asarray(whole, dtype=np.float32), 0, 1) * np.float32(255)).astype(np.uint8)
    np.testing.assert_array_equal(read(tmp_path / "case_01_overlay.png"), np.moveaxis(expected, 0, -1).swapaxes(0, 1))


def test_outputs_keep_the_ids_sub_folder_and_never_replace_a_file(tmp_path, loaded):
    from monai_jattn.atomic_write import WriteError

    data, _ = loaded
    out_dir = tmp_path / "out"
    data["id"] = "left/case_01"
    SaveSegmentationPNGd(out_dir)(data)
    written = sorted(p.name for p in (out_dir / "left").iterdir())
    assert written == [f"case_01_{s}.png" for s in ("mask", "overlay", "prob")]
    (out_dir / "right").mkdir()
    (out_dir / "right" / "case_01_mask.png").write_bytes(b"the user's own mask")
    data["id"] = "right/case_01"
    with pytest.raises(WriteError) as error:
        SaveSegmentationPNGd(out_dir)(data)
    assert f"{out_dir / 'right' / 'case_01_mask.png'}: exists already and is not replaced" in str(error.value)
    assert f"(the prediction of {tmp_path / 'case_01.png'})" in str(error.value)
    assert (out_dir / "right" / "case_01_mask.png").read_bytes() == b"the user's own mask"
    SaveSegmentationPNGd(out_dir)({**data, "id": "left/case_01"})  # the same prediction again: the same bytes, kept
    for bad in ("../case_01", "/abs/case_01", "a//b", ""):
        data["id"] = bad
        with pytest.raises(ValueError, match="is not a file name or a relative path inside output_dir"):
            SaveSegmentationPNGd(out_dir)(data)
    assert not (tmp_path / "case_01_mask.png").exists()
