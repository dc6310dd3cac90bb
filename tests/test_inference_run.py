"""InferenceRun: the folder claim, the unreadable files named at the end, and each readable image segmented once."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import DataLoader, Dataset
from monai.engines import SupervisedEvaluator
from monai.inferers import SimpleInferer
from PIL import Image

from monai_jattn.data import DatasetError
from monai_jattn.inference import InferenceRun
from monai_jattn.run_folders import RunFolderError
from monai_jattn.transforms import LoadImage2Dd


def _run(tmp_path, names):
    images = tmp_path / "images"
    images.mkdir(exist_ok=True)
    datalist = []
    for name in names:
        path = images / name
        if name.startswith("broken"):
            path.write_bytes(b"not an image")
        else:
            Image.fromarray(np.full((6, 5, 3), 50, np.uint8)).save(path)
        datalist.append({"image": str(path), "id": path.stem})
    dataset = Dataset(datalist, transform=LoadImage2Dd("image"))
    seen = []

    def record(item):  # the evaluator decollates: one image's data at a time
        seen.append(item["id"])
        return item

    evaluator = SupervisedEvaluator(
        device=torch.device("cpu"),
        val_data_loader=DataLoader(dataset, batch_size=1, num_workers=0),
        network=torch.nn.Identity(),
        inferer=SimpleInferer(),
        postprocessing=record,
        decollate=True,
    )
    return InferenceRun(evaluator, dataset, datalist, images, tmp_path / "out"), seen


def test_each_readable_image_is_segmented_once_and_the_unreadable_named_after(tmp_path):
    run, seen = _run(tmp_path, ["a.png", "broken1.png", "b.png", "broken2.png", "c.png"])
    with pytest.raises(DatasetError, match="2 problem\\(s\\) in the datalist: these files were skipped, the other 3"):
        run.run()
    assert seen == ["a", "b", "c"]  # not a, b, c, a, b: the evaluator's epoch follows the readable images


def test_a_second_run_into_the_same_folder_is_refused_before_reading(tmp_path):
    run, seen = _run(tmp_path, ["a.png"])
    run.run()
    again, seen_again = _run(tmp_path, ["a.png"])
    with pytest.raises(RunFolderError, match="another inference run uses this folder"):
        again.run()
    assert seen == ["a"] and seen_again == []
