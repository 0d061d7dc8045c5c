"""Registry cases of the keras surface (``agnostic_losses.keras``): every function and class.

Oracles: NumPy float64 references written from keras's formulas (below), and keras 3 itself
(its JAX backend) when it is installed, values and gradients. Class cases pass a
``sample_weight``; their references apply keras's weighted reductions in NumPy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import keras as K
from ._case import Inputs, LossCase, Peer
from ._keras_peer import in_dtype_of, keras_module
from .ctc import ref_optax_ctc

__all__ = ["CASES"]

EPS = 1e-7


# --- keras itself, as a peer ----------------------------------------------------------------


def _keras_function(name: str) -> Peer:
    return Peer(
        "jax",
        f"keras.losses.{name}",
        lambda: in_dtype_of(getattr(keras_module().losses, name)),
        precision="float32",
    )


def _keras_class(name: str) -> Peer:
    """A keras class built with the case's options and the inputs' dtype (keras's default
    computes in float32 whatever the inputs are)."""

    def load() -> Callable[..., Any]:
        cls = getattr(keras_module().losses, name)

        def call(y_true: Any, y_pred: Any, sample_weight: Any = None, **options: Any) -> Any:
            return cls(dtype=str(y_pred.dtype), **options)(y_true, y_pred, sample_weight)

        return in_dtype_of(call)

    return Peer("jax", f"keras.losses.{name}", load, precision="float32")


# --- NumPy references -----------------------------------------------------------------------


def _signed(t: np.ndarray) -> np.ndarray:
    return 2.0 * t - 1.0 if np.all((t == 0) | (t == 1)) else t


def _clip01(p: np.ndarray) -> np.ndarray:
    return np.clip(p, EPS, 1.0 - EPS)


def _unit(x: np.ndarray, axis: int) -> np.ndarray:
    return x / np.sqrt(np.maximum(np.sum(x * x, axis=axis, keepdims=True), EPS**2))


def _log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def _bce(t: np.ndarray, p: np.ndarray, from_logits: bool) -> np.ndarray:
    if from_logits:
        return np.maximum(p, 0) - p * t + np.log1p(np.exp(-np.abs(p)))
    q = _clip01(p)
    return -(t * np.log(q) + (1 - t) * np.log(1 - q))


def _log_q(p: np.ndarray, from_logits: bool) -> np.ndarray:
    if from_logits:
        return _log_softmax(p)
    return np.log(_clip01(p / p.sum(-1, keepdims=True)))


REFERENCES: dict[str, Callable[..., Any]] = {
    "mean_squared_error": lambda t, p: np.mean((t - p) ** 2, -1),
    "mean_absolute_error": lambda t, p: np.mean(np.abs(t - p), -1),
    "mean_absolute_percentage_error": lambda t, p: (
        100 * np.mean(np.abs(t - p) / np.maximum(np.abs(t), EPS), -1)
    ),
    "mean_squared_logarithmic_error": lambda t, p: np.mean(
        (np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)) ** 2, -1
    ),
    "cosine_similarity": lambda t, p, axis=-1: -np.sum(_unit(t, axis) * _unit(p, axis), axis),
    "huber": lambda t, p, delta=1.0: np.mean(
        np.where(
            np.abs(p - t) <= delta, 0.5 * (p - t) ** 2, delta * np.abs(p - t) - 0.5 * delta**2
        ),
        -1,
    ),
    "log_cosh": lambda t, p: np.mean(np.log(np.cosh(p - t)), -1),
    "hinge": lambda t, p: np.mean(np.maximum(1 - _signed(t) * p, 0), -1),
    "squared_hinge": lambda t, p: np.mean(np.maximum(1 - _signed(t) * p, 0) ** 2, -1),
    "categorical_hinge": lambda t, p: np.maximum(
        np.max((1 - t) * p, -1) - np.sum(t * p, -1) + 1, 0
    ),
    "kl_divergence": lambda t, p: np.sum(
        np.clip(t, EPS, 1) * np.log(np.clip(t, EPS, 1) / np.clip(p, EPS, 1)), -1
    ),
    "poisson": lambda t, p: np.mean(p - t * np.log(p + EPS), -1),
}


def ref_binary_crossentropy(t, p, from_logits=False, label_smoothing=0.0, axis=-1):
    t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    return np.mean(_bce(t, p, from_logits), axis)


def ref_binary_focal(
    t, p, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
    label_smoothing=0.0, axis=-1,
):  # fmt: skip
    t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    q = 1 / (1 + np.exp(-p)) if from_logits else p
    loss = (1 - (t * q + (1 - t) * (1 - q))) ** gamma * _bce(t, p, from_logits)
    if apply_class_balancing:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return np.mean(loss, axis)


def ref_categorical_crossentropy(t, p, from_logits=False, label_smoothing=0.0, axis=-1):
    t, p = np.moveaxis(t, axis, -1), np.moveaxis(p, axis, -1)
    t = t * (1 - label_smoothing) + label_smoothing / t.shape[-1]
    return -np.sum(t * _log_q(p, from_logits), -1)


def ref_categorical_focal(
    t, p, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1
):
    t = t * (1 - label_smoothing) + label_smoothing / t.shape[-1]
    log_q = _log_q(p, from_logits)
    return -np.sum(np.asarray(alpha) * (1 - np.exp(log_q)) ** gamma * t * log_q, -1)


def ref_sparse_categorical_crossentropy(y, p, from_logits=False, ignore_class=None, axis=-1):
    if y.ndim == p.ndim:
        y = y[..., 0]
    valid = np.ones(y.shape, bool) if ignore_class is None else y != ignore_class
    safe = np.where(valid, y, 0)
    loss = -np.take_along_axis(_log_q(p, from_logits), safe[..., None], -1)[..., 0]
    return np.where(valid, loss, 0.0)


def ref_generalized_ce(y, p, q):
    return (1 - np.take_along_axis(p, y[:, None], -1)[:, 0] ** q) / q


def ref_ctc(y, x):
    paddings = np.zeros(x.shape[:2])
    return ref_optax_ctc(x, paddings, y, (y == 0).astype(np.float64), blank_id=0)


def _axes(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


def ref_dice(t, p, axis=None):
    a = _axes(axis, t.ndim)
    return 1 - 2 * np.sum(t * p, a) / (np.sum(t, a) + np.sum(p, a) + EPS)


def ref_tversky(t, p, alpha=0.5, beta=0.5, axis=None):
    a = _axes(axis, t.ndim)
    inter = np.sum(t * p, a)
    den = inter + alpha * np.sum((1 - p) * t, a) + beta * np.sum(p * (1 - t), a) + EPS
    return 1 - inter / den


def _lse_rows(z: np.ndarray, keep: np.ndarray) -> np.ndarray:
    out = np.full(z.shape[0], -np.inf)
    for i in range(z.shape[0]):
        if keep[i].any():
            v = z[i][keep[i]]
            out[i] = v.max() + np.log(np.sum(np.exp(v - v.max())))
    return out


def ref_circle(y, e, remove_diagonal=True, gamma=80.0, margin=0.4):
    d = np.maximum(1 - e @ e.T, 0)
    same = y[:, None] == y[None, :]
    pos = same & ~np.eye(len(y), dtype=bool) if remove_diagonal else same
    neg = ~same
    pos_logits = -gamma * np.maximum(margin + d, 0) * (margin - d)
    neg_logits = gamma * np.maximum(1 + margin - d, 0) * (1 - margin - d)
    total = _lse_rows(pos_logits, pos) + _lse_rows(neg_logits, neg)
    with np.errstate(over="ignore"):
        return np.where(np.isfinite(total), np.logaddexp(0, total), 0.0)


# --- inputs ---------------------------------------------------------------------------------

_N, _C = 4, 3


def _real(rng):
    return Inputs((rng.normal(size=(_N, _C)), rng.normal(size=(_N, _C))))


def _positive(rng):
    return Inputs((rng.uniform(0.2, 2.0, (_N, _C)), rng.uniform(0.2, 2.0, (_N, _C))))


def _signed_targets(rng):
    return Inputs((rng.choice([-1.0, 1.0], (_N, _C)), rng.normal(size=(_N, _C))))


def _binary_targets(rng):
    return Inputs((rng.integers(0, 2, (_N, _C)).astype(np.float64), rng.normal(size=(_N, _C))))


def _one_hot(rng):
    return np.eye(_C)[rng.integers(0, _C, _N)]


def _one_hot_scores(rng):
    return Inputs((_one_hot(rng), rng.normal(size=(_N, _C))))


def _distributions(rng):
    return Inputs((rng.dirichlet(np.full(_C, 3.0), _N), rng.dirichlet(np.full(_C, 3.0), _N)))


def _counts(rng):
    return Inputs(
        (rng.integers(0, 4, (_N, _C)).astype(np.float64), rng.uniform(0.2, 3.0, (_N, _C)))
    )


def _binary_probs(rng, **kw):
    t = rng.integers(0, 2, (_N, _C)).astype(np.float64)
    return Inputs((t, rng.uniform(0.05, 0.95, (_N, _C))), kw)


def _binary_logits(rng, **kw):
    t = rng.integers(0, 2, (_N, _C)).astype(np.float64)
    return Inputs((t, 3 * rng.normal(size=(_N, _C))), {"from_logits": True, **kw})


def _categorical_probs(rng, **kw):
    return Inputs((_one_hot(rng), rng.dirichlet(np.full(_C, 2.0), _N)), kw)


def _categorical_logits(rng, **kw):
    t = rng.dirichlet(np.ones(_C), _N)
    return Inputs((t, 2 * rng.normal(size=(_N, _C))), {"from_logits": True, **kw})


def _sparse(rng, from_logits=False, **kw):
    y = rng.integers(0, _C, _N)
    p = 2 * rng.normal(size=(_N, _C)) if from_logits else rng.dirichlet(np.full(_C, 2.0), _N)
    return Inputs((y, p), {"from_logits": from_logits, **kw})


def _sparse_ignore(rng):
    y = np.asarray([0, -1, 2, 1])
    return Inputs((y, 2 * rng.normal(size=(_N, _C))), {"from_logits": True, "ignore_class": -1})


def _segmentation(rng, **kw):
    t = rng.integers(0, 2, (2, 3, 3)).astype(np.float64)
    return Inputs((t, rng.uniform(0.05, 0.95, (2, 3, 3))), kw)


def _embeddings(rng, **kw):
    e = rng.normal(size=(6, 3))
    return Inputs(
        (np.asarray([0, 1, 0, 1, 2, 2]), e / np.linalg.norm(e, axis=1, keepdims=True)), kw
    )


def _ctc(rng):
    y = np.asarray([[1, 2, 0], [3, 3, 1]])
    return Inputs((y, rng.normal(size=(2, 7, 4))))


# --- cases ----------------------------------------------------------------------------------

_NONNEG = frozenset({"nonnegative"})

# (name, family, make_inputs, reference): the default case of each function
_FUNCTIONS: list[tuple[str, str, Callable[..., Inputs], Callable[..., Any]]] = [
    ("mean_squared_error", "regression", _real, REFERENCES["mean_squared_error"]),
    ("mean_absolute_error", "regression", _real, REFERENCES["mean_absolute_error"]),
    (
        "mean_absolute_percentage_error",
        "regression",
        _real,
        REFERENCES["mean_absolute_percentage_error"],
    ),
    (
        "mean_squared_logarithmic_error",
        "regression",
        _positive,
        REFERENCES["mean_squared_logarithmic_error"],
    ),
    ("cosine_similarity", "similarity", _real, REFERENCES["cosine_similarity"]),
    (
        "huber",
        "regression",
        lambda rng: Inputs(_real(rng).args, {"delta": 0.7}),
        REFERENCES["huber"],
    ),
    ("log_cosh", "regression", _real, REFERENCES["log_cosh"]),
    ("hinge", "margin", _signed_targets, REFERENCES["hinge"]),
    ("squared_hinge", "margin", _signed_targets, REFERENCES["squared_hinge"]),
    ("categorical_hinge", "margin", _one_hot_scores, REFERENCES["categorical_hinge"]),
    ("kl_divergence", "divergence", _distributions, REFERENCES["kl_divergence"]),
    ("poisson", "regression", _counts, REFERENCES["poisson"]),
    ("binary_crossentropy", "classification", _binary_probs, ref_binary_crossentropy),
    (
        "binary_focal_crossentropy",
        "classification",
        lambda rng: _binary_probs(rng, apply_class_balancing=True, alpha=0.3, gamma=1.5),
        ref_binary_focal,
    ),
    (
        "categorical_crossentropy",
        "classification",
        _categorical_probs,
        ref_categorical_crossentropy,
    ),
    (
        "categorical_focal_crossentropy",
        "classification",
        lambda rng: _categorical_probs(rng, alpha=0.5, gamma=2.0),
        ref_categorical_focal,
    ),
    (
        "sparse_categorical_crossentropy",
        "classification",
        _sparse,
        ref_sparse_categorical_crossentropy,
    ),
    (
        "categorical_generalized_cross_entropy",
        "classification",
        lambda rng: Inputs(_sparse(rng).args, {"q": 0.3}),
        ref_generalized_ce,
    ),
    ("ctc", "ctc", _ctc, ref_ctc),
    ("dice", "segmentation", _segmentation, ref_dice),
    (
        "tversky",
        "segmentation",
        lambda rng: _segmentation(rng, alpha=0.3, beta=0.7, axis=(1, 2)),
        ref_tversky,
    ),
    ("circle", "similarity", lambda rng: _embeddings(rng, gamma=8.0), ref_circle),
]

# more inputs of the same functions: logits paths, options, keras's conversions
_VARIANTS: list[tuple[str, str, Callable[..., Inputs], dict[str, Any]]] = [
    ("cosine_similarity", "axis0", lambda rng: Inputs(_real(rng).args, {"axis": 0}), {}),
    ("hinge", "binary-labels", _binary_targets, {"wrt": (1,)}),
    ("squared_hinge", "binary-labels", _binary_targets, {"wrt": (1,)}),
    (
        "binary_crossentropy",
        "logits-smoothing",
        lambda rng: _binary_logits(rng, label_smoothing=0.2),
        {},
    ),
    ("binary_crossentropy", "axis0", lambda rng: _binary_probs(rng, axis=0), {}),
    (
        "binary_focal_crossentropy",
        "logits",
        lambda rng: _binary_logits(rng, label_smoothing=0.1),
        {},
    ),
    (
        "categorical_crossentropy",
        "logits-smoothing",
        lambda rng: _categorical_logits(rng, label_smoothing=0.1),
        {},
    ),
    (
        "categorical_focal_crossentropy",
        "logits-class-alpha",
        lambda rng: Inputs(
            _categorical_logits(rng).args,
            {"from_logits": True, "alpha": np.asarray([0.2, 0.3, 0.5])},
        ),
        {"wrt": (0, 1)},
    ),
    (
        "sparse_categorical_crossentropy",
        "logits-trailing-axis",
        lambda rng: Inputs(
            (_sparse(rng).args[0][:, None], 2 * rng.normal(size=(_N, _C))), {"from_logits": True}
        ),
        {},
    ),
    ("sparse_categorical_crossentropy", "ignore_class", _sparse_ignore, {}),
    ("dice", "axis", lambda rng: _segmentation(rng, axis=(1, 2)), {}),
    (
        "circle",
        "keep-diagonal",
        lambda rng: _embeddings(rng, remove_diagonal=False, gamma=4.0, margin=0.25),
        {},
    ),
]

_REFS = {name: ref for name, _, _, ref in _FUNCTIONS}
_FAMILY = {name: family for name, family, _, _ in _FUNCTIONS}

_CLASSES = {
    "mean_squared_error": "MeanSquaredError",
    "mean_absolute_error": "MeanAbsoluteError",
    "mean_absolute_percentage_error": "MeanAbsolutePercentageError",
    "mean_squared_logarithmic_error": "MeanSquaredLogarithmicError",
    "cosine_similarity": "CosineSimilarity",
    "huber": "Huber",
    "log_cosh": "LogCosh",
    "hinge": "Hinge",
    "squared_hinge": "SquaredHinge",
    "categorical_hinge": "CategoricalHinge",
    "kl_divergence": "KLDivergence",
    "poisson": "Poisson",
    "binary_crossentropy": "BinaryCrossentropy",
    "binary_focal_crossentropy": "BinaryFocalCrossentropy",
    "categorical_crossentropy": "CategoricalCrossentropy",
    "categorical_focal_crossentropy": "CategoricalFocalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    "categorical_generalized_cross_entropy": "CategoricalGeneralizedCrossEntropy",
    "ctc": "CTC",
    "dice": "Dice",
    "tversky": "Tversky",
    "circle": "Circle",
}


def _function_case(name: str, make: Callable[..., Inputs], variant: str, **extra: Any) -> LossCase:
    return LossCase(
        name,
        "keras",
        _FAMILY[name],
        getattr(K, name),
        make,
        _REFS[name],
        _keras_function(name),
        variant=variant,
        grad_argnums=(1,),
        **extra,
    )


# --- classes: keras's weighted reduction in NumPy ----------------------------------------------


def ref_keras_reduce(values, sample_weight=None, mask=None, reduction="sum_over_batch_size"):
    values = np.asarray(values, dtype=np.float64)
    if mask is not None:
        m = mask.astype(np.float64)
        if reduction in ("mean", "sum_over_batch_size"):
            valid = m.sum()
            m = m * (m.size / valid if valid else 0.0)
        sample_weight = m if sample_weight is None else sample_weight * m
    if sample_weight is not None:
        values = values * sample_weight
    if reduction in (None, "none") or values.shape in ((), (0,)):
        return values
    if reduction == "sum":
        return values.sum()
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        total = np.sum(sample_weight)
        return values.sum() / total if total else 0.0
    return values.sum() / values.size if values.size else 0.0


def _class_reference(name: str) -> Callable[..., Any]:
    ref = _REFS[name]

    def reference(y_true, y_pred, sample_weight=None, reduction="sum_over_batch_size", **kw):
        values = ref(y_true, y_pred, **kw)
        mask = None
        if name == "sparse_categorical_crossentropy" and kw.get("ignore_class") is not None:
            labels = y_true[..., 0] if y_true.ndim == y_pred.ndim else y_true
            mask = labels != kw["ignore_class"]
        elif name == "circle":
            mask = values > 0
        return ref_keras_reduce(values, sample_weight, mask, reduction)

    return reference


def _with_weights(
    make: Callable[..., Inputs], ref: Callable[..., Any], reduction: str
) -> Callable[..., Inputs]:
    """The function case's inputs plus a per-sample ``sample_weight`` and the reduction."""

    def inputs(rng: np.random.Generator) -> Inputs:
        base = make(rng)
        values = np.asarray(ref(*base.args, **base.kwargs))
        weight = rng.uniform(0.5, 1.5, values.shape[:1]) if values.ndim else None
        args = (*base.args, weight) if weight is not None else base.args
        return Inputs(args, {**base.kwargs, "reduction": reduction})

    return inputs


def _class_case(name: str, make: Callable[..., Inputs], variant: str, reduction: str) -> LossCase:
    cls = getattr(K, _CLASSES[name])

    def call(y_true: Any, y_pred: Any, sample_weight: Any = None, **options: Any) -> Any:
        return cls(**options)(y_true, y_pred, sample_weight)

    call.__name__ = call.__qualname__ = cls.__name__
    return LossCase(
        _CLASSES[name],
        "keras_class",
        _FAMILY[name],
        call,
        _with_weights(make, _REFS[name], reduction),
        _class_reference(name),
        _keras_class(_CLASSES[name]),
        variant=variant,
        grad_argnums=(1,),
    )


_REDUCTIONS = ("sum_over_batch_size", "sum", "mean_with_sample_weight", "none")

CASES: list[LossCase] = [
    *(_function_case(name, make, "default") for name, _, make, _ in _FUNCTIONS),
    *(_function_case(name, make, variant, **extra) for name, variant, make, extra in _VARIANTS),
    *(
        _class_case(name, make, f"weighted-{_REDUCTIONS[i % 4]}", _REDUCTIONS[i % 4])
        for i, (name, _, make, _) in enumerate(_FUNCTIONS)
    ),
    _class_case(
        "sparse_categorical_crossentropy",
        _sparse_ignore,
        "ignore_class-mask",
        "sum_over_batch_size",
    ),
    _class_case("circle", lambda rng: _embeddings(rng, gamma=8.0), "mask-sum", "sum"),
]
