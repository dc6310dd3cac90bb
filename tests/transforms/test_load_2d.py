"""LoadImage2Dd: 2D files to channel-first MetaTensors, binarised masks, clear errors."""

import struct

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import SaveImaged
from PIL import Image

from monai_jattn.data import DatasetError, check_datalist
from monai_jattn.datasets.drive import drive_eval_transforms
from monai_jattn.datasets.isic2017 import isic2017_eval_transforms
from monai_jattn.transforms import LoadImage2Dd


@pytest.fixture
def rgb():
    array = np.random.default_rng(0).integers(0, 256, (12, 10, 3), dtype=np.uint8)  # H=12, W=10
    return array


@pytest.mark.parametrize("suffix", [".tif", ".png", ".jpg"])
def test_rgb_image_is_channel_first_with_metadata(tmp_path, rgb, suffix):
    path = tmp_path / f"image{suffix}"
    Image.fromarray(rgb).save(path, **({"quality": 100} if suffix == ".jpg" else {}))
    out = LoadImage2Dd("image")({"image": str(path), "id": "x"})
    image = out["image"]
    assert isinstance(image, MetaTensor) and image.dtype == torch.float32
    assert image.shape == (3, 10, 12)  # MONAI's PILReader layout: (C, W, H)
    expected = np.asarray(Image.open(path).convert("RGB")).transpose(2, 1, 0)
    np.testing.assert_array_equal(image.numpy(), expected)
    assert image.meta["filename_or_obj"] == str(path) and out["id"] == "x"


def test_grey_image_becomes_three_channels(tmp_path):
    path = tmp_path / "grey.png"
    Image.fromarray(np.full((6, 8), 77, np.uint8), "L").save(path)
    image = LoadImage2Dd("image")({"image": str(path)})["image"]
    assert image.shape == (3, 8, 6) and bool((image == 77).all())


def gif_mask():
    mask = np.zeros((12, 10), np.uint8)
    mask[3:8, 2:6] = 1
    return mask


@pytest.mark.parametrize("mode", ["L", "P-index1-white", "P-index0-white", "P-near-black"])
def test_binary_gif_in_any_palette_mode(tmp_path, mode):
    mask = gif_mask()
    path = tmp_path / "mask.gif"
    if mode == "L":
        Image.fromarray(mask * 255, "L").save(path, optimize=False)
    else:
        inverted = mode == "P-index0-white"
        image = Image.fromarray(1 - mask if inverted else mask, "P")
        palette = {"P-index1-white": [0, 0, 0, 255, 255, 255], "P-index0-white": [255, 255, 255, 0, 0, 0]}
        image.putpalette(palette.get(mode, [4, 2, 4, 252, 254, 252]))  # near-black: DRIVE's 2nd_manual GIFs
        image.save(path)
    out = LoadImage2Dd("label", binary_keys="label")({"label": str(path)})["label"]
    assert out.shape == (1, 10, 12) and out.dtype == torch.float32
    np.testing.assert_array_equal(out[0].numpy(), mask.T.astype(np.float32))


@pytest.mark.parametrize(
    "case", ["P-grey-level-1", "P-one-level-white", "P-one-level-black", "F-half", "I16-one", "RGBA-alpha-only"]
)
def test_binary_files_of_other_encodings(tmp_path, case):
    """Labels and masks as other tools write them: a 0/1 palette (index 1 is grey level 1), float 0/0.5,
    16-bit 0/1, and a mask held only in the alpha channel; each is read as its mask, never as empty."""
    mask = gif_mask()
    path = tmp_path / ("label.tif" if case[0] in "FI" else "label.gif" if case.startswith("P") else "label.png")
    expected = mask
    if case == "P-grey-level-1":
        image = Image.fromarray(mask, "P")
        image.putpalette([0, 0, 0, 1, 1, 1])
    elif case.startswith("P-one-level"):
        image = Image.fromarray(np.zeros_like(mask), "P")
        image.putpalette([255, 255, 255] if case.endswith("white") else [0, 0, 0])
        expected = np.ones_like(mask) if case.endswith("white") else np.zeros_like(mask)
    elif case == "F-half":
        image = Image.fromarray(mask.astype(np.float32) * 0.5, "F")
    elif case == "I16-one":
        image = Image.fromarray(mask.astype(np.uint16))  # mode I;16
    else:
        image = Image.fromarray(np.dstack([np.zeros((*mask.shape, 3), np.uint8), mask * 255]), "RGBA")
    image.save(path)
    out = LoadImage2Dd("label", binary_keys="label")({"label": str(path)})["label"]
    np.testing.assert_array_equal(out[0].numpy(), expected.T.astype(np.float32))


def test_rgb_label_png_is_binarised_to_one_channel(tmp_path):
    path = tmp_path / "label.png"
    Image.fromarray(np.stack([gif_mask() * 200] * 3, -1)).save(path)
    out = LoadImage2Dd(("label",), binary_keys=("label",))({"label": str(path)})["label"]
    assert out.shape == (1, 10, 12) and set(out.unique().tolist()) == {0.0, 1.0}


def test_saveimaged_writes_the_original_orientation(tmp_path, rgb):
    path = tmp_path / "in" / "pic.png"
    path.parent.mkdir()
    Image.fromarray(rgb).save(path)
    data = LoadImage2Dd("image")({"image": str(path)})
    SaveImaged(
        "image",
        output_dir=tmp_path / "out",
        output_postfix="copy",
        output_ext=".png",
        output_dtype=np.uint8,
        scale=None,
        separate_folder=False,
        print_log=False,
    )(data)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out" / "pic_copy.png")), rgb)


def test_missing_keys(tmp_path):
    path = tmp_path / "a.png"
    Image.new("RGB", (4, 4)).save(path)
    with pytest.raises(KeyError):
        LoadImage2Dd(("image", "mask"))({"image": str(path)})
    out = LoadImage2Dd(("image", "mask"), binary_keys="mask", allow_missing_keys=True)({"image": str(path)})
    assert "mask" not in out and out["image"].shape == (3, 4, 4)


def test_binary_keys_must_be_loaded_keys():
    with pytest.raises(ValueError, match="binary_keys"):
        LoadImage2Dd("image", binary_keys="label")


def test_missing_file(tmp_path):
    with pytest.raises(DatasetError, match=f"{tmp_path / 'none.tif'}: file not found"):
        LoadImage2Dd("image")({"image": str(tmp_path / "none.tif")})


def test_unsupported_file_type(tmp_path):
    path = tmp_path / "volume.nii"
    path.write_bytes(b"\0" * 64)
    with pytest.raises(DatasetError, match="volume.nii: unsupported file type '.nii'"):
        LoadImage2Dd("image")({"image": str(path)})


def test_corrupt_file(tmp_path):
    path = tmp_path / "broken.tif"
    path.write_bytes(b"definitely not a tiff")
    with pytest.raises(DatasetError, match=f"{path}: cannot read the image"):
        LoadImage2Dd("image")({"image": str(path)})


@pytest.mark.parametrize("suffix", [".jpg", ".gif"])
def test_truncated_file(tmp_path, suffix):
    path = tmp_path / f"cut{suffix}"
    noise = np.random.default_rng(1).integers(0, 256, (64, 64), dtype=np.uint8)
    Image.fromarray(np.stack([noise] * 3, -1) if suffix == ".jpg" else noise).save(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    load = LoadImage2Dd("image", binary_keys="image" if suffix == ".gif" else ())
    with pytest.raises(DatasetError, match=f"{path}: cannot read the image, corrupt or truncated"):
        load({"image": str(path)})


def write_minimal_tiff(path, array: np.ndarray, sample_format: int) -> None:
    """An uncompressed, single-strip, little-endian TIFF of an (H, W, C) array, written by hand: Pillow
    cannot write the layouts tested here (floating-point colour, 64-bit samples). ``sample_format``: TIFF
    tag 339, 1 unsigned integer, 3 floating point."""
    height, width, channels = array.shape
    data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    bits = array.dtype.itemsize * 8
    bits_at = 8 + len(data)
    formats_at = bits_at + 2 * channels
    directory_at = formats_at + 2 * channels
    short, long = 3, 4
    tags = [  # (tag, type, count, value or offset)
        (256, long, 1, width),
        (257, long, 1, height),
        (258, short, channels, bits if channels == 1 else bits_at),
        (259, short, 1, 1),  # no compression
        (262, short, 1, 2 if channels == 3 else 1),  # RGB or black-is-zero
        (273, long, 1, 8),  # the strip right after the header
        (277, short, 1, channels),
        (278, long, 1, height),
        (279, long, 1, len(data)),
        (284, short, 1, 1),  # samples of a pixel together
        (339, short, channels, sample_format if channels == 1 else formats_at),
    ]
    out = b"II*\x00" + struct.pack("<I", directory_at) + data
    out += struct.pack(f"<{channels}H", *[bits] * channels)
    out += struct.pack(f"<{channels}H", *[sample_format] * channels)
    out += struct.pack("<H", len(tags))
    for tag, kind, count, value in tags:
        if kind == short and count == 1:  # a short value fills the first half of the 4-byte field
            out += struct.pack("<HHIHH", tag, kind, count, value, 0)
        else:
            out += struct.pack("<HHII", tag, kind, count, value)
    path.write_bytes(out + struct.pack("<I", 0))


def test_tiff_layouts_pillow_cannot_decode_are_named(tmp_path):
    """Issue 18 U4: a valid floating-point RGB or 64-bit TIFF was reported as corrupt or truncated."""
    noise = np.random.default_rng(0).random((6, 7, 3))
    readable = tmp_path / "rgb8.tif"
    write_minimal_tiff(readable, (noise * 255).astype(np.uint8), 1)  # the writer itself makes valid TIFFs
    image = LoadImage2Dd("image")({"image": str(readable)})["image"]
    np.testing.assert_array_equal(image.numpy().transpose(2, 1, 0), (noise * 255).astype(np.uint8))
    for name, array, described in (
        ("rgb32f.tif", noise.astype(np.float32), "3 x 32-bit floating-point"),
        ("grey64f.tif", noise[..., :1], "1 x 64-bit floating-point"),
    ):
        path = tmp_path / name
        write_minimal_tiff(path, array, 3)
        message = f"{path}: a TIFF of {described} sample\\(s\\) per pixel, which Pillow"
        with pytest.raises(DatasetError, match=message):
            LoadImage2Dd("image")({"image": str(path)})
        with pytest.raises(DatasetError, match=f"a TIFF of {described}"):
            check_datalist([{"image": str(path), "id": name}])


def sixteen_bit_ramp():
    """A (12, 10) uint16 image that spans the 16-bit range: an 8-bit reading would clip most of it to 255."""
    return np.linspace(0, 65535, 120).round().astype(np.uint16).reshape(12, 10)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16_bit_image_is_scaled_by_65535(tmp_path, suffix):
    path = tmp_path / f"deep{suffix}"
    pixels = sixteen_bit_ramp()
    Image.fromarray(pixels).save(path)
    assert Image.open(path).mode == "I;16"  # written as 16-bit grey by PIL
    image = LoadImage2Dd("image")({"image": str(path)})["image"]
    assert image.shape == (3, 10, 12) and image.meta["filename_or_obj"] == str(path)
    expected = pixels.T.astype(np.float32) * (255.0 / 65535.0)
    for channel in image.numpy():
        np.testing.assert_allclose(channel, expected, rtol=1e-6)


def test_float_image_in_0_1_is_scaled_by_255(tmp_path):
    path = tmp_path / "float.tif"
    pixels = np.linspace(0.0, 1.0, 120, dtype=np.float32).reshape(12, 10)
    Image.fromarray(pixels).save(path)
    image = LoadImage2Dd("image")({"image": str(path)})["image"]
    np.testing.assert_allclose(image[1].numpy(), pixels.T * 255.0, rtol=1e-6)


@pytest.mark.parametrize(
    "pixels, message",
    [
        (np.full((12, 10), 3.5, np.float32), r"32-bit float pixels must lie in \[0, 1\], found 3.5..3.5"),
        (np.full((12, 10), 70000, np.int32), "32-bit integer pixels"),
    ],
)
def test_image_of_unknown_range_is_refused_naming_the_file(tmp_path, pixels, message):
    path = tmp_path / "odd.tif"
    Image.fromarray(pixels).save(path)
    with pytest.raises(DatasetError, match=f"{path}: {message}"):
        LoadImage2Dd("image")({"image": str(path)})


@pytest.mark.parametrize("pipeline", ["drive", "isic2017"])
def test_pipelines_read_a_16_bit_image_as_its_8_bit_equivalent(tmp_path, pipeline):
    eight = np.random.default_rng(2).integers(0, 256, (40, 48), dtype=np.uint8)
    Image.fromarray(eight).save(tmp_path / "eight.png")
    Image.fromarray(eight.astype(np.uint16) * 257).save(tmp_path / "sixteen.png")  # 255 * 257 = 65535
    if pipeline == "drive":
        transforms = drive_eval_transforms(with_label=False, with_mask=False)
    else:
        transforms = isic2017_eval_transforms(train_size=(32, 32), with_label=False)
    expected = transforms({"image": str(tmp_path / "eight.png")})["image"]
    torch.testing.assert_close(transforms({"image": str(tmp_path / "sixteen.png")})["image"], expected)


def _save_with_orientation(array: np.ndarray, path, orientation: int, **save) -> None:
    image = Image.fromarray(array)
    exif = Image.Exif()
    exif[0x0112] = orientation
    image.save(path, exif=exif, **save)


DISPLAYED = {  # what a viewer shows for each EXIF orientation, from the stored (H, W, ...) pixels
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: np.rot90(a, 2),
    4: lambda a: a[::-1],
    5: lambda a: np.swapaxes(a, 0, 1),
    6: lambda a: np.rot90(a, -1),  # a quarter turn clockwise: a phone held upright
    7: lambda a: np.rot90(a, 2).swapaxes(0, 1),
    8: lambda a: np.rot90(a, 1),
}


@pytest.mark.parametrize("orientation", sorted(DISPLAYED))
@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_images_are_read_as_a_viewer_shows_them(tmp_path, rgb, orientation, suffix):
    path = tmp_path / f"photo{suffix}"
    _save_with_orientation(rgb, path, orientation)
    image = LoadImage2Dd("image")({"image": str(path)})["image"]
    expected = DISPLAYED[orientation](rgb)  # (H, W, 3) as displayed
    np.testing.assert_array_equal(image.numpy(), expected.transpose(2, 1, 0))  # (C, W, H)
    assert tuple(image.meta["spatial_shape"]) == (expected.shape[1], expected.shape[0])


@pytest.mark.parametrize("orientation", [6, 8])
def test_a_phone_jpeg_and_its_binary_mask_are_turned_alike(tmp_path, orientation):
    stored = np.zeros((24, 40, 3), np.uint8)
    stored[2:10, 3:15] = 255  # a bright patch near the stored top-left corner
    _save_with_orientation(stored, tmp_path / "photo.jpg", orientation, quality=100)
    _save_with_orientation(stored[..., 0], tmp_path / "mask.png", orientation)
    out = LoadImage2Dd(("image", "mask"), binary_keys="mask")(
        {"image": str(tmp_path / "photo.jpg"), "mask": str(tmp_path / "mask.png")}
    )
    expected = DISPLAYED[orientation](stored[..., 0] > 0)  # (40, 24): portrait
    assert out["image"].shape == (3, 24, 40) and out["mask"].shape == (1, 24, 40)
    np.testing.assert_array_equal(out["mask"][0].numpy().T > 0, expected)
    np.testing.assert_array_equal(out["image"][0].numpy().T > 128, expected)
    check_datalist([{"image": str(tmp_path / "photo.jpg"), "label": str(tmp_path / "mask.png")}])


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif"])
def test_a_label_drawn_on_the_stored_pixels_of_a_turned_photo_is_named_with_its_image(tmp_path, rgb, suffix):
    _save_with_orientation(rgb, tmp_path / f"photo{suffix}", 6)  # 10 x 12 stored, 12 x 10 displayed
    entry = {"image": str(tmp_path / f"photo{suffix}"), "label": str(tmp_path / "label.png")}
    Image.fromarray(np.zeros(rgb.shape[1::-1], np.uint8)).save(entry["label"])  # 12 x 10: as displayed
    check_datalist([entry])
    Image.fromarray(np.zeros(rgb.shape[:2], np.uint8)).save(entry["label"])  # 10 x 12, no orientation
    with pytest.raises(DatasetError) as error:
        check_datalist([entry])
    assert f"{entry['label']}: label size 10x12 (WxH) differs from its image {entry['image']} (12x10)" in str(
        error.value
    )


def _binary_case(path, case: str) -> None:
    mask = gif_mask()
    if case == "L-128-255":
        Image.fromarray(np.where(mask > 0, 255, 128).astype(np.uint8), "L").save(path)
    elif case == "L-0-1-2":
        Image.fromarray((mask + (np.arange(mask.size).reshape(mask.shape) % 5 == 0)).astype(np.uint8)).save(path)
    elif case.startswith("P"):
        image = mask if case != "P-three-levels" else mask + np.eye(*mask.shape, dtype=np.uint8) * 2
        image = Image.fromarray(image, "P")
        palette = [4, 2, 4, 252, 254, 252] + ([128, 128, 128] if case == "P-three-levels" else [])
        image.putpalette(palette)
        image.save(path)
    elif case == "RGBA-alpha-only":
        Image.fromarray(np.dstack([np.zeros((*mask.shape, 3), np.uint8), mask * 255]), "RGBA").save(path)
    elif case == "RGBA-alpha-grey":
        Image.fromarray(np.dstack([np.zeros((*mask.shape, 3), np.uint8), mask * 200 + 20]), "RGBA").save(path)
    elif case == "F-half":
        Image.fromarray(mask.astype(np.float32) * 0.5, "F").save(path)
    elif case == "F-negative":
        Image.fromarray(mask.astype(np.float32) - 1, "F").save(path)
    elif case == "JPEG":
        Image.fromarray(np.stack([mask * 255] * 3, -1).astype(np.uint8)).save(path, quality=60)


BINARY_CASES = {  # case: (suffix, binary?)
    "L-128-255": (".png", False),
    "L-0-1-2": (".png", False),
    "P-near-black": (".gif", True),
    "P-three-levels": (".gif", False),
    "RGBA-alpha-only": (".png", True),
    "RGBA-alpha-grey": (".png", False),
    "F-half": (".tif", True),
    "F-negative": (".tif", False),
    "JPEG": (".jpg", False),
}


@pytest.mark.parametrize("case", sorted(BINARY_CASES))
def test_loader_and_check_give_a_label_file_the_same_verdict(tmp_path, case):
    """One definition of a binary file: `check_datalist` and `LoadImage2Dd` accept and refuse the same files (a
    mask of 128 and 255 is not read as all foreground, a palette GIF's near-black and near-white are)."""
    suffix, binary = BINARY_CASES[case]
    label = tmp_path / f"label{suffix}"
    _binary_case(label, case)
    Image.fromarray(np.zeros((12, 10, 3), np.uint8)).save(tmp_path / "image.png")
    entry = {"image": str(tmp_path / "image.png"), "label": str(label)}
    if binary:
        check_datalist([entry])
        out = LoadImage2Dd(("image", "label"), binary_keys="label")(entry)["label"]
        np.testing.assert_array_equal(out[0].numpy().T, gif_mask().astype(np.float32))
    else:
        with pytest.raises(DatasetError, match=f"{label}: not binary"):
            check_datalist([entry])
        with pytest.raises(DatasetError, match=f"{label}: not binary"):
            LoadImage2Dd(("image", "label"), binary_keys="label")(entry)


@pytest.mark.parametrize("mode", ["L", "I;16", "RGB"])
@pytest.mark.parametrize("orientation", [3, 6, 8])
@pytest.mark.parametrize("compression", [None, "tiff_deflate"])
def test_a_turned_tiff_is_read_as_displayed_or_refused_never_misread(tmp_path, mode, orientation, compression):
    """Pillow 13 turns TIFFs itself as they load and garbles uncompressed one-channel ones with a quarter turn: the
    loader and the check either read the displayed pixels or both refuse the file, naming it."""
    rng = np.random.default_rng(orientation)
    stored = rng.integers(0, 65535 if mode == "I;16" else 256, (12, 10) if mode != "RGB" else (12, 10, 3))
    stored = stored.astype(np.uint16 if mode == "I;16" else np.uint8)
    path = tmp_path / "photo.tif"
    _save_with_orientation(stored, path, orientation, **({"compression": compression} if compression else {}))
    displayed = DISPLAYED[orientation](stored).astype(np.float32)
    expected = np.stack([displayed * (255 / 65535 if mode == "I;16" else 1)] * 3, -1) if mode != "RGB" else displayed
    entry = {"image": str(path), "label": str(tmp_path / "label.png")}
    Image.fromarray(np.zeros(displayed.shape[:2], np.uint8)).save(entry["label"])
    try:
        image = LoadImage2Dd("image")({"image": str(path)})["image"]
    except DatasetError as error:
        assert str(error).startswith(f"{path}: the image reader (Pillow") and "orientation" in str(error)
        with pytest.raises(DatasetError, match="does not apply this TIFF"):
            check_datalist([entry])
    else:
        np.testing.assert_allclose(image.numpy().transpose(2, 1, 0), expected, rtol=1e-6)
        check_datalist([entry])


@pytest.mark.parametrize("suffix", [".gif", ".tif", ".png"])
def test_an_animation_or_a_stack_is_refused_not_read_as_its_first_frame(tmp_path, suffix):
    frames = [Image.fromarray(np.full((12, 10), value, np.uint8)).convert("RGB") for value in (0, 255)]
    path = tmp_path / f"stack{suffix}"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    with pytest.raises(DatasetError, match=f"{path}: a (GIF|TIFF|PNG) of 2 frames or pages"):
        LoadImage2Dd("image")({"image": str(path)})
    with pytest.raises(DatasetError, match=f"{path}: a (GIF|TIFF|PNG) of 2 frames or pages"):
        check_datalist([{"image": str(path)}])
    with pytest.raises(DatasetError, match=f"{path}: a (GIF|TIFF|PNG) of 2 frames or pages"):
        LoadImage2Dd("label", binary_keys="label")({"label": str(path)})
