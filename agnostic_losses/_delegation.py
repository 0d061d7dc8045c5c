"""Dispatch layer: a library's own fused primitive, where it is as stable as the generic one.

:mod:`agnostic_losses._numerics` writes each numerical primitive once, against the Array API.
On eager torch a composition such as ``max(x, 0) + log1p(exp(-|x|))`` runs one kernel (and
allocates one temporary) per operation, where ``torch.nn.functional.softplus`` runs one. Each
primitive there therefore asks this module first: a function here returns the library's fused
result for the array it is given, or ``None`` -- and then the generic composition runs.

A primitive is delegated only where the fused function keeps the generic contract in values,
gradients AND second derivatives (finite and exact at logits +-1e4, ``-inf`` entries and all
``-inf`` slices, in float16, bfloat16, float32 and float64), and only where it was measured
faster. Numbers:
``python -m benchmarks.primitives``, (4096, 1000) float32, one thread, generic / delegated time,
forward and forward+backward. Decided:

torch (eager; the same calls trace under ``torch.compile``):

- ``softplus``: ``F.softplus`` (2.6x, 8.2x), with threshold 40 in float64: above its default
  20 it returns ``x`` itself, 1e-10 off in float64 (exact in the other dtypes).
- ``log_sigmoid``: ``F.logsigmoid`` (1.7x, 7.8x). ``log_sigmoid_pair``: two of them (1.1x,
  5.6x).
- ``logaddexp``: generic. ``torch.logaddexp``'s double backward is NaN where one operand is
  ``-inf`` or the two are further apart than ``exp`` can represent (``exp(b - a) / (1 +
  exp(b - a))**2 = inf / inf``): NaN Hessians in CTC. With the masks that fix it (the
  rejected row) it is 1.4x forward, 1.0x forward+backward, and CTC's recursion (eager torch,
  B=8, T=100, K=30) ran 0.93x the generic one.
- ``absolute``: ``torch.abs``, whose derivative at 0 is 0 as the generic ``maximum(x, -x)``'s
  (``log_cosh`` forward+backward 1.9x).
- ``relu``: ``torch.relu`` (one pass, not ``where``'s compare and select; ``hinge_loss``
  forward+backward 2.2x).
- ``take_last`` (the label gather): ``torch.gather``, one kernel where array-api-compat's
  ``take_along_axis`` is three (a ``where`` for negative indices, then ``take_along_dim``,
  which broadcasts): (4096, 1000) float32 label gather 50 -> 25 us.
- ``logsumexp``: generic. ``torch.logsumexp`` is itself a composition: same forward time,
  forward+backward 1.7x slower, NaN gradient on an all ``-inf`` row.
- ``log_softmax``, ``log_softmax_and_lse``: generic. ``torch.log_softmax`` is faster unmasked,
  but NaN on an all ``-inf`` row; the masks that fix it (a row max and two ``where``) took the
  gain (0.94-0.97x the generic version while that had ``where`` guards of its own, 1.2-1.3x
  slower than it since they became arithmetic). Taking the lse from the log-softmax at the
  argmax: 0.56-0.69x.

JAX (``jax.jit``): ``absolute``, ``jnp.abs`` with a JVP rule giving the derivative
``sign(x)`` (0 at 0, as the generic ``maximum(x, -x)``; ``jnp.abs``'s own is 1 there): 1.1x
forward, 1.3x forward+backward, 1.4x with a mean over the last axis (the L1 and percentage
losses) forward, where XLA:CPU computes ``maximum(x, -x)`` in two passes. ``xmul`` (the
``0 * log 0 = 0`` product of every soft-label cross entropy and KL divergence): the generic
``x * where(0 * inf pair, 0, y)``, with a JVP rule whose ``d/dy`` is ``x`` itself (equal to
the generic ``x * [not replaced]``, since ``x`` is 0 where a pair is replaced); reverse mode
then has no compare or select, which XLA:CPU cannot fuse into a reduction (it writes and
reads the selected array): ``sum(p * log_softmax(v))`` forward+backward 1.2x (one thread),
1.4x (two); in the registry benchmark (``jax.grad``, default threads) the gradients of
``softmax_cross_entropy`` went from 1.6x optax's to 1.0x, ``poly_loss_cross_entropy``'s from
2.3x to 1.2x. The forward pass keeps its select (a select-free product measured slower: a
nonzero times an infinity must stay infinite, which takes several more operations per
entry). The second derivatives are the generic ones (tests compare full Hessians). ``relu``
stays generic (``jax.nn.relu`` no faster). Otherwise XLA fuses the generic compositions, so the
library functions are no faster (``logsumexp``, ``log_softmax``, ``softplus``,
``log_sigmoid`` within noise: the generic ``log_softmax`` and ``logsumexp`` guard with
arithmetic, not ``where``, and compile to one fused kernel each, as ``jax.nn``'s do, where
``jax.nn.log_softmax`` is NaN on an all ``-inf`` row; masked ``log_softmax`` 0.3-0.8x), and
the one that is (masked ``jnp.logaddexp``, 3x forward+backward) differentiates as
``exp(a - out)`` with ``out`` rounded: 1 instead of 1/2 per operand at a float16 tie at
-1e4, 2e-4 off at -1e4 in float32 (``jax.nn.softplus`` is ``logaddexp(x, 0)``: its gradient
is 1.8% off in bfloat16 where the generic one is 1.0%).

NumPy, CuPy, Dask, array-api-strict (no autodiff): ``absolute`` is the library's ``abs``, one
pass where ``maximum(x, -x)`` is two (NumPy ``absolute_error`` at (4096, 1000) float32: 1.6x).

Everything here is traceable: no host reads of values, no caches of values (JAX's
``absolute`` is built once, on first use), only ``import`` statements and static Python
(dtype, shape, module flag), so ``torch.compile(fullgraph=True)``, ``torch.func``, meta
tensors and ``jax.jit`` all see plain library calls.

:data:`ENABLED` (or :func:`enabled`) switches every delegation off at once; the primitives in
:mod:`agnostic_losses._numerics` also take ``delegate=False`` for one call. Tests compare both
paths (``tests/test_delegation.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ._dispatch import library_name

__all__ = [
    "ENABLED",
    "absolute",
    "enabled",
    "log_sigmoid",
    "log_sigmoid_pair",
    "log_softmax",
    "log_softmax_and_lse",
    "logaddexp",
    "logsumexp",
    "relu",
    "softplus",
    "take_last",
    "xmul",
]

#: Master switch. Read on every call (``torch.compile`` guards on it, so flipping it recompiles
#: rather than reusing a graph traced under the other value).
ENABLED = True

# torch's softplus returns ``x`` itself above ``threshold``; the error there is
# ``log1p(exp(-threshold))``. 20 (its default) is below float32's and the half types' rounding
# (relative 1e-10, gradient 2e-9) but not float64's; above 36 both round to the exact result.
_SOFTPLUS_THRESHOLD = 20.0
_SOFTPLUS_THRESHOLD_F64 = 40.0


@contextlib.contextmanager
def enabled(flag: bool) -> Iterator[None]:
    """Within the block, delegation is on (``True``) or off (``False``); restored after."""
    global ENABLED
    previous, ENABLED = ENABLED, bool(flag)
    try:
        yield
    finally:
        ENABLED = previous


def _torch_floating(x: Any) -> bool:
    return ENABLED and library_name(x) == "torch" and x.is_floating_point()


# libraries without automatic differentiation: no derivative at 0 to keep
_NO_AUTODIFF = frozenset({"numpy", "cupy", "dask", "array_api_strict"})


# ``jnp.abs`` with the derivative ``sign(x)``, built on first use (JAX is imported only then)
_JAX_ABSOLUTE: Any = None


def _jax_absolute() -> Any:
    global _JAX_ABSOLUTE
    if _JAX_ABSOLUTE is None:
        import jax
        import jax.numpy as jnp

        @jax.custom_jvp
        def fused(x: Any) -> Any:
            return jnp.abs(x)

        @fused.defjvp
        def _(primals: Any, tangents: Any) -> Any:
            (x,), (t,) = primals, tangents
            return jnp.abs(x), jnp.sign(x) * t

        _JAX_ABSOLUTE = fused
    return _JAX_ABSOLUTE


# ``x * y`` with ``0 * (+-inf) = 0`` and a JVP rule without a select on ``y``'s tangent, built
# on first use
_JAX_XMUL: Any = None


def _jax_xmul() -> Any:
    global _JAX_XMUL
    if _JAX_XMUL is None:
        import jax
        import jax.numpy as jnp

        def safe(x: Any, y: Any) -> tuple[Any, Any]:
            replaced = (x == 0) & ~jnp.isfinite(y)
            return replaced, jnp.where(replaced, 0.0, y)

        @jax.custom_jvp
        def fused(x: Any, y: Any) -> Any:
            return x * safe(x, y)[1]

        @fused.defjvp
        def _(primals: Any, tangents: Any) -> Any:
            (x, y), (dx, dy) = primals, tangents
            replaced, y_safe = safe(x, y)
            # d/dy is x * [not replaced]; x is 0 where replaced, so x itself has that value
            # (y's cotangent differs only where the product's own cotangent is NaN or infinite
            # at a replaced pair: 0 * NaN; no registry loss gives one, tests/test_delegation).
            # Written as where(replaced, stop_gradient(x), x): XLA folds the select of two
            # equal operands away (no compare or select in the first-order pass), while its
            # derivative in x keeps the generic second derivative (0 at the replaced pairs).
            x_keep = jnp.where(replaced, jax.lax.stop_gradient(x), x)
            return x * y_safe, dx * y_safe + x_keep * dy

        _JAX_XMUL = fused
    return _JAX_XMUL


def xmul(x: Any, y: Any) -> Any:
    """``x * y`` with ``0 * (+-inf) = 0`` (JAX: a JVP rule), or ``None``.

    Both operands are JAX floating arrays of one dtype (rank already matched); anything else
    (Python scalars, mixed dtypes, the other libraries) stays generic.
    """
    # Python scalars first: torch.compile cannot trace library_name on a float's type
    if not ENABLED or not hasattr(x, "dtype") or not hasattr(y, "dtype"):
        return None
    if library_name(x) != "jax" or library_name(y) != "jax":
        return None
    import jax.numpy as jnp

    if x.dtype != y.dtype or not jnp.issubdtype(x.dtype, jnp.floating):
        return None
    return _jax_xmul()(x, y)


def absolute(x: Any) -> Any:
    """``|x|`` with derivative ``sign(x)`` (0 at 0) fused, or ``None``."""
    if _torch_floating(x):
        import torch

        return torch.abs(x)
    if not ENABLED:
        return None
    library = library_name(x)
    if library == "jax":
        import jax.numpy as jnp

        return _jax_absolute()(x) if jnp.issubdtype(x.dtype, jnp.floating) else None
    if library in _NO_AUTODIFF:
        return abs(x)
    return None


def relu(x: Any) -> Any:
    """``max(x, 0)`` (derivative 0 at 0) fused, or ``None``."""
    if _torch_floating(x):
        import torch

        return torch.relu(x)
    return None


def softplus(x: Any) -> Any:
    """``log(1 + exp(x))`` fused, or ``None``."""
    if _torch_floating(x):
        import torch

        threshold = _SOFTPLUS_THRESHOLD_F64 if x.dtype == torch.float64 else _SOFTPLUS_THRESHOLD
        return torch.nn.functional.softplus(x, beta=1.0, threshold=threshold)
    return None


def log_sigmoid(x: Any) -> Any:
    """``log(sigmoid(x))`` fused, or ``None``."""
    if _torch_floating(x):
        import torch

        return torch.nn.functional.logsigmoid(x)
    return None


def log_sigmoid_pair(x: Any) -> tuple[Any, Any] | None:
    """``(log sigmoid(x), log sigmoid(-x))`` fused, or ``None``."""
    if _torch_floating(x):
        import torch

        logsigmoid = torch.nn.functional.logsigmoid
        return logsigmoid(x), logsigmoid(-x)
    return None


def take_last(x: Any, index: Any) -> Any:
    """``x[..., index]`` along the last axis by ``torch.gather``, or ``None``.

    ``index`` is valid (sanitised, non-negative, the namespace's indexing dtype) and has
    ``x``'s leading shape; array-api-compat's ``take_along_axis`` wraps ``torch.take_along_dim``
    (which broadcasts first) in a ``where`` for negative indices. Any other shape (one that
    broadcasts) is left to the generic path: ``gather`` would read a sub-block instead.
    """
    if (
        ENABLED
        and library_name(x) == "torch"
        and library_name(index) == "torch"
        and index.ndim == x.ndim
        and tuple(index.shape[:-1]) == tuple(x.shape[:-1])
    ):
        import torch

        return torch.gather(x, -1, index)
    return None


def logsumexp(x: Any, axis: Any, keepdims: bool) -> Any:
    """Not delegated: ``None`` (see the module docstring)."""
    del x, axis, keepdims
    return None


def log_softmax(x: Any, axis: int) -> Any:
    """Not delegated: ``None`` (see the module docstring)."""
    del x, axis
    return None


def log_softmax_and_lse(x: Any, axis: int) -> tuple[Any, Any] | None:
    """Not delegated: ``None`` (see the module docstring)."""
    del x, axis
    return None


def logaddexp(a: Any, b: Any) -> Any:
    """Not delegated: ``None`` (see the module docstring)."""
    del a, b
    return None
