"""Loading checkpoints with errors that name the file and say what is wrong with it in words."""

from __future__ import annotations

import logging
import os
import pickle
from typing import Any

import torch
from ignite.engine import Engine
from monai.handlers import CheckpointLoader as _MonaiCheckpointLoader
from monai.utils import str2bool

__all__ = ["CheckpointError", "CheckpointLoader", "load_checkpoint", "load_pretrained"]

logger = logging.getLogger(__name__)


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: missing, empty, truncated, corrupt, unsafe, or not for this network."""


def load_checkpoint(path: str | os.PathLike, map_location: Any = None) -> Any:
    """``torch.load(path, weights_only=True)``, with a `CheckpointError` naming ``path`` and the cause in words.

    Only tensors and plain Python values are loaded (PyTorch's safe loader); a file that needs more is
    refused as unsafe. Errors are raised without PyTorch's own exception chained, whose advice to load
    with ``weights_only=False`` would run any code the file holds.

    Args:
        path: the checkpoint file.
        map_location: as for ``torch.load``.

    Raises:
        CheckpointError: the file does not exist, cannot be read, is empty, truncated, corrupt, or unsafe.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: checkpoint not found (train first, or set --ckpt_dir to its folder)")
    size = os.path.getsize(path)
    if size == 0:
        raise CheckpointError(f"{path}: the checkpoint is empty (0 bytes): the save that wrote it did not complete")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except PermissionError:
        problem = "cannot be read: permission denied"
    except Exception as e:  # PyTorch raises many types for files that are not complete checkpoints
        if isinstance(e, pickle.UnpicklingError) and "unsupported global" in str(e).lower():
            problem = (
                "unsafe: it holds Python objects other than tensors and plain values, which are never loaded "
                "(they could run code); save the model's state_dict() instead"
            )
        elif _is_zip(path):
            problem = f"truncated or damaged: its {size} bytes are not a complete PyTorch checkpoint"
        else:
            problem = "corrupt: not a PyTorch checkpoint"
    raise CheckpointError(f"{path}: the checkpoint is {problem}")


def _is_zip(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"  # PyTorch checkpoints are zip archives


class CheckpointLoader(_MonaiCheckpointLoader):
    """
    MONAI's `CheckpointLoader` whose errors name the checkpoint and the cause: a missing, empty,
    truncated, corrupt or unsafe file (see `load_checkpoint`), or one whose weights do not fit the network
    (other network settings). All arguments are `monai.handlers.CheckpointLoader`'s.

    Args:
        args, kwargs: `monai.handlers.CheckpointLoader`'s.
        max_iterations: where a saved engine is resumed, the run's iteration budget (the bundles'
            ``max_iterations``, which may end inside an epoch); a checkpoint saved after it is refused. Default:
            the engine's ``max_epochs`` x ``epoch_length``.

    Example::

        CheckpointLoader(load_path="models/model.pt", load_dict={"model": net}).attach(evaluator)
    """

    def __init__(self, *args: Any, max_iterations: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_iterations = max_iterations

    def __call__(self, engine: Engine) -> None:
        """Check the file (and that a saved engine fits this run's length), then load it into ``load_dict`` as
        MONAI's loader does."""
        checkpoint = load_checkpoint(self.load_path, self.map_location)
        for name, target in self.load_dict.items():
            if isinstance(target, Engine) and isinstance(checkpoint, dict) and isinstance(checkpoint.get(name), dict):
                _check_engine_fits(checkpoint[name], target, f"{self.load_path}", self.max_iterations)
        try:
            super().__call__(engine)
        except (RuntimeError, KeyError) as e:  # weights of other names or shapes than the network's
            raise CheckpointError(
                f"{self.load_path}: the checkpoint does not fit {', '.join(self.load_dict)} (was it saved with "
                f"other network settings?): {e}"
            ) from None


def _check_engine_fits(saved: dict, engine: Engine, path: str, max_iterations: int | None = None) -> None:
    """A resumed run continues the saved one: same iterations per epoch (the bundles' ``val_interval``) and an
    end (``max_iterations``, else ``max_epochs`` x ``epoch_length``) not before the saved iteration; Ignite's
    own refusal names neither the file nor the setting, and a budget inside the saved epoch got none."""
    saved_length, length = saved.get("epoch_length"), engine.state.epoch_length
    if saved_length is not None and length is not None and saved_length != length:
        raise CheckpointError(
            f"{path}: the run was saved with {saved_length} iterations per epoch (--val_interval {saved_length}), "
            f"this run has {length}: resume it with --val_interval {saved_length}"
        )
    iteration, end = saved.get("iteration"), max_iterations
    if end is None and length is not None and engine.state.max_epochs is not None:
        end = engine.state.max_epochs * length
    if iteration is not None and end is not None and iteration > end:
        raise CheckpointError(
            f"{path}: the run was saved at iteration {iteration}, after this run's end ({end} iterations): resume it "
            f"with --max_iterations {iteration} or more"
        )


def load_pretrained(
    network: torch.nn.Module, path: str | os.PathLike, enabled: bool | str = True, resume: bool | str = False
) -> bool:
    """Start a training run from a bundle's shipped weights (fine-tuning), where they exist and fit the network.

    The weights are a state_dict as the bundles save ``models/model.pt``. They are loaded strictly (every
    name and shape must match), so other network settings (``--network_def#attention sa``, a wider network)
    train from scratch, as the log says; the file itself is only read.

    Args:
        network: the network to initialise (a ``DistributedDataParallel`` wrapper is unwrapped).
        path: the weights, e.g. ``<bundle>/models/model.pt``.
        enabled: the bundle's ``load_pretrain``; False trains from scratch.
        resume: the bundle's ``resume``; a resumed run restores its own weights, so nothing is loaded.

    Returns:
        whether the weights were loaded.

    Raises:
        CheckpointError: the file exists but is empty, truncated, corrupt or unsafe (see `load_checkpoint`).
    """
    if not str2bool(enabled) or str2bool(resume):
        return False
    if not os.path.isfile(path):
        logger.info("no pretrained weights at %s: training from scratch", path)
        return False
    state = load_checkpoint(path, map_location="cpu")
    module = getattr(network, "module", network)
    try:
        module.load_state_dict(state, strict=True)
    except (RuntimeError, KeyError, TypeError, AttributeError) as e:
        logger.warning(
            "not starting from %s: its weights do not fit this network (other network settings); training from "
            "scratch. %s",
            path,
            " ".join(line.strip() for line in str(e).splitlines()),
        )
        return False
    logger.info("starting from the pretrained weights %s (fine-tuning; --load_pretrain False trains from scratch)", path)
    return True
