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
"""

from __future__ import annotations

from typing import Any

from ._dispatch import check_choice, normalize_axes
from ._numerics import safe_divide

__all__ = [
    "DIVISORS",
    "REDUCTIONS",
    "apply_reduction",
    "check_reduction",
    "legacy_reduction",
    "reduce",
    "weighted_mean",
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
    total = xp.sum(loss, axis=axes)
    if reduction == "sum":
        return total
    if divisor == "count":
        return xp.mean(loss, axis=axes)
    if divisor == "weight_sum":
        den = xp.sum(xp.broadcast_to(weights, loss.shape), axis=axes)
        return safe_divide(xp, total, den, fill=fill)
    check_choice("divisor", divisor, DIVISORS)
    return total / (loss.shape[0] if loss.ndim else 1)


# Transitional names used by surfaces not yet moved onto the surface layer; removed once every
# surface calls :func:`reduce`.
def apply_reduction(xp: Any, loss: Any, reduction: str) -> Any:
    return reduce(xp, loss, reduction)


def weighted_mean(xp: Any, loss: Any, weights: Any, *, fill: float = 0.0) -> Any:
    return reduce(xp, loss, "mean", divisor="weight_sum", weights=weights, fill=fill)
