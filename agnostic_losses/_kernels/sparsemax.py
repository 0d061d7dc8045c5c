"""Sparsemax and Fenchel-Young kernels."""

from __future__ import annotations

from typing import Any

from .._dispatch import device_of, stop_gradient
from .._numerics import expand_rank, gather_labels, invalid_to_nan, sanitize_labels

__all__ = ["binary_sparsemax", "multiclass_sparsemax", "sparse_plus", "sparsemax"]


def sparse_plus(xp: Any, x: Any) -> Any:
    """0 for ``x <= -1``, ``(x + 1)^2 / 4`` on ``(-1, 1)``, ``x`` for ``x >= 1``.

    Written with ``clip`` and ``maximum`` (no division, no ``where`` over a NaN branch): the
    value and the gradient are finite for any finite or infinite ``x``.
    """
    t = xp.clip(x, -1.0, 1.0)
    return 0.25 * (t + 1.0) * (t + 1.0) + xp.maximum(x - 1.0, 0.0)


def binary_sparsemax(xp: Any, logits: Any, labels: Any) -> Any:
    """``sparse_plus(-x)`` for a true label, ``sparse_plus(x)`` for a false one."""
    return sparse_plus(xp, xp.where(labels != 0, -logits, logits))


def sparsemax(xp: Any, scores: Any) -> Any:
    """Euclidean projection of ``scores`` onto the probability simplex along the last axis.

    Sort-based thresholding without data-dependent shapes: with ``z`` sorted in decreasing
    order and ``c_k = z_1 + ... + z_k``, the threshold is ``max_k (c_k - 1) / k`` (the max is
    attained at the support size), and ``p = max(s - tau, 0)``. ``-inf`` scores get
    probability 0 and a zero gradient.

    The sort only finds the support ``S = {s > tau}``; ``tau`` is then recomputed from it,
    ``(sum_S s - 1) / |S|``, so the derivative is sparsemax's own Jacobian
    ``diag(1_S) - 1_S 1_S^T / |S|`` also where a score ties with ``tau`` (the max over ``k``
    is then attained twice, and differentiating it, or ``maximum(s - tau, 0)`` at 0, mixes two
    supports: ``sum p`` would move, and the Fenchel-Young gradient would not be ``p - e_y``).
    """
    z = stop_gradient(xp.sort(scores, axis=-1, descending=True))
    cums = xp.cumulative_sum(z, axis=-1)
    n = scores.shape[-1]
    k = xp.arange(1, n + 1, dtype=scores.dtype, device=device_of(scores))
    threshold = xp.max((cums - 1.0) / expand_rank(xp, k, cums.ndim), axis=-1, keepdims=True)
    support = stop_gradient(scores) > threshold
    size = xp.sum(xp.astype(support, scores.dtype), axis=-1, keepdims=True)
    # an all -inf row has no support (its threshold is -inf): size 0, and p is 0 there
    total = xp.sum(xp.where(support, scores, 0.0), axis=-1, keepdims=True)
    tau = (total - 1.0) / xp.maximum(size, 1.0)
    return xp.where(support, scores - tau, 0.0)


def multiclass_sparsemax(xp: Any, scores: Any, labels: Any) -> Any:
    """``<p, s - s_y> + (1 - ||p||^2) / 2`` with ``p = sparsemax(s)``; invalid labels give NaN.

    This is the Fenchel-Young loss of the Gini negentropy; its gradient is ``p - e_y``, ties
    included (see :func:`sparsemax`). Shifting by ``s_y`` makes it exactly 0 at a large-margin
    prediction; the inner ``where`` keeps ``0 * (-inf)`` out of both the value and the gradient
    for masked (``-inf``) classes.
    """
    safe, valid, _ = sanitize_labels(xp, labels, scores.shape[-1])
    p = sparsemax(xp, scores)
    label_score = gather_labels(xp, scores, safe)
    # The label's class masked (its score -inf; all -inf rows included): +inf with a zero
    # gradient, as softmax cross-entropy gives. Its score is replaced before the shift (double
    # ``where``): otherwise the +inf shift meets p's zero cotangent, inf * 0 = NaN.
    dead = label_score == float("-inf")
    shifted = scores - xp.where(dead, 0.0, label_score)[..., None]
    support = p > 0
    linear = xp.sum(p * xp.where(support, shifted, 0.0), axis=-1)
    loss = linear + 0.5 * (1.0 - xp.sum(p * p, axis=-1))
    # A NaN or +inf score has no place in the support test (NaN > tau is False): the row is
    # NaN, as optax's is, not the loss of the other scores.
    undefined = xp.any(xp.isnan(scores) | (scores == float("inf")), axis=-1)
    valid = valid & ~undefined
    return invalid_to_nan(xp, xp.where(dead, float("inf"), loss), valid)
