"""Registry cases of the similarity / metric-learning family."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import array_api_compat
import numpy as np

from .. import functional as F
from .._classes import similarity as C
from .._toplevel import similarity as T
from ._case import Inputs, LossCase, Peer, construct_and_call
from ._keras_peer import keras_top

__all__ = ["CASES"]

FAMILY = "similarity"


# --- NumPy float64 references (independent of the kernels) ---------------------------------


def ref_cosine_similarity(predictions, targets, epsilon=0.0, axis=-1, where=None):
    a, b = predictions, targets
    if where is not None:
        a, b = np.where(where, a, 0.0), np.where(where, b, 0.0)
    na = np.sqrt(np.maximum((a * a).sum(axis=axis), epsilon))
    nb = np.sqrt(np.maximum((b * b).sum(axis=axis), epsilon))
    return (a * b).sum(axis=axis) / (na * nb)


def ref_cosine_distance(predictions, targets, **kwargs):
    return 1.0 - ref_cosine_similarity(predictions, targets, **kwargs)


def ref_pairwise_cosine_similarity(X, Y=None, eps=1e-8):
    Y = X if Y is None else Y
    nx, ny = np.linalg.norm(X, axis=1), np.linalg.norm(Y, axis=1)
    return X @ Y.T / np.outer(np.maximum(nx, eps), np.maximum(ny, eps))


def ref_pairwise_cosine_distance(X, Y=None, eps=1e-8):
    return 1.0 - ref_pairwise_cosine_similarity(X, Y, eps)


def ref_optax_triplet(anchors, positives, negatives, axis=-1, norm_degree=2, margin=1.0, eps=1e-6):
    def dist(a, b):
        return ((np.abs(a - b) ** norm_degree).sum(axis=axis) + eps) ** (1.0 / norm_degree)

    return np.maximum(dist(anchors, positives) - dist(anchors, negatives) + margin, 0.0)


def ref_ntxent(embeddings, labels, temperature=0.07):
    n = embeddings.shape[0]
    unit = embeddings / np.maximum(
        np.linalg.norm(embeddings, axis=1, keepdims=True), np.sqrt(np.finfo(np.float64).eps)
    )
    s = unit @ unit.T / temperature
    total, count = 0.0, 0
    for i in range(n):
        negatives = [s[i, k] for k in range(n) if labels[k] != labels[i]]
        for j in range(n):
            if j != i and labels[j] == labels[i]:
                total -= s[i, j] - np.logaddexp.reduce(np.asarray([s[i, j], *negatives]))
                count += 1
    return np.asarray(total / count)


def ref_circle(
    embeddings,
    labels,
    ref_embeddings=None,
    ref_labels=None,
    remove_diagonal=True,
    gamma=80.0,
    margin=0.4,
):
    ref = embeddings if ref_embeddings is None else ref_embeddings
    rlab = labels if ref_labels is None else ref_labels
    out = np.zeros(embeddings.shape[0])
    for i in range(embeddings.shape[0]):
        pos, neg = [], []
        for j in range(ref.shape[0]):
            d = max(1.0 - embeddings[i] @ ref[j], 0.0)
            if labels[i] == rlab[j]:
                if not (remove_diagonal and i == j):
                    pos.append(-gamma * max(margin + d, 0.0) * (margin - d))
            else:
                neg.append(gamma * max(1.0 + margin - d, 0.0) * (1.0 - margin - d))
        if pos and neg:
            out[i] = np.logaddexp(0.0, np.logaddexp.reduce(pos) + np.logaddexp.reduce(neg))
    return out


def _reduce(loss, reduction):
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


def ref_cosine_embedding(input1, input2, target, margin=0.0, reduction="mean"):
    cos = (input1 * input2).sum(-1) / np.sqrt(
        ((input1**2).sum(-1) + 1e-12) * ((input2**2).sum(-1) + 1e-12)
    )
    loss = np.where(target == 1, 1.0 - cos, np.where(target == -1, np.maximum(cos - margin, 0), 0))
    return _reduce(loss, reduction)


def _torch_distance(a, b, p=2.0, eps=1e-6):
    return (np.abs(a - b + eps) ** p).sum(-1) ** (1.0 / p)


def ref_torch_triplet(
    anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, reduction="mean"
):
    d_pos = _torch_distance(anchor, positive, p, eps)
    d_neg = _torch_distance(anchor, negative, p, eps)
    if swap:
        d_neg = np.minimum(d_neg, _torch_distance(positive, negative, p, eps))
    return _reduce(np.maximum(d_pos - d_neg + margin, 0.0), reduction)


def ref_triplet_with_distance(
    anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False, reduction="mean"
):
    dist = distance_function or _torch_distance
    d_pos, d_neg = dist(anchor, positive), dist(anchor, negative)
    if swap:
        d_neg = np.minimum(d_neg, dist(positive, negative))
    return _reduce(np.maximum(d_pos - d_neg + margin, 0.0), reduction)


def ref_pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    d = np.abs(x1 - x2 + eps)
    if p == 0:
        out = (d != 0).sum(-1).astype(d.dtype)
    elif np.isinf(p):
        out = d.max(-1) if p > 0 else d.min(-1)
    else:
        out = _torch_distance(x1, x2, p, eps)
    return out[..., None] if keepdim else out


def ref_torch_cosine_similarity(x1, x2, dim=1, eps=1e-8):
    x1, x2 = np.broadcast_arrays(x1, x2)
    n1 = np.maximum(np.sqrt((x1 * x1).sum(dim, keepdims=True)), eps)
    n2 = np.maximum(np.sqrt((x2 * x2).sum(dim, keepdims=True)), eps)
    return (x1 / n1 * (x2 / n2)).sum(dim)


def squared_euclidean(x: Any, y: Any) -> Any:
    """A user distance written once for every library (resolves its namespace from ``x``)."""
    xp = array_api_compat.array_namespace(x, y)
    return xp.sum((x - y) ** 2, axis=-1)


# --- inputs ----------------------------------------------------------------------------------


def _pairs(rng: np.random.Generator) -> Inputs:
    return Inputs((rng.normal(size=(4, 5)), rng.normal(size=(4, 5))))


def _pairs_where(rng: np.random.Generator) -> Inputs:
    a, b = _pairs(rng).args
    return Inputs((a, b), {"where": rng.uniform(size=(4, 5)) > 0.3, "epsilon": 1e-3})


def _rows(rng: np.random.Generator) -> Inputs:
    return Inputs((rng.normal(size=(4, 3)), rng.normal(size=(5, 3))))


def _triplets(rng: np.random.Generator) -> Inputs:
    return Inputs(tuple(rng.normal(size=(4, 3)) for _ in range(3)))


def _options(
    make: Callable[[np.random.Generator], Inputs], **kwargs: Any
) -> Callable[[np.random.Generator], Inputs]:
    """``make``'s arrays with these options."""

    def with_options(rng: np.random.Generator) -> Inputs:
        return Inputs(make(rng).args, dict(kwargs))

    return with_options


def _broadcast_pairs(rng: np.random.Generator) -> Inputs:
    """torch's broadcasting: (4, 1, 3) against (2, 3), vectors along the last axis."""
    return Inputs((rng.normal(size=(4, 1, 3)), rng.normal(size=(2, 3))), {"dim": -1})


def _groups(rng: np.random.Generator) -> Inputs:
    return Inputs((rng.normal(size=(6, 3)), np.asarray([0, 1, 0, 2, 1, 0])), {"temperature": 0.5})


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _circle(rng: np.random.Generator) -> Inputs:
    return Inputs((_unit(rng.normal(size=(6, 3))), np.asarray([0, 1, 0, 2, 1, 0])))


def _circle_ref(rng: np.random.Generator) -> Inputs:
    emb, labels = _circle(rng).args
    return Inputs(
        (emb, labels, _unit(rng.normal(size=(5, 3))), np.asarray([1, 0, 2, 2, 0])),
        {"gamma": 8.0, "margin": 0.25},
    )


def _embedding_pairs(reduction: str) -> Callable[[np.random.Generator], Inputs]:
    def make(rng: np.random.Generator) -> Inputs:
        a, b = _pairs(rng).args
        return Inputs((a, b, np.asarray([1, -1, -1, 1])), {"margin": 0.2, "reduction": reduction})

    return make


_OPTAX = "optax.losses."
_TORCH = "torch.nn.functional."

_KERAS_CIRCLE = keras_top(
    "circle",
    lambda fn, emb, labels, ref_emb=None, ref_labels=None, **kw: fn(
        labels, emb, ref_labels=ref_labels, ref_embeddings=ref_emb, **kw
    ),
)


CASES = [
    LossCase(
        "cosine_similarity",
        "top",
        FAMILY,
        T.cosine_similarity,
        _pairs,
        ref_cosine_similarity,
        Peer.path("jax", _OPTAX + "cosine_similarity"),
        grad_argnums=(0, 1),
    ),
    LossCase(
        "cosine_similarity",
        "top",
        FAMILY,
        T.cosine_similarity,
        _pairs_where,
        ref_cosine_similarity,
        Peer.path("jax", _OPTAX + "cosine_similarity"),
        variant="where-epsilon",
        grad_argnums=(0, 1),
    ),
    LossCase(
        "cosine_distance",
        "top",
        FAMILY,
        T.cosine_distance,
        _pairs,
        ref_cosine_distance,
        Peer.path("jax", _OPTAX + "cosine_distance"),
        grad_argnums=(0, 1),
        properties=frozenset({"nonnegative"}),
    ),
    LossCase(
        "cosine_distance",
        "top",
        FAMILY,
        T.cosine_distance,
        _pairs_where,
        ref_cosine_distance,
        Peer.path("jax", _OPTAX + "cosine_distance"),
        variant="where-epsilon",
        grad_argnums=(0, 1),
    ),
    LossCase(
        "pairwise_cosine_similarity",
        "top",
        FAMILY,
        T.pairwise_cosine_similarity,
        _rows,
        ref_pairwise_cosine_similarity,
        Peer.path("jax", "braintools.metric.pairwise_cosine_similarity"),
        grad_argnums=(0, 1),
    ),
    LossCase(
        "pairwise_cosine_distance",
        "top",
        FAMILY,
        T.pairwise_cosine_distance,
        _rows,
        ref_pairwise_cosine_distance,
        Peer.path("jax", "braintools.metric.pairwise_cosine_distance"),
        grad_argnums=(0, 1),
        properties=frozenset({"nonnegative"}),
    ),
    LossCase(
        "triplet_margin_loss",
        "top",
        FAMILY,
        T.triplet_margin_loss,
        _triplets,
        ref_optax_triplet,
        Peer.path("jax", _OPTAX + "triplet_margin_loss"),
        grad_argnums=(0, 1, 2),
        properties=frozenset({"nonnegative"}),
    ),
    LossCase(
        "ntxent",
        "top",
        FAMILY,
        T.ntxent,
        _groups,
        ref_ntxent,
        Peer.path("jax", _OPTAX + "ntxent"),
        properties=frozenset({"nonnegative"}),
    ),
    LossCase(
        "circle_loss",
        "top",
        FAMILY,
        T.circle_loss,
        _circle,
        ref_circle,
        _KERAS_CIRCLE,
        properties=frozenset({"nonnegative"}),
    ),
    LossCase(
        "circle_loss",
        "top",
        FAMILY,
        T.circle_loss,
        _circle_ref,
        ref_circle,
        _KERAS_CIRCLE,
        variant="reference-set",
        grad_argnums=(0, 2),
    ),
    LossCase(
        "pairwise_distance",
        "functional",
        FAMILY,
        F.pairwise_distance,
        _pairs,
        ref_pairwise_distance,
        Peer.path("torch", _TORCH + "pairwise_distance"),
        grad_argnums=(0, 1),
        properties=frozenset({"nonnegative"}),
    ),
    LossCase(
        "pairwise_distance",
        "functional",
        FAMILY,
        F.pairwise_distance,
        _options(_pairs, p=3.0, eps=0.0, keepdim=True),
        ref_pairwise_distance,
        Peer.path("torch", _TORCH + "pairwise_distance"),
        variant="p3-keepdim",
        grad_argnums=(0, 1),
    ),
    LossCase(
        "cosine_similarity",
        "functional",
        FAMILY,
        F.cosine_similarity,
        _pairs,
        ref_torch_cosine_similarity,
        Peer.path("torch", _TORCH + "cosine_similarity"),
        grad_argnums=(0, 1),
    ),
    LossCase(
        "cosine_similarity",
        "functional",
        FAMILY,
        F.cosine_similarity,
        _broadcast_pairs,
        ref_torch_cosine_similarity,
        Peer.path("torch", _TORCH + "cosine_similarity"),
        variant="broadcast",
        grad_argnums=(0, 1),
    ),
    LossCase(
        "PairwiseDistance",
        "class",
        FAMILY,
        construct_and_call(C.PairwiseDistance),
        _options(_pairs, p=1.0),
        ref_pairwise_distance,
        Peer.torch_class("PairwiseDistance"),
        variant="p1",
        grad_argnums=(0, 1),
    ),
    LossCase(
        "CosineSimilarity",
        "class",
        FAMILY,
        construct_and_call(C.CosineSimilarity),
        _options(_pairs, dim=-1, eps=1e-6),
        ref_torch_cosine_similarity,
        Peer.torch_class("CosineSimilarity"),
        variant="last-axis",
        grad_argnums=(0, 1),
    ),
    LossCase(
        "cosine_embedding_loss",
        "functional",
        FAMILY,
        F.cosine_embedding_loss,
        _embedding_pairs("mean"),
        ref_cosine_embedding,
        Peer.path("torch", _TORCH + "cosine_embedding_loss"),
        grad_argnums=(0, 1),
        properties=frozenset({"nonnegative"}),
    ),
    LossCase(
        "triplet_margin_loss",
        "functional",
        FAMILY,
        F.triplet_margin_loss,
        _triplets,
        ref_torch_triplet,
        Peer.path("torch", _TORCH + "triplet_margin_loss"),
        grad_argnums=(0, 1, 2),
        properties=frozenset({"nonnegative"}),
    ),
    LossCase(
        "triplet_margin_loss",
        "functional",
        FAMILY,
        F.triplet_margin_loss,
        _options(_triplets, p=1.0, swap=True, margin=2.0, reduction="none"),
        ref_torch_triplet,
        Peer.path("torch", _TORCH + "triplet_margin_loss"),
        variant="p1-swap-none",
        grad_argnums=(0, 1, 2),
    ),
    LossCase(
        "triplet_margin_with_distance_loss",
        "functional",
        FAMILY,
        F.triplet_margin_with_distance_loss,
        _triplets,
        ref_triplet_with_distance,
        Peer.path("torch", _TORCH + "triplet_margin_with_distance_loss"),
        grad_argnums=(0, 1, 2),
    ),
    LossCase(
        "triplet_margin_with_distance_loss",
        "functional",
        FAMILY,
        F.triplet_margin_with_distance_loss,
        _options(_triplets, distance_function=squared_euclidean, swap=True, reduction="sum"),
        ref_triplet_with_distance,
        Peer.path("torch", _TORCH + "triplet_margin_with_distance_loss"),
        variant="custom-distance-swap-sum",
        grad_argnums=(0, 1, 2),
    ),
    LossCase(
        "CosineEmbeddingLoss",
        "class",
        FAMILY,
        construct_and_call(C.CosineEmbeddingLoss),
        _embedding_pairs("sum"),
        ref_cosine_embedding,
        Peer.torch_class("CosineEmbeddingLoss"),
        variant="sum",
        grad_argnums=(0, 1),
    ),
    LossCase(
        "TripletMarginLoss",
        "class",
        FAMILY,
        construct_and_call(C.TripletMarginLoss),
        _options(_triplets, margin=0.5, reduction="none"),
        ref_torch_triplet,
        Peer.torch_class("TripletMarginLoss"),
        variant="none",
        grad_argnums=(0, 1, 2),
    ),
    LossCase(
        "TripletMarginWithDistanceLoss",
        "class",
        FAMILY,
        construct_and_call(C.TripletMarginWithDistanceLoss),
        _options(_triplets, distance_function=squared_euclidean, margin=3.0),
        ref_triplet_with_distance,
        Peer.torch_class("TripletMarginWithDistanceLoss"),
        variant="custom-distance",
        grad_argnums=(0, 1, 2),
    ),
]
