from __future__ import annotations

import torch
from monai.bundle import ConfigParser

from monai_jattn.networks import DenseUNet, DenseUNetJA

SMALL = {"init_features": 8, "growth_rate": 4, "block_layers": [1, 1, 2], "decoder_features": [8, 8]}


def test_dense_unet_from_bundle_config_with_overrides():
    parser = ConfigParser(
        {
            "network_def": {
                "_target_": "monai_jattn.networks.DenseUNet",
                "spatial_dims": 2,
                "in_channels": 1,
                "out_channels": 2,
                "attention": "ja",
                "ja_variant": 9,
                **SMALL,
            }
        }
    )
    parser["network_def#attention"] = "SA"  # as `--network_def#attention SA` on the command line would
    net = parser.get_parsed_content("network_def")
    assert isinstance(net, DenseUNet) and net.attention == "sa"
    assert net(torch.randn(1, 1, 17, 19)).shape == (1, 2, 17, 19)


def test_dense_unet_ja_from_bundle_config():
    config = {"network_def": {"_target_": "monai_jattn.networks.DenseUNetJA", "in_channels": 1, **SMALL}}
    parser = ConfigParser(config)
    parser["network_def#ja_variant"] = "ja7"
    net = parser.get_parsed_content("network_def")
    assert isinstance(net, DenseUNetJA) and net.encoder[-1].attention.variant == 7
