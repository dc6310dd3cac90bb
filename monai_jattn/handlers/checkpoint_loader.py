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

__all__ = [
    "CheckedCheckpointLoader",
    "CheckpointError",
    "describe_fit",
    "load_checkpoint",
    "load_pretrained",
    "model_weights",
]

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
    # raised outside the except blocks, so that PyTorch's error (which advises weights_only=False) is not chained
    raise CheckpointError(f"{path}: the checkpoint is {problem}")


def _is_zip(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"  # PyTorch checkpoints are zip archives


class CheckedCheckpointLoader(_MonaiCheckpointLoader):
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

        CheckedCheckpointLoader(load_path="models/model.pt", load_dict={"model": net}).attach(evaluator)
    """

    def __init__(self, *args: Any, max_iterations: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_iterations = max_iterations

    def __call__(self, engine: Engine) -> None:
        """Check the file (and that a saved engine fits this run's length), then load it into ``load_dict`` as
        MONAI's loader does."""
        # read here for the checks and the error messages; MONAI's loader below reads the file again
        checkpoint = load_checkpoint(self.load_path, self.map_location)
        for name, target in self.load_dict.items():
            # a saved trainer must fit this run before Ignite restores it (Ignite's refusal names no file)
            if isinstance(target, Engine) and isinstance(checkpoint, dict) and isinstance(checkpoint.get(name), dict):
                _check_engine_fits(checkpoint[name], target, f"{self.load_path}", self.max_iterations)
        try:
            super().__call__(engine)
        except (RuntimeError, KeyError) as e:  # weights of other names or shapes than the network's
            cause: Any = e
            name, target = next(iter(self.load_dict.items()))
            if len(self.load_dict) == 1 and isinstance(target, torch.nn.Module) and isinstance(checkpoint, dict):
                # a bare state_dict, or the network's entry of a full training checkpoint
                state = checkpoint if all(torch.is_tensor(v) for v in checkpoint.values()) else checkpoint.get(name)
                if isinstance(state, dict):  # say which tensors fit
                    cause = describe_fit(getattr(target, "module", target), state, e)
            raise CheckpointError(
                f"{self.load_path}: the checkpoint does not fit {', '.join(self.load_dict)} (was it saved with "
                f"other network settings?): {cause}"
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


PRETRAINED_ADVICE = (
    "fix --pretrained_path, or train from scratch with --load_pretrain False (--pretrained_optional True starts "
    "from scratch only where the weights cannot be used)"
)
"""How to go on when the pretrained weights cannot be used, for `load_pretrained`'s errors."""

MODEL_KEYS = ("network", "model")
"""The names under which a training checkpoint holds the network's weights: ``latest.pt`` (the bundles'
``resume_state``) saves them as ``network``, MONAI's savers of one object as ``model``."""


def _listed(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return f"{shown} and {len(names) - limit} more" if len(names) > limit else shown


def model_weights(checkpoint: Any, path: str | os.PathLike) -> tuple[dict, str | None]:
    """The network weights a checkpoint holds: the checkpoint itself where it is a ``state_dict`` (as the
    bundles save ``model.pt``), else its ``network`` or ``model`` entry (a full training checkpoint such as
    ``latest.pt``, which also holds the optimizer's and the trainer's state).

    Args:
        checkpoint: what `load_checkpoint` read.
        path: the file, for the message.

    Returns:
        ``(state_dict, entry)``: ``entry`` is the name of the checkpoint's entry that held the weights, or None.

    Raises:
        CheckpointError: the file holds no network weights, naming what it holds.
    """
    if isinstance(checkpoint, dict) and checkpoint and all(torch.is_tensor(v) for v in checkpoint.values()):
        return checkpoint, None
    if isinstance(checkpoint, dict):
        for key in MODEL_KEYS:
            entry = checkpoint.get(key)
            if isinstance(entry, dict) and entry and all(torch.is_tensor(v) for v in entry.values()):
                return entry, key
        holds = f"entries {_listed(sorted(map(str, checkpoint)))}" if checkpoint else "nothing"
    else:
        holds = f"a {type(checkpoint).__name__}"
    raise CheckpointError(
        f"{path}: holds {holds}, not a network's weights (a state_dict such as a bundle's model.pt, or a training "
        f"checkpoint with a {' or '.join(repr(k) for k in MODEL_KEYS)} entry such as latest.pt)"
    )


def describe_fit(module: torch.nn.Module, state: dict, error: BaseException | None = None) -> str:
    """In words, which of ``module``'s tensors ``state`` has with the same shape, and which it lacks, has in other
    shapes, or has in addition (e.g. another attention's modules).

    Args:
        module: the network.
        state: the weights meant for it.
        error: the error loading them raised, added where every name and shape fits (e.g. the DenseUNet's
            refusal of weights of another attention structure).
    """
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    shapes = [
        f"{k} ({tuple(state[k].shape)} in the file, {tuple(own[k].shape)} in the network)"
        for k in own
        if k in state and tuple(getattr(state[k], "shape", ())) != tuple(own[k].shape)
    ]
    parts = [f"{len(own) - len(missing) - len(shapes)} of the network's {len(own)} tensors fit"]
    if len(parts) == 1 and not (missing or shapes or extra) and error is not None:  # e.g. the network's own check
        parts.append(" ".join(line.strip() for line in str(error).splitlines()))
    if missing:
        parts.append(f"{len(missing)} are not in the file: {_listed(missing)}")
    if shapes:
        parts.append(f"{len(shapes)} have other shapes: {_listed(shapes, 3)}")
    if extra:
        parts.append(f"the file has {len(extra)} the network has not: {_listed(extra)}")
    return "; ".join(parts)


def load_pretrained(
    network: torch.nn.Module,
    path: str | os.PathLike,
    enabled: bool | str = True,
    resume: bool | str = False,
    optional: bool | str = False,
) -> bool:
    """Start a training run from pretrained weights (fine-tuning), e.g. a bundle's shipped ``models/model.pt``.

    The weights (a state_dict, or the weights entry of a training checkpoint, see `model_weights`) are loaded
    strictly, all or nothing; the file is only read. Weights that cannot be used (missing, damaged, or another
    network's, e.g. another ``--network_def#attention``) raise a `CheckpointError` that lists which tensors fit,
    or, with ``optional``, are logged as a warning and the run trains from scratch (docs/bundles.md, "Fine-tuning").

    Args:
        network: the network to initialise (a ``DistributedDataParallel`` wrapper is unwrapped).
        path: the weights, e.g. ``<bundle>/models/model.pt`` (the bundle's ``pretrained_path``).
        enabled: the bundle's ``load_pretrain``; False trains from scratch and reads nothing.
        resume: the bundle's ``resume``; a resumed run restores its own weights, so nothing is loaded.
        optional: the bundle's ``pretrained_optional``: weights that cannot be used give a warning and a
            training from scratch instead of an error.

    Returns:
        whether the weights were loaded.

    Raises:
        CheckpointError: the weights cannot be used and ``optional`` is off.
    """
    if not str2bool(enabled) or str2bool(resume):
        return False
    module = getattr(network, "module", network)  # unwrap DistributedDataParallel
    try:
        if not os.path.isfile(path):
            raise CheckpointError(f"{path}: no pretrained weights there (pretrained_path)")
        state, entry = model_weights(load_checkpoint(path, map_location="cpu"), path)
        before = {k: v.detach().clone() for k, v in module.state_dict().items()}
        try:
            module.load_state_dict(state, strict=True)
        except (RuntimeError, KeyError, TypeError, AttributeError) as error:
            module.load_state_dict(before)  # PyTorch copies the tensors that fit before it raises for the others
            raise CheckpointError(
                f"{path}: its weights do not fit this network (saved with other network settings, e.g. another "
                f"--network_def#attention or width): {describe_fit(module, state, error)}"
            ) from None
    except CheckpointError as e:
        if not str2bool(optional):
            raise CheckpointError(f"{e}. Fine-tuning stops here: {PRETRAINED_ADVICE}") from None
        logger.warning("not starting from the pretrained weights: %s. pretrained_optional: training from scratch", e)
        return False
    what = f"the {entry!r} weights of the training checkpoint {path}" if entry else f"the pretrained weights {path}"
    logger.info(
        "starting from %s: all %d tensors loaded (fine-tuning; --load_pretrain False trains from scratch)",
        what,
        len(state),
    )
    return True
