"""Divergence kernels: Kullback-Leibler in its probability, log-target and generalized forms."""

from __future__ import annotations

from typing import Any

from .._numerics import xlogy, xmul

__all__ = ["generalized_kl_terms", "kl_terms", "kl_terms_log_target"]


def kl_terms(xp: Any, log_predictions: Any, targets: Any) -> Any:
    """Elementwise ``t * (log t - log q)`` with ``0 * (log 0 - log q) = 0`` for any ``log q``.

    ``xlogy`` guards ``log t`` inside its ``where`` and ``xmul`` replaces ``log q`` before the
    product, so a zero target gives value 0 and a finite gradient for both arguments even when
    ``log q = -inf`` (the gradient of ``t log t`` at ``t = 0`` is taken as 0).
    """
    return xlogy(xp, targets, targets) - xmul(xp, targets, log_predictions)


def kl_terms_log_target(xp: Any, log_predictions: Any, log_targets: Any) -> Any:
    """Elementwise ``exp(l) * (l - log q)`` for log-targets ``l``.

    ``exp(-inf) = 0`` multiplies ``-inf - log q``; ``xmul`` makes that product 0 (not NaN) and
    keeps its gradient finite.
    """
    return xmul(xp, xp.exp(log_targets), log_targets - log_predictions)


def generalized_kl_terms(xp: Any, log_predictions: Any, targets: Any) -> Any:
    """Elementwise ``t log(t / q) - t + q``: the Bregman divergence of ``x log x - x``."""
    return kl_terms(xp, log_predictions, targets) + xp.exp(log_predictions) - targets
