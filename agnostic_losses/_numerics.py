"""Stable numerical helpers the Array API standard lacks, written once for every namespace.

Each helper takes the namespace ``xp`` explicitly. None reads array values in Python or builds a
data-dependent shape, so all of them run under ``jax.jit`` and on Dask graphs. There is exactly
one version of each idea here (log-sum-exp, log-softmax, log-add-exp, safe log, ``|x|``, label
sanitising, gathers): the kernels import them, never re-derive them.

Gradient conventions, shared by every loss:

* Where a derivative is finite it is exact, for every argument (targets and weights included):
  ``0 * log p`` has derivative ``log p`` in the ``0``, not 0.
* Where the true derivative is infinite (``d/dt t log t`` at ``t = 0``, ``d/dy y log q`` at
  ``q = 0``) it is reported as 0, as torch's ``kl_div`` does for a zero target. The value there
  is the limit (``0 log 0 = 0``).
* An entry that cannot influence the value (a ``-inf`` logit, a fully masked slice) gets a zero
  gradient, never NaN.

Delegation: ``absolute``, ``relu``, ``softplus``, ``log_sigmoid``, ``log_sigmoid_pair``,
``log_softmax``, ``log_softmax_and_lse``, ``logsumexp``, ``logaddexp``, ``xmul`` and
``take_last`` first ask the dispatch layer (:mod:`agnostic_losses._delegation`) for the
library's own fused function (or, for ``xmul`` under JAX, the same composition with a derivative
rule XLA fuses), which is used only where it keeps the contract above (values and gradients)
and was measured faster; otherwise, or with ``delegate=False``, the generic composition below
runs.
"""

from __future__ import annotations

import math
from typing import Any

from . import _delegation
from ._dispatch import cast, device_of, index_dtype, stop_gradient

__all__ = [
    "absolute",
    "clamp_min_zero",
    "expand_rank",
    "gather_labels",
    "invalid_to_nan",
    "label_mask",
    "log_or_neg_inf",
    "log_sigmoid",
    "log_sigmoid_pair",
    "log_softmax",
    "log_softmax_and_lse",
    "logaddexp",
    "logsumexp",
    "move_axis_last",
    "one_hot",
    "relu",
    "safe_divide",
    "safe_log",
    "sanitize_labels",
    "softplus",
    "squared_lse",
    "take_last",
    "xlogy",
    "xmul",
]

_NEG_INF = -math.inf


def absolute(xp: Any, x: Any, *, delegate: bool = True) -> Any:
    """``|x|`` whose derivative at 0 is 0 on every backend.

    ``xp.abs`` has derivative 0 at 0 in torch but 1 in JAX; ``maximum`` splits a tie evenly
    everywhere, so ``maximum(x, -x)`` gives ``(1 - 1) / 2 = 0``. On eager torch ``torch.abs``
    itself (derivative ``sign(x)``) keeps that contract in one pass.
    """
    if delegate:
        fused = _delegation.absolute(x)
        if fused is not None:
            return fused
    return xp.maximum(x, -x)


def relu(xp: Any, z: Any, *, delegate: bool = True) -> Any:
    """``max(z, 0)`` with derivative 0 at ``z = 0`` (``torch.relu``'s and ``jax.nn.relu``'s
    subgradient; ``xp.maximum`` splits a tie, 1/2); a NaN stays NaN."""
    if delegate:
        fused = _delegation.relu(z)
        if fused is not None:
            return fused
    return xp.where(z <= 0, 0.0, z)


def clamp_min_zero(xp: Any, z: Any) -> Any:
    """``max(z, 0)`` with derivative 1 at ``z = 0``: ``torch.clamp_min``'s subgradient, which
    torch's margin-ranking, hinge-embedding, cosine-embedding and triplet losses take at their
    margin (:func:`relu` takes 0 there, ``xp.maximum`` splits 1/2). A NaN stays NaN with
    derivative 0, as torch's (its backward passes the gradient where ``z >= 0``)."""
    return xp.where(z >= 0, z, stop_gradient(xp.where(z < 0, 0.0, z)))


def softplus(xp: Any, x: Any, *, delegate: bool = True) -> Any:
    """``log(1 + exp(x))`` without overflow.

    ``x + log1p(exp(-x))`` for ``x >= 0`` and ``log1p(exp(x))`` below: no positive number is
    exponentiated, and both branches are the same analytic function, so every derivative is
    exact at every point, ``x = 0`` included (``sigmoid(0) = 1/2``, then ``1/4``). The
    textbook ``max(x, 0) + log1p(exp(-|x|))`` has the right first derivative at 0 but a second
    derivative of 0 there: a zero Hessian at a zero-initialised head.
    """
    if delegate:
        fused = _delegation.softplus(x)
        if fused is not None:
            return fused
    positive = x >= 0
    return xp.where(positive, x, 0.0) + _softplus_tail(xp, x, positive)


def _softplus_tail(xp: Any, x: Any, positive: Any) -> Any:
    """``log1p(exp(-|x|))``, with ``-|x|`` taken as ``-x`` or ``x`` by the branch ``positive``
    (not through ``absolute``, whose kink at 0 would drop the second derivative there)."""
    return xp.log1p(xp.exp(xp.where(positive, -x, x)))


def log_sigmoid(xp: Any, x: Any, *, delegate: bool = True) -> Any:
    """``log(sigmoid(x)) = -softplus(-x)``: exact for large ``|x|``, 0 at ``+inf``."""
    if delegate:
        fused = _delegation.log_sigmoid(x)
        if fused is not None:
            return fused
    return -softplus(xp, -x, delegate=delegate)


def log_sigmoid_pair(xp: Any, x: Any, *, delegate: bool = True) -> tuple[Any, Any]:
    """``(log(sigmoid(x)), log(sigmoid(-x)))`` sharing one ``log1p(exp(-|x|))``.

    ``log sigmoid(x) = min(x, 0) - log1p(exp(-|x|))``; the two outputs differ only in which
    ``min`` term they take, so one exponential serves both. The branches are those of
    :func:`softplus` (exact derivatives of every order, at 0 too).
    """
    if delegate:
        fused = _delegation.log_sigmoid_pair(x)
        if fused is not None:
            return fused
    positive = x >= 0
    tail = _softplus_tail(xp, x, positive)
    return xp.where(positive, 0.0, x) - tail, xp.where(positive, -x, 0.0) - tail


def logaddexp(xp: Any, a: Any, b: Any, *, delegate: bool = True) -> Any:
    """``log(exp(a) + exp(b))`` as ``hi + log1p(exp(lo - hi))``, exact at ``-inf``.

    ``hi``/``lo`` are the operands ordered by a ``where``: ``a + log1p(exp(b - a))`` is the
    same analytic function whichever operand leads, so every derivative is exact, a tie
    included (1/2 each, then 1/4), and ``exp`` never sees a positive number. Where both
    operands are ``-inf`` the result is the constant ``-inf`` (a ``where`` branch whose
    operands are replaced first), so no ``-inf - (-inf)`` reaches the value or the gradient:
    both operands get a zero gradient there.
    """
    if delegate:
        fused = _delegation.logaddexp(a, b)
        if fused is not None:
            return fused
    m = xp.maximum(a, b)
    finite = xp.isfinite(m)
    a, b = xp.where(finite, a, 0.0), xp.where(finite, b, 0.0)
    leads = a >= b
    hi, lo = xp.where(leads, a, b), xp.where(leads, b, a)
    out = hi + xp.log1p(xp.exp(lo - hi))
    # m = -inf (both operands -inf) or +inf: the value is m, as a constant (no gradient).
    return xp.where(finite, out, stop_gradient(m))


def logsumexp(
    xp: Any,
    x: Any,
    axis: int | tuple[int, ...] = -1,
    keepdims: bool = False,
    *,
    delegate: bool = True,
) -> Any:
    """``log(sum(exp(x), axis))`` with the max shifted out.

    A slice of all ``-inf`` gives ``-inf`` with a zero gradient, and ``-inf`` entries of any
    slice receive a zero gradient. No ``where`` on any array: compares and selects split
    XLA:CPU's fused reductions (a select in a ``(4096, 1000)`` log-softmax cost 1.4-2x the fused
    kernel under ``jax.jit``), so the guards are arithmetic:

    * the shift is ``m`` clipped to ``[-big, big]`` (``big`` the dtype's largest finite value):
      ``-inf - (-big)`` is ``-inf``, so an all ``-inf`` slice sums to exactly 0, and a ``+inf``
      entry stays ``+inf``: never ``inf - inf``;
    * ``log(s + eps/4)``: a slice with a finite maximum has ``s >= 1`` (its maximum contributes
      ``exp(0)``), where adding a quarter ulp of 1 rounds away, so value and derivative are
      exactly ``log s`` and ``1/s``; only the all ``-inf`` slice (``s = 0``) sees it, and there
      its finite derivative ``4/eps`` meets ``exp(-inf) = 0``: gradient 0, not ``inf * 0``.
      (Its second derivative ``-(4/eps)**2`` is finite too, except in float16, where it
      overflows: a float16 Hessian is NaN on an all ``-inf`` slice.)
    """
    if delegate:
        fused = _delegation.logsumexp(x, axis, keepdims)
        if fused is not None:
            return fused
    if 0 in tuple(x.shape):
        # An empty slice sums to 0 (log 0 = -inf) and max() has no identity to shift by; with
        # an empty batch the result is empty anyway (Dask's max fails on empty chunks).
        return xp.full_like(xp.sum(x, axis=axis, keepdims=keepdims), _NEG_INF)
    m, _, log_s = _shifted_log_sum(xp, x, axis)
    out = log_s + m
    if not keepdims:
        out = xp.squeeze(out, axis=axis)
    return out


def logsumexp_and_rounding(xp: Any, x: Any) -> tuple[Any, Any]:
    """:func:`logsumexp` over the last axis and the constant ``r`` that ``lse - r`` is more
    exactly (the rounding of the max plus the log of the sum, see :func:`_sum_rounding`).

    For a loss ``lse - x_y`` write ``(lse - x_y) - r``: ``lse - x_y`` is small for a confident
    prediction, where ``lse``'s own rounding (half an ulp of the max logit) is not. ``r`` is
    finite unless the slice is all ``-inf``, NaN or holds ``+inf`` (mask those rows).
    """
    if 0 in tuple(x.shape):
        lse = logsumexp(xp, x, delegate=False)
        return lse, xp.zeros_like(lse)
    m, shift, log_s = _shifted_log_sum(xp, x, -1)
    return xp.squeeze(log_s + m, axis=-1), xp.squeeze(_sum_rounding(xp, shift, log_s), axis=-1)


def _shifted_log_sum(xp: Any, x: Any, axis: int | tuple[int, ...]) -> tuple[Any, Any, Any]:
    """``(m, shift, log sum exp(x - shift))`` (kept dims): ``m`` the slice max (no gradient),
    ``shift = clip(m, -big, big)``; see :func:`logsumexp` for why there is no ``where``."""
    big = float(xp.finfo(x.dtype).max)
    # The shift cancels in value and derivative, so it is taken out of the graph: without
    # stop_gradient the backward pass also builds the argmax mask of ``max`` (measured on JAX
    # CPU, (4096, 1000) integer-label cross entropy: 3.3x optax's forward+backward before).
    m = stop_gradient(xp.max(x, axis=axis, keepdims=True))
    # clip as min(max(m, -big), big) written with maximum only: XLA rewrites a min-of-max
    # into a clamp, which XLA:CPU's fused reductions do not take (3 kernels instead of 1).
    shift = -xp.maximum(-xp.maximum(m, -big), -big)
    s = xp.sum(xp.exp(x - shift), axis=axis, keepdims=True)
    return m, shift, xp.log(s + float(xp.finfo(x.dtype).eps) / 4)


def log_softmax(xp: Any, x: Any, axis: int = -1, *, delegate: bool = True) -> Any:
    """``x - logsumexp(x)`` along ``axis``; ``-inf`` logits map to ``-inf`` log-probabilities.

    A slice of all ``-inf`` gives ``-inf`` everywhere (not NaN) with a zero gradient.
    """
    if delegate:
        fused = _delegation.log_softmax(x, axis)
        if fused is not None:
            return fused
    return log_softmax_and_lse(xp, x, axis, delegate=delegate)[0]


def log_softmax_and_lse(
    xp: Any, x: Any, axis: int = -1, *, delegate: bool = True
) -> tuple[Any, Any]:
    """:func:`log_softmax` and the log-sum-exp it subtracted (kept dims), from one reduction."""
    if delegate:
        fused = _delegation.log_softmax_and_lse(x, axis)
        if fused is not None:
            return fused
    if 0 in tuple(x.shape):
        lse = logsumexp(xp, x, axis=axis, keepdims=True, delegate=False)
        return x - lse, lse
    # x - (log_s + shift): an all -inf slice is -inf - finite = -inf, never -inf - (-inf).
    # (Not (x - shift) - log_s: XLA:CPU then keeps x - shift as a second (N, C) buffer for the
    # backward pass; 1.2-2x slower forward+backward.) The rounding of log_s + shift is added
    # back per slice, so the log-probabilities keep the accuracy of (x - shift) - log_s.
    m, shift, log_s = _shifted_log_sum(xp, x, axis)
    return (x - (log_s + shift)) + _sum_rounding(xp, shift, log_s), log_s + m


def _sum_rounding(xp: Any, shift: Any, log_s: Any) -> Any:
    """``fl(shift + log_s) - (shift + log_s)``, exactly where ``|shift| >= |log_s|`` (Fast2Sum),
    as a constant (its derivative is 0).

    ``shift + log_s`` rounds to half an ulp of the shift: ``x - (log_s + shift)`` alone is
    ``4e-6`` off at logits of 60 and ``1.5e-5`` at 100 (``jax.nn.log_softmax``: ``3e-7``), a
    relative error of a percent in the loss of a confident prediction and in ``exp`` of it
    (optax's Dice from logits). Per slice, so it costs a row of arithmetic, and no compare or
    select (see :func:`logsumexp`). ``log_s`` is at most ``log n`` for a finite maximum;
    clipping it keeps ``inf - inf`` out where an entry is ``+inf`` (``log_s = inf``).
    """
    # constants from the start: the min's derivative would put selects into the gradient
    clipped = xp.minimum(stop_gradient(log_s), 1e4)
    return ((clipped + shift) - shift) - clipped


def squared_lse(xp: Any, lse: Any, keep: Any = None) -> Any:
    """``lse**2`` (the z-loss of PaLM-style training) where ``lse`` is finite and ``keep``
    holds; 0 elsewhere with a zero gradient (an all ``-inf`` row, an ignored token)."""
    ok = xp.isfinite(lse) if keep is None else xp.isfinite(lse) & keep
    safe = xp.where(ok, lse, 0.0)
    return xp.where(ok, safe * safe, 0.0)


def expand_rank(xp: Any, a: Any, ndim: int) -> Any:
    """``a`` with leading unit axes up to ``ndim`` axes (Python scalars and None pass through).

    Broadcasting would add them implicitly; JAX users who set ``jax_numpy_rank_promotion`` to
    ``"raise"`` (to catch accidental broadcasts in their own code) get an error for that, so
    every broadcast between arrays of different ranks goes through here.
    """
    extra = ndim - getattr(a, "ndim", ndim)
    return a if extra <= 0 else xp.reshape(a, (1,) * extra + tuple(a.shape))


def _same_rank(xp: Any, x: Any, y: Any) -> tuple[Any, Any]:
    ndim = max(getattr(x, "ndim", 0), getattr(y, "ndim", 0))
    return expand_rank(xp, x, ndim), expand_rank(xp, y, ndim)


def xmul(xp: Any, x: Any, y: Any, *, delegate: bool = True) -> Any:
    """``x * y`` with the convention ``0 * (+-inf) = 0``; ``y`` is typically ``log q``.

    Only the pairs ``x == 0`` with ``y`` infinite are replaced (by 0, before the product), so
    everywhere else both derivatives are exact -- ``d/dx = y`` also where ``x == 0`` -- and at
    the replaced pairs both are 0 (the true ``d/dx`` is infinite there).
    """
    x, y = _same_rank(xp, x, y)
    if delegate:
        fused = _delegation.xmul(x, y)
        if fused is not None:
            return fused
    zero_times_inf = (x == 0) & ~xp.isfinite(y)
    return x * xp.where(zero_times_inf, 0.0, y)


def xlogy(xp: Any, x: Any, y: Any) -> Any:
    """``x * log(y)`` with ``0 * log(0) = 0``.

    Only the pair ``x == 0, y == 0`` is special: ``log`` sees 1 there, so the value is 0 and
    both derivatives are 0 (``d/dx = log 0`` is infinite). Elsewhere the derivatives are exact:
    ``d/dx = log y`` (also at ``x == 0``), ``d/dy = x / y``.
    """
    x, y = _same_rank(xp, x, y)
    both_zero = (x == 0) & (y == 0)
    return x * xp.log(xp.where(both_zero, 1.0, y))


def log_or_neg_inf(xp: Any, p: Any) -> Any:
    """``log p`` of probabilities: ``-inf`` with a zero gradient at ``p = 0`` (the log sees 1
    there: double ``where``, so no ``0 * inf`` reaches the backward pass); a NaN stays NaN
    (tested as ``~(p <= 0)``, which a NaN passes, not ``p > 0``, which would turn it into 0)."""
    pos = ~(p <= 0)
    return xp.where(pos, xp.log(xp.where(pos, p, 1.0)), _NEG_INF)


def safe_log(xp: Any, x: Any, floor: float | None = None) -> Any:
    """``log(x)`` clamped below at ``floor`` (-100 in torch's BCE); gradient 0 where clamped.

    The input is guarded as well as the output: ``maximum(log(0), floor)`` alone would send
    ``0 * (1/0) = NaN`` back through the discarded branch.
    """
    if floor is None:
        return xp.log(x)
    positive = ~(x <= 0)  # a NaN passes, and its log stays NaN (x > 0 would floor it)
    out = xp.log(xp.where(positive, x, 1.0))
    return xp.where(positive, xp.maximum(out, floor), floor)


def safe_divide(xp: Any, num: Any, den: Any, fill: float = 0.0) -> Any:
    """``num / den`` with ``fill`` where ``den == 0``.

    Double ``where``: the denominator is replaced by 1 before dividing, so no 0/0 reaches the
    value or the gradient. ``fill=nan`` reproduces torch's all-ignored mean with a zero gradient.
    """
    zero = den == 0
    return xp.where(zero, fill, num / xp.where(zero, 1.0, den))


def invalid_to_nan(xp: Any, loss: Any, valid: Any) -> Any:
    """``loss`` with NaN where ``valid`` is False (a ``where``: other entries' gradients stay)."""
    return xp.where(valid, loss, math.nan)


def move_axis_last(xp: Any, x: Any, axis: int) -> Any:
    """``x`` with (non-negative) ``axis`` moved to the end; a no-op when it already is."""
    if axis == x.ndim - 1:
        return x
    order = (*tuple(i for i in range(x.ndim) if i != axis), axis)
    return xp.permute_dims(x, order)


def label_mask(xp: Any, labels: Any, num_classes: int) -> Any:
    """Boolean one-hot of integer ``labels`` on a new last axis, on the labels' device.

    Out-of-range labels give an all-False row.
    """
    classes = xp.arange(num_classes, dtype=labels.dtype, device=device_of(labels))
    return labels[..., None] == expand_rank(xp, classes, labels.ndim + 1)


def one_hot(xp: Any, labels: Any, num_classes: int, dtype: Any) -> Any:
    """One-hot encode integer ``labels`` on a new last axis, in ``dtype`` on the labels' device.

    Out-of-range labels give an all-zero row.
    """
    return xp.astype(label_mask(xp, labels, num_classes), dtype)


def sanitize_labels(
    xp: Any, labels: Any, num_classes: int, ignore_index: int | None = None
) -> tuple[Any, Any, Any]:
    """``(safe, keep, bad)``: labels usable as indices, positions that count, invalid positions.

    Ignored (``== ignore_index``) and out-of-range labels are replaced by class 0 BEFORE any
    gather, so an ignore value such as -100 or 255 is never used as an index. ``keep`` is True
    for in-range labels that are not ignored; ``bad`` for out-of-range labels that are not
    ignored (their loss becomes NaN through :func:`invalid_to_nan`: a clamped class would give a
    plausible wrong loss).
    """
    in_range = (labels >= 0) & (labels < num_classes)
    if ignore_index is None:
        keep, bad = in_range, ~in_range
    else:
        ignored = labels == ignore_index
        keep = in_range & ~ignored
        bad = ~in_range & ~ignored
    return xp.where(keep, labels, xp.zeros_like(labels)), keep, bad


def take_last(
    xp: Any, x: Any, index: Any, *, use_take: bool | None = None, delegate: bool = True
) -> Any:
    """``out[..., j] = x[..., index[..., j]]`` along the last axis (``index`` valid, integer).

    ``index`` has ``x``'s shape except (possibly) in the last axis. Uses ``take_along_axis``
    (standard 2024.12) in the namespace's indexing dtype where the namespace has it, and a
    broadcast one-hot selection otherwise; ``use_take`` forces either path (tests compare both).
    """
    if use_take is None:
        use_take = hasattr(xp, "take_along_axis")
    if use_take:
        # torch's gather wants int64; JAX without x64 has no int64 (asking for it warns): the
        # namespace's own indexing dtype serves both.
        index = cast(xp, index, index_dtype(xp, index))
        fused = _delegation.take_last(x, index) if delegate else None
        if fused is not None:
            return fused
        return xp.take_along_axis(x, index, axis=-1)
    classes = xp.arange(x.shape[-1], dtype=index.dtype, device=device_of(index))
    hit = index[..., :, None] == expand_rank(xp, classes, index.ndim + 1)
    # where() rather than a product: 0 * (-inf) would be NaN for masked classes.
    return xp.sum(xp.where(hit, x[..., None, :], 0.0), axis=-1)


def gather_labels(xp: Any, x: Any, labels: Any, *, use_take: bool | None = None) -> Any:
    """``x[..., labels]`` along the last axis: ``out[i] = x[i, labels[i]]``.

    ``labels`` must already be valid indices (sanitise ignored labels first); see
    :func:`take_last` for the two paths.
    """
    return xp.squeeze(take_last(xp, x, labels[..., None], use_take=use_take), axis=-1)
