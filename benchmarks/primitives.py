"""Numerical primitives: generic composition vs delegated (fused) vs the library's own function.

``python -m benchmarks.primitives [--rows N] [--classes C] [--repeats R] [--threads T]
[--no-jax] [--no-torch]``

For torch (eager, CPU) and JAX (``jax.jit``) on a (4096, 1000) float32 input, each primitive of
:mod:`agnostic_losses._numerics` that :mod:`agnostic_losses._delegation` considers is timed three
ways, forward and forward+backward (gradient of the sum), side by side in one process:

- ``generic``: ``delegate=False``, the Array API composition;
- ``delegated``: the default call (the fused function where delegated, masks included; the
  generic one where not, so ``generic/delegated`` is ~1 there);
- ``library``: the library's own function as a user calls it (no masks: NaN on all ``-inf``
  rows, which is why it is no drop-in).

Rows marked ``rejected`` time a candidate that is NOT delegated (the fused function with the
masks the contract needs) in the ``delegated`` column: the measured reason it is not.

Then, on eager torch, three losses against torch's own, with delegation off and on
(:func:`agnostic_losses._delegation.enabled`).

Method: every variant of a row is warmed up (JAX: compiled) first, then the variants are called
in turn, ``--repeats`` rounds, each a batch of calls lasting ~50 ms; the median per variant is
reported. One torch thread and one XLA thread by default (``--threads``). Taking
the rounds interleaved keeps a load change (a shared 2-core machine) from favouring one variant.
Ratios are ``generic / delegated`` (> 1: delegation is faster) and ``delegated / library``
(1: as fast as the library's function).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["main"]


def _interleaved(
    fns: dict[str, Callable[[], Any]], repeats: int, min_sample_s: float = 0.05
) -> dict[str, float]:
    """Median seconds per call of each zero-argument ``fn`` (which blocks until done).

    A sample is the mean of a batch of calls lasting about ``min_sample_s`` (the batch size is
    fixed per ``fn`` after the warm-up), so scheduler hiccups are averaged inside a sample.
    """
    number = {}
    for name, fn in fns.items():
        fn()
        start = time.perf_counter()
        fn()
        number[name] = max(1, round(min_sample_s / max(time.perf_counter() - start, 1e-6)))
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(number[name]):
                fn()
            samples[name].append((time.perf_counter() - start) / number[name])
    return {name: statistics.median(values) for name, values in samples.items()}


def _row(
    rows: list[tuple[str, ...]],
    backend: str,
    name: str,
    mode: str,
    t: dict[str, float],
    base: str = "generic",
    fast: str = "delegated",
    ref: str = "library",
) -> None:
    rows.append(
        (
            backend,
            name,
            mode,
            f"{t[base] * 1e3:.2f}",
            f"{t[fast] * 1e3:.2f}",
            f"{t[ref] * 1e3:.2f}",
            f"{t[base] / t[fast]:.2f}",
            f"{t[fast] / t[ref]:.2f}",
        )
    )
    print("  ".join(rows[-1]), flush=True)


def _torch_primitives(rows: list[tuple[str, ...]], shape: tuple[int, int], repeats: int) -> None:
    import torch
    import torch.nn.functional as F

    from agnostic_losses import _numerics as N
    from agnostic_losses._dispatch import namespace

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=gen)
    b = torch.randn(shape, generator=gen)
    xp = namespace(x=x)

    def pair(v: Any) -> Any:
        return F.logsigmoid(v), F.logsigmoid(-v)

    def masked_log_softmax(v: Any, delegate: bool) -> Any:
        """The rejected candidate: torch.log_softmax with the masks the contract needs."""
        if not delegate:
            return N.log_softmax(xp, v, delegate=False)
        m = torch.amax(v.detach(), dim=-1, keepdim=True)
        dead = m == -math.inf
        out = torch.log_softmax(torch.where(dead, 0.0, v), dim=-1)
        return torch.where(dead, -math.inf, out)

    def masked_logaddexp(u: Any, v: Any, delegate: bool) -> Any:
        """The rejected candidate: torch.logaddexp with the masks the contract needs (a
        non-finite maximum, and a single -inf operand, where its double backward is NaN)."""
        if not delegate:
            return N.logaddexp(xp, u, v, delegate=False)
        m = torch.maximum(u.detach(), v.detach())
        finite = torch.isfinite(m)
        both = finite & torch.isfinite(torch.minimum(u.detach(), v.detach()))
        out = torch.logaddexp(torch.where(both, u, 0.0), torch.where(both, v, 0.0))
        return torch.where(both, out, torch.where(finite, torch.maximum(u, v), m))

    cases: list[tuple[str, int, Callable[..., Any], Callable[..., Any]]] = [
        ("softplus", 1, lambda v, d: N.softplus(xp, v, delegate=d), F.softplus),
        ("log_sigmoid", 1, lambda v, d: N.log_sigmoid(xp, v, delegate=d), F.logsigmoid),
        ("log_sigmoid_pair", 1, lambda v, d: N.log_sigmoid_pair(xp, v, delegate=d), pair),
        (
            "logsumexp",
            1,
            lambda v, d: N.logsumexp(xp, v, delegate=d),
            lambda v: torch.logsumexp(v, -1),
        ),
        (
            "log_softmax",
            1,
            lambda v, d: N.log_softmax(xp, v, delegate=d),
            lambda v: torch.log_softmax(v, -1),
        ),
        (
            "log_softmax_and_lse",
            1,
            lambda v, d: N.log_softmax_and_lse(xp, v, delegate=d),
            lambda v: (torch.log_softmax(v, -1), torch.logsumexp(v, -1, keepdim=True)),
        ),
        ("logaddexp", 2, lambda u, v, d: N.logaddexp(xp, u, v, delegate=d), torch.logaddexp),
        (
            "log_softmax [masked fused: rejected]",
            1,
            masked_log_softmax,
            lambda v: torch.log_softmax(v, -1),
        ),
        ("logaddexp [masked fused: rejected]", 2, masked_logaddexp, torch.logaddexp),
    ]

    def total(out: Any) -> Any:
        return sum(o.sum() for o in out) if isinstance(out, tuple) else out.sum()

    for name, arity, ours, lib in cases:
        args = (x, b)[:arity]

        def forward(f: Callable[..., Any], args: tuple[Any, ...] = args) -> Callable[[], Any]:
            def call() -> Any:
                with torch.no_grad():
                    return f(*args)

            return call

        def backward(f: Callable[..., Any], args: tuple[Any, ...] = args) -> Callable[[], Any]:
            def call() -> Any:
                leaves = [a.detach().requires_grad_(True) for a in args]
                total(f(*leaves)).backward()
                return [leaf.grad for leaf in leaves]

            return call

        variants = {
            "generic": lambda *a, f=ours: f(*a, False),
            "delegated": lambda *a, f=ours: f(*a, True),
            "library": lib,
        }
        t = _interleaved({k: forward(f) for k, f in variants.items()}, repeats)
        _row(rows, "torch", name, "fwd", t)
        t = _interleaved({k: backward(f) for k, f in variants.items()}, repeats)
        _row(rows, "torch", name, "fwd+bwd", t)


def _torch_losses(rows: list[tuple[str, ...]], shape: tuple[int, int], repeats: int) -> None:
    import torch
    import torch.nn.functional as F

    import agnostic_losses as al
    from agnostic_losses._delegation import enabled

    gen = torch.Generator().manual_seed(1)
    x = torch.randn(shape, generator=gen)
    labels = torch.randint(0, shape[1], (shape[0],), generator=gen)
    probs = torch.softmax(torch.randn(shape, generator=gen), dim=-1)
    binary = (torch.rand(shape, generator=gen) > 0.5).to(x.dtype)

    cases: list[tuple[str, Callable[[Any], Any], Callable[[Any], Any]]] = [
        (
            "softmax_ce_int_labels vs F.cross_entropy",
            lambda v: al.softmax_cross_entropy_with_integer_labels(v, labels),
            lambda v: F.cross_entropy(v, labels, reduction="none"),
        ),
        (
            "sigmoid_bce vs F.bce_with_logits",
            lambda v: al.sigmoid_binary_cross_entropy(v, binary),
            lambda v: F.binary_cross_entropy_with_logits(v, binary, reduction="none"),
        ),
        (
            "softmax_ce(probs) vs F.cross_entropy",
            lambda v: al.softmax_cross_entropy(v, probs),
            lambda v: F.cross_entropy(v, probs, reduction="none"),
        ),
    ]
    for name, ours, theirs in cases:

        def switched(flag: bool, f: Callable[[Any], Any] = ours) -> Callable[[Any], Any]:
            def call(v: Any) -> Any:
                with enabled(flag):
                    return f(v)

            return call

        variants = {"before": switched(False), "after": switched(True), "torch": theirs}

        def forward(f: Callable[[Any], Any]) -> Callable[[], Any]:
            def call() -> Any:
                with torch.no_grad():
                    return f(x)

            return call

        def backward(f: Callable[[Any], Any]) -> Callable[[], Any]:
            def call() -> Any:
                leaf = x.detach().requires_grad_(True)
                f(leaf).sum().backward()
                return leaf.grad

            return call

        for mode, wrap in (("fwd", forward), ("fwd+bwd", backward)):
            t = _interleaved({k: wrap(f) for k, f in variants.items()}, repeats)
            _row(rows, "torch", name, mode, t, "before", "after", "torch")


def _jax_primitives(rows: list[tuple[str, ...]], shape: tuple[int, int], repeats: int) -> None:
    import jax
    import jax.numpy as jnp

    from agnostic_losses import _numerics as N
    from agnostic_losses._dispatch import namespace

    kx, kb = jax.random.split(jax.random.PRNGKey(0))
    x = jax.random.normal(kx, shape, dtype=jnp.float32)
    b = jax.random.normal(kb, shape, dtype=jnp.float32)
    xp = namespace(x=x)

    def pair(v: Any) -> Any:
        return jax.nn.log_sigmoid(v), jax.nn.log_sigmoid(-v)

    def masked_log_softmax(v: Any, delegate: bool) -> Any:
        """The rejected candidate: jax.nn.log_softmax with the masks the contract needs."""
        if not delegate:
            return N.log_softmax(xp, v, delegate=False)
        m = jax.lax.stop_gradient(jnp.max(v, axis=-1, keepdims=True))
        dead = m == -math.inf
        return jnp.where(dead, -math.inf, jax.nn.log_softmax(jnp.where(dead, 0.0, v), axis=-1))

    def masked_logaddexp(u: Any, v: Any, delegate: bool) -> Any:
        """The rejected candidate: jnp.logaddexp with the masks the contract needs (its
        gradient, exp(u - out) with ``out`` rounded, is also inexact at large ``|u|``)."""
        if not delegate:
            return N.logaddexp(xp, u, v, delegate=False)
        m = jax.lax.stop_gradient(jnp.maximum(u, v))
        finite = jnp.isfinite(m)
        out = jnp.logaddexp(jnp.where(finite, u, 0.0), jnp.where(finite, v, 0.0))
        return jnp.where(finite, out, m)

    cases: list[tuple[str, int, Callable[..., Any], Callable[..., Any]]] = [
        ("softplus", 1, lambda v, d: N.softplus(xp, v, delegate=d), jax.nn.softplus),
        ("log_sigmoid", 1, lambda v, d: N.log_sigmoid(xp, v, delegate=d), jax.nn.log_sigmoid),
        ("log_sigmoid_pair", 1, lambda v, d: N.log_sigmoid_pair(xp, v, delegate=d), pair),
        (
            "logsumexp",
            1,
            lambda v, d: N.logsumexp(xp, v, delegate=d),
            lambda v: jax.nn.logsumexp(v, -1),
        ),
        (
            "log_softmax",
            1,
            lambda v, d: N.log_softmax(xp, v, delegate=d),
            lambda v: jax.nn.log_softmax(v, -1),
        ),
        (
            "log_softmax_and_lse",
            1,
            lambda v, d: N.log_softmax_and_lse(xp, v, delegate=d),
            lambda v: (jax.nn.log_softmax(v, -1), jax.nn.logsumexp(v, -1, keepdims=True)),
        ),
        ("logaddexp", 2, lambda u, v, d: N.logaddexp(xp, u, v, delegate=d), jnp.logaddexp),
        ("absolute", 1, lambda v, d: N.absolute(xp, v, delegate=d), jnp.abs),
        (
            "absolute, mean over the last axis",
            1,
            lambda v, d: jnp.mean(N.absolute(xp, v, delegate=d), axis=-1),
            lambda v: jnp.mean(jnp.abs(v), axis=-1),
        ),
        ("relu", 1, lambda v, d: N.relu(xp, v, delegate=d), jax.nn.relu),
        (
            # soft-label cross entropy sum(p * log_softmax(v)), differentiated in v: p is an
            # argument (a captured constant would let XLA fold the guard away) behind
            # stop_gradient (labels); library: the plain product (NaN at 0 * inf), optax's
            # softmax_cross_entropy
            "xmul in sum(p * log_softmax(v))",
            2,
            lambda v, p, d: jnp.sum(
                N.xmul(xp, jax.lax.stop_gradient(p), N.log_softmax(xp, v), delegate=d), axis=-1
            ),
            lambda v, p: jnp.sum(jax.lax.stop_gradient(p) * jax.nn.log_softmax(v), axis=-1),
        ),
        (
            "log_softmax [masked fused: rejected]",
            1,
            masked_log_softmax,
            lambda v: jax.nn.log_softmax(v, -1),
        ),
        ("logaddexp [masked fused: rejected]", 2, masked_logaddexp, jnp.logaddexp),
    ]

    def total(out: Any) -> Any:
        return sum(jnp.sum(o) for o in out) if isinstance(out, tuple) else jnp.sum(out)

    for name, arity, ours, lib in cases:
        args = (x, b)[:arity]
        variants = {
            "generic": lambda *a, f=ours: f(*a, False),
            "delegated": lambda *a, f=ours: f(*a, True),
            "library": lib,
        }
        for mode in ("fwd", "fwd+bwd"):
            calls = {}
            for key, f in variants.items():
                if mode == "fwd":
                    jitted = jax.jit(f)
                else:
                    argnums = tuple(range(arity))
                    jitted = jax.jit(
                        jax.value_and_grad(lambda *a, f=f: total(f(*a)), argnums=argnums)
                    )
                calls[key] = lambda j=jitted, a=args: jax.block_until_ready(j(*a))
            _row(rows, "jax-jit", name, mode, _interleaved(calls, repeats))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.primitives", description=__doc__)
    parser.add_argument("--rows", type=int, default=4096)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--no-jax", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    if args.threads == 1 and "jax" not in sys.modules:
        # XLA's CPU thread pool, like torch's intra-op threads: one, so that both libraries
        # run on one core each and a busy second core does not skew one of them
        flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        os.environ.setdefault("XLA_FLAGS", flags)
    shape = (args.rows, args.classes)
    header = ("backend", "primitive", "mode", "generic_ms", "delegated_ms", "library_ms")
    header += ("generic/delegated", "delegated/library")
    print(
        f"# {shape} float32, median of {args.repeats} interleaved rounds; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch threads {args.threads}; loss rows: before/after/torch = generic/delegated/library"
    )
    print("  ".join(header), flush=True)
    rows: list[tuple[str, ...]] = []
    if not args.no_torch:
        import torch

        torch.set_num_threads(args.threads)
        _torch_primitives(rows, shape, args.repeats)
        _torch_losses(rows, shape, args.repeats)
    if not args.no_jax:
        _jax_primitives(rows, shape, args.repeats)
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    print()
    for line in (header, *rows):
        print("  ".join(str(c).rjust(w) for c, w in zip(line, widths, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
