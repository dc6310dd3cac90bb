"""What the 2D bundles' ``train.json`` feeds the network, checked against independent references: the labels
move with their images under ``train#augmentation`` (same flips, turns and angles; nearest-neighbour, so
they stay binary), and DRIVE's patches are centred inside the field of view."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from bundle_helpers import configs, run_settings
from monai.bundle import ConfigWorkflow
from PIL import Image

from monai_jattn.datasets.drive import write_drive_sample

BUNDLES = ("drive_jattn_segmentation", "isic2017_jattn_segmentation")


def blocky_labels(batch: int, side: int, block: int, seed: int) -> torch.Tensor:
    """Binary labels of random ``block``-pixel squares: shapes whose edges are a small part of the area."""
    coarse = torch.from_numpy(np.random.RandomState(seed).rand(batch, 1, side // block, side // block) > 0.5)
    return coarse.float().repeat_interleave(block, 2).repeat_interleave(block, 3)


@pytest.mark.parametrize("bundle", BUNDLES)
def test_augmentation_moves_labels_with_their_images(bundle, tmp_path):
    """Image channels that equal the label before ``train#augmentation``: afterwards each image, thresholded
    half way between its two grey levels, still agrees with its label on >= 95% of the pixels (a label
    turned, flipped or rotated differently from its image agrees on far fewer), and labels stay 0/1 (a
    bilinear label rotation gives fractions)."""
    workflow = ConfigWorkflow(
        config_file=str(configs(bundle) / "train.json"),
        workflow_type=None,
        **run_settings(configs(bundle), tmp_path, tmp_path, patch_size=[64, 64], seed=0),
    )
    augmentation = workflow.parser.get_parsed_content("train#augmentation").set_random_state(0)
    label = blocky_labels(48, 64, 8, seed=1)
    image = 0.2 + 0.6 * label.repeat(1, 3, 1, 1)
    moved = 0
    for _ in range(2):
        out = augmentation({"image": image.clone(), "label": label.clone()})
        assert set(out["label"].unique().tolist()) <= {0.0, 1.0}, "labels are no longer binary"
        for i in range(len(label)):
            sample = out["image"][i, 0]
            middle = (sample.amax() + sample.amin()) / 2
            agreement = ((sample > middle).float() == out["label"][i, 0]).float().mean().item()
            assert agreement >= 0.95, f"sample {i}: the label agrees with its image on {agreement:.1%} of pixels"
            moved += not torch.equal(out["label"][i], label[i])
    assert moved > len(label), "the augmentation hardly moved anything: the check above proved nothing"


def test_drive_patches_are_centred_in_the_field_of_view(tmp_path):
    """The DRIVE bundle's ``train#dataloader`` on images whose FOV is a 6x6 square in one corner and whose
    vessels fill exactly that square: every 16x16 patch holds vessels. Patches centred anywhere would miss
    the corner most of the time (1 in 10 or so)."""
    root = write_drive_sample(tmp_path / "DRIVE", num_train=4, num_test=1, seed=0, image_size=(48, 48))
    square = np.zeros((48, 48), dtype=np.uint8)
    square[:6, :6] = 255
    for stem in ("21", "22", "23", "24"):
        Image.fromarray(square).save(root / "training" / "mask" / f"{stem}_training_mask.gif")
        Image.fromarray(square).save(root / "training" / "1st_manual" / f"{stem}_manual1.gif")
    bundle = configs("drive_jattn_segmentation")
    workflow = ConfigWorkflow(
        config_file=str(bundle / "train.json"),
        workflow_type=None,
        **run_settings(bundle, root, tmp_path, patch_size=[16, 16], val_fraction=0.25, batch_size=4, seed=0),
    )
    loader = workflow.parser.get_parsed_content("train#dataloader")
    patches = [batch["label"] for _, batch in zip(range(10), loader)]
    vessel_pixels = torch.cat(patches).flatten(1).sum(1)
    assert len(vessel_pixels) == 40 and bool(torch.all(vessel_pixels > 0)), vessel_pixels.tolist()
