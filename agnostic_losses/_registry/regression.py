"""Registry cases of the regression family."""

from __future__ import annotations

import math

import numpy as np

from .. import functional as F
from .._classes import regression as C
from .._toplevel import regression as T
from ._case import Inputs, LossCase, Peer, construct_and_call
from ._keras_peer import keras_top

__all__ = ["CASES"]

FAMILY = "regression"

_NONNEG = frozenset({"nonnegative", "zero_at_target"})


# --- NumPy float64 references (independent of the kernels) ---------------------------------


def _reduce(loss, reduction, axis=None):
    if reduction == "none":
        return loss
    return loss.sum(axis=axis) if reduction == "sum" else loss.mean(axis=axis)


def _huber_np(r, delta):
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r**2, delta * (a - 0.5 * delta))


def ref_squared_error(predictions, targets=None, axis=None, reduction="none"):
    r = predictions if targets is None else predictions - targets
    return _reduce(r**2, reduction, axis)


def ref_l2_loss(predictions, targets=None, axis=None, reduction="none"):
    return 0.5 * ref_squared_error(predictions, targets, axis, reduction)


def ref_absolute_error(predictions, targets=None, axis=None, reduction="mean"):
    r = predictions if targets is None else predictions - targets
    return _reduce(np.abs(r), reduction, axis)


def ref_l1_loss_braintools(logits, targets, reduction="mean"):
    d = np.atleast_1d(logits - targets)
    return _reduce(np.abs(d.reshape(d.shape[0], -1)).mean(axis=1), reduction)


def ref_huber_top(predictions, targets=None, delta=1.0, axis=None, reduction="none"):
    r = predictions if targets is None else predictions - targets
    return _reduce(_huber_np(r, delta), reduction, axis)


def ref_log_cosh(predictions, targets=None, axis=None, reduction="none"):
    r = predictions if targets is None else predictions - targets
    return _reduce(np.log(np.cosh(r)), reduction, axis)


def ref_msle(predicts, targets, axis=None, reduction="mean"):
    return _reduce((np.log(1 + predicts) - np.log(1 + targets)) ** 2, reduction, axis)


def ref_mape(predictions, targets):
    return 100 * np.mean(np.abs(targets - predictions) / np.maximum(np.abs(targets), 1e-7), -1)


def _torch_reduce(loss, reduction, weight=None, weight_sum=False):
    if weight is not None:
        loss = loss * weight
        if reduction == "mean" and weight_sum:
            return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def ref_mse_loss(input, target, reduction="mean", weight=None):
    return _torch_reduce((input - target) ** 2, reduction, weight, weight_sum=True)


def ref_l1_loss(input, target, reduction="mean", weight=None):
    return _torch_reduce(np.abs(input - target), reduction, weight, weight_sum=True)


def ref_smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    r = np.abs(input - target)
    loss = r if beta == 0 else np.where(r < beta, 0.5 * r**2 / beta, r - 0.5 * beta)
    return _reduce(loss, reduction)


def ref_huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    return _torch_reduce(_huber_np(input - target, delta), reduction, weight)


def ref_poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8, reduction="mean"):
    loss = np.exp(input) - target * input if log_input else input - target * np.log(input + eps)
    if full:
        with np.errstate(all="ignore"):
            st = target * np.log(target) - target + 0.5 * np.log(2 * math.pi * target)
        loss = loss + np.where(target > 1, st, 0.0)
    return _reduce(loss, reduction)


def ref_gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    var = np.asarray(var, dtype=np.float64)
    if var.shape != input.shape and var.shape == input.shape[:-1]:
        var = var[..., None]
    v = np.maximum(var, eps)
    loss = 0.5 * (np.log(v) + (input - target) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# --- inputs ----------------------------------------------------------------------------------


def _pair(rng: np.random.Generator, **kwargs) -> Inputs:
    return Inputs((2.0 * rng.normal(size=(4, 3)), 2.0 * rng.normal(size=(4, 3))), kwargs)


def _factory(**kwargs):
    def make(rng: np.random.Generator) -> Inputs:
        return _pair(rng, **kwargs)

    return make


def _weighted(**kwargs):
    def make(rng: np.random.Generator) -> Inputs:
        x, y = _pair(rng).args
        # one zero weight: the element leaves the numerator and (for mse/l1) the divisor
        w = rng.uniform(0.5, 2.0, size=(4, 3))
        w[1, 2] = 0.0
        return Inputs((x, y), {"weight": w, **kwargs})

    return make


def _positive(rng: np.random.Generator) -> Inputs:
    return Inputs((rng.uniform(0.0, 3.0, size=(4, 3)), rng.uniform(0.0, 3.0, size=(4, 3))))


def _percent(rng: np.random.Generator) -> Inputs:
    targets = rng.uniform(0.5, 3.0, size=(4, 3)) * rng.choice([-1.0, 1.0], size=(4, 3))
    return Inputs((targets + rng.normal(size=(4, 3)), targets))


def _poisson_log(rng: np.random.Generator) -> Inputs:
    counts = rng.integers(0, 6, size=(4, 3)).astype(np.float64)
    # No count of exactly 1, where torch's Stirling term switches on: a jump in the value that a
    # finite difference in the target cannot cross.
    counts[counts == 1] = 1.5
    return Inputs((rng.normal(size=(4, 3)), counts))


def _poisson_rate_full(rng: np.random.Generator) -> Inputs:
    counts = rng.integers(0, 6, size=(4, 3)).astype(np.float64)
    # No count of exactly 1, where torch's Stirling term switches on: a jump in the value that a
    # finite difference in the target cannot cross.
    counts[counts == 1] = 1.5
    rates = rng.uniform(0.2, 4.0, size=(4, 3))
    return Inputs((rates, counts), {"log_input": False, "full": True, "reduction": "sum"})


def _gauss_full_var(rng: np.random.Generator) -> Inputs:
    x, y = _pair(rng).args
    return Inputs((x, y, rng.uniform(0.2, 2.0, size=(4, 3))))


def _gauss_row_var(rng: np.random.Generator) -> Inputs:
    x, y = _pair(rng).args
    return Inputs((x, y, rng.uniform(0.2, 2.0, size=(4,))), {"full": True, "reduction": "none"})


def _gauss_col_var(rng: np.random.Generator) -> Inputs:
    x, y = _pair(rng).args
    return Inputs((x, y, rng.uniform(0.2, 2.0, size=(4, 1))), {"reduction": "sum"})


def _gauss_float_var(rng: np.random.Generator) -> Inputs:
    x, y = _pair(rng).args
    return Inputs((x, y, 1.5))


def _perfect(inputs: Inputs) -> Inputs:
    args = list(inputs.args)
    args[1] = args[0].copy()
    return Inputs(tuple(args), inputs.kwargs)


def _top(name, func, make, ref, peer, variant="default", properties=_NONNEG, **kw):
    return LossCase(
        name,
        "top",
        FAMILY,
        func,
        make,
        ref,
        peer,
        variant=variant,
        properties=properties,
        perfect=_perfect if "zero_at_target" in properties else None,
        **kw,
    )


def _fn(name, func, make, ref, peer, variant="default", properties=_NONNEG, **kw):
    return LossCase(
        name,
        "functional",
        FAMILY,
        func,
        make,
        ref,
        peer,
        variant=variant,
        properties=properties,
        perfect=_perfect if "zero_at_target" in properties else None,
        **kw,
    )


def _cls(name, make, ref, variant, properties=_NONNEG, **kw):
    return LossCase(
        name,
        "class",
        FAMILY,
        construct_and_call(getattr(C, name)),
        make,
        ref,
        Peer.torch_class(name),
        variant=variant,
        properties=properties,
        perfect=_perfect if "zero_at_target" in properties else None,
        **kw,
    )


def _optax(name: str) -> Peer:
    return Peer.path("jax", f"optax.losses.{name}")


def _torch(name: str) -> Peer:
    return Peer.path("torch", f"torch.nn.functional.{name}")


_NOT_NEG: frozenset[str] = frozenset()

_KERAS_MAPE = keras_top("mean_absolute_percentage_error", lambda fn, x, y: fn(y, x))


CASES = [
    # --- top level (optax / braintools / brainpy / keras) ---
    _top("squared_error", T.squared_error, _pair, ref_squared_error, _optax("squared_error")),
    _top(
        "squared_error",
        T.squared_error,
        _factory(axis=1, reduction="mean"),
        ref_squared_error,
        Peer.path("jax", "braintools.metric.squared_error"),
        variant="axis-mean",
    ),
    _top("l2_loss", T.l2_loss, _pair, ref_l2_loss, _optax("l2_loss")),
    _top("huber_loss", T.huber_loss, _pair, ref_huber_top, _optax("huber_loss")),
    _top(
        "huber_loss",
        T.huber_loss,
        _factory(delta=0.7),
        ref_huber_top,
        _optax("huber_loss"),
        variant="delta",
    ),
    _top(
        "huber_loss",
        T.huber_loss,
        _factory(delta=1.5, axis=0, reduction="sum"),
        ref_huber_top,
        Peer.path("jax", "braintools.metric.huber_loss"),
        variant="axis-sum",
    ),
    _top("log_cosh", T.log_cosh, _pair, ref_log_cosh, _optax("log_cosh")),
    _top(
        "absolute_error",
        T.absolute_error,
        _pair,
        ref_absolute_error,
        Peer.path("jax", "braintools.metric.absolute_error"),
        properties=frozenset({"nonnegative"}),
    ),
    _top(
        "absolute_error",
        T.absolute_error,
        _factory(axis=-1, reduction="sum"),
        ref_absolute_error,
        Peer.path("jax", "braintools.metric.absolute_error"),
        variant="axis-sum",
    ),
    _top(
        "absolute_error",
        T.absolute_error,
        _factory(reduction="none"),
        ref_absolute_error,
        Peer.path("jax", "braintools.metric.absolute_error"),
        variant="none",
    ),
    _top(
        "l1_loss",
        T.l1_loss,
        _pair,
        ref_l1_loss_braintools,
        Peer.path("jax", "braintools.metric.l1_loss"),
    ),
    _top(
        "l1_loss",
        T.l1_loss,
        _factory(reduction="none"),
        ref_l1_loss_braintools,
        Peer.path("jax", "braintools.metric.l1_loss"),
        variant="none",
    ),
    _top(
        "mean_squared_log_error",
        T.mean_squared_log_error,
        _positive,
        ref_msle,
        Peer.path("jax", "brainpy.losses.mean_squared_log_error"),
    ),
    _top(
        "mean_absolute_percentage_error",
        T.mean_absolute_percentage_error,
        _percent,
        ref_mape,
        _KERAS_MAPE,
    ),
    # --- functional (torch.nn.functional) ---
    _fn("mse_loss", F.mse_loss, _pair, ref_mse_loss, _torch("mse_loss")),
    _fn(
        "mse_loss",
        F.mse_loss,
        _weighted(),
        ref_mse_loss,
        _torch("mse_loss"),
        variant="weight",
    ),
    _fn(
        "mse_loss",
        F.mse_loss,
        _weighted(reduction="sum"),
        ref_mse_loss,
        _torch("mse_loss"),
        variant="weight-sum",
    ),
    _fn("l1_loss", F.l1_loss, _pair, ref_l1_loss, _torch("l1_loss")),
    _fn(
        "l1_loss",
        F.l1_loss,
        _weighted(),
        ref_l1_loss,
        _torch("l1_loss"),
        variant="weight",
    ),
    _fn(
        "l1_loss",
        F.l1_loss,
        _weighted(reduction="none"),
        ref_l1_loss,
        _torch("l1_loss"),
        variant="weight-none",
    ),
    _fn("smooth_l1_loss", F.smooth_l1_loss, _pair, ref_smooth_l1_loss, _torch("smooth_l1_loss")),
    _fn(
        "smooth_l1_loss",
        F.smooth_l1_loss,
        _factory(beta=0.5, reduction="none"),
        ref_smooth_l1_loss,
        _torch("smooth_l1_loss"),
        variant="beta-none",
    ),
    _fn(
        "smooth_l1_loss",
        F.smooth_l1_loss,
        _factory(beta=0.0, reduction="sum"),
        ref_smooth_l1_loss,
        _torch("smooth_l1_loss"),
        variant="beta0-sum",
    ),
    _fn("huber_loss", F.huber_loss, _pair, ref_huber_loss, _torch("huber_loss")),
    _fn(
        "huber_loss",
        F.huber_loss,
        _weighted(delta=2.0),
        ref_huber_loss,
        _torch("huber_loss"),
        variant="delta-weight",
    ),
    _fn(
        "poisson_nll_loss",
        F.poisson_nll_loss,
        _poisson_log,
        ref_poisson_nll_loss,
        _torch("poisson_nll_loss"),
        properties=_NOT_NEG,
    ),
    _fn(
        "poisson_nll_loss",
        F.poisson_nll_loss,
        _poisson_rate_full,
        ref_poisson_nll_loss,
        _torch("poisson_nll_loss"),
        variant="rate-full-sum",
        properties=_NOT_NEG,
        # torch's target gradient is NaN at a count of 0 (README: exact finite gradients).
        peer_wrt=(0,),
    ),
    _fn(
        "gaussian_nll_loss",
        F.gaussian_nll_loss,
        _gauss_full_var,
        ref_gaussian_nll_loss,
        _torch("gaussian_nll_loss"),
        grad_argnums=(0, 2),
        properties=_NOT_NEG,
    ),
    _fn(
        "gaussian_nll_loss",
        F.gaussian_nll_loss,
        _gauss_row_var,
        ref_gaussian_nll_loss,
        _torch("gaussian_nll_loss"),
        variant="var-one-fewer-dim-full-none",
        grad_argnums=(0, 2),
        properties=_NOT_NEG,
    ),
    _fn(
        "gaussian_nll_loss",
        F.gaussian_nll_loss,
        _gauss_col_var,
        ref_gaussian_nll_loss,
        _torch("gaussian_nll_loss"),
        variant="var-trailing-1-sum",
        grad_argnums=(0, 2),
        properties=_NOT_NEG,
    ),
    _fn(
        "gaussian_nll_loss",
        F.gaussian_nll_loss,
        _gauss_float_var,
        ref_gaussian_nll_loss,
        _torch("gaussian_nll_loss"),
        variant="var-float",
        properties=_NOT_NEG,
    ),
    # --- classes (torch.nn) ---
    _cls("MSELoss", _factory(reduction="none"), ref_mse_loss, "none"),
    _cls("L1Loss", _factory(reduction="sum"), ref_l1_loss, "sum"),
    _cls("HuberLoss", _factory(delta=0.5), ref_huber_loss, "delta"),
    _cls("SmoothL1Loss", _factory(beta=2.0, reduction="sum"), ref_smooth_l1_loss, "beta-sum"),
    _cls(
        "PoissonNLLLoss",
        lambda rng: Inputs(_poisson_rate_full(rng).args, {"log_input": False, "full": True}),
        ref_poisson_nll_loss,
        "rate-full",
        properties=_NOT_NEG,
        peer_wrt=(0,),  # as functional.poisson_nll_loss[rate-full-sum]
    ),
    _cls(
        "GaussianNLLLoss",
        lambda rng: Inputs(_gauss_row_var(rng).args, {"full": True}),
        ref_gaussian_nll_loss,
        "var-one-fewer-dim-full",
        grad_argnums=(0, 2),
        properties=_NOT_NEG,
    ),
]
