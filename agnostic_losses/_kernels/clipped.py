"""Probability-space losses that clip, as keras's probability paths do.

Keras takes probabilities (``from_logits=False``, its default) and keeps ``log`` finite by
clipping them to ``[eps, 1 - eps]`` (``eps = 1e-7``, ``keras.backend.epsilon()``). Clipping
bounds the loss at ``-log(eps) = 16.118`` and gives a zero gradient outside the interval; that
is keras's documented behaviour, so its surface reproduces it. The logit paths
(``from_logits=True``) do not clip: they use the log-space kernels of
:mod:`.classification`.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "binary_cross_entropy",
    "categorical_focal",
    "normalized_log_probs",
]


def binary_cross_entropy(xp: Any, probs: Any, target: Any, eps: float) -> Any:
    """``-(y log q + (1 - y) log(1 - q))`` with ``q = clip(p, eps, 1 - eps)``, elementwise."""
    q = xp.clip(probs, eps, 1.0 - eps)
    return -(target * xp.log(q) + (1.0 - target) * xp.log1p(-q))


def _normalized(xp: Any, probs: Any, eps: float) -> Any:
    # keras rescales each row to sum 1 before clipping (a row of scores is a distribution).
    return xp.clip(probs / xp.sum(probs, axis=-1, keepdims=True), eps, 1.0 - eps)


def normalized_log_probs(xp: Any, probs: Any, eps: float) -> Any:
    """``log(clip(p / sum(p), eps, 1 - eps))`` over the last axis."""
    return xp.log(_normalized(xp, probs, eps))


def categorical_focal(
    xp: Any, probs: Any, target: Any, alpha: Any, gamma: float, eps: float
) -> Any:
    """``-sum(alpha (1 - q)^gamma y log q)`` over the last axis, ``q`` normalised and clipped."""
    q = _normalized(xp, probs, eps)
    return -xp.sum(alpha * (1.0 - q) ** gamma * target * xp.log(q), axis=-1)
