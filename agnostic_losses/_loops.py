"""Dispatch layer: a loop primitive for dynamic programmes (CTC's forward recursion).

The Array API standard has no loop construct. :func:`scan` runs ``step`` over the leading axis of
``xs`` as ``jax.lax.scan`` on JAX and as a plain Python loop everywhere else (torch autograd and
Dask graphs follow the loop naturally). This is the only place outside ``_dispatch`` that names
a concrete library.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import array_api_compat

__all__ = ["compiled", "scan"]

Carry = Any
Step = Callable[[Carry, tuple[Any, ...]], tuple[Carry, tuple[Any, ...]]]


def scan(
    xp: Any, step: Step, carry: Carry, xs: tuple[Any, ...], *, use_lax: bool | None = None
) -> tuple[Carry, tuple[Any, ...]]:
    """Fold ``step`` over the leading axis of every array in ``xs``.

    ``step(carry, x_t) -> (carry, y_t)`` with ``x_t`` the tuple of ``xs[i][t]`` and ``y_t`` a
    tuple of arrays. Returns the final carry and the ``y_t`` stacked on a new leading axis.

    Parameters
    ----------
    xp : namespace
        The arrays' namespace.
    step : callable
        Loop body; must use only ``xp`` (it is traced once on JAX, called ``T`` times elsewhere).
    carry : pytree of arrays
        Initial state; ``step`` must return a carry of the same structure, shapes and dtypes.
    xs : tuple of arrays
        Per-step inputs, all with the same (static) leading length ``T >= 1``.
    use_lax : bool, optional
        Force (True) or forbid (False) ``jax.lax.scan`` on JAX; default: use it on JAX. The tests
        compare both paths.

    Returns
    -------
    carry, ys
        The final carry and a tuple of arrays of shape ``(T, ...)``.
    """
    if use_lax is None:
        use_lax = array_api_compat.is_jax_namespace(xp)
    if use_lax:
        # Why lax.scan on JAX: a Python loop is unrolled by jax.jit into T copies of the body,
        # and XLA's compile time grows much faster than T. Measured (2-core shared CPU box,
        # jax 0.10.2, first call of jax.jit(value_and_grad(CTC)), B=2, K=5, N=4, after warm-up):
        #   lax.scan:             T=50 -> 3.8 s, T=200 -> 1.6 s (flat; the spread is load noise);
        #   unrolled Python loop: T=50 -> 538 s (XLA's "very slow compile" alarm),
        #                         T=200 -> not finished after 105 s, abandoned.
        # Steady-state run time is similar (about 1 ms vs 3 ms per call at T=50).
        import jax

        return jax.lax.scan(step, carry, xs)
    length = xs[0].shape[0]
    if length is None or length != length:  # Dask's unknown (NaN) length
        msg = "scan needs a known leading length; got an array whose shape is not known yet."
        raise ValueError(msg)
    outputs: list[tuple[Any, ...]] = []
    for t in range(int(length)):
        carry, y = step(carry, tuple(x[t, ...] for x in xs))
        outputs.append(y)
    if not outputs:
        msg = "scan needs at least one step (an input with leading length >= 1)."
        raise ValueError(msg)
    ys = tuple(xp.stack([y[i] for y in outputs], axis=0) for i in range(len(outputs[0])))
    return carry, ys


def compiled(
    xp: Any, fn: Callable[..., Any], static_argnames: tuple[str, ...]
) -> Callable[..., Any]:
    """``fn`` itself, or on JAX a cached ``jax.jit(fn)`` whose first argument ``xp`` is static.

    Why: eager JAX runs ``lax.scan`` by tracing and compiling its body on every call (a new
    closure each time), which cost seconds per CTC call in the test suite; a module-level
    ``jax.jit`` compiles once per shape and dtype. Inside a caller's ``jax.jit`` it is inlined.
    """
    if not array_api_compat.is_jax_namespace(xp):
        return fn
    return _jitted(fn, static_argnames)


@functools.cache
def _jitted(fn: Callable[..., Any], static_argnames: tuple[str, ...]) -> Callable[..., Any]:
    import jax

    return jax.jit(fn, static_argnums=(0,), static_argnames=static_argnames)
