"""Adaptive softmax (Grave et al., 2017): a head over the frequent classes and the clusters,
and one low-rank tail per cluster of rare classes.

The head scores ``S`` shortlist classes and ``K`` cluster tokens, ``log p_head = log_softmax(
x @ W_head.T + b)``; tail ``k`` scores its ``o_k`` classes through a projection,
``log p_k = log_softmax((x @ P_k.T) @ O_k.T)``. A class of cluster ``k`` then has
``log p(c) = log p_head[S + k] + log p_k[c - cutoff_k]`` and a shortlist class its head entry.

Shapes stay static: every tail is evaluated for every row and selected with ``where`` (torch
evaluates a tail only on the rows whose targets fall in it, a data-dependent shape that
``jax.jit`` and lazy arrays cannot trace). The values are the same; ours costs a full
projection's compute, torch's only the targets' clusters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._numerics import (
    expand_rank,
    gather_labels,
    log_softmax,
    logsumexp_and_rounding,
    sanitize_labels,
)

__all__ = ["adaptive_log_softmax", "adaptive_target_log_prob", "cutoffs_of"]

Tails = Sequence[tuple[Any, Any]]


def cutoffs_of(head_rows: int, tails: Tails) -> list[int]:
    """torch's ``self.cutoffs``: the first class of each cluster, then the class count, from
    the shapes (the head has ``S + K`` rows; tail ``k``'s output layer ``o_k`` rows)."""
    cutoffs = [head_rows - len(tails)]
    for _, out in tails:
        cutoffs.append(cutoffs[-1] + out.shape[0])
    return cutoffs


def _head_log_probs(xp: Any, x: Any, head_weight: Any, head_bias: Any) -> Any:
    logits = x @ xp.matrix_transpose(head_weight)
    if head_bias is not None:
        logits = logits + expand_rank(xp, head_bias, logits.ndim)
    return log_softmax(xp, logits)


def _tail_logits(xp: Any, x: Any, tail: tuple[Any, Any]) -> Any:
    projection, out = tail
    return (x @ xp.matrix_transpose(projection)) @ xp.matrix_transpose(out)


def adaptive_target_log_prob(
    xp: Any, x: Any, labels: Any, head_weight: Any, head_bias: Any, tails: Tails
) -> Any:
    """``log p(labels[n] | x[n])`` for ``x`` (N, D) and integer ``labels`` (N,); NaN for a
    label outside ``[0, C)``."""
    cutoffs = cutoffs_of(head_weight.shape[0], tails)
    shortlist = cutoffs[0]
    safe, _, bad = sanitize_labels(xp, labels, cutoffs[-1])
    # 0 for a shortlist class, k for a class of cluster k (1-based)
    cluster = xp.zeros_like(safe)
    for start in cutoffs[:-1]:
        cluster = cluster + xp.astype(safe >= start, safe.dtype)
    head_index = xp.where(cluster == 0, safe, cluster + (shortlist - 1))
    out = gather_labels(xp, _head_log_probs(xp, x, head_weight, head_bias), head_index)
    for k, tail in enumerate(tails, start=1):
        mine = cluster == k
        relative = xp.where(mine, safe - cutoffs[k - 1], xp.zeros_like(safe))
        z = _tail_logits(xp, x, tail)
        # log softmax(z)[y] = z[y] - logsumexp(z): one (N, o_k) pass fewer than log_softmax
        # (plus the rounding of logsumexp's max + log sum, for log_softmax's accuracy)
        lse, rounding = logsumexp_and_rounding(xp, z)
        tail = (gather_labels(xp, z, relative) - lse) + rounding
        # where(), not a product: another cluster's row adds exactly 0 and gets no gradient
        out = out + xp.where(mine, tail, 0.0)
    return xp.where(bad, float("nan"), out)


def adaptive_log_softmax(xp: Any, x: Any, head_weight: Any, head_bias: Any, tails: Tails) -> Any:
    """Every class's log-probability, ``(..., C)``: the shortlist's head entries, then each
    cluster's tail log-probabilities plus its head entry."""
    head = _head_log_probs(xp, x, head_weight, head_bias)
    shortlist = head_weight.shape[0] - len(tails)
    parts = [head[..., :shortlist]]
    for k, tail in enumerate(tails):
        cluster = head[..., shortlist + k : shortlist + k + 1]
        parts.append(log_softmax(xp, _tail_logits(xp, x, tail)) + cluster)
    return xp.concat(parts, axis=-1)
