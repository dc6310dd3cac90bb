"""Checks of a run's folders before it starts, so that no run destroys an earlier one's results unless asked,
two runs never write to the same checkpoints, and an unwritable folder fails at once, not after an hour.

The bundles call `prepare_training`, `prepare_evaluation` and `check_writable` first thing in ``initialize``; every
inference run starts with `claim_inference_folder`.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import socket
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from monai.utils import str2bool

from monai_jattn.atomic_write import WriteError, describe_write_error
from monai_jattn.run_lock import RunLock

__all__ = [
    "RunFolderError",
    "check_inference_folders",
    "claim_inference_folder",
    "check_writable",
    "move_aside",
    "prepare_evaluation",
    "prepare_training",
    "remove_temporary_files",
]

logger = logging.getLogger(__name__)

CHECKPOINT_PATTERNS = ("*.pt", "*.pth", "*.ts")
"""The files of a ckpt_dir that a fresh training run would replace."""

TRAINING_OUTPUTS = ("training_curve.json", "training_curve.png")
"""What a training run writes to its output_dir under fixed names; a fresh run moves an earlier run's aside."""

INFERENCE_CLAIM = ".inference_run"
"""The file an inference run creates first in its ``output_dir`` (exclusively): it marks the folder as used, so that
a second run, at the same time or later, is refused instead of mixing its outputs with this one's."""

TRACKING_ENTRIES = ("mlruns.db", "mlruns", "config_[0-9]*_[0-9]*.json")
"""What MONAI's experiment tracking (``--tracking mlflow``) writes into ``output_dir`` when the workflow is built,
before the run starts (its SQLite store, its artifacts and the executed config): not inference outputs, so they do
not make `claim_inference_folder` call the folder used. MLflow adds to its store, never replacing a file."""

EVALUATION_OUTPUTS = ("predictions", "metrics.md", "metrics_summary.json", "metrics_per_image.csv")
"""What an evaluation writes to its output_dir; an earlier evaluation's are moved aside before a new one."""


class RunFolderError(RuntimeError):
    """A run cannot start with these folders and settings. The message names the folder and how to go on."""


def check_writable(folder: str | os.PathLike, setting: str) -> Path:
    """Create ``folder`` if needed and write a probe file in it, so that a run fails at its start, not at its
    first save.

    Args:
        folder: the folder.
        setting: the bundle setting (config id) that names it, for the message, e.g. ``"ckpt_dir"``.

    Raises:
        WriteError: naming the setting, the folder and the cause (read-only, no space left, ...).
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder) as probe:
            probe.write(b"probe")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as e:
        cause = describe_write_error(e, folder if folder.is_dir() else folder.parent)
        raise WriteError(f"{setting} {folder}: cannot write there: {cause}") from None
    return folder


def check_inference_folders(dataset_dir: str | os.PathLike, output_dir: str | os.PathLike) -> Path:
    """Refuse an inference whose outputs would land among its inputs, then check ``output_dir`` as
    `check_writable` does.

    Inference lists every image under ``dataset_dir`` (recursively) and writes ``<id>_prob.png``,
    ``<id>_mask.png`` and ``<id>_overlay.png``: into ``dataset_dir`` they could replace a file of the user's
    (e.g. a label ``a_mask.png`` beside ``a.tif``), and inside it the next run would segment its own outputs.

    Args:
        dataset_dir: the bundle's ``dataset_dir`` (the images).
        output_dir: the bundle's ``output_dir``.

    Returns:
        ``output_dir``, created if needed.

    Raises:
        RunFolderError: ``output_dir`` is ``dataset_dir`` or a folder inside it, naming both.
        WriteError: ``output_dir`` is not writable.
    """
    images, outputs = Path(dataset_dir).resolve(), Path(output_dir).resolve()
    if outputs == images or images in outputs.parents:
        raise RunFolderError(
            f"output_dir {output_dir} is {'the' if outputs == images else 'inside the'} dataset_dir {dataset_dir}: "
            "the predictions would be written among the images (replacing any file of the same name, and read "
            "as images by the next run); choose an --output_dir outside the dataset_dir"
        )
    return check_writable(output_dir, "output_dir")


def claim_inference_folder(output_dir: str | os.PathLike, dataset_dir: str | os.PathLike | None = None) -> Path:
    """Make ``output_dir`` this inference run's own, before any image is read: it must be new or empty, and it is
    claimed atomically, so that no earlier result or file of the user's is replaced and two runs never mix.

    1. with ``dataset_dir``, `check_inference_folders` (never the ``dataset_dir`` or inside it); the folder is
       created if needed and must be writable (`check_writable`);
    2. a folder that holds anything (files, folders, hidden files, an earlier run's `INFERENCE_CLAIM`) is refused,
       except what this run's experiment tracking wrote when the workflow was built (`TRACKING_ENTRIES`);
    3. `INFERENCE_CLAIM` is created with exclusive creation: if another run created it first, this one is
       refused; if something else appeared meanwhile, the claim just made is removed and the run refused.

    The claim stays after the run: the folder holds that run's outputs, and the next run needs another folder.

    Args:
        output_dir: the bundle's ``output_dir``.
        dataset_dir: the folder whose images are segmented, which ``output_dir`` must stay out of; None where the
            outputs cannot be mistaken for inputs (MSD: the images are the files ``dataset.json`` lists).

    Returns:
        ``output_dir``, created if needed, holding only `INFERENCE_CLAIM` (and `TRACKING_ENTRIES`).

    Raises:
        RunFolderError: ``output_dir`` is (inside) ``dataset_dir``, holds anything, or another run claimed it;
            the message names the folder (and one entry) and says to give a new or empty ``--output_dir``.
        WriteError: ``output_dir`` is not writable.
    """
    if dataset_dir is not None:
        folder = check_inference_folders(dataset_dir, output_dir)
    else:
        folder = check_writable(output_dir, "output_dir")
    _refuse_if_used(folder)
    claim = folder / INFERENCE_CLAIM
    try:
        with open(claim, "x", encoding="utf-8") as f:
            f.write(f"inference run: process {os.getpid()} on {socket.gethostname()}, started {_utc_now()}\n")
    except FileExistsError:
        raise RunFolderError(_used_message(folder, [claim])) from None
    except OSError as e:
        raise WriteError(f"output_dir {folder}: cannot write there: {describe_write_error(e, folder)}") from None
    others = [p for p in _entries(folder) if p.name != INFERENCE_CLAIM]
    if others:  # something arrived between the check and the claim
        claim.unlink(missing_ok=True)
        raise RunFolderError(_used_message(folder, others))
    return folder


def _entries(folder: Path) -> list[Path]:
    """What ``folder`` holds, sorted, without the experiment tracking's entries (`TRACKING_ENTRIES`)."""
    return sorted(p for p in folder.iterdir() if not any(fnmatch.fnmatchcase(p.name, t) for t in TRACKING_ENTRIES))


def _refuse_if_used(folder: Path) -> None:
    entries = _entries(folder)
    if entries:
        raise RunFolderError(_used_message(folder, entries))


def _used_message(folder: Path, entries: Sequence[Path]) -> str:
    if [p.name for p in entries] == [INFERENCE_CLAIM]:
        return (
            f"output_dir {folder}: another inference run uses this folder (or used it: {INFERENCE_CLAIM} is there); "
            "inference writes only into a new or empty folder, so that no earlier result is replaced and two runs "
            "never mix: give a new or empty --output_dir"
        )
    return (
        f"output_dir {folder} is not empty: it holds {len(entries)} entr{'y' if len(entries) == 1 else 'ies'} "
        f"(e.g. {entries[0].name!r}); inference writes only into a new or empty folder, so that no earlier result "
        "or file of yours is replaced: give a new or empty --output_dir"
    )


def _utc_now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())


def remove_temporary_files(folder: str | os.PathLike) -> list[Path]:
    """Remove the hidden temporary files (``.<name>.<random><suffix>``) that `monai_jattn.atomic_write.write_atomic`
    leaves when a process is killed while writing, e.g. ``.latest.pt.x1y2z3.pt``. Each removal is logged.

    Args:
        folder: the folder to clean (not recursive); a folder that does not exist is fine.

    Returns:
        the files removed.
    """
    folder = Path(folder)
    removed = []
    if folder.is_dir():
        for pattern in CHECKPOINT_PATTERNS:
            for path in folder.glob(f".*{pattern[1:]}.*{pattern[1:]}"):
                if path.is_file():
                    path.unlink()
                    logger.warning("removed %s, left by a save that was interrupted", path)
                    removed.append(path)
    return removed


def move_aside(paths: Sequence[Path], folder: str | os.PathLike, reason: str) -> Path | None:
    """Move ``paths`` into a new sub-folder ``replaced-<UTC time>`` of ``folder``; nothing is deleted.

    Args:
        paths: files or folders inside ``folder``; those that do not exist are ignored.
        folder: the folder that holds them.
        reason: why, for the log line.

    Returns:
        the sub-folder, or None when there was nothing to move.
    """
    paths = [Path(p) for p in paths if Path(p).exists()]
    if not paths:
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    target = Path(folder) / f"replaced-{stamp}"
    suffix = 1
    while target.exists():
        target, suffix = Path(folder) / f"replaced-{stamp}-{suffix}", suffix + 1
    target.mkdir(parents=True)
    for path in paths:
        os.replace(path, target / path.name)
    logger.warning("%s: moved %s to %s", reason, ", ".join(p.name for p in paths), target)
    return target


def prepare_training(
    ckpt_dir: str | os.PathLike,
    output_dir: str | os.PathLike,
    resume: bool | str = False,
    overwrite: bool | str = False,
    latest_name: str = "latest.pt",
) -> RunLock:
    """Make ``ckpt_dir`` ready for a training run and lock it for this process.

    - ``ckpt_dir`` and ``output_dir`` must be writable;
    - another live run holding ``ckpt_dir`` stops this one (`monai_jattn.run_lock.RunLockError`); a crashed
      run's lock is taken over;
    - temporary files left by an interrupted save are removed;
    - a fresh run (``resume`` False) into a ckpt_dir that holds checkpoints stops with an error naming them,
      unless ``overwrite`` is True: then they are moved aside into ``ckpt_dir/replaced-<UTC time>/``;
    - a fresh run moves an earlier run's training curve (`TRAINING_OUTPUTS`) in ``output_dir`` aside into
      ``output_dir/replaced-<UTC time>/``, so that runs sharing an ``output_dir`` never overwrite each other's;
    - ``resume`` True needs ``ckpt_dir/latest_name``.

    Args:
        ckpt_dir: the bundle's ``ckpt_dir``.
        output_dir: the bundle's ``output_dir``.
        resume: the bundle's ``resume`` (bool, or a string such as ``"True"``).
        overwrite: the bundle's ``overwrite``.
        latest_name: the name of the checkpoint that ``resume`` continues from.

    Returns:
        the lock, held until `RunLock.release` or the end of the process.

    Raises:
        RunFolderError: checkpoints exist and neither ``resume`` nor ``overwrite`` is set; both are set; or
            ``resume`` is set and there is no checkpoint to continue from.
        WriteError: a folder is not writable.
    """
    resume, overwrite = str2bool(resume), str2bool(overwrite)
    if resume and overwrite:
        raise RunFolderError("resume and overwrite are both True: choose one (continue, or start over)")
    ckpt_dir = check_writable(ckpt_dir, "ckpt_dir")
    check_writable(output_dir, "output_dir")
    lock = RunLock(ckpt_dir, "ckpt_dir").acquire()
    try:
        remove_temporary_files(ckpt_dir)
        existing = sorted(p for pattern in CHECKPOINT_PATTERNS for p in ckpt_dir.glob(pattern) if p.is_file())
        latest = ckpt_dir / latest_name
        if resume and not latest.is_file():
            raise RunFolderError(
                f"resume is True but {latest} does not exist: there is no run to continue; start a fresh run "
                "without --resume True"
            )
        if existing and not resume:
            if not overwrite:
                raise RunFolderError(
                    f"ckpt_dir {ckpt_dir} already holds checkpoints of an earlier run: "
                    f"{', '.join(p.name for p in existing)}. A fresh run would replace them. Add --resume True to "
                    "continue that run, --overwrite True to start over (the old files are moved to "
                    f"{ckpt_dir}/replaced-<time>/, not deleted), or choose another --ckpt_dir"
                )
            move_aside(existing, ckpt_dir, "overwrite is True")
        if not resume:  # an earlier run's curve in a shared output_dir is kept, not overwritten
            output_dir = Path(output_dir)
            move_aside([output_dir / name for name in TRAINING_OUTPUTS], output_dir, "a fresh training run")
    except BaseException:
        lock.release()
        raise
    return lock


def prepare_evaluation(output_dir: str | os.PathLike, outputs: Sequence[str] = EVALUATION_OUTPUTS) -> Path:
    """Make ``output_dir`` ready for an evaluation: writable, and without an earlier evaluation's predictions
    and metrics (moved aside into ``output_dir/replaced-<UTC time>/``), so that the predictions folder and the
    metrics files hold this evaluation's results only, also after an interrupted one.

    Args:
        output_dir: the bundle's ``output_dir``.
        outputs: names of the evaluation's files and folders in ``output_dir``.

    Raises:
        WriteError: ``output_dir`` is not writable.
    """
    output_dir = check_writable(output_dir, "output_dir")
    move_aside([output_dir / name for name in outputs], output_dir, "a new evaluation starts")
    return output_dir
