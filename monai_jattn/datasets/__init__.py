"""Datasets as plug-ins: one module per dataset, each registered here once (see `registry`)."""

from .registry import DatasetSpec, SampleOption, dataset_datalist, dataset_names, get_dataset, register_dataset

__all__ = ["DatasetSpec", "SampleOption", "dataset_datalist", "dataset_names", "get_dataset", "register_dataset"]

# one line per dataset (import its module and register its spec) goes below
from . import msd

register_dataset(msd.SPEC)
