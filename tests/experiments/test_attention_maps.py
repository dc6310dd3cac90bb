"""The attention-maps command on a tiny DenseUNet-JA and a generated DRIVE image."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from monai.bundle import ConfigParser

from monai_jattn.datasets.drive import write_drive_sample
from monai_jattn.experiments.__main__ import main
from monai_jattn.experiments.attention_maps import attention_maps, draw_attention_maps, window_origin
from monai_jattn.experiments.bundle_runs import find_bundle
from monai_jattn.networks import DenseUNet

TINY = {
    "init_features": 8,
    "growth_rate": 4,
    "block_layers": [1, 1, 1],
    "decoder_features": [8, 8],
    "pwa_hidden_channels": 8,
}


def tiny_ja(**more):
    torch.manual_seed(0)
    return DenseUNet(
        spatial_dims=2, in_channels=1, out_channels=2, attention="ja", sa_init_scale=0.5, **TINY, **more
    ).eval()


def test_maps_are_the_modules_own_maps_at_image_size():
    network = tiny_ja()
    image = torch.rand(1, 30, 22)  # (C, W, H), not a multiple of the size divisor 4: padded inside the network
    maps = attention_maps(network, image, [(0, 0), (29, 21), (13, 9)])
    assert maps.feature_size == (8, 6) and maps.pwa.shape == (30, 22) and maps.sa.shape == (3, 30, 22)
    # what the bottleneck's joint attention received, computed by hand
    with torch.no_grad():
        x = network.stem(F.pad(image[None], [0, 2, 0, 2], mode="replicate"))
        for stage in network.encoder[:-1]:
            x = stage(x)
        x = network.encoder[-1].dense(network.encoder[-1].transition(x))
        ja = network.encoder[-1].attention
        pwa_map = ja.pwa.attention_map(x)
        z = x + ja.pwa(x)  # JA-9: the SA sees x + P(x)
    expected_pwa = F.interpolate(pwa_map, size=(32, 24), mode="bilinear", align_corners=False)[0, 0, :30, :22]
    torch.testing.assert_close(torch.as_tensor(maps.pwa), expected_pwa)
    weights = ja.sa.attention_weights(z, [(0, 0), (7, 5), (3, 2)])[0].mean(0)  # pixel // stride 4
    torch.testing.assert_close(torch.as_tensor(maps.sa[:, ::4, ::4]), weights)
    assert maps.sa[2].max() == pytest.approx(float(weights[2].max()))


def test_networks_without_one_kind_of_attention():
    image = torch.rand(1, 16, 16)
    torch.manual_seed(0)
    sa_only = DenseUNet(spatial_dims=2, in_channels=1, attention="sa", **TINY).eval()
    maps = attention_maps(sa_only, image, [(1, 1)])
    assert maps.pwa is None and maps.sa.shape == (1, 16, 16)
    pwa_only = DenseUNet(spatial_dims=2, in_channels=1, attention="pwa", **TINY).eval()
    maps = attention_maps(pwa_only, image, [(1, 1)])
    assert maps.sa is None and maps.pwa.shape == (16, 16)
    with pytest.raises(ValueError, match="no PointWiseAttention or SelfAttention"):
        attention_maps(DenseUNet(spatial_dims=2, in_channels=1, attention="none", **TINY), image, [(1, 1)])
    with pytest.raises(ValueError, match=r"points \[\(16, 0\)\] lie outside"):
        attention_maps(pwa_only, image, [(16, 0)])


def test_command_draws_a_png_from_a_bundle_checkpoint(tmp_path):
    root = write_drive_sample(tmp_path / "DRIVE", num_train=0, num_test=1, image_size=(60, 76))
    bundle = find_bundle("drive")
    overrides = {f"network_def#{k}": v for k, v in TINY.items()}
    parser = ConfigParser()
    parser.read_config(bundle / "configs" / "train.json")
    parser.update(overrides)
    torch.save(parser.get_parsed_content("network_def").state_dict(), tmp_path / "model.pt")
    out = tmp_path / "maps" / "attention.png"
    args = [
        "attention-maps",
        "--checkpoint",
        str(tmp_path / "model.pt"),
        "--image",
        str(root / "test/images/01_test.tif"),
    ]
    tiny = ["--network_overrides", str(TINY).replace("'", '"')]
    main([*args, "--out", str(out), "--points", "10,20", "70,50", *tiny])
    data = out.read_bytes()
    assert data[:4] == b"\x89PNG" and len(data) < 1_000_000
    windowed = tmp_path / "window.png"
    main([*args, "--out", str(windowed), "--points", "10,20", "30,40", "--window", "32", "32", *tiny])
    assert windowed.read_bytes()[:4] == b"\x89PNG"
    maps = draw_attention_maps(  # the network sees only the 32 x 32 window around the points (origin (4, 14))
        tmp_path / "model.pt",
        root / "test/images/01_test.tif",
        windowed,
        bundle,
        [(10, 20), (30, 40)],
        overrides,
        (32, 32),
    )
    assert maps.points == [(6, 6), (26, 26)] and maps.pwa.shape == (32, 32) and maps.sa.shape == (2, 32, 32)
    with pytest.raises(RuntimeError, match="model.pt: the weights do not fit"):
        main([*args, "--out", str(out)])  # the paper-sized network_def: the tiny weights do not fit
    with pytest.raises(SystemExit):
        main([*args, "--points", "10;20"])


def test_window_is_placed_around_the_points_inside_the_image():
    assert window_origin((565, 584), (128, 128), [(100, 200), (150, 260)]) == (61, 166)
    assert window_origin((565, 584), (128, 128), [(5, 580)]) == (0, 456)  # moved inside the image
    with pytest.raises(ValueError, match="do not fit one window"):
        window_origin((565, 584), (128, 128), [(10, 10), (300, 10)])
    with pytest.raises(ValueError, match="must fit the image"):
        window_origin((60, 76), (128, 128), [(10, 10)])


def test_importing_the_figure_modules_leaves_the_matplotlib_backend_alone():
    """The figures are drawn on `matplotlib.figure.Figure`: importing the modules that draw them does not switch
    the backend of a user's session (a notebook's inline backend stays)."""
    import subprocess
    import sys

    code = (
        "import matplotlib; matplotlib.use('svg'); "
        "import monai_jattn.experiments.figures, monai_jattn.experiments.attention_maps, "
        "monai_jattn.experiments.attention_memory; "
        "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
