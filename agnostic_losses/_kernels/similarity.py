"""Similarity and metric-learning kernels: cosine, p-norm distances, triplet, NT-Xent, Circle."""

from __future__ import annotations

import math
from typing import Any

from .._dispatch import device_of
from .._numerics import absolute, clamp_min_zero, logaddexp, logsumexp, safe_divide, softplus

__all__ = [
    "circle",
    "cosine_embedding",
    "cosine_similarity",
    "ntxent",
    "optax_triplet_distance",
    "pairwise_cosine_similarity",
    "pnorm",
    "torch_cosine_similarity",
    "triplet_hinge",
]


def _inverse_sqrt_or_zero(xp: Any, x: Any) -> Any:
    """``1 / sqrt(x)`` where ``x > 0`` and 0 where ``x == 0``.

    Double ``where``: ``x`` is replaced by 1 before the square root, so neither ``1 / 0`` nor the
    infinite slope of ``sqrt`` at 0 reaches the value or the gradient.
    """
    zero = x == 0
    return xp.where(zero, 0.0, 1.0 / xp.sqrt(xp.where(zero, 1.0, x)))


def _sqrt_or_zero(xp: Any, x: Any) -> Any:
    """``sqrt(x)`` whose gradient at ``x == 0`` is 0 instead of ``inf`` (then NaN downstream)."""
    zero = x == 0
    return xp.where(zero, 0.0, xp.sqrt(xp.where(zero, 1.0, x)))


def cosine_similarity(xp: Any, a: Any, b: Any, epsilon: float, axis: tuple[int, ...]) -> Any:
    """optax's cosine: ``<a, b> / (sqrt(max(|a|^2, eps)) sqrt(max(|b|^2, eps)))`` over ``axis``.

    ``epsilon`` floors each *squared* norm, as optax does. Where a floored squared norm is still
    0 (a zero vector with ``epsilon=0``) the similarity is 0 with a zero gradient, not NaN.
    """
    inv_a = _inverse_sqrt_or_zero(xp, xp.maximum(xp.sum(a * a, axis=axis), epsilon))
    inv_b = _inverse_sqrt_or_zero(xp, xp.maximum(xp.sum(b * b, axis=axis), epsilon))
    return xp.sum(a * b, axis=axis) * inv_a * inv_b


def pairwise_cosine_similarity(xp: Any, x: Any, y: Any, eps: float) -> Any:
    """The matrix ``<x_i, y_j> / (max(|x_i|, eps) max(|y_j|, eps))`` for rows ``x_i``, ``y_j``.

    Each norm is floored on its own (torch's ``cosine_similarity`` convention): flooring their
    product would shrink the similarity of two tiny non-zero rows towards 0. The norms use a
    square root guarded at 0, so a zero row gives similarity 0 and a finite gradient.
    """
    dots = xp.matmul(x, xp.matrix_transpose(y))
    norm_x = xp.maximum(_sqrt_or_zero(xp, xp.sum(x * x, axis=-1)), eps)
    norm_y = xp.maximum(_sqrt_or_zero(xp, xp.sum(y * y, axis=-1)), eps)
    return dots / (norm_x[:, None] * norm_y[None, :])


def pnorm(xp: Any, x: Any, p: float, axis: int = -1) -> Any:
    """``||x||_p`` along ``axis`` for every ``p``, as torch's ``linalg.vector_norm``.

    ``p = 0`` counts the non-zero entries, ``p = +-inf`` is the largest / smallest ``|x_i|``,
    any other ``p`` (negative too) is ``(sum |x_i|^p)^(1/p)``. Zero entries are replaced by 1
    before the power (double ``where``): ``|0|^p`` is 0 or ``inf`` by the sign of ``p``, with
    derivative 0 there as torch's, where ``p |0|^(p-1) sign(0)`` is ``inf * 0 = nan`` for
    ``p < 1``. A zero ``sum`` (``p > 0``) gives norm 0 and gradient 0; an infinite one
    (``p < 0``: a zero entry) gives 0 through ``inf^(1/p)``, whose derivative is 0 too.
    """
    if p == 0:
        # the 0 of the other branch, ``0 * x``, keeps the count in the graph (zero gradient)
        return xp.sum(xp.where(x != 0, 1.0, 0.0 * x), axis=axis)
    if math.isinf(p):
        magnitude = absolute(xp, x)
        return xp.max(magnitude, axis=axis) if p > 0 else xp.min(magnitude, axis=axis)
    if p == 2:
        return _sqrt_or_zero(xp, xp.sum(x * x, axis=axis))
    if p == 1:
        return xp.sum(absolute(xp, x), axis=axis)
    zero = x == 0
    powered = xp.where(zero, 0.0 if p > 0 else math.inf, xp.where(zero, 1.0, absolute(xp, x)) ** p)
    total = xp.sum(powered, axis=axis)
    if p < 0:
        return total ** (1.0 / p)
    empty = total == 0
    return xp.where(empty, 0.0, xp.where(empty, 1.0, total) ** (1.0 / p))


def torch_cosine_similarity(xp: Any, x1: Any, x2: Any, eps: float, axis: int) -> Any:
    """torch's ``cosine_similarity``: ``<x1, x2> / (max(|x1|, eps) max(|x2|, eps))``.

    Each norm is floored on its own (torch's implementation; its documented formula floors
    their product, which would shrink the similarity of two tiny vectors). torch divides each
    vector by its norm before the product; dividing the dot product instead is the same
    number up to rounding, with three full passes instead of six (and the product of two
    finite norms cannot overflow where their squares did not). The norms' square root is
    guarded at 0, so a zero vector gives similarity 0 and a finite gradient, as torch's.
    """
    n1 = xp.maximum(_sqrt_or_zero(xp, xp.sum(x1 * x1, axis=axis)), eps)
    n2 = xp.maximum(_sqrt_or_zero(xp, xp.sum(x2 * x2, axis=axis)), eps)
    return xp.sum(x1 * x2, axis=axis) / (n1 * n2)


def optax_triplet_distance(xp: Any, a: Any, b: Any, p: float, eps: float, axis: int) -> Any:
    """optax's ``(sum |a - b|^p + eps)^(1/p)``: ``eps`` inside the root keeps the gradient
    finite when ``a == b``."""
    diff = a - b
    powered = diff * diff if p == 2 else absolute(xp, diff) ** p
    return (xp.sum(powered, axis=axis) + eps) ** (1.0 / p)


def triplet_hinge(
    xp: Any, d_pos: Any, d_neg: Any, margin: Any, *, full_at_margin: bool = False
) -> Any:
    """``max(d_pos - d_neg + margin, 0)``; at the margin itself the derivative is split evenly
    (optax's ``jnp.maximum``), or whole with ``full_at_margin`` (torch's ``clamp_min``)."""
    h = d_pos - d_neg + margin
    return clamp_min_zero(xp, h) if full_at_margin else xp.maximum(h, 0.0)


# torch's cosine_embedding_loss adds this to each squared norm.
_TORCH_COSINE_EPS = 1e-12


def cosine_embedding(xp: Any, x1: Any, x2: Any, target: Any, margin: float) -> Any:
    """torch's elementwise cosine-embedding loss; the class axis is the last one.

    ``cos = <x1, x2> / sqrt((|x1|^2 + 1e-12) (|x2|^2 + 1e-12))`` is finite for zero vectors;
    ``1 - cos`` where ``target == 1``, ``max(cos - margin, 0)`` where ``target == -1``, else 0;
    torch's ``clamp_min`` subgradient (1) at ``cos = margin``.
    """
    denominator = xp.sqrt(
        (xp.sum(x1 * x1, axis=-1) + _TORCH_COSINE_EPS)
        * (xp.sum(x2 * x2, axis=-1) + _TORCH_COSINE_EPS)
    )
    cos = xp.sum(x1 * x2, axis=-1) / denominator
    positive = xp.where(target == 1, 1.0 - cos, 0.0)
    negative = xp.where(target == -1, clamp_min_zero(xp, cos - margin), 0.0)
    return positive + negative


def ntxent(xp: Any, embeddings: Any, labels: Any, temperature: Any) -> Any:
    """optax's NT-Xent: mean over positive pairs ``(i, j)`` of
    ``-log(exp(s_ij) / (exp(s_ij) + sum_{k: y_k != y_i} exp(s_ik)))``, ``s = cos / T``.

    Written with log-sum-exp over the negatives and ``logaddexp``; a row without negatives has a
    log-sum-exp of ``-inf`` that ``logaddexp`` absorbs. No positive pair at all gives 0.
    """
    n = embeddings.shape[0]
    eps = float(xp.finfo(embeddings.dtype).eps)
    # optax's cosine of every pair, as a Gram matrix: (N, N) memory, not the (N, N, D) of a
    # broadcast product (16 GiB at N = 4096, D = 1000 in float32).
    inv = _inverse_sqrt_or_zero(xp, xp.maximum(xp.sum(embeddings * embeddings, axis=-1), eps))
    dots = xp.matmul(embeddings, xp.matrix_transpose(embeddings))
    sims = dots * inv[:, None] * inv[None, :] / temperature
    same = labels[:, None] == labels[None, :]
    eye = xp.eye(n, dtype=xp.bool, device=device_of(embeddings))
    positives = same & ~eye
    negative_lse = logsumexp(xp, xp.where(same, -math.inf, sims), axis=-1, keepdims=True)
    log_softmax = sims - logaddexp(xp, negative_lse, sims)
    weights = xp.astype(positives, sims.dtype)
    total = -xp.sum(xp.where(positives, log_softmax, 0.0))
    return safe_divide(xp, total, xp.sum(weights))


def circle(
    xp: Any,
    embeddings: Any,
    labels: Any,
    ref_embeddings: Any,
    ref_labels: Any,
    remove_diagonal: bool,
    gamma: float,
    margin: float,
) -> Any:
    """Keras 3's Circle loss per query row, on cosine distances ``d = max(1 - <e, r>, 0)``.

    ``softplus(lse_pos(-gamma a_p (margin - d)) + lse_neg(gamma a_n (1 - margin - d)))`` with
    ``a_p = max(margin + d, 0)``, ``a_n = max(1 + margin - d, 0)``. A row without positives or
    without negatives is 0 (keras's ``softplus(-inf)``); its logits are replaced by 0 before the
    log-sum-exp so the ``log(0)`` of an empty row never meets the gradient.
    """
    n, m = embeddings.shape[0], ref_embeddings.shape[0]
    dist = xp.maximum(1.0 - xp.matmul(embeddings, xp.matrix_transpose(ref_embeddings)), 0.0)
    same = labels[:, None] == ref_labels[None, :]
    negative = ~same
    positive = same
    if remove_diagonal:
        positive = same & ~xp.eye(n, m, dtype=xp.bool, device=device_of(embeddings))
    pos_weight = xp.maximum(xp.where(positive, margin + dist, 0.0), 0.0)
    neg_weight = xp.maximum(xp.where(negative, 1.0 + margin - dist, 0.0), 0.0)
    pos_logits = -gamma * pos_weight * (margin - dist)
    neg_logits = gamma * neg_weight * (1.0 - margin - dist)
    row_ok = xp.any(positive, axis=-1) & xp.any(negative, axis=-1)
    keep = row_ok[:, None]
    pos_in = xp.where(keep, xp.where(positive, pos_logits, -math.inf), 0.0)
    neg_in = xp.where(keep, xp.where(negative, neg_logits, -math.inf), 0.0)
    total = logsumexp(xp, pos_in, axis=-1) + logsumexp(xp, neg_in, axis=-1)
    return xp.where(row_ok, softplus(xp, total), 0.0)
