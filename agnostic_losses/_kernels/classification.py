"""Classification kernels: sigmoid and softmax cross-entropies and their relatives."""

from __future__ import annotations

from typing import Any

from .._numerics import log_sigmoid_pair, xmul

__all__ = ["sigmoid_binary_cross_entropy"]


def sigmoid_binary_cross_entropy(xp: Any, logits: Any, labels: Any, pos_weight: Any = None) -> Any:
    """Elementwise ``-(p * y * log sigmoid(x) + (1 - y) * log sigmoid(-x))``, ``p = pos_weight``.

    Logit space throughout: at ``x = +-inf`` the log-sigmoids are 0 and ``-inf``, and ``xmul``
    keeps ``0 * (-inf) = 0``, so saturated logits with agreeing labels give exactly 0.
    """
    log_p, log_not_p = log_sigmoid_pair(xp, logits)
    positive = xmul(xp, labels, log_p)
    if pos_weight is not None:
        positive = positive * pos_weight
    return -(positive + xmul(xp, 1.0 - labels, log_not_p))
