"""Registry cases of the divergence family."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import functional as F
from .._classes import divergence as C
from .._toplevel import divergence as T
from ._case import Inputs, LossCase, Peer, construct_and_call, import_dotted

__all__ = ["CASES"]

FAMILY = "divergence"


def _quiet(library: str, dotted: str) -> Peer:
    """A peer that warns on every call (torch's kl_div 'mean', optax's deprecated alias); the
    warning is about the peer's API, not about the values we compare."""

    def load() -> Callable[..., Any]:
        func = import_dotted(dotted)

        def call(*args: Any, **kwargs: Any) -> Any:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return func(*args, **kwargs)

        return call

    return Peer(library, dotted, load)


# --- NumPy float64 references (independent of the kernels) ---------------------------------


def _terms(log_q, t):
    safe = np.where(t > 0, t, 1.0)
    return np.where(t > 0, t * (np.log(safe) - log_q), 0.0)


def ref_kl_divergence(log_predictions, targets, axis=-1, where=None):
    terms = _terms(log_predictions, targets)
    if where is not None:
        terms = np.where(where, terms, 0.0)
    return terms.sum(axis=axis)


def ref_kl_log_targets(log_predictions, log_targets, axis=-1, where=None):
    terms = np.exp(log_targets) * (log_targets - log_predictions)
    if where is not None:
        terms = np.where(where, terms, 0.0)
    return terms.sum(axis=axis)


def ref_generalized_kl(log_predictions, targets, axis=-1, where=None):
    terms = _terms(log_predictions, targets) + np.exp(log_predictions) - targets
    if where is not None:
        terms = np.where(where, terms, 0.0)
    return terms.sum(axis=axis)


def ref_kl_div(input, target, reduction="mean", log_target=False):
    loss = np.exp(target) * (target - input) if log_target else _terms(input, target)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "batchmean":
        return loss.sum() / input.shape[0]
    return loss.mean()


# --- inputs ----------------------------------------------------------------------------------


def _log_softmax(x: np.ndarray) -> np.ndarray:
    return (
        x
        - np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True))
        - x.max(-1, keepdims=True)
    )


def _distributions(rng: np.random.Generator) -> Inputs:
    log_q = _log_softmax(2.0 * rng.normal(size=(4, 5)))
    t = np.exp(_log_softmax(2.0 * rng.normal(size=(4, 5))))
    return Inputs((log_q, t))


def _where(rng: np.random.Generator) -> Inputs:
    log_q, t = _distributions(rng).args
    mask = rng.uniform(size=(4, 5)) > 0.3
    return Inputs((log_q, t), {"where": mask})


def _log_targets_where(rng: np.random.Generator) -> Inputs:
    log_q, t = _where(rng).args
    mask = rng.uniform(size=(4, 5)) > 0.3
    return Inputs((log_q, np.log(t)), {"where": mask})


def _measures_where(rng: np.random.Generator) -> Inputs:
    log_q, t = _measures(rng).args
    return Inputs((log_q, t), {"where": rng.uniform(size=(4, 5)) > 0.3, "axis": 0})


def _axis0(rng: np.random.Generator) -> Inputs:
    log_q, t = _distributions(rng).args
    return Inputs((log_q.T.copy(), t.T.copy()), {"axis": 0})


def _log_targets(rng: np.random.Generator) -> Inputs:
    log_q, t = _distributions(rng).args
    return Inputs((log_q, np.log(t)))


def _measures(rng: np.random.Generator) -> Inputs:
    return Inputs((rng.normal(size=(4, 5)), rng.uniform(0.1, 3.0, size=(4, 5))))


def _perfect(inputs: Inputs) -> Inputs:
    t = inputs.args[1]
    return Inputs((np.log(t), t), inputs.kwargs)


def _torch(reduction: str, log_target: bool = False) -> Callable[[np.random.Generator], Inputs]:
    def make(rng: np.random.Generator) -> Inputs:
        log_q, t = _distributions(rng).args
        if log_target:
            t = np.log(t)
        kwargs: dict[str, Any] = {"reduction": reduction}
        if log_target:
            kwargs["log_target"] = True
        return Inputs((log_q, t), kwargs)

    return make


_KL_PEER = "torch.nn.functional.kl_div"

CASES = [
    LossCase(
        "kl_divergence",
        "top",
        FAMILY,
        T.kl_divergence,
        _distributions,
        ref_kl_divergence,
        Peer.path("jax", "optax.losses.kl_divergence"),
        grad_argnums=(0, 1),
        properties=frozenset({"nonnegative", "zero_at_target"}),
        perfect=_perfect,
    ),
    LossCase(
        "kl_divergence",
        "top",
        FAMILY,
        T.kl_divergence,
        _where,
        ref_kl_divergence,
        Peer.path("jax", "optax.losses.kl_divergence"),
        variant="where",
        grad_argnums=(0, 1),
    ),
    LossCase(
        "kl_divergence",
        "top",
        FAMILY,
        T.kl_divergence,
        _axis0,
        ref_kl_divergence,
        Peer.path("jax", "optax.losses.kl_divergence"),
        variant="axis0",
        grad_argnums=(0, 1),
    ),
    LossCase(
        "kl_divergence_with_log_targets",
        "top",
        FAMILY,
        T.kl_divergence_with_log_targets,
        _log_targets,
        ref_kl_log_targets,
        Peer.path("jax", "optax.losses.kl_divergence_with_log_targets"),
        grad_argnums=(0, 1),
        properties=frozenset({"nonnegative"}),
    ),
    LossCase(
        "kl_divergence_with_log_targets",
        "top",
        FAMILY,
        T.kl_divergence_with_log_targets,
        _log_targets_where,
        ref_kl_log_targets,
        Peer.path("jax", "optax.losses.kl_divergence_with_log_targets"),
        variant="where",
        grad_argnums=(0, 1),
    ),
    LossCase(
        "generalized_kl_divergence",
        "top",
        FAMILY,
        T.generalized_kl_divergence,
        _measures_where,
        ref_generalized_kl,
        Peer.path("jax", "optax.losses.generalized_kl_divergence"),
        variant="where-axis0",
        grad_argnums=(0, 1),
    ),
    LossCase(
        "generalized_kl_divergence",
        "top",
        FAMILY,
        T.generalized_kl_divergence,
        _measures,
        ref_generalized_kl,
        Peer.path("jax", "optax.losses.generalized_kl_divergence"),
        grad_argnums=(0, 1),
        properties=frozenset({"nonnegative", "zero_at_target"}),
        perfect=_perfect,
    ),
    LossCase(
        "convex_kl_divergence",
        "top",
        FAMILY,
        T.convex_kl_divergence,
        _measures,
        ref_generalized_kl,
        _quiet("jax", "optax.losses.convex_kl_divergence"),
        grad_argnums=(0, 1),
    ),
    LossCase(
        "kl_div",
        "functional",
        FAMILY,
        F.kl_div,
        _torch("batchmean"),
        ref_kl_div,
        Peer.path("torch", _KL_PEER),
        variant="batchmean",
        grad_argnums=(0, 1),
        properties=frozenset({"nonnegative"}),
    ),
    LossCase(
        "kl_div",
        "functional",
        FAMILY,
        F.kl_div,
        _torch("mean"),
        ref_kl_div,
        _quiet("torch", _KL_PEER),
        variant="mean",
        grad_argnums=(0, 1),
    ),
    LossCase(
        "kl_div",
        "functional",
        FAMILY,
        F.kl_div,
        _torch("none"),
        ref_kl_div,
        Peer.path("torch", _KL_PEER),
        variant="none",
        grad_argnums=(0, 1),
    ),
    LossCase(
        "kl_div",
        "functional",
        FAMILY,
        F.kl_div,
        _torch("sum", log_target=True),
        ref_kl_div,
        Peer.path("torch", _KL_PEER),
        variant="log_target-sum",
        grad_argnums=(0, 1),
    ),
    LossCase(
        "KLDivLoss",
        "class",
        FAMILY,
        construct_and_call(C.KLDivLoss),
        _torch("batchmean"),
        ref_kl_div,
        Peer.torch_class("KLDivLoss"),
        variant="batchmean",
        grad_argnums=(0, 1),
    ),
]
