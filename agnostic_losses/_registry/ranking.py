"""Registry cases of the ranking family."""

from __future__ import annotations

import numpy as np

from .._toplevel import ranking as T
from ._case import Inputs, LossCase, Peer

__all__ = ["CASES"]

FAMILY = "ranking"


def ref_ranking_softmax(logits, labels, where=None, weights=None, reduce_fn="mean", reduction=None):
    """Loop over lists: softmax over the valid items only, labels times weights."""
    if reduction is not None:  # braintools: the string wins over reduce_fn
        reduce_fn = {"mean": "mean", "sum": np.sum, "none": None}[reduction]
    batch = logits.shape[:-1]
    out = np.zeros(batch)
    has_valid = np.ones(batch, dtype=bool)
    for idx in np.ndindex(batch):
        valid = np.ones(logits.shape[-1], bool) if where is None else where[idx]
        has_valid[idx] = valid.any()
        if not valid.any():
            continue
        s, y = logits[idx][valid], labels[idx][valid]
        if weights is not None:
            y = y * weights[idx][valid]
        log_p = s - s.max() - np.log(np.sum(np.exp(s - s.max())))
        out[idx] = -np.sum(y * log_p)
    if reduce_fn is None:
        return out
    if reduce_fn is np.sum or getattr(reduce_fn, "__name__", "") == "sum":
        return out.sum()
    return out[has_valid].mean() if has_valid.any() else np.float64(0.0)


def _lists(rng: np.random.Generator) -> Inputs:
    return Inputs((rng.normal(size=(4, 5)), rng.integers(0, 3, size=(4, 5)).astype(np.float64)))


def _masked(rng: np.random.Generator) -> Inputs:
    logits, labels = _lists(rng).args
    where = rng.uniform(size=(4, 5)) < 0.7
    where[:, 0] = True  # every list keeps an item (a fully masked list is tested separately)
    return Inputs((logits, labels), {"where": where, "weights": rng.uniform(0.5, 2.0, (4, 5))})


def _masked_unreduced(rng: np.random.Generator) -> Inputs:
    inputs = _masked(rng)
    return Inputs(inputs.args, {"where": inputs.kwargs["where"], "reduce_fn": None})


def _masked_sum(rng: np.random.Generator) -> Inputs:
    inputs = _masked(rng)
    return Inputs(inputs.args, {**inputs.kwargs, "reduction": "sum", "reduce_fn": None})


def _single_list(rng: np.random.Generator) -> Inputs:
    return Inputs((rng.normal(size=(6,)), rng.uniform(size=(6,))))


CASES = [
    LossCase(
        "ranking_softmax_loss",
        "top",
        FAMILY,
        T.ranking_softmax_loss,
        _lists,
        ref_ranking_softmax,
        Peer.path("jax", "optax.losses.ranking_softmax_loss"),
        properties=frozenset({"nonnegative"}),
    ),
    LossCase(
        "ranking_softmax_loss",
        "top",
        FAMILY,
        T.ranking_softmax_loss,
        _masked,
        ref_ranking_softmax,
        Peer.path("jax", "optax.losses.ranking_softmax_loss"),
        variant="where-weights",
        # optax's label and weight gradients are NaN at masked items (README: zero under a
        # `where` mask); the scores' gradient is compared.
        peer_wrt=(0,),
    ),
    LossCase(
        "ranking_softmax_loss",
        "top",
        FAMILY,
        T.ranking_softmax_loss,
        _masked_unreduced,
        ref_ranking_softmax,
        Peer.path("jax", "optax.losses.ranking_softmax_loss"),
        variant="where-unreduced",
    ),
    LossCase(
        "ranking_softmax_loss",
        "top",
        FAMILY,
        T.ranking_softmax_loss,
        _single_list,
        ref_ranking_softmax,
        Peer.path("jax", "optax.losses.ranking_softmax_loss"),
        variant="1d",
    ),
    LossCase(
        "ranking_softmax_loss",
        "top",
        FAMILY,
        T.ranking_softmax_loss,
        _masked_sum,
        ref_ranking_softmax,
        Peer.path("jax", "braintools.metric.ranking_softmax_loss"),
        variant="braintools-reduction",
        peer_wrt=(0,),  # braintools' label and weight gradients are NaN where masked, as optax's
    ),
]
