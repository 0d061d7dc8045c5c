"""Keras 3's loss functions: ``(y_true, y_pred)``, keras's defaults, reduced over the last axis.

Every function takes keras's argument order, names and defaults (keras 3.15's
``keras.losses``) and returns what keras's function returns: the loss of each sample, the last
axis averaged (or summed, where keras sums). The arrays may come from any Array API library;
the result has ``y_pred``'s library, dtype and device (keras converts to its one backend and
to ``float32``); integer and boolean predictions become float32, keras's ``floatx()``.
``y_true`` and ``y_pred`` meet through keras's +-1 rank rule (a trailing size-1 axis is
squeezed or added) and must then have the same shape; keras would broadcast other pairs
silently, here they raise.

Probability inputs are clipped to ``[1e-7, 1 - 1e-7]`` exactly where keras clips them (a
zero gradient outside); ``from_logits=True`` works in logit space on every backend (keras's
NumPy backend clips there too: ``binary_crossentropy([[1]], [[-30]], from_logits=True)`` is
16.118 on it, 30.0 here and on keras's other backends).
"""

from __future__ import annotations

from typing import Any

from .._dispatch import (
    cast,
    check_integer,
    check_labelled_embeddings,
    device_of,
    index_dtype,
    normalize_axes,
)
from .._kernels import classification as _kc
from .._kernels import clipped as _clip
from .._kernels import ctc as _kctc
from .._kernels import regression as _kr
from .._kernels import similarity as _ks
from .._kernels.margin import squared_hinge as _squared_hinge
from .._kernels.margin import to_signed_labels
from .._numerics import (
    absolute,
    expand_rank,
    gather_labels,
    invalid_to_nan,
    log_or_neg_inf,
    sanitize_labels,
)
from .._reductions import rank_aligned
from .._surface import Call, flag, number, options
from ._losses import FLOATX

__all__ = [
    "EPSILON",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "categorical_generalized_cross_entropy",
    "categorical_hinge",
    "circle",
    "cosine_similarity",
    "ctc",
    "dice",
    "hinge",
    "huber",
    "kl_divergence",
    "log_cosh",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "poisson",
    "sparse_categorical_crossentropy",
    "squared_hinge",
    "tversky",
]

EPSILON = 1e-7
"""``keras.backend.epsilon()``: the clip and denominator guard of keras's losses."""

ORDER = "keras's argument order is (y_true, y_pred): the predictions come second."

_SMOOTHING = number(low=0, high=1)
_PROBABILITY_HINT = f"`y_true` must hold probabilities in [0, 1]. {ORDER}"


def _predictions(c: Call, promote: tuple[str, ...] = ()) -> Any:
    """``y_pred`` cast to the compute dtype: integer and boolean predictions become float32,
    keras's ``floatx()``, as keras converts them (``mean_squared_error([[0, 1]], [[1, 1]])``
    is a float32 0.5 there)."""
    p = c._array("y_pred")
    if c.xp.isdtype(p.dtype, ("integral", "bool")):
        c.args["y_pred"] = cast(c.xp, p, getattr(c.xp, FLOATX))
    return c.input("y_pred", hint=ORDER, promote=promote)


def _pair(
    y_true: Any, y_pred: Any, *, probabilities: bool = False, **extra: Any
) -> tuple[Call, Any, Any]:
    """Resolve, apply the rank rule, check and cast: ``(call, y_true, y_pred)``. keras casts
    ``y_true`` to ``y_pred``'s dtype; an ``extra`` array (a class ``alpha``) promotes it."""
    c = Call("keras", y_true=y_true, y_pred=y_pred, **extra)
    t, p = c._array("y_true"), c._array("y_pred")
    c.args["y_true"], c.args["y_pred"] = rank_aligned(c.xp, t, p)
    p = _predictions(c, promote=tuple(extra))
    if p.ndim == 0:
        msg = "`y_pred` must have at least one dimension (keras reduces its last axis)."
        raise ValueError(msg)
    t = c.target("y_true", "y_pred", integers=True)
    if probabilities:
        c.check("y_true", lambda: (t < 0) | (t > 1), lambda: _PROBABILITY_HINT)
    return c, t, p


def _mean(c: Call, loss: Any) -> Any:
    return c.finish(c.xp.mean(loss, axis=-1))


def _smooth_binary(t: Any, label_smoothing: float) -> Any:
    # keras squeezes hard labels towards 1/2
    return t * (1.0 - label_smoothing) + 0.5 * label_smoothing if label_smoothing else t


# --- regression ----------------------------------------------------------------------------


def mean_squared_error(y_true: Any, y_pred: Any) -> Any:
    r"""Mean squared error over the last axis.

    .. math::

        \ell = \operatorname{mean}_{-1} (y_{true} - y_{pred})^2

    Parameters
    ----------
    y_true : array, shape (..., d)
        Targets (integer and boolean targets are cast to ``y_pred``'s dtype).
    y_pred : array, shape (..., d)
        Predictions (integer and boolean predictions become float32, as in keras).

    Returns
    -------
    array, shape (...)

    References
    ----------
    keras.losses.mean_squared_error.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import mean_squared_error
    >>> mean_squared_error(np.asarray([[0.0, 1.0]]), np.asarray([[1.0, 1.0]]))
    array([0.5])
    """
    c, t, p = _pair(y_true, y_pred)
    d = t - p
    return _mean(c, d * d)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Any:
    r"""Mean absolute error over the last axis.

    .. math::

        \ell = \operatorname{mean}_{-1} |y_{true} - y_{pred}|

    Parameters
    ----------
    y_true, y_pred : array, shape (..., d)

    Returns
    -------
    array, shape (...)

    References
    ----------
    keras.losses.mean_absolute_error.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import mean_absolute_error
    >>> mean_absolute_error(np.asarray([[0.0, 1.0]]), np.asarray([[1.0, 3.0]]))
    array([1.5])
    """
    c, t, p = _pair(y_true, y_pred)
    return _mean(c, absolute(c.xp, t - p))


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Any:
    r"""Mean absolute percentage error over the last axis.

    .. math::

        \ell = 100 \operatorname{mean}_{-1}
        \frac{|y_{true} - y_{pred}|}{\max(|y_{true}|, \epsilon)}, \quad \epsilon = 10^{-7}

    Parameters
    ----------
    y_true, y_pred : array, shape (..., d)

    Returns
    -------
    array, shape (...)

    References
    ----------
    keras.losses.mean_absolute_percentage_error.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import mean_absolute_percentage_error
    >>> mean_absolute_percentage_error(np.asarray([[2.0, 4.0]]), np.asarray([[1.0, 5.0]]))
    array([37.5])
    """
    c, t, p = _pair(y_true, y_pred)
    return _mean(c, _kr.absolute_percentage_error(c.xp, p, t, EPSILON))


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Any:
    r"""Mean squared logarithmic error over the last axis.

    .. math::

        \ell = \operatorname{mean}_{-1}
        \left(\log(1 + \max(y_{pred}, \epsilon)) - \log(1 + \max(y_{true}, \epsilon))\right)^2

    Values below ``epsilon = 1e-7`` (negative ones included) count as ``epsilon``, as in keras.

    Parameters
    ----------
    y_true, y_pred : array, shape (..., d)

    Returns
    -------
    array, shape (...)

    References
    ----------
    keras.losses.mean_squared_logarithmic_error.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import mean_squared_logarithmic_error
    >>> y_true, y_pred = np.asarray([[0.0, 1.0]]), np.asarray([[1.0, 1.0]])
    >>> np.round(mean_squared_logarithmic_error(y_true, y_pred), 6)
    array([0.240226])
    """
    c, t, p = _pair(y_true, y_pred)
    xp = c.xp
    d = xp.log1p(xp.maximum(p, EPSILON)) - xp.log1p(xp.maximum(t, EPSILON))
    return _mean(c, d * d)


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Any:
    r"""Negative cosine similarity along ``axis``.

    .. math::

        \ell = -\sum_{axis} \frac{y_{true}}{\lVert y_{true} \rVert}
        \frac{y_{pred}}{\lVert y_{pred} \rVert}

    Norms below ``1e-7`` are replaced by ``1e-7`` (keras's ``normalize``), so a zero vector
    gives 0 with a finite gradient.

    Parameters
    ----------
    y_true, y_pred : array, shape (..., d, ...)
    axis : int, default -1

    Returns
    -------
    array
        The shape of the inputs without ``axis``; values in [-1, 1].

    References
    ----------
    keras.losses.cosine_similarity.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import cosine_similarity
    >>> y_true = np.asarray([[0.0, 1.0], [1.0, 1.0]])
    >>> np.round(cosine_similarity(y_true, np.asarray([[1.0, 0.0], [1.0, 1.0]])), 6)
    array([-0., -1.])
    """
    c, t, p = _pair(y_true, y_pred)
    (ax,) = normalize_axes("axis", axis, p.ndim, tuples=False, none=False)
    # keras scales each input by min(1/|x|, 1/eps) = 1/sqrt(max(|x|^2, eps^2)) before the dot
    # product; scaling the dot product by both factors instead is the same up to rounding,
    # two passes over the inputs fewer, with no rsqrt(0) in the value or the gradient.
    return c.finish(-_ks.cosine_similarity(c.xp, t, p, EPSILON**2, (ax,)))


@options(delta=number(low=0, low_open=True))
def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Any:
    r"""Huber loss averaged over the last axis.

    .. math::

        \ell = \operatorname{mean}_{-1}
        \begin{cases} \tfrac12 e^2 & |e| \le \delta \\
        \delta |e| - \tfrac12 \delta^2 & \text{otherwise} \end{cases},
        \quad e = y_{pred} - y_{true}

    Parameters
    ----------
    y_true, y_pred : array, shape (..., d)
    delta : float, default 1.0
        Where the loss turns from quadratic to linear (> 0).

    Returns
    -------
    array, shape (...)

    References
    ----------
    keras.losses.huber.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import huber
    >>> huber(np.asarray([[0.0, 0.0]]), np.asarray([[0.5, 3.0]]))
    array([1.3125])
    """
    c, t, p = _pair(y_true, y_pred)
    return _mean(c, _kr.huber(c.xp, p - t, float(delta)))


def log_cosh(y_true: Any, y_pred: Any) -> Any:
    r"""Logarithm of the hyperbolic cosine of the error, averaged over the last axis.

    .. math::

        \ell = \operatorname{mean}_{-1} \log\cosh(y_{pred} - y_{true})

    Evaluated as ``|e| + softplus(-2|e|) - log 2``: finite for every error.

    Parameters
    ----------
    y_true, y_pred : array, shape (..., d)

    Returns
    -------
    array, shape (...)

    References
    ----------
    keras.losses.log_cosh.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import log_cosh
    >>> np.round(log_cosh(np.asarray([[0.0, 0.0]]), np.asarray([[1.0, -1.0]])), 6)
    array([0.433781])
    """
    c, t, p = _pair(y_true, y_pred)
    return _mean(c, _kr.log_cosh(c.xp, p - t))


# --- margin --------------------------------------------------------------------------------


def hinge(y_true: Any, y_pred: Any) -> Any:
    r"""Hinge loss averaged over the last axis.

    .. math::

        \ell = \operatorname{mean}_{-1} \max(1 - y \hat y, 0)

    ``y_true`` holds -1/1; a ``y_true`` whose values are all 0 or 1 is mapped to -1/1 first, as
    keras does (decided on the device by a ``where``, no branch on values: it runs under jit).

    Parameters
    ----------
    y_true, y_pred : array, shape (..., d)

    Returns
    -------
    array, shape (...)

    References
    ----------
    keras.losses.hinge.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import hinge
    >>> hinge(np.asarray([[0.0, 1.0]]), np.asarray([[0.5, 0.5]]))
    array([1.])
    """
    c, t, p = _pair(y_true, y_pred)
    return _mean(c, c.xp.maximum(1.0 - to_signed_labels(c.xp, t) * p, 0.0))


def squared_hinge(y_true: Any, y_pred: Any) -> Any:
    r"""Squared hinge loss averaged over the last axis.

    .. math::

        \ell = \operatorname{mean}_{-1} \max(1 - y \hat y, 0)^2

    0/1 targets are mapped to -1/1 as in :func:`hinge`.

    Parameters
    ----------
    y_true, y_pred : array, shape (..., d)

    Returns
    -------
    array, shape (...)

    References
    ----------
    keras.losses.squared_hinge.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import squared_hinge
    >>> squared_hinge(np.asarray([[0.0, 1.0]]), np.asarray([[0.5, 0.5]]))
    array([1.25])
    """
    c, t, p = _pair(y_true, y_pred)
    return _mean(c, _squared_hinge(c.xp, p, to_signed_labels(c.xp, t)))


def categorical_hinge(y_true: Any, y_pred: Any) -> Any:
    r"""Categorical hinge loss over the last axis.

    .. math::

        \ell = \max\left(\max_c (1 - y_c)\hat y_c - \sum_c y_c \hat y_c + 1,\ 0\right)

    Parameters
    ----------
    y_true : array, shape (..., C)
        One-hot (or -1/+1) targets.
    y_pred : array, shape (..., C)

    Returns
    -------
    array, shape (...)

    References
    ----------
    keras.losses.categorical_hinge.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import categorical_hinge
    >>> categorical_hinge(np.asarray([[0.0, 1.0]]), np.asarray([[0.6, 0.4]]))
    array([1.2])
    """
    c, t, p = _pair(y_true, y_pred)
    xp = c.xp
    pos = xp.sum(t * p, axis=-1)
    neg = xp.max((1.0 - t) * p, axis=-1)
    return c.finish(xp.maximum(neg - pos + 1.0, 0.0))


# --- divergences and counts ----------------------------------------------------------------


def kl_divergence(y_true: Any, y_pred: Any) -> Any:
    r"""Kullback-Leibler divergence summed over the last axis, with keras's clipping.

    .. math::

        \ell = \sum_{-1} t \log\frac{t}{q}, \quad
        t = \operatorname{clip}(y_{true}, \epsilon, 1),\
        q = \operatorname{clip}(y_{pred}, \epsilon, 1)

    Parameters
    ----------
    y_true, y_pred : array, shape (..., C)
        Probabilities; values outside ``[1e-7, 1]`` are clipped (zero gradient there).

    Returns
    -------
    array, shape (...)

    References
    ----------
    keras.losses.kl_divergence.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import kl_divergence
    >>> np.round(kl_divergence(np.asarray([[0.5, 0.5]]), np.asarray([[0.25, 0.75]])), 6)
    array([0.143841])
    """
    c, t, p = _pair(y_true, y_pred)
    xp = c.xp
    t = xp.clip(t, EPSILON, 1.0)
    q = xp.clip(p, EPSILON, 1.0)
    return c.finish(xp.sum(t * (xp.log(t) - xp.log(q)), axis=-1))


def poisson(y_true: Any, y_pred: Any) -> Any:
    r"""Poisson loss averaged over the last axis.

    .. math::

        \ell = \operatorname{mean}_{-1} \left(\hat y - y \log(\hat y + \epsilon)\right)

    Parameters
    ----------
    y_true : array, shape (..., d)
        Counts.
    y_pred : array, shape (..., d)
        Predicted rates (> -1e-7).

    Returns
    -------
    array, shape (...)

    References
    ----------
    keras.losses.poisson.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import poisson
    >>> np.round(poisson(np.asarray([[1.0, 0.0]]), np.asarray([[1.0, 2.0]])), 6)
    array([1.])
    """
    c, t, p = _pair(y_true, y_pred)
    return _mean(c, p - t * c.xp.log(p + EPSILON))


# --- cross entropies -----------------------------------------------------------------------


@options(from_logits=flag, label_smoothing=_SMOOTHING)
def binary_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any:
    r"""Binary cross entropy, averaged over ``axis``.

    .. math::

        \ell = -\operatorname{mean}_{axis}\left(y \log q + (1 - y) \log(1 - q)\right)

    With ``from_logits=True``, ``log q = log_sigmoid(x)`` (finite and exact for every logit);
    otherwise ``q = clip(y_pred, 1e-7, 1 - 1e-7)`` as in keras.

    Parameters
    ----------
    y_true : array, shape (..., d)
        Targets in [0, 1] (checked on eager arrays).
    y_pred : array, shape (..., d)
        Probabilities, or logits with ``from_logits=True``.
    from_logits : bool, default False
    label_smoothing : float in [0, 1], default 0
        Targets become ``y (1 - s) + s / 2``.
    axis : int, default -1
        The axis averaged.

    Returns
    -------
    array
        The input shape without ``axis``.

    References
    ----------
    keras.losses.binary_crossentropy.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import binary_crossentropy
    >>> binary_crossentropy(np.asarray([[1.0]]), np.asarray([[-30.0]]), from_logits=True)
    array([30.])
    """
    c, t, p = _pair(y_true, y_pred, probabilities=True)
    (ax,) = normalize_axes("axis", axis, p.ndim, tuples=False, none=False)
    t = _smooth_binary(t, label_smoothing)
    if from_logits:
        loss = _kc.sigmoid_binary_cross_entropy(c.xp, p, t)
    else:
        loss = _clip.binary_cross_entropy(c.xp, p, t, EPSILON)
    return c.finish(c.xp.mean(loss, axis=ax))


@options(
    apply_class_balancing=flag,
    alpha=number(low=0, high=1),
    gamma=number(low=0),
    from_logits=flag,
    label_smoothing=_SMOOTHING,
)
def binary_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any:
    r"""Binary focal cross entropy (Lin et al., 2017), averaged over ``axis``.

    .. math::

        \ell = \operatorname{mean}_{axis} w\,(1 - p_t)^\gamma\,\mathrm{BCE}(y, p), \quad
        p_t = y p + (1 - y)(1 - p)

    with ``w = alpha y + (1 - alpha)(1 - y)`` when ``apply_class_balancing``, else 1. The
    probability path clips the cross entropy as keras does. ``from_logits=True`` stays in logit
    space (``log(1 - p_t)`` from log-sigmoids); keras applies a sigmoid and clips, so the two
    differ only where ``|logit| > 16`` (keras's loss is capped there, ours is not).

    Parameters
    ----------
    y_true : array, shape (..., d)
        Targets in [0, 1].
    y_pred : array, shape (..., d)
        Probabilities, or logits with ``from_logits=True``.
    apply_class_balancing : bool, default False
    alpha : float, default 0.25
    gamma : float, default 2.0
    from_logits : bool, default False
    label_smoothing : float in [0, 1], default 0
    axis : int, default -1

    Returns
    -------
    array
        The input shape without ``axis``.

    References
    ----------
    keras.losses.binary_focal_crossentropy.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import binary_focal_crossentropy
    >>> y_true, y_pred = np.asarray([[0.0, 1.0], [0.0, 0.0]]), np.asarray([[0.6, 0.4], [0.4, 0.6]])
    >>> np.round(binary_focal_crossentropy(y_true, y_pred), 3)
    array([0.33 , 0.206])
    """
    c, t, p = _pair(y_true, y_pred, probabilities=True)
    xp = c.xp
    (ax,) = normalize_axes("axis", axis, p.ndim, tuples=False, none=False)
    t = _smooth_binary(t, label_smoothing)
    weight = float(alpha) if apply_class_balancing else None
    if from_logits:
        loss = _kc.sigmoid_focal_loss(xp, p, t, weight, float(gamma))
    else:
        p_t = t * p + (1.0 - t) * (1.0 - p)
        loss = (1.0 - p_t) ** gamma * _clip.binary_cross_entropy(xp, p, t, EPSILON)
        if weight is not None:
            loss = (weight * t + (1.0 - weight) * (1.0 - t)) * loss
    return c.finish(xp.mean(loss, axis=ax))


def _categorical(
    y_true: Any, y_pred: Any, axis: Any, label_smoothing: float, **extra: Any
) -> tuple[Call, Any, Any]:
    """One-hot targets and predictions with the class axis moved last, targets smoothed."""
    c, t, p = _pair(y_true, y_pred, probabilities=True, **extra)
    _, num_classes, (t, p) = c.classes("y_pred", axis, t, p, tuples=False)
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + label_smoothing / num_classes
    return c, t, p


@options(from_logits=flag, label_smoothing=_SMOOTHING)
def categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any:
    r"""Categorical cross entropy of one-hot (or soft) targets along ``axis``.

    .. math::

        \ell = -\sum_{axis} y \log q

    With ``from_logits=True``, ``log q = log_softmax(y_pred)`` (max-shifted; ``-inf`` logits of
    zero-target classes add 0); otherwise ``q = clip(p / sum(p), 1e-7, 1 - 1e-7)`` as keras.

    Parameters
    ----------
    y_true : array, shape (..., C, ...)
        Probabilities over the classes (checked in [0, 1] on eager arrays).
    y_pred : array, shape (..., C, ...)
        Probabilities (or unnormalised scores), or logits with ``from_logits=True``.
    from_logits : bool, default False
    label_smoothing : float in [0, 1], default 0
        Targets become ``y (1 - s) + s / C`` (``C``: the size of ``axis``; keras uses the last
        axis's size, the same for the default ``axis=-1``).
    axis : int, default -1
        The class axis.

    Returns
    -------
    array
        The input shape without ``axis``.

    References
    ----------
    keras.losses.categorical_crossentropy.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import categorical_crossentropy
    >>> y_true = np.asarray([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> y_pred = np.asarray([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    >>> np.round(categorical_crossentropy(y_true, y_pred), 4)
    array([0.0513, 2.3026])
    """
    c, t, p = _categorical(y_true, y_pred, axis, label_smoothing)
    if from_logits:
        return c.finish(_kc.softmax_cross_entropy(c.xp, p, t))
    return c.finish(-c.xp.sum(t * _clip.normalized_log_probs(c.xp, p, EPSILON), axis=-1))


def _class_weights(name: str, value: Any) -> None:
    """A nonnegative number, or one per class (a list or an array, keras's list of floats)."""
    if not isinstance(value, (list, tuple)):
        number(low=0, arrays=True)(name, value)


@options(alpha=_class_weights, gamma=number(low=0), from_logits=flag, label_smoothing=_SMOOTHING)
def categorical_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    alpha: Any = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any:
    r"""Categorical focal cross entropy along ``axis``.

    .. math::

        \ell = -\sum_{axis} \alpha (1 - q)^\gamma y \log q

    The probability path normalises and clips ``q`` as keras does; ``from_logits=True`` uses
    the log-softmax (``log(1 - q) = log(-expm1(log q))``), where keras applies a softmax and
    clips: the two agree wherever no probability falls below ``1e-7``.

    Parameters
    ----------
    y_true : array, shape (..., C)
        One-hot (or soft) targets.
    y_pred : array, shape (..., C)
        Probabilities, or logits with ``from_logits=True``.
    alpha : float or array of shape (C,), default 0.25
        Class weight (one per class, as keras's list of floats).
    gamma : float, default 2.0
    from_logits : bool, default False
    label_smoothing : float in [0, 1], default 0
    axis : int, default -1

    Returns
    -------
    array
        The input shape without ``axis``.

    References
    ----------
    keras.losses.categorical_focal_crossentropy.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import categorical_focal_crossentropy
    >>> y_true = np.asarray([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> y_pred = np.asarray([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    >>> np.round(categorical_focal_crossentropy(y_true, y_pred), 6)
    array([3.2000e-05, 4.6627e-01])
    """
    c, t, p = _categorical(y_true, y_pred, axis, label_smoothing, alpha=alpha)
    a = expand_rank(c.xp, c.param("alpha"), t.ndim)
    if from_logits:
        return c.finish(_kc.softmax_focal_loss(c.xp, p, t * a, 1.0, float(gamma)))
    return c.finish(_clip.categorical_focal(c.xp, p, t, a, float(gamma), EPSILON))


def _integer_labels(c: Call, name: str, hint: str) -> Any:
    """Class labels as integers: float labels are cast toward zero, as keras casts them.

    keras's ``Loss.__call__`` hands ``y_true`` to every loss function in its float dtype, so
    ``model.fit`` with integer labels delivers them as floats; keras's sparse losses cast them
    back (``int32``). Other dtypes (complex, say) raise naming ``hint``.
    """
    y = c[name]
    if c.xp.isdtype(y.dtype, "real floating"):
        y = c.args[name] = cast(c.xp, y, index_dtype(c.xp, y))
    check_integer(c.xp, name, y, hint)
    return y


def _class_labels(
    y_true: Any, y_pred: Any, axis: int, hint: str, ignore: int | None = None
) -> tuple[Call, Any, Any, int]:
    """``(call, labels, y_pred with the class axis last, C)`` for integer ``y_true`` of
    ``y_pred``'s shape without ``axis`` (a size-1 ``axis`` in ``y_true`` is dropped, as keras
    does); labels checked in ``[0, C)`` (or ``ignore``) on eager arrays."""
    c = Call("keras", y_true=y_true, y_pred=y_pred)
    c._array("y_true")
    p = _predictions(c)
    if p.ndim == 0:
        msg = "`y_pred` must have at least one dimension (the classes), got a 0-d array."
        raise ValueError(msg)
    (ax,) = normalize_axes("axis", axis, p.ndim, tuples=False, none=False)
    y = _integer_labels(c, "y_true", f"{hint} {ORDER}")
    if y.ndim == p.ndim and y.shape[ax] == 1:
        y = c.args["y_true"] = c.xp.squeeze(y, axis=ax)
    _, num_classes, (p,) = c.classes("y_pred", ax, p, tuples=False)
    shape = tuple(p.shape[:-1])
    if tuple(y.shape) != shape:
        msg = (
            f"`y_true` must have the shape of `y_pred` without its class axis, {shape} "
            f"(or that shape with a trailing size-1 axis); got {tuple(y.shape)}. {ORDER}"
        )
        raise ValueError(msg)
    y = c.labels("y_true", num_classes, ignore=ignore, ignore_name="ignore_class")
    return c, y, p, num_classes


def sparse_masked(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    ignore_class: int | None = None,
    axis: int = -1,
) -> tuple[Any, Any]:
    """:func:`sparse_categorical_crossentropy` and its mask (None without ``ignore_class``)."""
    hint = "Pass class indices."
    c, y, p, num_classes = _class_labels(y_true, y_pred, axis, hint, ignore_class)
    safe, keep, bad = sanitize_labels(c.xp, y, num_classes, ignore_class)
    c.widen_half()  # keras's one_hot(y_true) is float32
    valid = None if ignore_class is None else keep | bad
    if valid is not None:
        # an ignored row's loss is replaced by 0 below, but its gradient would still be
        # 0 times the row's local derivative, NaN at an infinite logit or a row of zero
        # probabilities: the row is replaced by ones first (the double where)
        p = c.xp.where(valid[..., None], p, 1.0)
    if from_logits:
        loss = _kc.softmax_cross_entropy_with_integer_labels(c.xp, p, safe)[0]
    else:
        loss = -gather_labels(c.xp, _clip.normalized_log_probs(c.xp, p, EPSILON), safe)
    loss = invalid_to_nan(c.xp, loss, ~bad)
    if valid is None:
        return c.finish(loss), None
    return c.finish(c.xp.where(valid, loss, 0.0)), valid


@options(from_logits=flag, ignore_class=number(integer=True, none=True))
def sparse_categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    ignore_class: int | None = None,
    axis: int = -1,
) -> Any:
    r"""Categorical cross entropy of integer class labels.

    .. math::

        \ell = -\log q_{y}

    ``log q`` is the log-softmax with ``from_logits=True``, else ``log clip(p / sum(p), 1e-7,
    1 - 1e-7)`` as in keras. Labels equal to ``ignore_class`` give 0 (the loss classes then
    average over the other labels only, keras's mask); they are replaced before the gather, so
    -1 or 255 never index. A label outside ``[0, C)`` raises on eager arrays and gives NaN
    for its sample under jit.

    Parameters
    ----------
    y_true : array of int, shape (...) or (..., 1)
        Class indices (a trailing size-1 axis is dropped, as keras does; float labels are
        cast to integers, as keras casts them).
    y_pred : array, shape (..., C)
        Probabilities, or logits with ``from_logits=True``.
    from_logits : bool, default False
    ignore_class : int, optional
    axis : int, default -1
        The class axis of ``y_pred``.

    Returns
    -------
    array, shape (...)

    References
    ----------
    keras.losses.sparse_categorical_crossentropy.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import sparse_categorical_crossentropy
    >>> y_pred = np.asarray([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    >>> np.round(sparse_categorical_crossentropy(np.asarray([1, 2]), y_pred), 4)
    array([0.0513, 2.3026])
    """
    return sparse_masked(y_true, y_pred, from_logits, ignore_class, axis)[0]


@options(q=number(low=0, high=1, low_open=True, high_open=True))
def categorical_generalized_cross_entropy(y_true: Any, y_pred: Any, q: float) -> Any:
    r"""Generalized cross entropy (Zhang & Sabuncu, 2018) of integer labels.

    .. math::

        \ell = \frac{1 - p_y^q}{q}

    ``p^q`` is ``exp(q log p)``: at ``p_y = 0`` the loss is ``1/q`` with a zero gradient
    (keras's ``power`` gives -inf and NaN there).

    Parameters
    ----------
    y_true : array of int, shape (N,) or (N, 1)
        Class indices (float labels are cast to integers, as keras casts them).
    y_pred : array, shape (N, C)
        Class probabilities.
    q : float in (0, 1)

    Returns
    -------
    array, shape (N,)

    References
    ----------
    keras.losses.categorical_generalized_cross_entropy.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import categorical_generalized_cross_entropy
    >>> y_pred = np.asarray([[0.7, 0.3], [0.2, 0.8]])
    >>> np.round(categorical_generalized_cross_entropy(np.asarray([0, 0]), y_pred, q=0.5), 6)
    array([0.32668 , 1.105573])
    """
    c, y, p, _ = _class_labels(y_true, y_pred, -1, "Pass class indices.")
    p_y = gather_labels(c.xp, p, y)
    log_p_y = log_or_neg_inf(c.xp, p_y)
    return c.finish(_kc.generalized_cross_entropy(c.xp, log_p_y, float(q)))


# --- sequences, segmentation, metric learning ------------------------------------------------


def ctc(y_true: Any, y_pred: Any) -> Any:
    r"""Connectionist temporal classification loss, keras's convention (blank and padding 0).

    .. math::

        \ell = -\log \sum_{\pi \in \mathcal{B}^{-1}(y)} \prod_t \operatorname{softmax}(x_t)_{\pi_t}

    Class 0 is the blank; label 0 also pads ``y_true`` (each sequence's length is its number of
    non-zero labels); every frame of ``y_pred`` counts.

    Parameters
    ----------
    y_true : array of int, shape (B, L)
        Right-padded labels in ``[1, K)`` (float labels are cast to integers, as keras does).
    y_pred : array, shape (B, T, K)
        Logits (not normalised).

    Returns
    -------
    array, shape (B,)
        The negative log-likelihood of each sequence.

    References
    ----------
    keras.losses.ctc.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import ctc
    >>> float(np.round(ctc(np.asarray([[1]]), np.zeros((1, 2, 2)))[0], 6))
    0.287682
    """
    c = Call("keras", y_true=y_true, y_pred=y_pred)
    c._array("y_true")
    x = _predictions(c)
    y = c["y_true"]
    if y.ndim != 2:
        msg = f"`y_true` must have shape (batch_size, max_length), got {tuple(y.shape)}."
        raise ValueError(msg)
    if x.ndim != 3:
        msg = (
            f"`y_pred` must have shape (batch_size, max_length, num_classes), got {tuple(x.shape)}."
        )
        raise ValueError(msg)
    y = _integer_labels(c, "y_true", ORDER)
    if y.shape[0] != x.shape[0]:
        msg = (
            f"`y_true` and `y_pred` must have the same batch size, got {y.shape[0]} and "
            f"{x.shape[0]}."
        )
        raise ValueError(msg)
    y = c.labels("y_true", x.shape[-1])
    c.widen_half()  # keras's CTC computes in result_type(y_pred, float32)
    xp = c.xp
    lengths = xp.sum(xp.astype(y != 0, y.dtype), axis=1)
    positions = xp.arange(y.shape[1], dtype=y.dtype, device=device_of(y))
    label_valid = positions[None, :] < lengths[:, None]
    no_pad = xp.zeros(x.shape[:2], dtype=xp.bool, device=device_of(x))
    loss = _kctc.ctc_from_logits(xp, x, no_pad, y, label_valid, blank=0, log_zero=-1e5)[0]
    return c.finish(loss)


def dice(y_true: Any, y_pred: Any, axis: Any = None) -> Any:
    r"""Dice loss over ``axis`` (every axis by default).

    .. math::

        \ell = 1 - \frac{2 \sum y \hat y}{\sum y + \sum \hat y + \epsilon}, \quad \epsilon = 10^{-7}

    Parameters
    ----------
    y_true, y_pred : array, shape (...)
    axis : int, tuple of int or None, default None
        The axes summed; None sums everything (a scalar).

    Returns
    -------
    array
        The input shape without ``axis``.

    References
    ----------
    keras.losses.dice.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import dice
    >>> y_true = np.asarray([[1.0, 1.0], [0.0, 0.0]])
    >>> np.round(dice(y_true, np.asarray([[0.0, 1.0], [0.0, 1.0]]), axis=1), 6)
    array([0.333333, 1.      ])
    """
    c, t, p = _pair(y_true, y_pred)
    xp = c.xp
    axes = normalize_axes("axis", axis, p.ndim)
    inter = xp.sum(t * p, axis=axes)
    den = xp.sum(t, axis=axes) + xp.sum(p, axis=axes) + EPSILON
    return c.finish(1.0 - 2.0 * inter / den)


@options(alpha=number(), beta=number())
def tversky(
    y_true: Any, y_pred: Any, alpha: float = 0.5, beta: float = 0.5, axis: Any = None
) -> Any:
    r"""Tversky loss over ``axis`` (every axis by default), as keras's code computes it.

    .. math::

        \ell = 1 - \frac{\sum y \hat y}{\sum y \hat y + \alpha \sum y (1 - \hat y)
        + \beta \sum (1 - y) \hat y + \epsilon}

    keras's docstring calls ``alpha`` the weight of false positives, its code weights
    ``sum(y_true (1 - y_pred))`` by it; we follow the code (the numbers equal keras's).
    ``alpha = beta = 0.5`` is the Dice loss.

    Parameters
    ----------
    y_true, y_pred : array, shape (...)
    alpha, beta : float, default 0.5
    axis : int, tuple of int or None, default None

    Returns
    -------
    array
        The input shape without ``axis``.

    References
    ----------
    keras.losses.tversky; Salehi et al., 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import tversky
    >>> y_true = np.asarray([[1.0, 1.0], [0.0, 0.0]])
    >>> np.round(tversky(y_true, np.asarray([[0.0, 1.0], [0.0, 1.0]]), axis=1), 6)
    array([0.333333, 1.      ])
    """
    c, t, p = _pair(y_true, y_pred)
    xp = c.xp
    axes = normalize_axes("axis", axis, p.ndim)
    inter = xp.sum(t * p, axis=axes)
    missed = xp.sum((1.0 - p) * t, axis=axes)
    spurious = xp.sum(p * (1.0 - t), axis=axes)
    return c.finish(1.0 - inter / (inter + alpha * missed + beta * spurious + EPSILON))


def circle_masked(
    y_true: Any,
    y_pred: Any,
    ref_labels: Any = None,
    ref_embeddings: Any = None,
    remove_diagonal: bool = True,
    gamma: float = 80.0,
    margin: float = 0.4,
) -> tuple[Any, Any]:
    """:func:`circle` and keras's mask of it (the rows whose loss is positive)."""
    c = Call(
        "keras",
        y_true=y_true,
        y_pred=y_pred,
        ref_labels=ref_labels,
        ref_embeddings=ref_embeddings,
    )
    c._array("y_true")
    e = _predictions(c)
    for name in ("y_true", "ref_labels"):
        y = c[name]
        if y is None:
            continue
        y = _integer_labels(c, name, f"Pass integer labels. {ORDER}")
        if y.ndim == 2 and y.shape[-1] == 1:
            c.args[name] = c.xp.squeeze(y, axis=-1)
    r = e if ref_embeddings is None else c.floating("ref_embeddings")
    r_labels = c["y_true"] if ref_labels is None else c["ref_labels"]
    check_labelled_embeddings(
        ("y_pred", e, "y_true", c["y_true"]), ("ref_embeddings", r, "ref_labels", r_labels)
    )
    loss = _ks.circle(
        c.xp, e, c["y_true"], r, r_labels, bool(remove_diagonal), float(gamma), float(margin)
    )
    return c.finish(loss), loss > 0


@options(remove_diagonal=flag, gamma=number(low=0), margin=number())
def circle(
    y_true: Any,
    y_pred: Any,
    ref_labels: Any = None,
    ref_embeddings: Any = None,
    remove_diagonal: bool = True,
    gamma: float = 80.0,
    margin: float = 0.4,
) -> Any:
    r"""Circle loss (Sun et al., 2020) of L2-normalised embeddings, keras's formulation.

    On cosine distances :math:`d = \max(1 - \langle e_i, r_j \rangle, 0)`:

    .. math::

        \ell_i = \operatorname{softplus}\Big(
        \operatorname{lse}_{j \in P_i} -\gamma\,a^p_{ij}(m - d_{ij})
        + \operatorname{lse}_{j \in N_i} \gamma\,a^n_{ij}(1 - m - d_{ij})\Big)

    with :math:`a^p = \max(m + d, 0)`, :math:`a^n = \max(1 + m - d, 0)`; a row without
    positives or negatives gives 0 with a zero gradient, as in keras. The loss
    classes average over the rows with a positive loss only (keras's mask).

    Parameters
    ----------
    y_true : array of int, shape (N,)
        Labels (float labels are cast to integers, as keras casts them).
    y_pred : array, shape (N, D)
        L2-normalised embeddings.
    ref_labels : array of int, shape (M,), optional
        Labels of the reference embeddings (default ``y_true``).
    ref_embeddings : array, shape (M, D), optional
        Reference embeddings (default ``y_pred``).
    remove_diagonal : bool, default True
        Drop self-pairs from the positives.
    gamma : float, default 80
    margin : float, default 0.4

    Returns
    -------
    array, shape (N,)

    References
    ----------
    keras.losses.circle.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import circle
    >>> e = np.asarray([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    >>> np.round(circle(np.asarray([0, 1, 0]), e, gamma=1.0), 4)
    array([0.5459, 0.    , 0.5459])
    """
    return circle_masked(
        y_true, y_pred, ref_labels, ref_embeddings, remove_diagonal, gamma, margin
    )[0]


# the loss classes reduce these with keras's mask (keras attaches it as ``_keras_mask``)
sparse_categorical_crossentropy.masked = sparse_masked  # type: ignore[attr-defined]
circle.masked = circle_masked  # type: ignore[attr-defined]
