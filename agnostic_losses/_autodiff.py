"""Dispatch layer: the one place per autodiff system for a hand-written gradient.

A kernel whose autodiff would keep too much alive (the vocabulary chunks of
``linear_cross_entropy``: reverse mode through the loop saves every chunk's logits) gives a
backend-free ``forward`` and ``backward`` written against ``xp`` (registered once with
:func:`define_vjp`), and :func:`custom_vjp` wires them into JAX (``jax.custom_vjp``) or torch
(``torch.autograd.Function``, in :mod:`._autodiff_torch`). NumPy, CuPy, Dask and
array-api-strict have no autodiff: they run ``forward`` alone.

Protocol::

    forward(xp, *arrays, **static) -> outputs                      # tuple of arrays
    backward(xp, arrays, outputs, cotangents, **static) -> grads    # one per array
    jvp(xp, arrays, outputs, tangents, **static) -> output tangents # optional

``backward`` recomputes what it needs from the inputs and outputs (nothing else is saved) and
returns None for an argument that is None or integer. ``jvp`` (forward mode) gets a tangent per
array, None where an array has none (treat it as zero). ``static`` holds hashable Python
options.

Forward mode reaches ``jvp`` on torch only (``torch.func.jvp``/``jacfwd``/``hessian``,
``torch.autograd.forward_ad``). JAX cannot give a ``jax.custom_vjp`` function a forward rule,
and a ``jax.custom_jvp`` one would be transposed into a reverse pass that saves every chunk, so
``jax.jvp`` of such a loss raises JAX's ``TypeError`` (``jax.hessian``, forward over reverse,
works: the backward is ordinary JAX code).

Not here: the ``jax.custom_jvp`` rules of :func:`._delegation.absolute` (``jnp.abs`` with the
derivative ``sign(0) = 0``) and :func:`._delegation.xmul` (``0 * inf = 0`` with a derivative
that XLA fuses): JVP rules of single elementwise primitives, so that forward mode keeps
working, where this module's gradients are reverse-mode rules of whole kernels.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

from ._dispatch import library_name, match_varying

__all__ = ["Vjp", "custom_vjp", "define_vjp"]

Forward = Callable[..., tuple[Any, ...]]
Backward = Callable[..., tuple[Any, ...]]
Jvp = Callable[..., tuple[Any, ...]]


@dataclasses.dataclass(frozen=True)
class Vjp:
    """A forward with its backward, defined once at import time (:func:`define_vjp`)."""

    index: int
    forward: Forward
    backward: Backward
    jvp: Jvp | None = None


VJPS: list[Vjp] = []


def define_vjp(forward: Forward, backward: Backward, jvp: Jvp | None = None) -> Vjp:
    """Register ``forward`` with its ``backward`` (and forward-mode ``jvp``); call at module
    level (import time)."""
    vjp = Vjp(len(VJPS), forward, backward, jvp)
    VJPS.append(vjp)
    return vjp


def custom_vjp(
    xp: Any, vjp: Vjp, arrays: tuple[Any, ...], static: dict[str, Any]
) -> tuple[Any, ...]:
    """``vjp.forward(xp, *arrays, **static)``, differentiated by ``vjp.backward`` where the
    arrays' library has autodiff (JAX, torch)."""
    key = tuple(sorted(static.items()))
    library = library_name(next(a for a in arrays if a is not None))
    if library == "jax":
        return _jax_function(xp, vjp, key)(*arrays)
    if library == "torch":
        # A module imported here, not a class built here: torch.compile executes imports but
        # cannot trace a class definition (nor an lru_cache, which it warns about).
        from ._autodiff_torch import apply

        return apply(vjp.index, key, arrays)
    return vjp.forward(xp, *arrays, **static)


@functools.cache
def _jax_function(xp: Any, vjp: Vjp, key: tuple[Any, ...]) -> Any:
    import jax

    static = dict(key)

    @jax.custom_vjp
    def function(*arrays: Any) -> tuple[Any, ...]:
        return vjp.forward(xp, *arrays, **static)

    def fwd(*arrays: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        outputs = vjp.forward(xp, *arrays, **static)
        return outputs, (arrays, outputs)

    def bwd(saved: tuple[Any, Any], cotangents: tuple[Any, ...]) -> tuple[Any, ...]:
        arrays, outputs = saved
        grads = vjp.backward(xp, arrays, outputs, cotangents, **static)
        # Inside shard_map each cotangent must be typed as its primal is (a replicated weight's
        # gradient summed over the shards, as JAX's own autodiff gives it).
        return tuple(match_varying(g, a) for g, a in zip(grads, arrays))

    function.defvjp(fwd, bwd)
    # jit: eager JAX would otherwise trace (and compile the lax.scan in) both passes per call;
    # inside a caller's jit this is inlined.
    return jax.jit(function)
