"""TrainingRun (monai_jattn.recipe) on a toy trainer: the folders it refuses, the resume's budget and which
process logs."""

from __future__ import annotations

import logging

import pytest
import torch
from ignite.engine import Engine

import monai_jattn.recipe as recipe
from monai_jattn.handlers import CheckpointError
from monai_jattn.recipe import TrainingRun
from monai_jattn.run_folders import RunFolderError
from monai_jattn.run_lock import release_locks


class ToyTrainer(Engine):
    """Runs epochs of ``val_interval`` iterations, as the bundles' trainers run (``run()`` without arguments)."""

    def __init__(self, max_iterations: int, val_interval: int) -> None:
        super().__init__(lambda engine, batch: None)
        self.val_interval, self.max_epochs = val_interval, -(-max_iterations // val_interval)
        self.state.device = "cpu"

    def run(self) -> None:  # type: ignore[override]
        try:
            super().run(range(self.val_interval), max_epochs=self.max_epochs)
        finally:
            release_locks()  # as the bundles' finalize does


@pytest.fixture(autouse=True)
def _release_locks():
    yield
    release_locks()


def training_run(tmp_path, max_iterations=4, val_interval=2, **settings) -> TrainingRun:
    trainer = ToyTrainer(max_iterations, val_interval)
    settings = {"ckpt_dir": tmp_path / "models" / "trained", "output_dir": tmp_path / "eval", **settings}
    return TrainingRun(
        trainer, torch.nn.Linear(2, 2), {"trainer": trainer}, max_iterations=max_iterations, val_interval=val_interval,
        **settings,
    )  # fmt: skip


@pytest.fixture
def bundle(tmp_path):
    """A bundle folder whose models/model.pt is the shipped weights (of the toy network)."""
    (tmp_path / "models").mkdir()
    torch.save(torch.nn.Linear(2, 2).state_dict(), tmp_path / "models" / "model.pt")
    return tmp_path


@pytest.mark.parametrize("overwrite", [False, True])
def test_the_bundle_models_folder_is_never_a_ckpt_dir(bundle, overwrite):
    """Issue 28 S7: --ckpt_dir models --overwrite True moved the shipped weights aside, then trained from scratch
    into the file inference uses by default."""
    shipped = bundle / "models" / "model.pt"
    before = shipped.read_bytes()
    fine_tune = {"load_pretrain": True, "pretrained_path": shipped}
    for ckpt_dir in (bundle / "models", bundle / "models" / ".." / "models"):
        run = training_run(bundle, ckpt_dir=ckpt_dir, bundle_root=bundle, overwrite=overwrite, **fine_tune)
        with pytest.raises(RunFolderError, match=r"is the bundle's models folder.*--ckpt_dir .*models/finetuned"):
            run.run()
    assert shipped.read_bytes() == before and sorted(p.name for p in (bundle / "models").iterdir()) == ["model.pt"]
    run = training_run(bundle, ckpt_dir=bundle / "models", bundle_root=bundle, load_pretrain=False)
    with pytest.raises(RunFolderError, match="is the bundle's models folder"):  # also from scratch
        run.run()


def test_the_folder_of_the_pretrained_weights_is_never_a_ckpt_dir(tmp_path):
    weights = tmp_path / "mine" / "model.pt"
    weights.parent.mkdir()
    torch.save(torch.nn.Linear(2, 2).state_dict(), weights)
    before = weights.read_bytes()
    run = training_run(tmp_path, ckpt_dir=weights.parent, overwrite=True, load_pretrain=True, pretrained_path=weights)
    with pytest.raises(RunFolderError, match=f"holds the pretrained weights {weights}.*--ckpt_dir .*finetuned"):
        run.run()
    assert weights.read_bytes() == before and sorted(p.name for p in weights.parent.iterdir()) == ["model.pt"]
    # a fine-tune into another folder starts from them and leaves them as they are
    run = training_run(tmp_path, ckpt_dir=tmp_path / "finetuned", load_pretrain=True, pretrained_path=weights)
    run.run()
    assert weights.read_bytes() == before and (tmp_path / "finetuned" / "latest.pt").is_file()


def test_a_missing_pretrained_file_stops_the_run_before_any_folder_is_touched(tmp_path, caplog):
    """Issue 28 S6: a typo in --pretrained_path trained from scratch; with --overwrite True it also moved the
    earlier run's checkpoints aside first."""
    typo = tmp_path / "modles" / "model.pt"
    earlier = tmp_path / "models" / "trained" / "model.pt"
    earlier.parent.mkdir(parents=True)
    torch.save(torch.nn.Linear(2, 2).state_dict(), earlier)
    with pytest.raises(CheckpointError, match=f"{typo}: no pretrained weights there.*--load_pretrain False"):
        training_run(tmp_path, load_pretrain=True, pretrained_path=typo, overwrite=True).run()
    assert [p.name for p in earlier.parent.iterdir()] == ["model.pt"]
    with caplog.at_level(logging.WARNING):  # from scratch is fine
        run = training_run(tmp_path, load_pretrain=True, pretrained_path=typo, pretrained_optional=True, overwrite=True)
        run.run()
    assert "training from scratch" in caplog.text and (earlier.parent / "latest.pt").is_file()


def test_a_resume_keeps_the_runs_budget(tmp_path):
    """Issue 18 U6 through the recipe: --max_iterations 5 --val_interval 2 ends inside the third epoch; a run saved
    at iteration 6 is refused (the resume's loader gets max_iterations; the epochs alone end at 6)."""
    training_run(tmp_path, max_iterations=6).run()
    with pytest.raises(CheckpointError, match=r"saved at iteration 6, after this run's end \(5 iterations\)"):
        training_run(tmp_path, max_iterations=5, resume=True).run()
    release_locks()
    run = training_run(tmp_path, max_iterations=8, resume=True)
    run.run()
    assert run.trainer.state.iteration == 8


@pytest.mark.parametrize("main_process", [True, False])
def test_only_the_other_processes_are_quieted(tmp_path, monkeypatch, caplog, main_process):
    """A single-process run (the main process) keeps its engines' INFO logs (epochs, best metric); the other
    processes of a multi-GPU run log warnings only."""
    monkeypatch.setattr(recipe, "is_main_process", lambda: main_process)
    monkeypatch.setattr(recipe, "prepare_training", lambda *args: None)  # rank 0's work
    validator = Engine(lambda engine, batch: None)
    run = training_run(tmp_path, validator=validator)
    with caplog.at_level(logging.INFO):
        run.run()
    quiet = logging.WARNING if not main_process else logging.NOTSET
    assert run.trainer.logger.level == quiet and validator.logger.level == quiet
    assert ("Engine run starting" in caplog.text) is main_process
