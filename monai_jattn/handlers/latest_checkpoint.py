"""Checkpoints for resuming a training run: one always-complete checkpoint of the training state under a
fixed name, and a best-model saver whose tracking of the best score can be part of that checkpoint."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import ignite.distributed as idist
import torch
from ignite.engine import Engine, Events
from ignite.handlers import DiskSaver
from monai.handlers import CheckpointSaver

from monai_jattn.atomic_write import write_atomic

__all__ = ["LatestCheckpointSaver", "ResumableCheckpointSaver"]


class LatestCheckpointSaver:
    """
    Ignite handler that saves the state of ``save_dict`` (network, optimizer, trainer, ...) to one
    file, ``save_dir/filename``, every ``save_interval`` epochs (or iterations) and when the run
    completes, replacing the previous one atomically: the file is written beside the target and
    renamed over it, so a run killed at any moment leaves the last complete checkpoint behind.
    (MONAI's `CheckpointSaver` names interval checkpoints by epoch, and ignite's `Checkpoint` deletes
    a same-named file before writing the new one.) Resume with
    ``monai.handlers.CheckpointLoader(load_path=save_dir/filename, load_dict=save_dict)``.

    `torch.nn.DataParallel` / `DistributedDataParallel` modules are saved unwrapped; in a
    distributed run only ``save_rank`` writes.

    Args:
        save_dir: folder of the checkpoint (created if needed).
        save_dict: objects with ``state_dict()`` to save, e.g.
            ``{"network": net, "optimizer": opt, "trainer": trainer}``.
        filename: name of the checkpoint file.
        save_interval: save every this many epochs (``epoch_level``) or iterations.
        epoch_level: count ``save_interval`` in epochs (True) or iterations (False).
        save_rank: the rank that writes in a distributed run.

    Example::

        LatestCheckpointSaver("models", {"network": net, "optimizer": opt, "trainer": trainer}).attach(trainer)
    """

    def __init__(
        self,
        save_dir: str | os.PathLike,
        save_dict: Mapping[str, Any],
        filename: str = "latest.pt",
        save_interval: int = 1,
        epoch_level: bool = True,
        save_rank: int = 0,
    ) -> None:
        if not save_dict:
            raise ValueError("save_dict must name at least one object to save.")
        if save_interval < 1:
            raise ValueError(f"save_interval must be a positive integer, got {save_interval}.")
        self.path = os.path.join(os.fspath(save_dir), filename)
        self.save_dict = dict(save_dict)
        self.save_interval = save_interval
        self.epoch_level = epoch_level
        self.save_rank = save_rank
        self._saved_iteration: int | None = None

    def attach(self, engine: Engine) -> None:
        """Save at every ``save_interval`` epochs/iterations and at the end of the run."""
        event = Events.EPOCH_COMPLETED if self.epoch_level else Events.ITERATION_COMPLETED
        engine.add_event_handler(event(every=self.save_interval), self)
        engine.add_event_handler(Events.COMPLETED, self)

    def __call__(self, engine: Engine) -> None:
        """Write the checkpoint unless this iteration is already saved."""
        # COMPLETED right after an interval save would write the same state a second time
        if engine.state.iteration == self._saved_iteration or idist.get_rank() != self.save_rank:
            return
        checkpoint = {name: _unwrap(obj).state_dict() for name, obj in self.save_dict.items()}
        write_atomic(self.path, lambda tmp: torch.save(checkpoint, tmp))
        self._saved_iteration = engine.state.iteration
        engine.logger.info(f"Saved the latest checkpoint (iteration {engine.state.iteration}) to {self.path}")


class ResumableCheckpointSaver(CheckpointSaver):
    """
    MONAI's `CheckpointSaver` with a ``state_dict()``, the counterpart of its ``load_state_dict()``:
    the key-metric tracking (the best scores so far and their files) can then be saved with the
    training state, e.g. by `LatestCheckpointSaver`, and restored by `CheckedCheckpointLoader` on resume,
    so that a resumed run replaces the best model (``key_metric_filename``) only with a better one.
    Every file is written atomically (`monai_jattn.atomic_write.write_atomic`): a new best model replaces the
    old one in one step, so a run killed while saving leaves the previous best model, never a
    half-written one (MONAI's saver deletes the old file, then writes the new one in place), and a
    failed save names the file and the cause. All arguments are `CheckpointSaver`'s.

    Example::

        best = ResumableCheckpointSaver("models", {"model": net}, save_key_metric=True, key_metric_filename="model.pt")
        best.attach(evaluator)
        LatestCheckpointSaver("models", {"network": net, "trainer": trainer, "best_model_saver": best}).attach(trainer)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # replace MONAI's delete-then-write savers by atomic ones, keeping their fixed file names
        for checkpoint in (self._final_checkpoint, self._key_metric_checkpoint, self._interval_checkpoint):
            if checkpoint is not None:
                checkpoint.save_handler = _AtomicDiskSaver(self.save_dir, checkpoint.save_handler.filename)

    def state_dict(self) -> dict:
        """The key-metric tracking state (empty when ``save_key_metric`` is False)."""
        if self._key_metric_checkpoint is None:
            return {}
        return dict(self._key_metric_checkpoint.state_dict())


class _AtomicDiskSaver(DiskSaver):
    """Ignite's `DiskSaver` writing with `write_atomic`, optionally under one fixed filename (as MONAI's)."""

    def __init__(self, dirname: str | os.PathLike, filename: str | None = None) -> None:
        super().__init__(dirname=dirname, require_empty=False, atomic=True)
        self.filename = filename

    def __call__(self, checkpoint: Mapping, filename: str, metadata: Mapping | None = None) -> None:
        super().__call__(checkpoint, self.filename or filename, metadata)  # a fixed name wins over Ignite's

    def _save_func(self, checkpoint: Mapping, path: Path, func: Callable) -> None:
        write_atomic(path, lambda tmp: func(checkpoint, tmp, **self.kwargs))

    def remove(self, filename: str) -> None:
        if self.filename is None:  # a fixed file is replaced by the next save, never deleted first
            super().remove(filename)


def _unwrap(obj: Any) -> Any:
    if isinstance(obj, (torch.nn.DataParallel, torch.nn.parallel.DistributedDataParallel)):
        return obj.module
    return obj
