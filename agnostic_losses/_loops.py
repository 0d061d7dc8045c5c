"""Dispatch layer: loop primitives (CTC's forward recursion, vocabulary chunks).

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

from . import _dask
from ._dispatch import as_varying, marks_varying, varying_axes

__all__ = ["compiled", "fold_chunks", "rowwise", "scan"]

Carry = Any


def rowwise(
    xp: Any,
    fn: Callable[..., tuple[Any, ...]],
    rows: tuple[Any, ...],
    shared: tuple[Any, ...] = (),
    *,
    n_out: int,
) -> tuple[Any, ...]:
    """``fn(xp, *rows, *shared)``: per-row outputs of a computation that never mixes rows.

    ``rows[0]`` has shape ``(*B, C)``; every other row array ``(*B, C)`` or ``(*B,)`` (or None),
    ``shared`` arrays are class vectors ``(C,)`` or None, and ``fn`` returns ``n_out`` floating
    arrays of shape ``B``. Everywhere but Dask this is the call itself. On Dask, when the class
    axis is one chunk, the whole of ``fn`` runs as ONE blockwise task per row chunk with the chunk
    library's namespace, instead of a graph of dozens of elementwise layers (see
    ``agnostic_losses/_dask.py`` for the measured reason); otherwise it is the call itself too.
    """
    if _dask.is_namespace(xp):
        out = _dask.rowwise(fn, rows, shared, n_out)
        if out is not None:
            return out
    return fn(xp, *rows, *shared)


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

        carry = _varying_carry(jax, step, carry, tuple(x[0, ...] for x in xs))
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


ChunkStep = Callable[[Carry, Any, tuple[Any, ...]], tuple[Carry, tuple[Any, ...]]]


def fold_chunks(
    xp: Any,
    step: ChunkStep,
    carry: Carry,
    arrays: tuple[Any, ...],
    size: int,
    *,
    use_lax: bool | None = None,
) -> tuple[Carry, tuple[Any, ...]]:
    """Fold ``step`` over consecutive chunks of ``size`` rows of every array in ``arrays``.

    ``step(carry, offset, chunk) -> (carry, ys)``: ``chunk`` holds rows ``offset`` to
    ``offset + size`` of each array (None stays None; the last chunk may be shorter) and
    ``offset`` is a Python int or, inside ``lax.scan``, an integer scalar array. Returns the
    final carry and each ``ys`` entry concatenated along axis 0 (one row block per chunk).

    On JAX the full chunks are one ``lax.scan`` (one traced body, not ``ceil(L / size)``
    unrolled copies; see :func:`scan`) and the tail is one more call; elsewhere a Python loop
    over slices (torch autograd and Dask graphs follow it).
    """
    length = next(a for a in arrays if a is not None).shape[0]
    size = max(1, min(int(size), int(length)))
    full = length // size
    if use_lax is None:
        use_lax = array_api_compat.is_jax_namespace(xp)
    blocks: list[tuple[Any, ...]] = []
    start = 0
    if use_lax and full > 1:
        import jax

        stacked = tuple(
            None if a is None else xp.reshape(a[: full * size, ...], (full, size, *a.shape[1:]))
            for a in arrays
        )
        offsets = xp.arange(full) * size

        def body(c: Carry, xs: tuple[Any, Any]) -> tuple[Carry, tuple[Any, ...]]:
            return step(c, xs[0], xs[1])

        first = (offsets[0], tuple(None if a is None else a[0, ...] for a in stacked))
        carry = _varying_carry(jax, body, carry, first)
        carry, ys = jax.lax.scan(body, carry, (offsets, stacked))
        blocks.append(tuple(xp.reshape(y, (full * size, *y.shape[2:])) for y in ys))
        start = full * size
    for offset in range(start, length, size):
        stop = min(offset + size, length)  # the standard leaves out-of-bounds stops undefined
        # The whole array when one chunk spans it: a full slice is torch's alias op, which
        # torch's batched tangents and cotangents have no batching rule for.
        whole = offset == 0 and stop == length
        chunk = tuple(a if a is None or whole else a[offset:stop, ...] for a in arrays)
        carry, ys = step(carry, offset, chunk)
        blocks.append(ys)
    if len(blocks) == 1:
        return carry, blocks[0]
    return carry, tuple(_concat_rows(xp, list(parts)) for parts in zip(*blocks))


def _varying_carry(jax: Any, step: Step, carry: Carry, x0: tuple[Any, ...]) -> Carry:
    """``carry``, marked as varying over every ``shard_map`` axis that ``step`` makes its
    output carry vary over.

    Why: inside ``shard_map`` JAX types each value by the mesh axes it varies over, and
    ``lax.scan`` needs the carry's type to be a fixed point of the body. An initial carry of
    constants (zeros, ``-inf``) is invariant, while the body mixes in the caller's sharded
    arrays (through ``xs`` or closed over, as ``hidden`` in ``linear_cross_entropy``), so the
    scan would be refused (optax's ``ctc_loss`` is, in jax 0.10). Tracing the body's carry
    (``eval_shape``, no computation) says which axes it varies over; the initial carry is cast
    to them (:func:`as_varying`, a type change that moves no data), repeated until nothing changes.
    Outside ``shard_map`` (no manual axes) this returns ``carry`` untouched, without a trace.
    """
    if not marks_varying() or not jax.sharding.get_abstract_mesh().manual_axes:
        return carry
    leaves, tree = jax.tree.flatten(carry)
    while True:
        out = jax.tree.leaves(jax.eval_shape(lambda c: step(c, x0)[0], carry))
        missing = [varying_axes(o) - varying_axes(c) for c, o in zip(leaves, out)]
        if not any(missing):
            return carry
        leaves = [as_varying(c, m) if m else c for c, m in zip(leaves, missing)]
        carry = jax.tree.unflatten(tree, leaves)


def _concat_rows(xp: Any, parts: list[Any]) -> Any:
    if type(parts[0]).__module__.startswith("torch"):  # not compat's cached type probe (dynamo)
        # torch.cat, not its alias concat (what compat calls): torch's batched cotangents
        # (is_grads_batched, behind jacobian(vectorize=True) and gradcheck's batched check)
        # have a batching rule for cat only. (test_transforms: batched gradients)
        import torch

        return torch.cat(parts, dim=0)
    return xp.concat(parts, axis=0)


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
