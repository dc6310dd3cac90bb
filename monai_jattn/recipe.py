"""The training recipe every bundle shares, as the components its configs name: the trainer's handlers, and the
steps of a training, an evaluation and an inference run (run folders, lock, starting weights, resume,
checkpoints, iteration budget, time limit, final validation; one process or one per GPU). A bundle's configs
hold what differs between datasets: data, transforms, network, loss, metrics."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

import torch
from ignite.engine import Engine
from ignite.handlers import ProgressBar
from monai.handlers import StatsHandler, TensorBoardStatsHandler, from_engine
from monai.utils import str2bool

from monai_jattn.distributed import barrier, is_main_process
from monai_jattn.handlers.checkpoint_loader import CheckedCheckpointLoader, load_pretrained
from monai_jattn.handlers.iteration_budget import IterationBudget
from monai_jattn.handlers.latest_checkpoint import LatestCheckpointSaver
from monai_jattn.handlers.nan_loss import StopOnNanLoss
from monai_jattn.handlers.training_curve import TrainingCurveSaver
from monai_jattn.run_folders import RunFolderError, prepare_evaluation, prepare_training

__all__ = ["EvaluationRun", "TrainingMonitor", "TrainingRun", "check_ckpt_dir"]


class TrainingMonitor:
    """
    Ignite handler that attaches the handlers every bundle's trainer shares besides its ``ValidationHandler``
    (which stays in the bundle's ``train#handlers`` list, where MONAI's bundle properties look for it):

    - `StopOnNanLoss`: a NaN or infinite loss ends the run with an error;
    - in the main process only: the loss in the log (MONAI's ``StatsHandler``) and in TensorBoard under
      ``output_dir`` (``TensorBoardStatsHandler``), and Ignite's progress bar;
    - in every process: `TrainingCurveSaver`, ``training_curve.json/.png`` in ``output_dir`` (written by rank 0).

    A change to these handlers is one edit here for every bundle; a bundle adds its own handlers to its
    ``train#handlers`` list (the fast recipe adds MONAI's ``LrScheduleHandler`` with ``+train#handlers``).

    Args:
        output_dir: the bundle's ``output_dir``.
        validator: the bundle's ``validate#evaluator``, whose metric the training curve records.
        main_process: False in the other processes of a multi-GPU run.

    Example::

        SupervisedTrainer(..., train_handlers=[TrainingMonitor("eval", evaluator), ValidationHandler(...)])
    """

    def __init__(self, output_dir: str | os.PathLike, validator: Engine | None = None, main_process: bool = True):
        self.handlers: list = [StopOnNanLoss()]
        if main_process:
            loss = from_engine(["loss"], first=True)
            self.handlers += [
                StatsHandler(tag_name="train_loss", output_transform=loss),
                TensorBoardStatsHandler(log_dir=str(output_dir), tag_name="train_loss", output_transform=loss),
                ProgressBar(persist=True),
            ]
        self.handlers.append(TrainingCurveSaver(output_dir=str(output_dir), validator=validator))

    def attach(self, engine: Engine) -> None:
        """Attach every handler to the trainer ``engine``."""
        for handler in self.handlers:
            handler.attach(engine)


class TrainingRun:
    """
    The ``run`` of every bundle's ``train.json``: ``"run": ["$@datalist_check", "$@train#runner.run()"]``.

    `run` (in this order)

    1. refuses a ``ckpt_dir`` that would move or replace weights it must not touch (`check_ckpt_dir`): the
       bundle's ``models/`` folder, which holds the shipped ``models/model.pt``, and the folder of the
       ``pretrained_path`` this run starts from;
    2. with ``load_pretrain``, starts from ``pretrained_path``, or stops with an error naming the file and what
       is wrong when it cannot be used (missing, unreadable, another network's), unless ``pretrained_optional``
       (`monai_jattn.handlers.load_pretrained`); before any folder is touched;
    3. in the main process, makes ``ckpt_dir`` and ``output_dir`` ready and locks ``ckpt_dir``
       (`monai_jattn.run_folders.prepare_training`: ``resume``/``overwrite`` rules, earlier runs moved aside,
       never deleted); the other processes of a multi-GPU run wait for it and log warnings only;
    4. with ``resume``, restores ``resume_state`` from ``ckpt_dir/latest.pt`` when the trainer starts;
    5. saves ``resume_state`` to ``ckpt_dir/latest.pt`` after every epoch (`LatestCheckpointSaver`);
    6. ends the training at ``max_iterations`` or ``time_limit``, validated (`IterationBudget`);
    7. runs the trainer.

    Args:
        trainer: the bundle's ``train#trainer``.
        network: the network the trainer trains (``DistributedDataParallel`` is unwrapped to load weights).
        resume_state: objects to save and restore by name, e.g. network, optimizer, trainer, best-model saver.
        ckpt_dir: the bundle's ``ckpt_dir``.
        output_dir: the bundle's ``output_dir``.
        max_iterations: the training's iteration budget.
        val_interval: iterations between validations.
        validator: the bundle's ``validate#evaluator``, run once more when training stops between
            validations; None: no final validation.
        time_limit: seconds after which training stops (single process only), or None.
        resume: continue the run in ``ckpt_dir`` (bool or a string ``str2bool`` reads).
        overwrite: move an earlier run's checkpoints aside and start over.
        load_pretrain: start from ``pretrained_path`` (fine-tuning).
        pretrained_path: the weights to start from: the bundle's shipped ``models/model.pt``, another
            ``model.pt``, or a training checkpoint such as ``latest.pt`` (its network weights).
        latest_name: the file name of the checkpoint that is resumed from.
        pretrained_optional: weights at ``pretrained_path`` that cannot be used give a warning and a training
            from scratch instead of an error.
        bundle_root: the bundle's folder, whose ``models/`` (the shipped weights) is never a ``ckpt_dir``;
            None: not checked.
    """

    def __init__(
        self,
        trainer: Engine,
        network: torch.nn.Module,
        resume_state: Mapping,
        ckpt_dir: str | os.PathLike,
        output_dir: str | os.PathLike,
        max_iterations: int,
        val_interval: int,
        validator: Engine | None = None,
        time_limit: float | None = None,
        resume: bool | str = False,
        overwrite: bool | str = False,
        load_pretrain: bool | str = False,
        pretrained_path: str | os.PathLike | None = None,
        latest_name: str = "latest.pt",
        pretrained_optional: bool | str = False,
        bundle_root: str | os.PathLike | None = None,
    ) -> None:
        self.trainer = trainer
        self.network = network
        self.resume_state = resume_state
        self.ckpt_dir = ckpt_dir
        self.output_dir = output_dir
        self.validator = validator
        self.budget = IterationBudget(max_iterations, val_interval, validator, time_limit)
        self.resume = str2bool(resume)
        self.overwrite = str2bool(overwrite)
        self.load_pretrain = str2bool(load_pretrain)
        self.pretrained_path = pretrained_path
        self.latest_name = latest_name
        self.pretrained_optional = str2bool(pretrained_optional)
        self.bundle_root = bundle_root

    def run(self) -> None:
        """Prepare the run folders, load the starting weights, attach the checkpoints and the budget, train."""
        self.budget.check()  # before any folder is touched
        check_ckpt_dir(
            self.ckpt_dir, self.bundle_root, self.pretrained_path if self.load_pretrain and not self.resume else None
        )
        if self.pretrained_path is not None:  # weights that cannot be used stop the run before a folder is touched
            load_pretrained(
                self.network, self.pretrained_path, self.load_pretrain, self.resume, self.pretrained_optional
            )
        if is_main_process():
            prepare_training(self.ckpt_dir, self.output_dir, self.resume, self.overwrite, self.latest_name)
        barrier()
        _quiet_unless_main(self.trainer, self.validator)
        if self.resume:
            CheckedCheckpointLoader(
                load_path=os.path.join(self.ckpt_dir, self.latest_name),
                load_dict=dict(self.resume_state),
                map_location=self.trainer.state.device,
                max_iterations=self.budget.max_iterations,
            ).attach(self.trainer)
        LatestCheckpointSaver(save_dir=self.ckpt_dir, save_dict=dict(self.resume_state)).attach(self.trainer)
        self.budget.attach(self.trainer)
        self.trainer.run()


def check_ckpt_dir(
    ckpt_dir: str | os.PathLike,
    bundle_root: str | os.PathLike | None = None,
    pretrained_path: str | os.PathLike | None = None,
) -> None:
    """Refuse a training ``ckpt_dir`` whose checkpoints would move or replace weights the run must not touch.

    A training run writes ``model.pt`` and ``latest.pt`` to ``ckpt_dir`` and, with ``--overwrite True``, moves an
    earlier run's checkpoints there aside. So ``ckpt_dir`` may be neither

    - the bundle's ``models/`` folder: its ``model.pt`` is the shipped model that evaluation and inference use
      by default, which no training replaces (to make a trained model the default, copy it there by hand);
    - the folder that holds ``pretrained_path``, the weights this run starts from.

    Args:
        ckpt_dir: the bundle's ``ckpt_dir``.
        bundle_root: the bundle's folder; None: its ``models/`` is not checked.
        pretrained_path: the weights the run starts from; None when it loads none.

    Raises:
        RunFolderError: naming ``ckpt_dir``, the file it would replace and a ``--ckpt_dir`` to use instead.
    """
    ckpt = Path(ckpt_dir).resolve()
    if bundle_root is not None and ckpt == (Path(bundle_root) / "models").resolve():
        shipped = Path(bundle_root) / "models" / "model.pt"
        raise RunFolderError(
            f"ckpt_dir {ckpt_dir} is the bundle's models folder, which holds the shipped weights {shipped} that "
            "evaluation and inference use by default: a training run never writes there (its model.pt would "
            f"replace them, --overwrite True would move them aside). Train into another folder, e.g. --ckpt_dir "
            f"{Path(bundle_root) / 'models' / 'finetuned'} (the default is models/trained); to make the trained "
            f"model the bundle's default afterwards, copy it yourself: cp <ckpt_dir>/model.pt {shipped}"
        )
    if pretrained_path is not None and ckpt == Path(pretrained_path).resolve().parent:
        raise RunFolderError(
            f"ckpt_dir {ckpt_dir} holds the pretrained weights {pretrained_path} this run starts from: the run's "
            "checkpoints would replace them or move them aside. Train into another folder, e.g. --ckpt_dir "
            f"{Path(ckpt_dir) / 'finetuned'}"
        )


class EvaluationRun:
    """
    The ``run`` of every bundle's ``evaluate.json``: the main process makes ``output_dir`` ready
    (`monai_jattn.run_folders.prepare_evaluation`: an earlier evaluation's reports are moved aside), the other
    processes of a multi-GPU run wait for it and log warnings only, then every process runs the evaluator.

    Args:
        evaluator: the bundle's ``validate#evaluator``.
        output_dir: the bundle's ``output_dir``.
    """

    def __init__(self, evaluator: Engine, output_dir: str | os.PathLike) -> None:
        self.evaluator = evaluator
        self.output_dir = output_dir

    def run(self) -> None:
        """Prepare ``output_dir`` and evaluate."""
        if is_main_process():
            prepare_evaluation(self.output_dir)
        barrier()
        _quiet_unless_main(self.evaluator)
        self.evaluator.run()


def _quiet_unless_main(*engines: Engine | None) -> None:
    """In the other processes of a multi-GPU run, the engines log warnings and errors only."""
    if not is_main_process():
        for engine in engines:
            if engine is not None:
                engine.logger.setLevel(logging.WARNING)
