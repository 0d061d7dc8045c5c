"""Registry cases of the margin family.

Inputs are drawn away from the hinge kinks (``|margin term| >= 0.05``) so that finite
differences and peer gradients are well defined; the kinks themselves are tested for finiteness
in ``tests/test_margin.py``.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .._classes import margin as C
from .._toplevel import margin as T
from ._case import Inputs, LossCase, Peer, construct_and_call
from ._keras_peer import keras_top

__all__ = ["CASES"]

FAMILY = "margin"


# --- NumPy float64 references (loops and explicit formulas, independent of the kernels) -------


def _reduce(loss, reduction):
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


def ref_hinge(x, y):
    return np.maximum(0.0, 1.0 - x * y)


def ref_perceptron(x, y):
    return np.maximum(0.0, -x * y)


def ref_squared_hinge(x, y):
    y = np.asarray(y, dtype=np.float64)
    if np.all((y == 0) | (y == 1)):
        y = 2.0 * y - 1.0
    return np.mean(np.maximum(0.0, 1.0 - x * y) ** 2, axis=-1)


def ref_multiclass_hinge(scores, labels):
    out = np.empty(labels.shape)
    for idx in np.ndindex(labels.shape):
        s, y = scores[idx], labels[idx]
        out[idx] = max(s[j] + (0.0 if j == y else 1.0) for j in range(s.size)) - s[y]
    return out


def ref_multiclass_perceptron(scores, labels):
    out = np.empty(labels.shape)
    for idx in np.ndindex(labels.shape):
        out[idx] = scores[idx].max() - scores[idx][labels[idx]]
    return out


def ref_margin_ranking(x1, x2, y, margin=0.0, reduction="mean"):
    return _reduce(np.maximum(0.0, -y * (x1 - x2) + margin), reduction)


def ref_hinge_embedding(x, y, margin=1.0, reduction="mean"):
    loss = np.where(y == 1, x, np.maximum(0.0, margin - x))
    return _reduce(loss, reduction)


def ref_soft_margin(x, y, reduction="mean"):
    return _reduce(np.log1p(np.exp(-y * x)), reduction)


def ref_multilabel_soft_margin(x, y, weight=None, reduction="mean"):
    sig = 1.0 / (1.0 + np.exp(-x))
    loss = -(y * np.log(sig) + (1.0 - y) * np.log(1.0 - sig))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss.sum(-1) / x.shape[-1], reduction)


def ref_multilabel_margin(x, target, reduction="mean"):
    x2, t2 = np.atleast_2d(x), np.atleast_2d(target)
    out = np.zeros(x2.shape[0])
    for n in range(x2.shape[0]):
        targets = []
        for t in t2[n]:
            if t == -1:
                break
            targets.append(int(t))
        others = [i for i in range(x2.shape[1]) if i not in targets]
        total = 0.0
        for j in targets:
            for i in others:
                total += max(0.0, 1.0 - (x2[n, j] - x2[n, i]))
        out[n] = total / x2.shape[1]
    return _reduce(out if x.ndim == 2 else out[0], reduction)


def ref_multi_margin(x, target, p=1, margin=1.0, weight=None, reduction="mean"):
    x2, t2 = np.atleast_2d(x), np.atleast_1d(target)
    out = np.zeros(x2.shape[0])
    for n in range(x2.shape[0]):
        y = int(t2[n])
        w = 1.0 if weight is None else weight[y]
        total = sum(
            w * max(0.0, margin - x2[n, y] + x2[n, j]) ** p for j in range(x2.shape[1]) if j != y
        )
        out[n] = total / x2.shape[1]
    return _reduce(out if x.ndim == 2 else out[0], reduction)


# --- inputs ----------------------------------------------------------------------------------


def _away_from(values: np.ndarray, kinks: np.ndarray, gap: float = 0.05) -> np.ndarray:
    """Shift ``values`` that land within ``gap`` of a kink by ``2 * gap``."""
    return np.where(np.abs(values - kinks) < gap, values + 2 * gap, values)


def _signs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.choice(np.asarray([-1.0, 1.0]), size=shape)


def _binary(rng: np.random.Generator) -> Inputs:
    y = _signs(rng, (4, 3))
    x = 1.5 * rng.normal(size=(4, 3))
    # kinks at y x = 1 (hinge) and y x = 0 (perceptron)
    x = y * _away_from(_away_from(y * x, np.ones_like(x)), np.zeros_like(x))
    return Inputs((x, y))


def _binary_01(rng: np.random.Generator) -> Inputs:
    x, y = _binary(rng).args
    return Inputs((x, (y + 1.0) / 2.0))


def _perfect_binary(inputs: Inputs) -> Inputs:
    y = inputs.args[1]
    signed = np.where(y == 0, -1.0, y)
    return Inputs((3.0 * signed, y), inputs.kwargs)


def _multiclass(rng: np.random.Generator) -> Inputs:
    return Inputs((2.0 * rng.normal(size=(5, 4)), rng.integers(0, 4, size=(5,))))


def _multiclass_kdim(rng: np.random.Generator) -> Inputs:
    return Inputs((2.0 * rng.normal(size=(2, 3, 4)), rng.integers(0, 4, size=(2, 3))))


def _perfect_multiclass(inputs: Inputs) -> Inputs:
    scores, labels = inputs.args
    # the label's score 2 above every other: past the margin (1) whatever the draw
    hit = labels[..., None] == np.arange(scores.shape[-1])
    return Inputs(
        (np.where(hit, scores.max(-1, keepdims=True) + 2.0, scores), labels), inputs.kwargs
    )


def _ranking(rng: np.random.Generator) -> Inputs:
    x1, x2 = rng.normal(size=(6,)), rng.normal(size=(6,))
    y = _signs(rng, (6,))
    margin = 0.3
    # kink at -y (x1 - x2) + margin = 0
    x1 = x2 + y * _away_from(y * (x1 - x2), np.full(6, margin))
    return Inputs((x1, x2, y), {"margin": margin})


def _ranking_none(rng: np.random.Generator) -> Inputs:
    inputs = _ranking(rng)
    return Inputs(inputs.args, {**inputs.kwargs, "reduction": "none"})


def _embedding(rng: np.random.Generator) -> Inputs:
    x = _away_from(rng.uniform(0.0, 2.0, size=(8,)), np.ones(8))
    return Inputs((x, _signs(rng, (8,))))


def _embedding_sum(rng: np.random.Generator) -> Inputs:
    x = _away_from(rng.uniform(0.0, 2.0, size=(8,)), np.full(8, 1.5))
    return Inputs((x, _signs(rng, (8,))), {"margin": 1.5, "reduction": "sum"})


def _soft(rng: np.random.Generator) -> Inputs:
    return Inputs((2.0 * rng.normal(size=(3, 4)), _signs(rng, (3, 4))))


def _multilabel_soft(rng: np.random.Generator) -> Inputs:
    x = 2.0 * rng.normal(size=(4, 5))
    return Inputs((x, (rng.uniform(size=(4, 5)) < 0.4).astype(np.float64)))


def _multilabel_soft_weighted(rng: np.random.Generator) -> Inputs:
    x, y = _multilabel_soft(rng).args
    return Inputs((x, y), {"weight": rng.uniform(0.5, 2.0, size=(5,)), "reduction": "none"})


def _multilabel_margin(rng: np.random.Generator) -> Inputs:
    n, c = 4, 5
    x = rng.normal(size=(n, c))
    target = np.full((n, c), -1, dtype=np.int64)
    for i in range(n):
        k = int(rng.integers(0, c))
        target[i, :k] = rng.permutation(c)[:k]
        # junk after the first -1 must be ignored
        if k + 1 < c:
            target[i, k + 1 :] = rng.integers(0, c, size=c - k - 1)
    # kinks at x_j - x_i = 1: keep every pairwise gap away from 1
    for _ in range(3):
        gaps = x[:, :, None] - x[:, None, :]
        near = np.any(np.abs(gaps - 1.0) < 0.05, axis=-1)
        x = np.where(near, x + 0.11, x)
    return Inputs((x, target))


def _multilabel_margin_none(rng: np.random.Generator) -> Inputs:
    x, t = _multilabel_margin(rng).args
    return Inputs((x, t), {"reduction": "none"})


def _multi_margin_gaps(x: np.ndarray, y: np.ndarray, margin: float) -> np.ndarray:
    for _ in range(3):
        x_y = np.take_along_axis(x, y[:, None], axis=1)
        near = np.abs(margin - x_y + x) < 0.05
        near[np.arange(x.shape[0]), y] = False
        x = np.where(near, x + 0.11, x)
    return x


def _multi_margin(rng: np.random.Generator) -> Inputs:
    y = rng.integers(0, 4, size=(5,))
    return Inputs((_multi_margin_gaps(rng.normal(size=(5, 4)), y, 1.0), y))


def _multi_margin_p2_weight(rng: np.random.Generator) -> Inputs:
    y = rng.integers(0, 4, size=(5,))
    x = _multi_margin_gaps(rng.normal(size=(5, 4)), y, 0.5)
    kwargs = {"p": 2, "margin": 0.5, "weight": rng.uniform(0.5, 2.0, size=(4,)), "reduction": "sum"}
    return Inputs((x, y), kwargs)


def _multi_margin_none(rng: np.random.Generator) -> Inputs:
    x, y = _multi_margin(rng).args
    return Inputs((x, y), {"reduction": "none"})


NONNEG = frozenset({"nonnegative"})
NONNEG_ZERO = frozenset({"nonnegative", "zero_at_target"})

_KERAS_SQUARED_HINGE = keras_top("squared_hinge", lambda fn, x, y: fn(y, x))


CASES = [
    LossCase(
        "hinge_loss",
        "top",
        FAMILY,
        T.hinge_loss,
        _binary,
        ref_hinge,
        Peer.path("jax", "optax.losses.hinge_loss"),
        properties=NONNEG_ZERO,
        perfect=_perfect_binary,
    ),
    LossCase(
        "perceptron_loss",
        "top",
        FAMILY,
        T.perceptron_loss,
        _binary,
        ref_perceptron,
        Peer.path("jax", "optax.losses.perceptron_loss"),
        properties=NONNEG_ZERO,
        perfect=_perfect_binary,
    ),
    LossCase(
        "squared_hinge_loss",
        "top",
        FAMILY,
        T.squared_hinge_loss,
        _binary,
        ref_squared_hinge,
        _KERAS_SQUARED_HINGE,
        properties=NONNEG_ZERO,
        perfect=_perfect_binary,
    ),
    LossCase(
        "squared_hinge_loss",
        "top",
        FAMILY,
        T.squared_hinge_loss,
        _binary_01,
        ref_squared_hinge,
        _KERAS_SQUARED_HINGE,
        variant="01-targets",
        properties=NONNEG_ZERO,
        perfect=_perfect_binary,
        # 0/1 targets are mapped to -1/1 only while every target is 0 or 1: a finite difference
        # in a target leaves that branch, so only the scores' gradient can be checked this way.
        wrt=(0,),
    ),
    LossCase(
        "multiclass_hinge_loss",
        "top",
        FAMILY,
        T.multiclass_hinge_loss,
        _multiclass,
        ref_multiclass_hinge,
        Peer.path("jax", "optax.losses.multiclass_hinge_loss"),
        properties=NONNEG_ZERO,
        perfect=_perfect_multiclass,
    ),
    LossCase(
        "multiclass_hinge_loss",
        "top",
        FAMILY,
        T.multiclass_hinge_loss,
        _multiclass_kdim,
        ref_multiclass_hinge,
        Peer.path("jax", "optax.losses.multiclass_hinge_loss"),
        variant="kdim",
    ),
    LossCase(
        "multiclass_perceptron_loss",
        "top",
        FAMILY,
        T.multiclass_perceptron_loss,
        _multiclass,
        ref_multiclass_perceptron,
        Peer.path("jax", "optax.losses.multiclass_perceptron_loss"),
        properties=NONNEG_ZERO,
        perfect=_perfect_multiclass,
    ),
    LossCase(
        "margin_ranking_loss",
        "functional",
        FAMILY,
        F.margin_ranking_loss,
        _ranking,
        ref_margin_ranking,
        Peer.path("torch", "torch.nn.functional.margin_ranking_loss"),
        grad_argnums=(0, 1),
        properties=NONNEG,
    ),
    LossCase(
        "hinge_embedding_loss",
        "functional",
        FAMILY,
        F.hinge_embedding_loss,
        _embedding,
        ref_hinge_embedding,
        Peer.path("torch", "torch.nn.functional.hinge_embedding_loss"),
        properties=NONNEG,
    ),
    LossCase(
        "hinge_embedding_loss",
        "functional",
        FAMILY,
        F.hinge_embedding_loss,
        _embedding_sum,
        ref_hinge_embedding,
        Peer.path("torch", "torch.nn.functional.hinge_embedding_loss"),
        variant="margin-sum",
    ),
    LossCase(
        "soft_margin_loss",
        "functional",
        FAMILY,
        F.soft_margin_loss,
        _soft,
        ref_soft_margin,
        Peer.path("torch", "torch.nn.functional.soft_margin_loss"),
        properties=NONNEG,
    ),
    LossCase(
        "multilabel_soft_margin_loss",
        "functional",
        FAMILY,
        F.multilabel_soft_margin_loss,
        _multilabel_soft,
        ref_multilabel_soft_margin,
        Peer.path("torch", "torch.nn.functional.multilabel_soft_margin_loss"),
        properties=NONNEG,
    ),
    LossCase(
        "multilabel_soft_margin_loss",
        "functional",
        FAMILY,
        F.multilabel_soft_margin_loss,
        _multilabel_soft_weighted,
        ref_multilabel_soft_margin,
        Peer.path("torch", "torch.nn.functional.multilabel_soft_margin_loss"),
        variant="weight-none",
    ),
    LossCase(
        "multilabel_margin_loss",
        "functional",
        FAMILY,
        F.multilabel_margin_loss,
        _multilabel_margin,
        ref_multilabel_margin,
        Peer.path("torch", "torch.nn.functional.multilabel_margin_loss"),
        properties=NONNEG,
    ),
    LossCase(
        "multi_margin_loss",
        "functional",
        FAMILY,
        F.multi_margin_loss,
        _multi_margin,
        ref_multi_margin,
        Peer.path("torch", "torch.nn.functional.multi_margin_loss"),
        properties=NONNEG,
    ),
    LossCase(
        "multi_margin_loss",
        "functional",
        FAMILY,
        F.multi_margin_loss,
        _multi_margin_p2_weight,
        ref_multi_margin,
        Peer.path("torch", "torch.nn.functional.multi_margin_loss"),
        variant="p2-weight-sum",
    ),
    LossCase(
        "MarginRankingLoss",
        "class",
        FAMILY,
        construct_and_call(C.MarginRankingLoss),
        _ranking_none,
        ref_margin_ranking,
        Peer.torch_class("MarginRankingLoss"),
        variant="none",
        grad_argnums=(0, 1),
    ),
    LossCase(
        "HingeEmbeddingLoss",
        "class",
        FAMILY,
        construct_and_call(C.HingeEmbeddingLoss),
        _embedding_sum,
        ref_hinge_embedding,
        Peer.torch_class("HingeEmbeddingLoss"),
        variant="margin-sum",
    ),
    LossCase(
        "SoftMarginLoss",
        "class",
        FAMILY,
        construct_and_call(C.SoftMarginLoss),
        _soft,
        ref_soft_margin,
        Peer.torch_class("SoftMarginLoss"),
    ),
    LossCase(
        "MultiLabelSoftMarginLoss",
        "class",
        FAMILY,
        construct_and_call(C.MultiLabelSoftMarginLoss),
        _multilabel_soft_weighted,
        ref_multilabel_soft_margin,
        Peer.torch_class("MultiLabelSoftMarginLoss"),
        variant="weight-none",
    ),
    LossCase(
        "MultiLabelMarginLoss",
        "class",
        FAMILY,
        construct_and_call(C.MultiLabelMarginLoss),
        _multilabel_margin_none,
        ref_multilabel_margin,
        Peer.torch_class("MultiLabelMarginLoss"),
        variant="none",
    ),
    LossCase(
        "MultiMarginLoss",
        "class",
        FAMILY,
        construct_and_call(C.MultiMarginLoss),
        _multi_margin_p2_weight,
        ref_multi_margin,
        Peer.torch_class("MultiMarginLoss"),
        variant="p2-weight-sum",
    ),
]
