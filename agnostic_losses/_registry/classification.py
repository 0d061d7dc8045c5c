"""Registry cases of the classification family."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .._classes import classification as C
from .._toplevel import classification as T
from ._case import Inputs, LossCase, Peer, construct_and_call
from ._keras_peer import keras_top

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


def _log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    return x - (np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _masked_log_softmax(logits, where):
    """Log-softmax over the included entries only (excluded ones -> -inf)."""
    if where is None:
        return _log_softmax(logits)
    return _log_softmax(np.where(where, logits, -np.inf))


def ref_softmax_ce(logits, labels, axis=-1, where=None):
    if where is not None:
        logp = _masked_log_softmax(logits, where)
        return -np.sum(np.where(where, labels * np.where(where, logp, 0.0), 0.0), axis=-1)
    return -np.sum(labels * _log_softmax(logits, axis), axis=axis)


def _lse(x: np.ndarray, axis: int = -1) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m, axis=axis)


def ref_int_ce(logits, labels, axis=-1, where=None, z_loss=0.0):
    if z_loss:
        base = ref_int_ce(logits, labels, axis, where)
        return base + z_loss * _lse(logits, axis) ** 2
    if where is not None:
        m = np.where(where, logits, -np.inf)
        top = m.max(axis=-1, keepdims=True)
        lse = np.log(np.sum(np.exp(m - top), axis=-1)) + top[..., 0]
        return lse - np.take_along_axis(logits, labels[..., None], axis=-1)[..., 0]
    logp = np.moveaxis(_log_softmax(logits, axis), axis, -1)
    return -np.take_along_axis(logp, labels[..., None], axis=-1)[..., 0]


def ref_sigmoid_focal(logits, labels, alpha=None, gamma=2.0):
    p = _sigmoid(logits)
    p_t = p * labels + (1.0 - p) * (1.0 - labels)
    loss = ref_sigmoid_bce(logits, labels) * (1.0 - p_t) ** gamma
    if alpha is not None:
        loss = (alpha * labels + (1.0 - alpha) * (1.0 - labels)) * loss
    return loss


def ref_smooth_labels(labels, alpha):
    return (1.0 - alpha) * labels + alpha / labels.shape[-1]


def ref_poly(logits, labels, epsilon=2.0, where=None):
    p = np.exp(_masked_log_softmax(logits, where))
    poly = labels * (1.0 - p) if where is None else np.where(where, labels * (1.0 - p), 0.0)
    return ref_softmax_ce(logits, labels, where=where) + epsilon * np.sum(poly, axis=-1)


def ref_nll_top(log_probs, target):
    if target.ndim == 0:
        return -log_probs[target]
    if target.ndim == 1:
        return -log_probs[np.arange(target.shape[0]), target]
    return -np.take_along_axis(log_probs, target[:, None], axis=1)[:, 0]


def ref_brainpy_ce(
    predicts, targets, weight=None, reduction="mean", ignore_index=-100, label_smoothing=0.0
):
    c = predicts.shape[-1]
    lse = np.log(np.sum(np.exp(predicts - predicts.max(-1, keepdims=True)), -1))
    lse = lse + predicts.max(-1)
    if np.issubdtype(targets.dtype, np.integer):
        keep = targets != ignore_index
        safe = np.where(keep, targets, 0)
        t = np.eye(c)[safe]
        s = np.where(keep, 1.0 if weight is None else np.asarray(weight)[safe], 0.0)
    else:
        t, keep = targets, None
        s = None
    t = t * (1.0 - label_smoothing) + label_smoothing / c
    if s is None:
        s = np.ones(predicts.shape[:-1]) if weight is None else np.sum(t * weight, axis=-1)
    loss = (lse - np.sum(t * predicts, axis=-1)) * s
    if reduction != "mean":
        return {"none": loss, "sum": loss.sum()}[reduction]
    if weight is not None:
        return loss.sum() / s.sum()
    return loss.sum() / max(keep.sum(), 1) if keep is not None else loss.mean()


def ref_softmax_focal(logits, labels, alpha=0.25, gamma=2.0):
    p = np.exp(_log_softmax(logits))
    return -alpha * np.sum(labels * (1.0 - p) ** gamma * np.log(p), axis=-1)


def ref_gce(predictions, labels, q=0.5, from_logits=False):
    p = np.exp(_log_softmax(predictions)) if from_logits else predictions
    p_y = np.take_along_axis(p, labels[..., None], axis=-1)[..., 0]
    return (1.0 - p_y**q) / q


def _torch_layout(input, target):
    """(N, C, d...) -> (M, C) rows and flat targets; unbatched (C,) -> one row."""
    if input.ndim == 1:
        return input[None, :], np.asarray(target)[None]
    c = input.shape[1]
    x = np.moveaxis(input, 1, -1).reshape(-1, c)
    t = np.moveaxis(target, 1, -1).reshape(-1, c) if target.dtype.kind == "f" else target.ravel()
    return x, t


def ref_torch_nll_rows(logp, target, weight, ignore_index, eps):
    n, c = logp.shape
    w = np.ones(c) if weight is None else weight
    keep = target != ignore_index
    safe = np.where(keep, target, 0)
    w_y = np.where(keep, w[safe], 0.0)
    nll = -w_y * logp[np.arange(n), safe]
    smooth = -np.sum(w * logp, axis=-1) * keep
    return (1 - eps) * nll + eps / c * smooth, w_y


def ref_torch_ce(
    input,
    target,
    weight=None,
    ignore_index=-100,
    reduction="mean",
    label_smoothing=0.0,
    log_probs=False,
    z_loss=0.0,
):
    x, t = _torch_layout(input, target)
    z = z_loss * _lse(x) ** 2
    logp = x if log_probs else _log_softmax(x)
    out_shape = (input.shape[:1] + input.shape[2:]) if input.ndim > 1 else ()
    if t.dtype.kind == "f":
        c = x.shape[-1]
        w = 1.0 if weight is None else weight
        t = (1 - label_smoothing) * t + label_smoothing / c
        loss = -np.sum(w * t * logp, axis=-1) + z
        return {"none": loss.reshape(out_shape), "sum": loss.sum(), "mean": loss.mean()}[reduction]
    loss, w_y = ref_torch_nll_rows(logp, t, weight, ignore_index, label_smoothing)
    loss = loss + w_y * z
    if reduction == "mean":
        return loss.sum() / w_y.sum()
    return loss.sum() if reduction == "sum" else loss.reshape(out_shape)


def ref_torch_nll(input, target, weight=None, ignore_index=-100, reduction="mean"):
    return ref_torch_ce(input, target, weight, ignore_index, reduction, log_probs=True)


def ref_bce(input, target, weight=None, reduction="mean"):
    loss = -(
        target * np.maximum(np.log(input), -100) + (1 - target) * np.maximum(np.log1p(-input), -100)
    )
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


def _soft(rng: np.random.Generator, shape=(4, 5)) -> np.ndarray:
    z = rng.uniform(size=shape)
    return z / z.sum(axis=-1, keepdims=True)


def _softmax_inputs(rng: np.random.Generator) -> Inputs:
    return Inputs((2.0 * rng.normal(size=(4, 5)), _soft(rng)))


def _softmax_axis0(rng: np.random.Generator) -> Inputs:
    return Inputs((2.0 * rng.normal(size=(5, 3)), _soft(rng, (3, 5)).T.copy()), {"axis": 0})


def _int_inputs(rng: np.random.Generator) -> Inputs:
    return Inputs((2.0 * rng.normal(size=(6, 4)), rng.integers(0, 4, size=(6,))))


def _class_mask(rng: np.random.Generator, shape) -> np.ndarray:
    keep = rng.uniform(size=shape) > 0.3
    keep[..., 0] = True
    return keep


def _softmax_where(rng: np.random.Generator) -> Inputs:
    x, y = _softmax_inputs(rng).args
    keep = _class_mask(rng, x.shape)
    y = y * keep
    return Inputs((x, y / y.sum(axis=-1, keepdims=True)), {"where": keep})


def _poly_where(rng: np.random.Generator) -> Inputs:
    inputs = _softmax_where(rng)
    return Inputs(inputs.args, {**inputs.kwargs, "epsilon": 1.5})


def _int_where(rng: np.random.Generator) -> Inputs:
    x, _ = _int_inputs(rng).args
    return Inputs((x, np.zeros(x.shape[0], dtype=np.int64)), {"where": _class_mask(rng, x.shape)})


def _int_axis1(rng: np.random.Generator) -> Inputs:
    return Inputs((2.0 * rng.normal(size=(2, 4, 3)), rng.integers(0, 4, size=(2, 3))), {"axis": 1})


def _focal(rng: np.random.Generator) -> Inputs:
    x, y = _binary(rng).args
    return Inputs((x, (y > 0.5).astype(np.float64)), {"alpha": 0.25, "gamma": 2.0})


def _focal_soft_noalpha(rng: np.random.Generator) -> Inputs:
    x, y = _binary(rng).args
    return Inputs((x, y), {"gamma": 1.5})


def _smooth(rng: np.random.Generator) -> Inputs:
    return Inputs((np.eye(4)[rng.integers(0, 4, size=(3,))], 0.1))


def _poly(rng: np.random.Generator) -> Inputs:
    x, y = _softmax_inputs(rng).args
    return Inputs((x, y), {"epsilon": 1.5})


def _log_probs(rng: np.random.Generator, shape) -> np.ndarray:
    return _log_softmax(rng.normal(size=shape), axis=1 if len(shape) > 2 else -1)


def _nll_1d(rng: np.random.Generator) -> Inputs:
    return Inputs((_log_probs(rng, (5, 4)), rng.integers(0, 4, size=(5,))))


def _nll_kdim(rng: np.random.Generator) -> Inputs:
    return Inputs((_log_probs(rng, (2, 4, 3)), rng.integers(0, 4, size=(2, 3))))


def _brainpy_index(rng: np.random.Generator) -> Inputs:
    x, y = _int_inputs(rng).args
    return Inputs((x, y), {"weight": rng.uniform(0.5, 2.0, size=(4,))})


def _brainpy_soft(rng: np.random.Generator) -> Inputs:
    x, y = _softmax_inputs(rng).args
    return Inputs((x, y), {"reduction": "none"})


def _brainpy_ignored_smoothed(rng: np.random.Generator) -> Inputs:
    x, y = _int_inputs(rng).args
    y = np.where(np.arange(y.shape[0]) % 3 == 1, -1, y)  # some labels ignored
    kw = {"weight": rng.uniform(0.5, 2.0, size=(4,)), "ignore_index": -1}
    return Inputs((x, y), {**kw, "label_smoothing": 0.2})


def _brainpy_unnormalised(rng: np.random.Generator) -> Inputs:
    # targets that do not sum to 1 (label weights): brainpy's lse - <t, x>, not -<t, log p>
    x = rng.normal(size=(5, 4))
    kw = {"weight": rng.uniform(0.5, 2.0, size=(4,)), "label_smoothing": 0.1}
    return Inputs((x, rng.uniform(0.0, 1.5, size=(5, 4))), kw)


def _keras_focal(rng: np.random.Generator) -> Inputs:
    x = 2.0 * rng.normal(size=(4, 5))
    return Inputs((x, np.eye(5)[rng.integers(0, 5, size=(4,))]), {"gamma": 1.5})


def _gce(rng: np.random.Generator) -> Inputs:
    return Inputs((_soft(rng, (5, 4)), rng.integers(0, 4, size=(5,))))


def _gce_logits(rng: np.random.Generator) -> Inputs:
    x, y = _int_inputs(rng).args
    return Inputs((x, y), {"q": 0.7, "from_logits": True})


def _ce_index(rng: np.random.Generator) -> Inputs:
    return _int_inputs(rng)


def _ce_weighted(rng: np.random.Generator) -> Inputs:
    x, y = _int_inputs(rng).args
    y = y.copy()
    y[1] = -100
    return Inputs((x, y), {"weight": rng.uniform(0.5, 2.0, size=(4,)), "label_smoothing": 0.1})


def _ce_ignore255_sum(rng: np.random.Generator) -> Inputs:
    x, y = _int_inputs(rng).args
    y = y.copy()
    y[[0, 3]] = 255
    return Inputs((x, y), {"ignore_index": 255, "reduction": "sum", "label_smoothing": 0.2})


def _ce_kdim(rng: np.random.Generator) -> Inputs:
    x = 2.0 * rng.normal(size=(2, 4, 3, 2))
    return Inputs((x, rng.integers(0, 4, size=(2, 3, 2))), {"reduction": "none"})


def _ce_probs(rng: np.random.Generator) -> Inputs:
    x = 2.0 * rng.normal(size=(2, 4, 3))
    t = np.moveaxis(_soft(rng, (2, 3, 4)), -1, 1).copy()
    return Inputs((x, t), {"weight": rng.uniform(0.5, 2.0, size=(4,)), "label_smoothing": 0.1})


def _ce_unbatched(rng: np.random.Generator) -> Inputs:
    return Inputs((2.0 * rng.normal(size=(5,)), np.asarray(3)), {"reduction": "none"})


def _nll_weighted(rng: np.random.Generator) -> Inputs:
    x, y = _nll_kdim(rng).args
    y = y.copy()
    y[0, 1] = -100
    return Inputs((x, y), {"weight": rng.uniform(0.5, 2.0, size=(4,))})


def _nll_ignore_sum(rng: np.random.Generator) -> Inputs:
    x, y = _nll_1d(rng).args
    y = y.copy()
    y[1] = 2  # a class index given as ignore_index: that sample is left out
    return Inputs((x, y), {"ignore_index": 2, "reduction": "sum"})


def _keras_focal_alpha(rng: np.random.Generator) -> Inputs:
    x, y = _keras_focal(rng).args
    return Inputs((x, y), {"alpha": 0.5, "gamma": 2.0})


def _bce(rng: np.random.Generator) -> Inputs:
    return Inputs((rng.uniform(0.05, 0.95, size=(4, 3)), rng.uniform(size=(4, 3))))


def _bce_weighted(rng: np.random.Generator) -> Inputs:
    p, y = _bce(rng).args
    return Inputs((p, y), {"weight": rng.uniform(0.5, 2.0, size=(3,)), "reduction": "sum"})


# Targets at exactly 0 and 1 and weights with zeros: the derivatives there are finite and must
# be exact for every argument (issue 8.1: a 0 * log 0 mask once cut the target's gradient).


def _one_hot(rng: np.random.Generator) -> Inputs:
    x = 2.0 * rng.normal(size=(4, 5))
    return Inputs((x, np.eye(5)[rng.integers(0, 5, size=(4,))]))


def _binary_hard_zero_weight(rng: np.random.Generator) -> Inputs:
    logits, labels = _binary(rng).args
    weight = rng.uniform(0.5, 2.0, size=(4, 3))
    weight[0, 1] = weight[2, 0] = 0.0
    return Inputs(
        (logits, (labels > 0.5).astype(np.float64)),
        {"weight": weight, "pos_weight": rng.uniform(0.5, 3.0, size=(3,)), "reduction": "sum"},
    )


def _ce_one_hot_zero_weight(rng: np.random.Generator) -> Inputs:
    x = 2.0 * rng.normal(size=(3, 4))
    weight = rng.uniform(0.5, 2.0, size=(4,))
    weight[2] = 0.0
    return Inputs((x, np.eye(4)[[0, 2, 3]]), {"weight": weight})


def _bce_hard(rng: np.random.Generator) -> Inputs:
    p, y = _bce(rng).args
    return Inputs((p, (y > 0.5).astype(np.float64)), {"reduction": "none"})


def _ce_z_loss(rng: np.random.Generator) -> Inputs:
    x, y = _ce_weighted(rng).args
    return Inputs((x, y), {"weight": rng.uniform(0.5, 2.0, size=(4,)), "z_loss": 1e-2})


def _ce_probs_z_loss(rng: np.random.Generator) -> Inputs:
    x, t = _ce_probs(rng).args
    return Inputs((x, t), {"z_loss": 1e-2, "reduction": "sum"})


def _int_z_loss(rng: np.random.Generator) -> Inputs:
    x, y = _int_inputs(rng).args
    return Inputs((x, y), {"z_loss": 1e-2})


def _perfect_softmax(inputs: Inputs) -> Inputs:
    logits = inputs.args[0]
    hot = np.eye(logits.shape[-1])[np.argmax(logits, axis=-1)]
    return Inputs((1e4 * (hot - 1.0), hot), inputs.kwargs)


def _perfect_int(inputs: Inputs) -> Inputs:
    logits, labels = inputs.args
    return Inputs((1e4 * (np.eye(logits.shape[-1])[labels] - 1.0), labels), inputs.kwargs)


_NONNEG = frozenset({"nonnegative"})


def _case(name, surface, func, make, ref, peer, variant="default", **kw) -> LossCase:
    return LossCase(name, surface, FAMILY, func, make, ref, peer, variant=variant, **kw)


_OPTAX = "optax.losses."
_BRAINPY_CE = Peer.path("jax", "brainpy.losses.cross_entropy_loss")

# keras-only losses under optax-style names: keras takes (y_true, y_pred)
_KERAS_FOCAL = keras_top(
    "categorical_focal_crossentropy",
    lambda fn, x, y, alpha=0.25, gamma=2.0, axis=-1: fn(
        y, x, alpha=alpha, gamma=gamma, from_logits=True, axis=axis
    ),
)


def _keras_gce(fn, x, y, q=0.5, from_logits=False):
    import jax

    # keras's has no from_logits: it is given softmax(x)
    return fn(y, jax.nn.softmax(x, axis=-1) if from_logits else x, q)


_KERAS_GCE = keras_top("categorical_generalized_cross_entropy", _keras_gce)


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
    _case(
        "softmax_cross_entropy",
        "top",
        T.softmax_cross_entropy,
        _softmax_inputs,
        ref_softmax_ce,
        Peer.path("jax", _OPTAX + "softmax_cross_entropy"),
        properties=frozenset({"nonnegative", "zero_at_target"}),
        perfect=_perfect_softmax,
    ),
    _case(
        "softmax_cross_entropy",
        "top",
        T.softmax_cross_entropy,
        _softmax_axis0,
        ref_softmax_ce,
        Peer.path("jax", _OPTAX + "softmax_cross_entropy"),
        variant="axis0",
    ),
    _case(
        "softmax_cross_entropy_with_integer_labels",
        "top",
        T.softmax_cross_entropy_with_integer_labels,
        _int_inputs,
        ref_int_ce,
        Peer.path("jax", _OPTAX + "softmax_cross_entropy_with_integer_labels"),
        properties=frozenset({"nonnegative", "zero_at_target"}),
        perfect=_perfect_int,
    ),
    _case(
        "softmax_cross_entropy",
        "top",
        T.softmax_cross_entropy,
        _softmax_where,
        ref_softmax_ce,
        Peer.path("jax", _OPTAX + "softmax_cross_entropy"),
        variant="where",
        # README differences: optax's label gradient is NaN at entries `where` excludes.
        peer_wrt=(0,),
    ),
    _case(
        "softmax_cross_entropy",
        "top",
        T.softmax_cross_entropy,
        _one_hot,
        ref_softmax_ce,
        Peer.path("jax", _OPTAX + "softmax_cross_entropy"),
        variant="one-hot",
    ),
    _case(
        "poly_loss_cross_entropy",
        "top",
        T.poly_loss_cross_entropy,
        _one_hot,
        ref_poly,
        Peer.path("jax", _OPTAX + "poly_loss_cross_entropy"),
        variant="one-hot",
    ),
    _case(
        "binary_cross_entropy_with_logits",
        "functional",
        F.binary_cross_entropy_with_logits,
        _binary_hard_zero_weight,
        ref_bce_with_logits,
        Peer.path("torch", "torch.nn.functional.binary_cross_entropy_with_logits"),
        variant="hard-zero-weight",
    ),
    _case(
        "cross_entropy",
        "functional",
        F.cross_entropy,
        _ce_one_hot_zero_weight,
        ref_torch_ce,
        Peer.path("torch", "torch.nn.functional.cross_entropy"),
        variant="one-hot-zero-weight",
    ),
    _case(
        "binary_cross_entropy",
        "functional",
        F.binary_cross_entropy,
        _bce_hard,
        ref_bce,
        Peer.path("torch", "torch.nn.functional.binary_cross_entropy"),
        variant="hard",
    ),
    # z-loss (issue 11): an extension over the peers, checked against the references only.
    _case(
        "cross_entropy",
        "functional",
        F.cross_entropy,
        _ce_z_loss,
        ref_torch_ce,
        None,
        variant="z_loss-weight-ignore",
    ),
    _case(
        "cross_entropy",
        "functional",
        F.cross_entropy,
        _ce_probs_z_loss,
        ref_torch_ce,
        None,
        variant="z_loss-probabilities-sum",
    ),
    _case(
        "softmax_cross_entropy_with_integer_labels",
        "top",
        T.softmax_cross_entropy_with_integer_labels,
        _int_z_loss,
        ref_int_ce,
        None,
        variant="z_loss",
    ),
    _case(
        "softmax_cross_entropy_with_integer_labels",
        "top",
        T.softmax_cross_entropy_with_integer_labels,
        _int_where,
        ref_int_ce,
        Peer.path("jax", _OPTAX + "softmax_cross_entropy_with_integer_labels"),
        variant="where",
    ),
    _case(
        "poly_loss_cross_entropy",
        "top",
        T.poly_loss_cross_entropy,
        _poly_where,
        ref_poly,
        Peer.path("jax", _OPTAX + "poly_loss_cross_entropy"),
        variant="where",
        # README differences: optax's label gradient is NaN at entries `where` excludes.
        peer_wrt=(0,),
    ),
    _case(
        "softmax_cross_entropy_with_integer_labels",
        "top",
        T.softmax_cross_entropy_with_integer_labels,
        _int_axis1,
        ref_int_ce,
        Peer.path("jax", _OPTAX + "softmax_cross_entropy_with_integer_labels"),
        variant="axis1",
    ),
    _case(
        "safe_softmax_cross_entropy",
        "top",
        T.safe_softmax_cross_entropy,
        _softmax_inputs,
        ref_softmax_ce,
        Peer.path("jax", _OPTAX + "safe_softmax_cross_entropy"),
        properties=_NONNEG,
    ),
    _case(
        "sigmoid_focal_loss",
        "top",
        T.sigmoid_focal_loss,
        _focal,
        ref_sigmoid_focal,
        Peer.path("jax", _OPTAX + "sigmoid_focal_loss"),
        properties=_NONNEG,
        # README differences: optax's gradient w.r.t. hard (0/1) labels is cut by the
        # b = 0 masking of its logsumexp; ours is exact (checked by finite differences).
        peer_wrt=(0,),
    ),
    _case(
        "sigmoid_focal_loss",
        "top",
        T.sigmoid_focal_loss,
        _focal_soft_noalpha,
        ref_sigmoid_focal,
        Peer.path("jax", _OPTAX + "sigmoid_focal_loss"),
        variant="soft-labels-no-alpha",
    ),
    _case(
        "smooth_labels",
        "top",
        T.smooth_labels,
        _smooth,
        ref_smooth_labels,
        Peer.path("jax", "optax.smooth_labels"),
    ),
    _case(
        "poly_loss_cross_entropy",
        "top",
        T.poly_loss_cross_entropy,
        _poly,
        ref_poly,
        Peer.path("jax", _OPTAX + "poly_loss_cross_entropy"),
        properties=_NONNEG,
    ),
    _case(
        "nll_loss",
        "top",
        T.nll_loss,
        _nll_1d,
        ref_nll_top,
        Peer.path("jax", "braintools.metric.nll_loss"),
    ),
    _case(
        "nll_loss",
        "top",
        T.nll_loss,
        _nll_kdim,
        ref_nll_top,
        Peer.path("jax", "braintools.metric.nll_loss"),
        variant="kdim",
    ),
    _case(
        "cross_entropy_loss",
        "top",
        T.cross_entropy_loss,
        _brainpy_index,
        ref_brainpy_ce,
        _BRAINPY_CE,
        variant="index-weight-mean",
    ),
    _case(
        "cross_entropy_loss",
        "top",
        T.cross_entropy_loss,
        _brainpy_soft,
        ref_brainpy_ce,
        _BRAINPY_CE,
        variant="probabilities-none",
        properties=_NONNEG,
    ),
    _case(
        "cross_entropy_loss",
        "top",
        T.cross_entropy_loss,
        _brainpy_ignored_smoothed,
        ref_brainpy_ce,
        _BRAINPY_CE,
        variant="ignore_index-smoothing-weight",
    ),
    _case(
        "cross_entropy_loss",
        "top",
        T.cross_entropy_loss,
        _brainpy_unnormalised,
        ref_brainpy_ce,
        _BRAINPY_CE,
        variant="unnormalised-weight-smoothing",
    ),
    _case(
        "softmax_focal_loss",
        "top",
        T.softmax_focal_loss,
        _keras_focal,
        ref_softmax_focal,
        _KERAS_FOCAL,
        properties=_NONNEG,
    ),
    _case(
        "softmax_focal_loss",
        "top",
        T.softmax_focal_loss,
        _keras_focal_alpha,
        ref_softmax_focal,
        _KERAS_FOCAL,
        variant="alpha",
    ),
    _case(
        "generalized_cross_entropy",
        "top",
        T.generalized_cross_entropy,
        _gce,
        ref_gce,
        _KERAS_GCE,
        properties=_NONNEG,
    ),
    _case(
        "generalized_cross_entropy",
        "top",
        T.generalized_cross_entropy,
        _gce_logits,
        ref_gce,
        _KERAS_GCE,
        variant="from_logits",
    ),
    _case(
        "cross_entropy",
        "functional",
        F.cross_entropy,
        _ce_index,
        ref_torch_ce,
        Peer.path("torch", "torch.nn.functional.cross_entropy"),
        properties=_NONNEG,
    ),
    _case(
        "cross_entropy",
        "functional",
        F.cross_entropy,
        _ce_weighted,
        ref_torch_ce,
        Peer.path("torch", "torch.nn.functional.cross_entropy"),
        variant="weight-ignore-smoothing-mean",
    ),
    _case(
        "cross_entropy",
        "functional",
        F.cross_entropy,
        _ce_ignore255_sum,
        ref_torch_ce,
        Peer.path("torch", "torch.nn.functional.cross_entropy"),
        variant="ignore255-smoothing-sum",
    ),
    _case(
        "cross_entropy",
        "functional",
        F.cross_entropy,
        _ce_kdim,
        ref_torch_ce,
        Peer.path("torch", "torch.nn.functional.cross_entropy"),
        variant="kdim-none",
    ),
    _case(
        "cross_entropy",
        "functional",
        F.cross_entropy,
        _ce_probs,
        ref_torch_ce,
        Peer.path("torch", "torch.nn.functional.cross_entropy"),
        variant="probabilities-weight-smoothing",
    ),
    _case(
        "cross_entropy",
        "functional",
        F.cross_entropy,
        _ce_unbatched,
        ref_torch_ce,
        Peer.path("torch", "torch.nn.functional.cross_entropy"),
        variant="unbatched-none",
    ),
    _case(
        "nll_loss",
        "functional",
        F.nll_loss,
        _nll_1d,
        ref_torch_nll,
        Peer.path("torch", "torch.nn.functional.nll_loss"),
    ),
    _case(
        "nll_loss",
        "functional",
        F.nll_loss,
        _nll_weighted,
        ref_torch_nll,
        Peer.path("torch", "torch.nn.functional.nll_loss"),
        variant="kdim-weight-ignore",
    ),
    _case(
        "nll_loss",
        "functional",
        F.nll_loss,
        _nll_ignore_sum,
        ref_torch_nll,
        Peer.path("torch", "torch.nn.functional.nll_loss"),
        variant="ignore_index-sum",
    ),
    _case(
        "binary_cross_entropy",
        "functional",
        F.binary_cross_entropy,
        _bce,
        ref_bce,
        Peer.path("torch", "torch.nn.functional.binary_cross_entropy"),
        properties=_NONNEG,
    ),
    _case(
        "binary_cross_entropy",
        "functional",
        F.binary_cross_entropy,
        _bce_weighted,
        ref_bce,
        Peer.path("torch", "torch.nn.functional.binary_cross_entropy"),
        variant="weight-sum",
    ),
    _case(
        "CrossEntropyLoss",
        "class",
        construct_and_call(C.CrossEntropyLoss),
        _ce_weighted,
        ref_torch_ce,
        Peer.torch_class("CrossEntropyLoss"),
        variant="weight-ignore-smoothing-mean",
    ),
    _case(
        "NLLLoss",
        "class",
        construct_and_call(C.NLLLoss),
        _nll_weighted,
        ref_torch_nll,
        Peer.torch_class("NLLLoss"),
        variant="kdim-weight-ignore",
    ),
    _case(
        "BCELoss",
        "class",
        construct_and_call(C.BCELoss),
        _bce_weighted,
        ref_bce,
        Peer.torch_class("BCELoss"),
        variant="weight-sum",
    ),
]
