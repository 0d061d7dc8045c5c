"""Registry cases of the segmentation family (optax's Dice losses, keras's Tversky loss)."""

from __future__ import annotations

import numpy as np

from .._toplevel import segmentation as T
from ._case import Inputs, LossCase, Peer
from ._keras_peer import keras_top

__all__ = ["CASES"]

FAMILY = "segmentation"


# --- NumPy float64 references (independent of the kernels) ---------------------------------


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _probs(x: np.ndarray, apply: bool) -> np.ndarray:
    if not apply:
        return x
    if x.shape[-1] == 1:
        return 1.0 / (1.0 + np.exp(-x))
    return _softmax(x)


def ref_dice(
    predictions,
    targets,
    *,
    class_weights=None,
    smooth=1.0,
    alpha=0.5,
    beta=0.5,
    apply_softmax=True,
    reduction="mean",
    ignore_background=False,
    axis=None,
):
    p = _probs(predictions, apply_softmax)
    axes = tuple(range(1, p.ndim - 1)) if axis is None else axis
    tp = (p * targets).sum(axis=axes)
    fp = (p * (1.0 - targets)).sum(axis=axes)
    fn = ((1.0 - p) * targets).sum(axis=axes)
    loss = 1.0 - (tp + smooth) / (tp + alpha * fp + beta * fn + smooth)
    if class_weights is not None:
        loss = loss * class_weights
    if ignore_background and p.shape[-1] > 1:
        loss = loss[..., 1:]
    return {"mean": loss.mean(axis=-1), "sum": loss.sum(axis=-1), "none": loss}[reduction]


def ref_binary_dice(predictions, targets, *, smooth=1.0, apply_sigmoid=True):
    p = 1.0 / (1.0 + np.exp(-predictions)) if apply_sigmoid else predictions
    axes = tuple(range(1, p.ndim))
    inter = (p * targets).sum(axis=axes)
    return 1.0 - (2 * inter + 2 * smooth) / (p.sum(axis=axes) + targets.sum(axis=axes) + 2 * smooth)


def ref_generalized_dice(predictions, targets, *, smooth=1.0, apply_softmax=True):
    freq = targets.reshape(-1, targets.shape[-1]).sum(axis=0)
    w = 1.0 / (freq**2 + 1e-7)
    w = w / w.sum() * targets.shape[-1]
    per_class = ref_dice(
        predictions, targets, smooth=smooth, apply_softmax=apply_softmax, reduction="none"
    )
    return np.mean(per_class * w)


def ref_tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    tp = np.sum(y_true * y_pred, axis=axis)
    fn = np.sum(y_true * (1.0 - y_pred), axis=axis)
    fp = np.sum((1.0 - y_true) * y_pred, axis=axis)
    return 1.0 - tp / (tp + alpha * fn + beta * fp + 1e-7)


# --- inputs ----------------------------------------------------------------------------------


def _segmentation(rng: np.random.Generator) -> Inputs:
    logits = 2.0 * rng.normal(size=(2, 3, 3, 3))
    targets = np.eye(3)[rng.integers(0, 3, size=(2, 3, 3))]
    return Inputs((logits, targets))


def _weighted(rng: np.random.Generator) -> Inputs:
    logits, targets = _segmentation(rng).args
    kwargs = {
        "class_weights": np.asarray([0.5, 1.0, 2.0]),
        "alpha": 0.3,
        "beta": 0.7,
        "smooth": 0.5,
        "reduction": "sum",
        "ignore_background": True,
    }
    return Inputs((logits, targets), kwargs)


def _per_class(rng: np.random.Generator) -> Inputs:
    logits, targets = _segmentation(rng).args
    return Inputs((logits, targets), {"reduction": "none", "axis": (1,)})


def _binary(rng: np.random.Generator) -> Inputs:
    logits = 2.0 * rng.normal(size=(3, 6))
    return Inputs((logits, (rng.uniform(size=(3, 6)) > 0.5).astype(np.float64)))


def _tversky(rng: np.random.Generator) -> Inputs:
    y_true = (rng.uniform(size=(3, 5)) > 0.5).astype(np.float64)
    return Inputs((y_true, rng.uniform(0.05, 0.95, size=(3, 5))), {"alpha": 0.3, "beta": 0.7})


def _tversky_axis(rng: np.random.Generator) -> Inputs:
    y_true, y_pred = _tversky(rng).args
    return Inputs((y_true, y_pred), {"axis": 1})


def _perfect_binary(inputs: Inputs) -> Inputs:
    targets = inputs.args[1]
    return Inputs((targets, targets), {**inputs.kwargs, "apply_sigmoid": False})


_KERAS_TVERSKY = keras_top("tversky", lambda fn, *args, **kwargs: fn(*args, **kwargs))


CASES = [
    LossCase(
        "dice_loss",
        "top",
        FAMILY,
        T.dice_loss,
        _segmentation,
        ref_dice,
        Peer.path("jax", "optax.losses.dice_loss"),
        properties=frozenset({"nonnegative"}),
    ),
    LossCase(
        "dice_loss",
        "top",
        FAMILY,
        T.dice_loss,
        _weighted,
        ref_dice,
        Peer.path("jax", "optax.losses.dice_loss"),
        variant="tversky-weights-sum-ignore_background",
    ),
    LossCase(
        "dice_loss",
        "top",
        FAMILY,
        T.dice_loss,
        _per_class,
        ref_dice,
        Peer.path("jax", "optax.losses.dice_loss"),
        variant="none-axis",
    ),
    LossCase(
        "binary_dice_loss",
        "top",
        FAMILY,
        T.binary_dice_loss,
        _binary,
        ref_binary_dice,
        Peer.path("jax", "optax.losses.binary_dice_loss"),
        properties=frozenset({"nonnegative", "zero_at_target"}),
        perfect=_perfect_binary,
    ),
    LossCase(
        "multiclass_generalized_dice_loss",
        "top",
        FAMILY,
        T.multiclass_generalized_dice_loss,
        _segmentation,
        ref_generalized_dice,
        Peer.path("jax", "optax.losses.multiclass_generalized_dice_loss"),
        properties=frozenset({"nonnegative"}),
    ),
    LossCase(
        "tversky_loss",
        "top",
        FAMILY,
        T.tversky_loss,
        _tversky,
        ref_tversky,
        _KERAS_TVERSKY,
        grad_argnums=(1,),
        properties=frozenset({"nonnegative"}),
    ),
    LossCase(
        "tversky_loss",
        "top",
        FAMILY,
        T.tversky_loss,
        _tversky_axis,
        ref_tversky,
        _KERAS_TVERSKY,
        variant="axis",
        grad_argnums=(1,),
    ),
]
