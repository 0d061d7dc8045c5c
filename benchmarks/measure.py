"""Timing and peak-memory measurement.

Times: the median over ``repeats`` of the mean time of a batch of calls, after a warm-up call
(which also triggers ``jax.jit`` / ``torch.compile`` compilation). The batch size is chosen so a
batch lasts at least ``min_batch_s``: tiny inputs run hundreds of calls per batch, large ones one.
A ratio (ours / peer) comes from :func:`paired_median_times`, which alternates the two
functions' batches: on a shared machine whose speed drifts over seconds, timing one function's
batches and then the other's moved single ratios by 2-4x between runs.

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
import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

__all__ = [
    "PeakRss",
    "jax_peak_bytes",
    "median_time",
    "paired_median_times",
    "rss_anon",
    "rss_peak_bytes",
    "torch_peak_bytes",
    "tracemalloc_peak_bytes",
]


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


def paired_median_times(
    first: Callable[[], Any],
    second: Callable[[], Any],
    *,
    repeats: int = 5,
    min_batch_s: float = 0.01,
    warmup: int = 1,
) -> tuple[float, float]:
    """Median seconds per call of ``first`` and of ``second``, their batches interleaved.

    Each repeat times one batch of each, in alternating order (``first`` leads on even
    repeats), so both see the same machine; 2 repeats at least per function.
    """
    numbers = []
    for fn in (first, second):
        for _ in range(warmup):
            fn()
        start = time.perf_counter()
        fn()
        numbers.append(max(1, int(min_batch_s / max(time.perf_counter() - start, 1e-7))))
    samples: tuple[list[float], list[float]] = ([], [])
    for repeat in range(max(repeats, 2)):
        order = (0, 1) if repeat % 2 == 0 else (1, 0)
        for which in order:
            fn, number = (first, second)[which], numbers[which]
            start = time.perf_counter()
            for _ in range(number):
                fn()
            samples[which].append((time.perf_counter() - start) / number)
    return statistics.median(samples[0]), statistics.median(samples[1])


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


def rss_anon() -> int:
    """This process's anonymous resident memory (``RssAnon``; 0 where /proc does not say)."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


class PeakRss:
    """Peak ``RssAnon`` of this process, sampled every ``period`` seconds in a thread."""

    def __init__(self, period: float = 0.005) -> None:
        self.period = period
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_anon())
            time.sleep(self.period)

    def __enter__(self) -> PeakRss:
        self.peak = rss_anon()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_anon())


def rss_peak_bytes(fn: Callable[[], Any]) -> int:
    """Growth of the process's peak ``RssAnon`` over its value before ``fn`` runs: every byte
    any library allocated at once (torch's CPU allocator and XLA's included), inputs excluded.
    Call ``fn`` once before (warm-up) so that compilation and caches are not counted."""
    before = rss_anon()
    with PeakRss() as sampler:
        out = fn()
        del out
    return max(0, sampler.peak - before)
