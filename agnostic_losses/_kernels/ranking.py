"""Ranking kernels (listwise losses over the last axis)."""

from __future__ import annotations

from typing import Any

from .._numerics import log_softmax, xmul

__all__ = ["ranking_softmax"]


def ranking_softmax(
    xp: Any, logits: Any, labels: Any, where: Any = None, weights: Any = None
) -> Any:
    """``-sum_i y_i log softmax(s)_i`` per list; masked items neither count nor get a gradient.

    Masked items become ``-inf`` logits with label 0. A list with no valid item would then be a
    row of ``-inf`` (NaN in ``log_softmax`` and its gradient), so such rows are replaced by
    zeros before the softmax and their loss is 0. ``xmul`` keeps ``0 * (-inf) = 0``.
    """
    if where is not None:
        labels = xp.where(where, labels, 0.0)
        logits = xp.where(where, logits, -float("inf"))
        any_valid = xp.any(where, axis=-1, keepdims=True)
        logits = xp.where(any_valid, logits, 0.0)
    if weights is not None:
        labels = labels * weights
    return -xp.sum(xmul(xp, labels, log_softmax(xp, logits, axis=-1)), axis=-1)
