"""Registry cases of the classification family."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .._classes import classification as C
from .._toplevel import classification as T
from ._case import Inputs, LossCase, Peer, construct_and_call

__all__ = ["CASES"]

FAMILY = "classification"


# --- NumPy float64 references (independent of the kernels) ---------------------------------


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def ref_sigmoid_bce(logits, labels, pos_weight=None):
    pw = 1.0 if pos_weight is None else pos_weight
    return pw * labels * _softplus(-logits) + (1.0 - labels) * _softplus(logits)


def ref_bce_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    loss = ref_sigmoid_bce(input, target, pos_weight)
    if weight is not None:
        loss = loss * weight
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


# --- inputs ----------------------------------------------------------------------------------


def _binary(rng: np.random.Generator) -> Inputs:
    return Inputs((3.0 * rng.normal(size=(4, 3)), rng.uniform(size=(4, 3))))


def _binary_weighted(rng: np.random.Generator) -> Inputs:
    logits, labels = _binary(rng).args
    return Inputs(
        (logits, labels),
        {
            "weight": rng.uniform(0.5, 2.0, size=(4, 3)),
            "pos_weight": rng.uniform(0.5, 3.0, size=(3,)),
            "reduction": "sum",
        },
    )


def _binary_none(rng: np.random.Generator) -> Inputs:
    logits, labels = _binary(rng).args
    return Inputs((logits, labels), {"reduction": "none"})


def _perfect_binary(inputs: Inputs) -> Inputs:
    logits = inputs.args[0]
    return Inputs((1e4 * np.sign(logits), (logits > 0).astype(np.float64)), inputs.kwargs)


CASES = [
    LossCase(
        "sigmoid_binary_cross_entropy",
        "top",
        FAMILY,
        T.sigmoid_binary_cross_entropy,
        _binary,
        ref_sigmoid_bce,
        Peer.path("jax", "optax.losses.sigmoid_binary_cross_entropy"),
        properties=frozenset({"nonnegative", "zero_at_target"}),
        perfect=_perfect_binary,
    ),
    LossCase(
        "binary_cross_entropy_with_logits",
        "functional",
        FAMILY,
        F.binary_cross_entropy_with_logits,
        _binary,
        ref_bce_with_logits,
        Peer.path("torch", "torch.nn.functional.binary_cross_entropy_with_logits"),
        properties=frozenset({"nonnegative"}),
    ),
    LossCase(
        "binary_cross_entropy_with_logits",
        "functional",
        FAMILY,
        F.binary_cross_entropy_with_logits,
        _binary_weighted,
        ref_bce_with_logits,
        Peer.path("torch", "torch.nn.functional.binary_cross_entropy_with_logits"),
        variant="weight-pos_weight-sum",
    ),
    LossCase(
        "BCEWithLogitsLoss",
        "class",
        FAMILY,
        construct_and_call(C.BCEWithLogitsLoss),
        _binary_none,
        ref_bce_with_logits,
        Peer.torch_class("BCEWithLogitsLoss"),
        variant="none",
    ),
]
