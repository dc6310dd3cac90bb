"""Device-aware measurement primitives: wall time, peak tensor memory and forward FLOPs of a call.

Both CPU and CUDA are supported:

* time: ``time.perf_counter`` on CPU; CUDA events around the call on CUDA (the caller warms up first).
  `time_calls` and `median_seconds` are the one median timer of the harness: warm-up calls, then timed
  rounds that visit every call in a rotated order, so machine noise falls on all of them alike.
* peak memory: the largest amount of tensor memory the call allocates *above what was live before it*
  (so parameters, ``.grad`` buffers kept alive and optimizer state allocated in warm-up do not count).
  On CUDA this is ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats`` minus
  ``memory_allocated`` before the call. On CPU PyTorch keeps no allocator statistics, and
  ``tracemalloc`` cannot see torch allocations, so the call runs once under ``torch.profiler`` with
  ``profile_memory=True`` and the peak is the running sum of the recorded allocation and free events.
  This isolates one call in-process (no subprocess per measurement) at the price of one slower,
  profiled call.
* FLOPs: ``torch.utils.flop_counter.FlopCounterMode`` on a forward pass with parameters and input on
  the ``meta`` device (nothing is computed), with ``scaled_dot_product_attention`` forced onto its
  math path so that attention's matrix products are counted on every device.
"""

from __future__ import annotations

import copy
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.profiler import ProfilerActivity, profile
from torch.utils.flop_counter import FlopCounterMode

__all__ = [
    "Timing",
    "time_call",
    "time_calls",
    "median_seconds",
    "peak_memory_bytes",
    "forward_flops",
    "synchronize",
]


def synchronize(device: torch.device) -> None:
    """Wait for all queued work on ``device`` (a no-op on CPU).

    Args:
        device: the device that ran the work.
    """
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_call(fn: Callable[[], object], device: torch.device) -> float:
    """Seconds one call of ``fn`` takes on ``device``.

    Args:
        fn: the work to time, called once without arguments.
        device: where ``fn`` runs; on CUDA the call is bracketed by CUDA events and the result is
            the GPU time between them, on CPU it is wall time.

    Example:
        >>> seconds = time_call(lambda: torch.ones(8) @ torch.ones(8), torch.device("cpu"))
    """
    if device.type == "cuda":
        synchronize(device)
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1000.0
    begin = time.perf_counter()
    fn()
    return time.perf_counter() - begin


class Timing(NamedTuple):
    """The timed runs of one call: their median and every sample, in seconds."""

    median: float
    samples: list[float]


def time_calls(
    calls: Mapping[str, Callable[[], object]],
    device: torch.device,
    repeats: int,
    warmup: int = 1,
    on_sample: Callable[[], object] | None = None,
) -> dict[str, Timing]:
    """Warm every call up, then time ``repeats`` rounds, each visiting every call once in a rotated order.

    Args:
        calls: name -> the work to time, called without arguments.
        device: where the calls run (see `time_call`).
        repeats: timed runs of each call.
        warmup: untimed runs of each call before the first timed one.
        on_sample: called after each timed run (e.g. a progress bar's ``update``).

    Returns:
        name -> `Timing` of its ``repeats`` runs.

    Example:
        >>> timings = time_calls({"sum": lambda: torch.ones(64).sum()}, torch.device("cpu"), repeats=3)
        >>> len(timings["sum"].samples)
        3
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}.")
    for call in calls.values():
        for _ in range(warmup):
            call()
    names = list(calls)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(time_call(calls[name], device))
            if on_sample is not None:
                on_sample()
    return {name: Timing(statistics.median(times), times) for name, times in samples.items()}


def median_seconds(fn: Callable[[], object], device: torch.device, repeats: int, warmup: int = 1) -> float:
    """Median seconds of ``repeats`` timed calls of ``fn`` after ``warmup`` untimed ones (`time_calls` of one call).

    Args:
        fn: the work to time, called without arguments.
        device: where ``fn`` runs (see `time_call`).
        repeats: timed calls.
        warmup: untimed calls before them.
    """
    return time_calls({"call": fn}, device, repeats, warmup)["call"].median


def peak_memory_bytes(fn: Callable[[], object], device: torch.device) -> int:
    """Peak tensor memory, in bytes, that one call of ``fn`` allocates above what was live before it.

    Args:
        fn: the work to measure, called once without arguments.
        device: where ``fn`` allocates its tensors (``cpu`` or ``cuda``).

    Raises:
        ValueError: for a device type other than ``cpu`` and ``cuda``.
    """
    if device.type == "cuda":
        synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        fn()
        synchronize(device)
        return max(torch.cuda.max_memory_allocated(device) - before, 0)
    if device.type != "cpu":
        raise ValueError(f"peak memory is measured on 'cpu' or 'cuda', not {device.type!r}.")
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = [
        event
        for event in prof.profiler.kineto_results.events()
        if event.name() == "[memory]" and event.device_type() == torch.autograd.DeviceType.CPU
    ]
    current = peak = 0
    for event in sorted(events, key=lambda event: event.start_ns()):
        current += event.nbytes()
        peak = max(peak, current)
    return peak


def forward_flops(model: torch.nn.Module, input_shape: Sequence[int]) -> int:
    """Floating-point operations of one forward pass of ``model`` on an input of ``input_shape``.

    The model is copied to the ``meta`` device, so nothing is computed and ``model`` is unchanged.
    A multiply-add counts as two operations (the convention of ``torch.utils.flop_counter``).

    Args:
        model: the network.
        input_shape: full input shape including batch and channel, e.g. ``(1, 3, 584, 565)``.

    Example:
        >>> forward_flops(torch.nn.Conv2d(3, 8, 3), (1, 3, 32, 32))
        388800
    """
    meta_model = copy.deepcopy(model).to_empty(device="meta").eval()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), counter:
        meta_model(torch.empty(tuple(input_shape), device="meta"))
    return int(counter.get_total_flops())
