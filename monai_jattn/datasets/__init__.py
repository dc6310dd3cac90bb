"""Datasets as plug-ins: one module per dataset, each registered here once (see `registry`)."""

from importlib import import_module

from .folder import image_folder_datalist
from .registry import (
    DatasetSpec,
    SampleOption,
    dataset_datalist,
    dataset_names,
    dataset_train_val,
    get_dataset,
    register_dataset,
)

__all__ = [
    "DatasetSpec",
    "SampleOption",
    "dataset_datalist",
    "dataset_names",
    "dataset_train_val",
    "get_dataset",
    "image_folder_datalist",
    "register_dataset",
]

# the registry: one line per dataset, importing its module and registering its spec
register_dataset(import_module(".drive", __name__).SPEC)
register_dataset(import_module(".isic2017", __name__).SPEC)
register_dataset(import_module(".chasedb1", __name__).SPEC)
register_dataset(import_module(".msd", __name__).SPEC)
