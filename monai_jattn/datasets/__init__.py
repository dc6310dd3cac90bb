"""Datasets as plug-ins: one module per dataset, each registered here once (see `registry`)."""

from .registry import DatasetSpec, SampleOption, dataset_datalist, dataset_names, get_dataset, register_dataset

__all__ = ["DatasetSpec", "SampleOption", "dataset_datalist", "dataset_names", "get_dataset", "register_dataset"]

# one line per dataset (import its module and register its spec) goes below
from . import drive  # noqa: E402

register_dataset(drive.SPEC)
from . import isic2017  # noqa: E402

register_dataset(isic2017.SPEC)
