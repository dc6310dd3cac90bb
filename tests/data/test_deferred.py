"""datalist_or_empty: the datalist, or [] while the data is missing; other errors still raise."""

from __future__ import annotations

from functools import partial

import pytest

from monai_jattn.data import DatasetError, check_datalist, datalist_or_empty
from monai_jattn.datasets.drive import drive_datalist, write_drive_sample


def test_missing_data_gives_an_empty_datalist_and_the_check_names_the_folder(tmp_path):
    list_files = partial(drive_datalist, tmp_path / "DRIVE", "training")
    assert datalist_or_empty(list_files) == []
    with pytest.raises(DatasetError, match="DRIVE.*does not exist"):
        check_datalist(datalist_or_empty(list_files) or list_files())


def test_present_data_is_listed(tmp_path):
    root = write_drive_sample(tmp_path / "DRIVE", num_train=2, num_test=1, seed=0, image_size=(24, 28))
    list_files = partial(drive_datalist, root, "training")
    assert datalist_or_empty(list_files) == drive_datalist(root, "training") != []


def test_other_errors_are_not_hidden(tmp_path):
    with pytest.raises(ValueError, match="split must be one of"):
        datalist_or_empty(partial(drive_datalist, tmp_path, "validation"))
