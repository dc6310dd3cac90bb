"""The process group of a bundle's multi-GPU configs (`torchrun`): one process per GPU (nccl), or per CPU
process (gloo) where there is no GPU."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch
import torch.distributed as dist
from monai.data import partition_dataset

__all__ = ["barrier", "destroy_process_group", "init_process_group", "is_main_process", "local_device", "rank_share"]


def local_device() -> torch.device:
    """This process's device: the GPU of its ``LOCAL_RANK`` (its index on its node), or the CPU."""
    if torch.cuda.is_available():
        return torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}")
    return torch.device("cpu")


def init_process_group() -> None:
    """Join the process group `torchrun` describes (nccl on GPUs, gloo on the CPU) and select this
    process's GPU; nothing where the group exists already."""
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    if torch.cuda.is_available():
        torch.cuda.set_device(local_device())


def destroy_process_group() -> None:
    """Leave the process group, if there is one, once every process has come this far: a process that tears
    down its gloo connections while another still uses them can abort ("terminate called without an active
    exception")."""
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def is_main_process() -> bool:
    """True in rank 0 of a process group, and in a run without one."""
    return not dist.is_initialized() or dist.get_rank() == 0


def barrier() -> None:
    """Wait for every process of the group (nothing without one)."""
    if dist.is_initialized():
        dist.barrier()


def rank_share(data: Sequence[Any], seed: int = 0) -> list[Any]:
    """This process's share of ``data``: the same shuffled partition in every process (``seed``), of equal sizes
    (items repeated where ``len(data)`` is not a multiple of the number of processes)."""
    if not dist.is_initialized():
        return list(data)
    shares = partition_dataset(data, num_partitions=dist.get_world_size(), shuffle=True, seed=seed, even_divisible=True)
    return shares[dist.get_rank()]
