"""Reductions shared by every surface, with NAMED divisors.

A mean is ``sum(loss) / divisor``; what the divisor is differs between peers, so every caller
names it:

``'count'``
    The number of elements reduced (torch's plain ``'mean'``; keras's ``sum_over_batch_size``,
    which divides a weighted sum by the element count, not by the weights).
``'weight_sum'``
    ``sum(weights)``: torch's weighted means (cross entropy with class weights, ``mse_loss`` with
    ``weight``), keras's ``mean_with_sample_weight`` and masked means (0/1 weights: the count of
    valid entries). ``loss`` must already be multiplied by ``weights``. Where every weight is 0
    the mean is ``fill`` (0, or NaN for torch's 0/0) with a zero gradient.
``'batch'``
    The size of the first axis (torch's ``kl_div(reduction='batchmean')``).

Keras's class reductions (:func:`keras_reduce`) are instances: ``'sum_over_batch_size'`` and
``'mean'`` divide by the count (a mask re-weights the valid entries by ``total / valid``, so
the mean is over the valid entries), ``'mean_with_sample_weight'`` by the sum of the sample
weights as given (not broadcast: keras's divisor), and every mean of nothing is 0.
"""

from __future__ import annotations

import math
from typing import Any

from ._dispatch import check_choice, normalize_axes
from ._numerics import safe_divide

__all__ = [
    "DIVISORS",
    "KERAS_REDUCTIONS",
    "REDUCTIONS",
    "check_reduction",
    "keras_reduce",
    "legacy_reduction",
    "rank_aligned",
    "reduce",
]

REDUCTIONS = ("none", "mean", "sum")
DIVISORS = ("count", "weight_sum", "batch")

_LEGACY = {
    (True, True): "mean",
    (True, False): "none",
    (False, True): "sum",
    (False, False): "none",
}


def check_reduction(reduction: str, allowed: tuple[str, ...] = REDUCTIONS) -> str:
    """Validate ``reduction``; ValueError listing the allowed values otherwise."""
    check_choice("reduction", reduction, allowed)
    return reduction


def legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """Map torch's deprecated ``size_average``/``reduce`` pair onto a ``reduction`` string."""
    if size_average is None and reduce is None:
        return reduction
    key = (
        True if size_average is None else bool(size_average),
        True if reduce is None else bool(reduce),
    )
    return _LEGACY[key]


def reduce(
    xp: Any,
    loss: Any,
    reduction: str,
    *,
    divisor: str = "count",
    weights: Any = None,
    fill: float = 0.0,
    axis: Any = None,
) -> Any:
    """Reduce an unreduced ``loss``: ``'none'``, ``'sum'`` or ``'mean'`` by a named divisor.

    Parameters
    ----------
    xp : namespace
    loss : array
        The unreduced loss (already weighted for ``divisor='weight_sum'``).
    reduction : {'none', 'sum', 'mean'}
    divisor : {'count', 'weight_sum', 'batch'}
        What ``'mean'`` divides by (see the module docstring).
    weights : array, optional
        The weights of ``'weight_sum'``, broadcastable to ``loss``.
    fill : float
        The ``'weight_sum'`` mean where every weight is 0.
    axis : int, tuple of int or None
        Axes to reduce (``None``: all); ``'batch'`` always reduces everything.
    """
    if reduction == "none":
        return loss
    axes = None if axis is None else normalize_axes("axis", axis, loss.ndim)
    if reduction == "mean" and divisor == "count":
        return xp.mean(loss, axis=axes)
    check_choice("divisor", divisor, DIVISORS)
    total = xp.sum(loss, axis=axes)
    if reduction == "sum":
        return total
    if divisor == "weight_sum":
        den = xp.sum(xp.broadcast_to(weights, loss.shape), axis=axes)
        return safe_divide(xp, total, den, fill=fill)
    return total / (loss.shape[0] if loss.ndim else 1)


KERAS_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def rank_aligned(xp: Any, a: Any, b: Any) -> tuple[Any, Any]:
    """Keras's +-1 rank rule: where the ranks differ by one and the longer array ends in a
    size-1 axis, that axis is squeezed, or (when the shorter array is 1-D) the shorter one
    gains it. Other pairs are returned unchanged."""
    if a.ndim == b.ndim + 1 and a.shape[-1] == 1:
        return (a, xp.expand_dims(b, axis=-1)) if b.ndim == 1 else (xp.squeeze(a, axis=-1), b)
    if b.ndim == a.ndim + 1 and b.shape[-1] == 1:
        return (xp.expand_dims(a, axis=-1), b) if a.ndim == 1 else (a, xp.squeeze(b, axis=-1))
    return a, b


def keras_reduce(
    xp: Any, values: Any, reduction: str | None, *, sample_weight: Any = None, mask: Any = None
) -> Any:
    """Keras's ``reduce_weighted_values``: weight, mask, then reduce.

    ``sample_weight`` and ``mask`` (boolean) meet ``values`` through :func:`rank_aligned` and
    broadcasting. For the two plain means the mask becomes the weight ``total / valid`` on
    valid entries (0 elsewhere and 0 when nothing is valid, a double ``where``), so dividing
    by the count averages the valid entries; for ``'sum'`` and ``'mean_with_sample_weight'`` it
    is a 0/1 weight. A 0-d or empty 1-D ``values`` is returned weighted but unreduced (keras).
    """
    if mask is not None:
        m = xp.astype(mask, values.dtype)
        if reduction in ("mean", "sum_over_batch_size"):
            m = m * safe_divide(xp, math.prod(mask.shape), xp.sum(m))
        if sample_weight is None:
            sample_weight = m
        else:
            m, sample_weight = rank_aligned(xp, m, sample_weight)
            sample_weight = sample_weight * m
    if sample_weight is not None:
        values, weights = rank_aligned(xp, values, sample_weight)
        values = values * weights
    if reduction in (None, "none") or values.ndim == 0 or tuple(values.shape) == (0,):
        return values
    if reduction == "sum":
        return reduce(xp, values, "sum")
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return safe_divide(xp, xp.sum(values), xp.sum(sample_weight))
    count = math.prod(values.shape)
    # keras's divide_no_nan: the mean of an empty batch is 0
    return xp.sum(values) / count if count else xp.sum(values) * 0.0
