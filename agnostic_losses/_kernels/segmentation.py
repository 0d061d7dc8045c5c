"""Segmentation kernels: soft Dice / Tversky overlap ratios."""

from __future__ import annotations

from typing import Any

from .._numerics import safe_divide

__all__ = ["keras_tversky", "overlap_sums", "tversky_index"]


def overlap_sums(xp: Any, probs: Any, targets: Any, axis: tuple[int, ...]) -> tuple[Any, Any, Any]:
    """``(sum p*t, sum p, sum t)`` over ``axis``; an empty ``axis`` reduces nothing.

    The empty tuple is handled here because ``torch.sum(x, dim=())`` sums over every axis.
    """
    inter = probs * targets
    if not axis:
        return inter, probs, targets
    return xp.sum(inter, axis=axis), xp.sum(probs, axis=axis), xp.sum(targets, axis=axis)


def tversky_index(
    xp: Any, inter: Any, pred_sum: Any, target_sum: Any, smooth: Any, alpha: Any, beta: Any
) -> Any:
    """``(I + s) / (I + alpha FP + beta FN + s)`` with ``FP = P - I`` and ``FN = T - I``.

    A zero denominator (empty prediction and empty target with ``smooth = 0``) means perfect
    overlap: index 1, loss 0, zero gradient (double ``where`` via ``safe_divide``).
    """
    num = inter + smooth
    den = inter + alpha * (pred_sum - inter) + beta * (target_sum - inter) + smooth
    return safe_divide(xp, num, den, fill=1.0)


def keras_tversky(
    xp: Any, y_true: Any, y_pred: Any, alpha: float, beta: float, axis: Any, eps: float
) -> Any:
    """Keras's Tversky loss: ``1 - I / (I + alpha * FN + beta * FP + eps)``.

    Keras's code weights ``sum((1 - y_pred) * y_true)`` (false negatives) by ``alpha`` and
    ``sum(y_pred * (1 - y_true))`` (false positives) by ``beta``, the reverse of its docstring;
    we follow the code. Where prediction and target are both exactly empty the loss is 0
    (keras: 1), through a double ``where`` so the gradient stays finite.
    """
    if axis == ():
        inter, fn, fp = y_true * y_pred, (1.0 - y_pred) * y_true, y_pred * (1.0 - y_true)
    else:
        inter = xp.sum(y_true * y_pred, axis=axis)
        fn = xp.sum((1.0 - y_pred) * y_true, axis=axis)
        fp = xp.sum(y_pred * (1.0 - y_true), axis=axis)
    den = inter + fn * alpha + fp * beta
    empty = den == 0
    ratio = xp.where(empty, 1.0, inter / xp.where(empty, 1.0, den + eps))
    return 1.0 - ratio
