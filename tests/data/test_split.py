"""split_train_val: seeded, deterministic, disjoint and complete."""

import pytest

from monai_jattn.data import split_train_val

DATALIST = [{"image": f"{i:02d}.tif", "id": str(i)} for i in range(20)]


def test_split_is_disjoint_complete_and_sized():
    train, val = split_train_val(DATALIST, val_fraction=0.2, seed=0)
    assert len(train) == 16 and len(val) == 4
    assert sorted(e["id"] for e in train + val) == sorted(e["id"] for e in DATALIST)


def test_same_seed_same_split_other_seed_other_split():
    assert split_train_val(DATALIST, 0.2, seed=3) == split_train_val(DATALIST, 0.2, seed=3)
    assert split_train_val(DATALIST, 0.2, seed=3)[1] != split_train_val(DATALIST, 0.2, seed=4)[1]


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1])
def test_bad_fraction(fraction):
    with pytest.raises(ValueError, match="val_fraction must be in"):
        split_train_val(DATALIST, fraction)


def test_too_few_entries():
    with pytest.raises(ValueError, match="cannot split 2 entries"):
        split_train_val(DATALIST[:2], 0.2)


def test_no_data_yet_gives_two_empty_parts():
    assert split_train_val([], 0.2) == ([], [])


@pytest.mark.parametrize("key", ["id", "image"])
def test_an_entry_listed_twice_is_refused(key):
    """Issue 28 S9: a repeated entry could land in both parts (validation would score a training image)."""
    datalist = [{k: v for k, v in e.items() if k == "image" or key == "id"} for e in DATALIST]
    datalist.append(dict(datalist[7]))
    with pytest.raises(ValueError, match=f"lists {datalist[7][key]} more than once"):
        split_train_val(datalist, 0.2, seed=0)
