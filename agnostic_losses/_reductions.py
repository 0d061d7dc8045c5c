"""Reductions shared by every surface: ``'none'``, ``'mean'``, ``'sum'``, with weights.

What a weighted mean divides by differs between peers; each helper states its divisor.
"""

from __future__ import annotations

from typing import Any

from ._dispatch import check_choice
from ._numerics import safe_divide

__all__ = ["REDUCTIONS", "apply_reduction", "check_reduction", "legacy_reduction", "weighted_mean"]

REDUCTIONS = ("none", "mean", "sum")

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


def apply_reduction(xp: Any, loss: Any, reduction: str) -> Any:
    """Apply ``reduction`` to an unreduced loss: mean over all elements, sum, or nothing."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return xp.sum(loss)
    return xp.mean(loss)


def weighted_mean(xp: Any, loss: Any, weights: Any, *, fill: float = 0.0) -> Any:
    """``sum(loss) / sum(weights)`` for a ``loss`` already multiplied by its ``weights``.

    ``fill`` where every weight is 0 (0 for optax-style masks, NaN for torch's all-ignored
    mean); the gradient is 0 there either way. ``loss`` must already be 0 where the weight is 0.
    """
    return safe_divide(xp, xp.sum(loss), xp.sum(weights), fill=fill)
