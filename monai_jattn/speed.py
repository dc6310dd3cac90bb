"""The bundles' speed settings (precision, memory format, compilation, backend flags), checked and
resolved in one place so that a setting the device cannot honour is logged, never silently dropped."""

from __future__ import annotations

import logging
import shutil

import torch

from monai_jattn.setting_checks import check_device

__all__ = ["resolve_speed_settings"]

logger = logging.getLogger(__name__)

_AMP_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16}


def resolve_speed_settings(
    device: str | torch.device,
    amp: bool = False,
    amp_dtype: str = "bfloat16",
    channels_last: bool = False,
    compile: bool = False,
    cuda_graph: bool = False,
    tf32: bool = True,
    cudnn_benchmark: bool = True,
) -> dict:
    """
    Check the speed settings against the device, set the global backend flags, log the result and
    return the arguments for MONAI's ``SupervisedTrainer``/``SupervisedEvaluator``.

    Args:
        device: the training device.
        amp: autocast the forward pass: on CUDA through MONAI's engines (``amp``/``amp_kwargs``), on
            the CPU through :py:class:`monai_jattn.inferers.AutocastInferer` (``cpu_autocast``), in
            bfloat16 only.
        amp_dtype: ``"bfloat16"`` (no loss scaling needed) or ``"float16"`` (CUDA only; MONAI adds a
            GradScaler).
        channels_last: keep the network's 2D weights and activations in channels-last order.
        compile: compile the network with ``torch.compile`` (needs a C compiler for the CPU backend,
            Triton for CUDA); logged and switched off where torch cannot compile.
        cuda_graph: with ``compile``, ``mode="reduce-overhead"``: the compiled forward and backward
            run as CUDA graphs. CUDA only; logged and ignored elsewhere.
        tf32: allow TensorFloat-32 matrix multiplications and convolutions on CUDA (float32 inputs,
            10-bit mantissa products, float32 accumulation).
        cudnn_benchmark: let cuDNN pick the fastest convolution algorithms for the fixed patch size.

    Returns:
        ``{"amp": bool, "amp_kwargs": dict, "cpu_autocast": bool, "compile": bool,
        "compile_kwargs": dict, "memory_format": torch.memory_format}``: ``amp`` and ``amp_kwargs``
        for MONAI's engines (CUDA), ``cpu_autocast`` for ``AutocastInferer`` (bfloat16).

    Raises:
        SettingError: for a device this machine does not have (see `monai_jattn.setting_checks.check_device`).
        ValueError: for an unknown ``amp_dtype``.
    """
    device = check_device(device)
    if amp_dtype not in _AMP_DTYPES:
        raise ValueError(f"amp_dtype must be one of {sorted(_AMP_DTYPES)}, got {amp_dtype!r}.")
    cuda = device.type == "cuda"
    cpu_autocast = amp and device.type == "cpu"
    if cpu_autocast and amp_dtype != "bfloat16":
        logger.warning(f"amp_dtype={amp_dtype} is not used on the CPU: autocast runs in bfloat16 there.")
        amp_dtype = "bfloat16"
    if amp and not cuda and not cpu_autocast:
        logger.warning(f"amp=True is ignored on {device}: autocast is wired for CUDA and the CPU only; float32.")
        amp = False
    if cuda_graph and not cuda:
        logger.warning(f"cuda_graph=True is ignored on {device}: CUDA graphs need a CUDA device.")
        cuda_graph = False
    if cuda_graph and not compile:
        logger.warning("cuda_graph=True needs compile=True (torch.compile mode 'reduce-overhead'); compiling.")
        compile = True
    if compile:
        reason = _cannot_compile(device)
        if reason:
            logger.warning(f"compile=True is switched off: {reason}. Training runs eagerly.")
            compile = cuda_graph = False
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = bool(tf32)
        torch.backends.cudnn.allow_tf32 = bool(tf32)
        torch.backends.cudnn.benchmark = bool(cudnn_benchmark)
    settings = {
        "amp": bool(amp and cuda),
        "amp_kwargs": {"dtype": _AMP_DTYPES[amp_dtype]} if amp and cuda else {},
        "cpu_autocast": bool(cpu_autocast),
        "compile": bool(compile),
        "compile_kwargs": {"mode": "reduce-overhead"} if cuda_graph else {},
        "memory_format": torch.channels_last if channels_last else torch.contiguous_format,
    }
    precision = f"autocast {amp_dtype}" if amp else ("float32, TF32 matmuls" if cuda and tf32 else "float32")
    logger.info(
        f"Training on {device}: {precision}, channels_last={bool(channels_last)}, compile={bool(compile)}"
        f"{' (CUDA graphs)' if cuda_graph else ''}" + (f", cudnn.benchmark={bool(cudnn_benchmark)}" if cuda else "")
    )
    return settings


def _cannot_compile(device: torch.device) -> str:
    """Why torch.compile cannot work on ``device`` here, or "" where it can."""
    import torch._dynamo  # heavy: imported only when compiling is asked for

    if not torch._dynamo.is_dynamo_supported():
        return f"torch.compile is not supported by this Python/torch ({torch.__version__})"
    if device.type == "cuda":
        from torch.utils._triton import has_triton

        return "" if has_triton() else "Triton is not installed, so torch cannot compile for CUDA"
    if device.type == "cpu" and not any(shutil.which(cc) for cc in ("cc", "gcc", "clang", "g++")):
        return "no C/C++ compiler found for torch's CPU backend"
    return ""
