"""NameFailedItems: an engine's failure names the files of the batch it was working on."""

import json
from pathlib import Path

import pytest
import torch
from ignite.engine import Engine
from monai.data import MetaTensor
from monai.handlers import StatsHandler

from monai_jattn.data import batch_files
from monai_jattn.handlers import FailedItemError, NameFailedItems

REPO = Path(__file__).resolve().parents[2]


def item(name: str) -> dict:
    return {"image": MetaTensor(torch.zeros(1, 2, 2), meta={"filename_or_obj": name}), "id": Path(name).stem}


def failing_engine(fail_on: str) -> Engine:
    def step(engine, batch):
        if fail_on in batch_files(batch):
            raise RuntimeError("can't allocate memory")

    engine = Engine(step)
    NameFailedItems().attach(engine)
    StatsHandler(iteration_log=False, epoch_log=False).attach(engine)  # MONAI's, which re-raises, after ours
    return engine


def test_the_failure_names_the_file_and_keeps_the_cause():
    batches = [[item("/data/a.tif")], [item("/data/huge.tif")], [item("/data/c.tif")]]
    named = r"^/data/huge.tif: while processing this file: RuntimeError: can't allocate memory$"
    with pytest.raises(FailedItemError, match=named) as info:
        failing_engine("/data/huge.tif").run(batches)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_batch_files_of_collated_and_decollated_batches():
    collated = {"image": MetaTensor(torch.zeros(2, 1, 2, 2), meta={"filename_or_obj": ["/d/a.tif", "/d/b.tif"]})}
    assert batch_files(collated) == ["/d/a.tif", "/d/b.tif"]
    assert batch_files([item("/d/a.tif"), item("/d/b.tif") | {"label": item("/d/b.tif")["image"]}]) == [
        "/d/a.tif",
        "/d/b.tif",
    ]
    assert batch_files(None) == [] and batch_files([{"image": torch.zeros(1)}]) == []


def test_without_file_names_the_original_error_is_raised():
    engine = Engine(lambda engine, batch: 1 / 0)
    NameFailedItems().attach(engine)
    with pytest.raises(ZeroDivisionError):
        engine.run([{"x": 1}])


@pytest.mark.parametrize("config", ["inference.json", "evaluate.json"])
@pytest.mark.parametrize(
    "bundle", ["drive_jattn_segmentation", "isic2017_jattn_segmentation", "msd_jattn_segmentation"]
)
def test_bundles_attach_it_before_the_stats_handler(bundle, config):
    """Second, after the checkpoint loader (which the zoo's tests disable as ``handlers#0``)."""
    configs = json.loads((REPO / "bundles" / bundle / "configs" / config).read_text())
    handlers = [h["_target_"] for h in configs["handlers" if config == "inference.json" else "validate#handlers"]]
    first = ["monai_jattn.handlers.CheckedCheckpointLoader", "monai_jattn.handlers.NameFailedItems", "StatsHandler"]
    assert handlers[:3] == first
