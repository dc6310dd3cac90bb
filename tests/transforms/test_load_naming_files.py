"""LoadImageNamingFilesd: MONAI's LoadImaged, with read errors that name the file."""

import nibabel as nib
import numpy as np
import pytest
import torch
from monai.transforms import LoadImaged

from monai_jattn.data import DatasetError
from monai_jattn.transforms import LoadImageNamingFilesd


def test_loads_as_monai_and_names_a_truncated_file(tmp_path):
    volume = np.random.RandomState(0).rand(12, 10, 6).astype(np.float32)
    good, cut = tmp_path / "good.nii.gz", tmp_path / "cut.nii.gz"
    nib.save(nib.Nifti1Image(volume, np.diag([0.8, 0.8, 2.0, 1.0])), good)
    cut.write_bytes(good.read_bytes()[: good.stat().st_size * 6 // 10])  # a readable header, a truncated body
    ours = LoadImageNamingFilesd(["image", "label"], reader="NibabelReader", image_only=True)
    theirs = LoadImaged(["image", "label"], reader="NibabelReader", image_only=True)
    loaded, expected = ours({"image": str(good), "label": str(good)}), theirs({"image": str(good), "label": str(good)})
    torch.testing.assert_close(loaded["image"].as_tensor(), expected["image"].as_tensor())
    assert torch.equal(loaded["image"].affine, expected["image"].affine)
    with pytest.raises(DatasetError, match=f"^{cut}: cannot read the file \\(EOFError") as info:
        ours({"image": str(good), "label": str(cut)})
    assert isinstance(info.value.__cause__, EOFError)
