"""Linear cross-entropy, forward + backward: ours against the materialised logits, side by side.

``python -m benchmarks linear_ce [--tokens N] [--features D] [--classes V] [--dtypes ...]``

Per backend and dtype, three (four on torch) ways to compute the mean cross entropy of
``hidden @ weight.T`` and its gradients w.r.t. ``hidden`` and ``weight``:

- ``ours``: ``agnostic_losses.linear_cross_entropy`` (vocabulary chunks, hand backward);
- ``materialised``: the logits in full, then ``functional.cross_entropy`` (torch's
  ``F.cross_entropy`` on torch, ours on JAX: the baseline a user writes);
- torch only: ``F.linear_cross_entropy`` as torch runs it by default (``options=None``, its
  reference path) and with ``options=LinearCrossEntropyOptions()`` (its chunked path).

Time: median of ``--repeats`` calls after a warm-up (JAX: ``jax.jit(value_and_grad)``; torch:
eager). Peak memory: torch on CPU, each way in a
fresh process, the growth of its peak ``RssAnon`` over the first call
(:func:`benchmarks.measure.rss_peak_bytes`: every byte allocated at once, the logits,
autograd's saved tensors and the gradients included; the inputs excluded; a fresh process
because freed memory stays resident, with glibc's mmap threshold fixed at 128 KiB so that a
freed block leaves at once and the peak reads the same from run to run; the time in another
process with the default allocator); on CUDA the allocator's peak over the call; JAX: XLA's
temporaries + outputs of the compiled ``value_and_grad``
(:func:`benchmarks.measure.jax_peak_bytes`). Ratios are
``ours / other`` from the same run. The issue's size (N=8192, D=1024, V=131072) is
``--tokens 8192 --features 1024 --classes 131072`` (hours on a 2-core CPU: run it on a GPU).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from agnostic_losses._testing.check import unwritable

from .measure import jax_peak_bytes, median_time, rss_peak_bytes

__all__ = ["main", "run"]

MIB = 2**20


def _torch_ways(torch: Any, y: Any) -> dict[str, Callable[[Any, Any], Any]]:
    import torch.nn.functional as tf

    import agnostic_losses as al

    ways: dict[str, Callable[[Any, Any], Any]] = {
        "ours": lambda a, b: al.linear_cross_entropy(a, b, y),
        "materialised": lambda a, b: tf.cross_entropy(a @ b.T, y),
    }
    if hasattr(tf, "linear_cross_entropy"):
        ways["torch linear_cross_entropy (options=None)"] = lambda a, b: tf.linear_cross_entropy(
            a, b, y
        )
        options = getattr(torch.nn, "LinearCrossEntropyOptions", None)
        if options is not None:
            ways["torch linear_cross_entropy (chunked options)"] = lambda a, b: (
                tf.linear_cross_entropy(a, b, y, options=options())
            )
    return ways


def _torch_worker(way: str, n: int, d: int, v: int, dtype: str, repeats: int) -> dict:
    """One way in this (fresh) process: the growth of the peak ``RssAnon`` over the first call
    (CUDA: the allocator's peak), then the median time of later calls."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    rng = np.random.default_rng(0)
    tdtype = getattr(torch, dtype)

    def problem(n: int, v: int) -> tuple[Any, Any, Any]:
        h = torch.tensor(rng.normal(size=(n, d)) / np.sqrt(d), dtype=tdtype, device=device)
        w = torch.tensor(rng.normal(size=(v, d)), dtype=tdtype, device=device)
        y = torch.tensor(rng.integers(0, v, size=(n,)), device=device)
        return h, w, y

    # A small call of the same way first: thread pools, kernels and caches that any first
    # call sets up are not the loss's memory.
    h, w, y = problem(n, v)
    small = (h[:64], w[:64], y[:64] % 64)
    out = _torch_ways(torch, small[2])[way](*(a.detach().requires_grad_(True) for a in small[:2]))
    out.backward()
    del small, out
    loss = _torch_ways(torch, y)[way]

    def fn() -> Any:
        hh = h.detach().requires_grad_(True)
        ww = w.detach().requires_grad_(True)
        out = loss(hh, ww)
        out.backward()
        if device != "cpu":
            torch.cuda.synchronize()
        return out.detach(), hh.grad, ww.grad

    gc.collect()
    if device == "cpu":
        peak = rss_peak_bytes(fn)
    else:
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn()
        peak = torch.cuda.max_memory_allocated() - base
    if repeats == 0:  # the memory run (see _torch_rows)
        return {"way": way, "peak": peak}
    seconds = median_time(fn, repeats=repeats, min_batch_s=0.0)
    return {"way": way, "seconds": seconds, "peak": peak, "value": float(fn()[0])}


def _torch_rows(n: int, d: int, v: int, dtype: str, repeats: int) -> list[dict]:
    import torch

    def worker(way: str, repeats: int, env: dict[str, str] | None = None) -> dict:
        spec = json.dumps([way, n, d, v, dtype, repeats])
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.linear_ce", "--worker", spec],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        return json.loads(done.stdout.strip().splitlines()[-1])

    # CPU peak: a process of its own whose glibc hands every block above 128 KiB back to the
    # system when it is freed (a fixed mmap threshold). With glibc's default, adaptive one, a
    # freed block may stay resident and the next allocation take fresh pages, so the same call
    # read 40-160 MiB from run to run; fixed, it reads within 2%. Time: a process with the
    # default allocator (the fixed threshold makes every large allocation a system call).
    memory_env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "131072"}
    rows = []
    for way in _torch_ways(torch, None):
        row = worker(way, repeats)
        if not torch.cuda.is_available():
            row["peak"] = worker(way, 0, memory_env)["peak"]
        rows.append(row)
    return rows


def _jax_rows(n: int, d: int, v: int, dtype: str, repeats: int) -> list[dict]:
    import jax
    import jax.numpy as jnp

    import agnostic_losses as al
    from agnostic_losses import functional as F

    rng = np.random.default_rng(0)
    h = jnp.asarray(rng.normal(size=(n, d)) / np.sqrt(d), dtype=dtype)
    w = jnp.asarray(rng.normal(size=(v, d)), dtype=dtype)
    y = jnp.asarray(rng.integers(0, v, size=(n,)), dtype=jnp.int32)
    ways = {
        "ours": lambda a, b: al.linear_cross_entropy(a, b, y),
        "materialised": lambda a, b: F.cross_entropy(a @ b.T, y),
    }
    rows = []
    for name, loss in ways.items():
        jitted = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))

        def run(f: Any = jitted) -> Any:
            return jax.block_until_ready(f(h, w))

        peak = jax_peak_bytes(jitted, h, w)

        seconds = median_time(run, repeats=repeats, min_batch_s=0.0)
        value = float(run()[0])
        rows.append({"way": name, "seconds": seconds, "peak": peak, "value": value})
    return rows


def _table(title: str, rows: list[dict]) -> list[str]:
    ours = rows[0]
    out = [
        f"{title}",
        "",
        "| way | loss | time (s) | peak (MiB) | ours / way: time | ours / way: memory |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        peak = "n/a" if r["peak"] is None else f"{r['peak'] / MIB:.1f}"
        t_ratio = ours["seconds"] / r["seconds"]
        m_ratio = (
            "n/a"
            if r["peak"] in (None, 0) or ours["peak"] is None
            else f"{ours['peak'] / r['peak']:.3f}"
        )
        out.append(
            f"| {r['way']} | {r['value']:.6f} | {r['seconds']:.3f} | {peak} | "
            f"{t_ratio:.2f} | {m_ratio} |"
        )
    return [*out, ""]


def run(
    n: int, d: int, v: int, dtypes: Sequence[str], backends: Sequence[str], repeats: int
) -> list[str]:
    lines = [
        f"linear_cross_entropy fwd+bwd, N={n} tokens, D={d}, V={v} "
        f"({platform.machine()}, {platform.python_version()}); logits would be "
        f"{n * v * 4 / MIB:.0f} MiB in float32.",
        "",
    ]
    for backend in backends:
        for dtype in dtypes:
            if backend == "torch":
                import torch

                device = "cuda" if torch.cuda.is_available() else "cpu"
                rows = _torch_rows(n, d, v, dtype, repeats)
                title = f"torch {torch.__version__} ({device}), {dtype}"
            else:
                import jax

                rows = _jax_rows(n, d, v, dtype, repeats)
                title = f"jax {jax.__version__} ({jax.default_backend()}, jit), {dtype}"
            lines += _table(f"**{title}**", rows)
            print("\n".join(_table(f"**{title}**", rows)), flush=True)
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks linear_ce", description=__doc__)
    parser.add_argument("--tokens", type=int, default=2048)
    parser.add_argument("--features", type=int, default=128)
    parser.add_argument("--classes", type=int, default=65536)
    parser.add_argument("--dtypes", default="float32,bfloat16")
    parser.add_argument("--backends", default="torch,jax")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--markdown", help="also write the tables to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    problem = unwritable(("--markdown", args.markdown))
    if problem:
        parser.error(problem)
    if args.worker:
        print(json.dumps(_torch_worker(*json.loads(args.worker))))
        return 0
    lines = run(
        args.tokens,
        args.features,
        args.classes,
        args.dtypes.split(","),
        args.backends.split(","),
        args.repeats,
    )
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
