"""Registry cases of the sparsemax / Fenchel-Young family."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._dispatch import namespace
from .._numerics import logsumexp
from .._toplevel import sparsemax as T
from ._case import Inputs, LossCase, Peer

__all__ = ["CASES"]

FAMILY = "sparsemax"


# --- NumPy float64 references (independent of the kernels) ---------------------------------


def _sparse_plus(x):
    return np.where(x <= -1.0, 0.0, np.where(x >= 1.0, x, (x + 1.0) ** 2 / 4.0))


def ref_sparsemax_loss(logits, labels):
    return _sparse_plus(np.where(labels.astype(bool), -logits, logits))


def ref_projection_simplex(s):
    """Projection by bisection on the threshold (a different algorithm from the kernel's sort)."""
    lo = np.min(s, axis=-1, keepdims=True) - 1.0
    hi = np.max(s, axis=-1, keepdims=True)
    for _ in range(200):
        mid = (lo + hi) / 2
        too_big = np.sum(np.maximum(s - mid, 0.0), axis=-1, keepdims=True) > 1.0
        lo, hi = np.where(too_big, mid, lo), np.where(too_big, hi, mid)
    return np.maximum(s - (lo + hi) / 2, 0.0)


def ref_multiclass_sparsemax_loss(scores, labels):
    p = ref_projection_simplex(scores)
    s_y = np.take_along_axis(scores, labels[..., None], axis=-1)[..., 0]
    return np.sum(p * scores, axis=-1) - s_y + 0.5 * (1.0 - np.sum(p * p, axis=-1))


def ref_fenchel_young_logsumexp(scores, targets):
    m = scores.max(-1, keepdims=True)
    lse = (m + np.log(np.exp(scores - m).sum(-1, keepdims=True)))[..., 0]
    return lse - np.sum(targets * scores, axis=-1)


# --- inputs ----------------------------------------------------------------------------------


def _binary(rng: np.random.Generator) -> Inputs:
    return Inputs((2.0 * rng.normal(size=(4, 3)), rng.integers(0, 2, size=(4, 3))))


def _perfect_binary(inputs: Inputs) -> Inputs:
    labels = inputs.args[1]
    return Inputs((np.where(labels == 1, 2.0, -2.0), labels), inputs.kwargs)


def _multiclass(rng: np.random.Generator) -> Inputs:
    return Inputs((1.5 * rng.normal(size=(5, 4)), rng.integers(0, 4, size=(5,))))


def _multiclass_kdim(rng: np.random.Generator) -> Inputs:
    return Inputs((1.5 * rng.normal(size=(2, 3, 5)), rng.integers(0, 5, size=(2, 3))))


def _perfect_multiclass(inputs: Inputs) -> Inputs:
    scores, labels = inputs.args
    boost = 20.0 * (labels[..., None] == np.arange(scores.shape[-1]))
    return Inputs((scores + boost, labels), inputs.kwargs)


def _fy(rng: np.random.Generator) -> Inputs:
    scores = rng.normal(size=(4, 5))
    targets = rng.dirichlet(np.ones(5), size=4)
    return Inputs((scores, targets))


def _agnostic_logsumexp(scores: Any) -> Any:
    return logsumexp(namespace(scores=scores), scores, axis=-1)


def _optax_fy() -> Any:
    import jax.scipy.special
    import optax

    return optax.losses.make_fenchel_young_loss(jax.scipy.special.logsumexp)


def _optax_multiclass_sparsemax() -> Any:
    """optax's loss run in float64: with x64 enabled, its simplex projection's custom JVP
    returns a float32 tangent for a float64 primal on float32 inputs (an optax 0.2.8 bug), so
    the peer computes in float64 and casts back. In JAX's default 32-bit mode (no float64 to
    ask for, and no bug to avoid) it runs as the user calls it."""
    import jax
    import jax.numpy as jnp
    import optax

    def peer(scores: Any, labels: Any) -> Any:
        if not jax.config.jax_enable_x64:
            return optax.losses.multiclass_sparsemax_loss(scores, labels)
        out = optax.losses.multiclass_sparsemax_loss(scores.astype(jnp.float64), labels)
        return out.astype(scores.dtype)

    return peer


fenchel_young_logsumexp = T.make_fenchel_young_loss(_agnostic_logsumexp)

CASES = [
    LossCase(
        "sparsemax_loss",
        "top",
        FAMILY,
        T.sparsemax_loss,
        _binary,
        ref_sparsemax_loss,
        Peer.path("jax", "optax.losses.sparsemax_loss"),
        properties=frozenset({"nonnegative", "zero_at_target"}),
        perfect=_perfect_binary,
    ),
    LossCase(
        "multiclass_sparsemax_loss",
        "top",
        FAMILY,
        T.multiclass_sparsemax_loss,
        _multiclass,
        ref_multiclass_sparsemax_loss,
        Peer("jax", "optax.losses.multiclass_sparsemax_loss", _optax_multiclass_sparsemax),
        properties=frozenset({"nonnegative", "zero_at_target"}),
        perfect=_perfect_multiclass,
    ),
    LossCase(
        "multiclass_sparsemax_loss",
        "top",
        FAMILY,
        T.multiclass_sparsemax_loss,
        _multiclass_kdim,
        ref_multiclass_sparsemax_loss,
        # optax vmaps over the first axis only, so it cannot take (B, T, C) scores.
        None,
        variant="kdim",
    ),
    LossCase(
        "make_fenchel_young_loss",
        "top",
        FAMILY,
        fenchel_young_logsumexp,
        _fy,
        ref_fenchel_young_logsumexp,
        Peer("jax", "optax.losses.make_fenchel_young_loss(logsumexp)", _optax_fy),
        variant="logsumexp",
        grad_argnums=(0, 1),
        properties=frozenset({"nonnegative"}),
    ),
]
