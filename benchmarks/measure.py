"""Timing and peak-memory measurement.

Times: the median over ``repeats`` of the mean time of a batch of calls, after a warm-up call
(which also triggers ``jax.jit`` / ``torch.compile`` compilation). The batch size is chosen so a
batch lasts at least ``min_batch_s``: tiny inputs run hundreds of calls per batch, large ones one.

Peak memory, what it measures:

- NumPy and Dask: ``tracemalloc`` peak during one call (NumPy reports its data buffers to
  tracemalloc), inputs excluded since they exist before tracing starts.
- torch CPU: torch has no CPU peak counter, so we run one call under ``torch.profiler`` with
  ``profile_memory=True`` and take the peak of the running sum of every op's *self* bytes
  (allocations minus frees, children excluded) in op start order: an estimate of the peak bytes
  live at once that the call allocated (inputs excluded; autograd's saved tensors included).
- JAX: XLA's compile-time ``memory_analysis()`` of the jitted function: temporaries plus output
  (``temp_size_in_bytes + output_size_in_bytes``), inputs excluded.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

__all__ = ["jax_peak_bytes", "median_time", "torch_peak_bytes", "tracemalloc_peak_bytes"]


def median_time(
    fn: Callable[[], Any], *, repeats: int = 5, min_batch_s: float = 0.01, warmup: int = 1
) -> float:
    """Median seconds per call of ``fn`` (which must block until its result is ready)."""
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    fn()
    first = max(time.perf_counter() - start, 1e-7)
    number = max(1, int(min_batch_s / first))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def tracemalloc_peak_bytes(fn: Callable[[], Any]) -> int:
    """Peak bytes traced by ``tracemalloc`` while ``fn`` runs (its result is dropped first)."""
    already = tracemalloc.is_tracing()
    if not already:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    out = fn()
    del out
    peak = tracemalloc.get_traced_memory()[1]
    if not already:
        tracemalloc.stop()
    return max(0, peak - base)


def torch_peak_bytes(fn: Callable[[], Any]) -> int:
    """Estimated peak CPU bytes allocated by ``fn`` (see the module docstring)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        out = fn()
        del out
    events = sorted(prof.events(), key=lambda e: e.time_range.start)
    current = peak = 0
    for event in events:
        own = event.cpu_memory_usage - sum(c.cpu_memory_usage for c in event.cpu_children)
        current += own
        peak = max(peak, current)
    return peak


def jax_peak_bytes(jitted: Any, *args: Any) -> int | None:
    """XLA's temporaries + output bytes for ``jitted(*args)``; None where XLA does not say."""
    try:
        stats = jitted.lower(*args).compile().memory_analysis()
    except Exception:  # memory_analysis is not implemented on every XLA backend
        return None
    if stats is None:
        return None
    return int(stats.temp_size_in_bytes + stats.output_size_in_bytes)
