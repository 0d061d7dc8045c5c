"""Top-level classification losses (optax / braintools / brainpy names, unreduced output).

``softmax_focal_loss`` and ``generalized_cross_entropy`` mirror keras losses under optax-style
names and argument order (prediction first).
"""

from __future__ import annotations

from typing import Any

from .._dispatch import (
    cast,
    check_axis,
    check_floating,
    check_integer,
    check_labels_in_range,
    check_probabilities,
    check_same_shape,
    compute_dtype,
    device_of,
    namespace,
)
from .._docs import fill_doc
from .._kernels import classification as _k
from .._numerics import safe_divide, xmul
from .._reductions import apply_reduction, check_reduction

__all__ = [
    "cross_entropy_loss",
    "generalized_cross_entropy",
    "nll_loss",
    "poly_loss_cross_entropy",
    "safe_softmax_cross_entropy",
    "sigmoid_binary_cross_entropy",
    "sigmoid_focal_loss",
    "smooth_labels",
    "softmax_cross_entropy",
    "softmax_cross_entropy_with_integer_labels",
    "softmax_focal_loss",
]

_INT_HINT = "For integer class indices use `{name}` instead."
_FLOAT_HINT = "For probability (one-hot or soft) labels use `{name}` instead."


def _check_where(xp: Any, where: Any, full_shape: tuple[int, ...], axis: int) -> Any:
    """``where`` of the logits' shape, or of the logits' shape without ``axis`` (a row mask)."""
    if not xp.isdtype(where.dtype, "bool"):
        msg = f"`where` must be a boolean array, got dtype {where.dtype}."
        raise TypeError(msg)
    shape = tuple(where.shape)
    row_shape = full_shape[:axis] + full_shape[axis + 1 :]
    if shape == full_shape:
        return where
    if shape == row_shape:
        return xp.expand_dims(where, axis=axis)
    msg = (
        f"`where` must have the logits' shape {full_shape} or {row_shape} (one value per row); "
        f"got {shape}."
    )
    raise ValueError(msg)


def _class_axis_last(xp: Any, axis: int, *arrays: Any) -> list[Any]:
    return [None if a is None else _k.move_axis_last(xp, a, axis) for a in arrays]


def _needs_ndim(name: str, x: Any, ndim: int = 1) -> None:
    if x.ndim < ndim:
        msg = f"`{name}` must have at least {ndim} dimension(s) (the classes), got a 0-d array."
        raise ValueError(msg)


def _scalar_or_cast(xp: Any, value: Any, dtype: Any) -> Any:
    if value is None or isinstance(value, (int, float)):
        return value
    return cast(xp, value, dtype)


# --- sigmoid ----------------------------------------------------------------------------------


@fill_doc
def sigmoid_binary_cross_entropy(logits: Any, labels: Any) -> Any:
    r"""Sigmoid cross-entropy of each element, from logits.

    .. math::

        \ell(x, y) = -y \log \sigma(x) - (1 - y) \log(1 - \sigma(x))

    computed as log-sigmoids, exact for saturated logits (``+-1e4``, ``+-inf``).

    {backends}

    Parameters
    ----------
    logits : array, shape (...)
        Unnormalised log-odds, real floating.
    labels : array, shape (...)
        Probabilities of the positive class in [0, 1], same shape as ``logits``. Integer or
        boolean 0/1 labels are cast to the logits' dtype, as in optax.

    Returns
    -------
    array, shape (...)
        The unreduced loss.

    References
    ----------
    optax.losses.sigmoid_binary_cross_entropy.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import sigmoid_binary_cross_entropy
    >>> logits, labels = np.asarray([1.0, -1.0, 0.0]), np.asarray([1.0, 0.0, 1.0])
    >>> loss = sigmoid_binary_cross_entropy(logits, labels)
    >>> np.round(loss, 7)
    array([0.3132617, 0.3132617, 0.6931472])
    """
    xp = namespace(logits=logits, labels=labels)
    check_floating(xp, "logits", logits)
    check_same_shape("logits", logits, "labels", labels)
    work = compute_dtype(xp, logits.dtype)
    loss = _k.sigmoid_binary_cross_entropy(xp, cast(xp, logits, work), cast(xp, labels, work))
    return cast(xp, loss, logits.dtype)


@fill_doc
def sigmoid_focal_loss(logits: Any, labels: Any, *, alpha: Any = None, gamma: Any = 2.0) -> Any:
    r"""Sigmoid focal loss of each element (Lin et al., 2017), from logits.

    .. math::

        \ell(x, y) = \alpha_t \, (1 - p_t)^\gamma \, \mathrm{BCE}(x, y), \quad
        p_t = y \sigma(x) + (1 - y)(1 - \sigma(x)), \quad
        \alpha_t = \alpha y + (1 - \alpha)(1 - y)

    The modulating factor is computed as :math:`\exp(\gamma \log(1 - p_t))` in log-sigmoid
    space, so gradients stay finite for ``gamma = 0``, ``0 < gamma < 1`` and saturated logits.

    {backends}

    Parameters
    ----------
    logits : array, shape (...)
        Log-odds, real floating.
    labels : array, shape (...)
        Targets in [0, 1] (hard or soft), same shape; cast to the logits' dtype.
    alpha : float or array, optional
        Weight of the positive term (negatives get ``1 - alpha``). ``None``: no weighting.
    gamma : float or array, default 2.0
        Focusing exponent, ``>= 0``; ``0`` gives the plain sigmoid cross-entropy.

    Returns
    -------
    array, shape (...)
        The unreduced loss.

    References
    ----------
    optax.losses.sigmoid_focal_loss; braintools.metric.sigmoid_focal_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import sigmoid_focal_loss
    >>> x, y = np.asarray([2.0, -1.0, 0.5, -2.0]), np.asarray([1.0, 0.0, 1.0, 0.0])
    >>> np.round(sigmoid_focal_loss(x, y, alpha=0.25, gamma=2.0), 8)
    array([0.00045089, 0.01699354, 0.01689337, 0.00135267])
    """
    xp = namespace(logits=logits, labels=labels, alpha=alpha, gamma=gamma)
    check_floating(xp, "logits", logits)
    check_same_shape("logits", logits, "labels", labels)
    work = compute_dtype(xp, logits.dtype)
    loss = _k.sigmoid_focal_loss(
        xp,
        cast(xp, logits, work),
        cast(xp, labels, work),
        _scalar_or_cast(xp, alpha, work),
        _scalar_or_cast(xp, gamma, work),
    )
    return cast(xp, loss, logits.dtype)


# --- softmax ----------------------------------------------------------------------------------


def _prepare_soft(
    logits: Any, labels: Any, axis: int, where: Any, integer_alternative: str
) -> tuple[Any, Any, Any, Any, Any]:
    """Validate (logits, probability labels, axis, where); classes moved last, compute dtype."""
    xp = namespace(logits=logits, labels=labels, where=where)
    check_floating(xp, "logits", logits)
    check_floating(xp, "labels", labels, _INT_HINT.format(name=integer_alternative))
    _needs_ndim("logits", logits)
    check_same_shape("logits", logits, "labels", labels)
    axis = check_axis("axis", axis, logits.ndim)
    if where is not None:
        where = _check_where(xp, where, tuple(logits.shape), axis)
    work = compute_dtype(xp, logits.dtype)
    x, y, w = _class_axis_last(xp, axis, logits, labels, where)
    return xp, cast(xp, x, work), cast(xp, y, work), w, logits.dtype


@fill_doc
def softmax_cross_entropy(logits: Any, labels: Any, axis: int = -1, where: Any = None) -> Any:
    r"""Softmax cross-entropy between logits and probability labels.

    .. math::

        \ell(x, y) = -\sum_c y_c \log \mathrm{softmax}(x)_c

    ``0 \cdot \log 0 = 0``: a ``-inf`` logit on a class whose label is 0 gives a finite value
    and a zero gradient (so this function is already "safe"). A row of all ``-inf`` logits
    gives ``+inf`` with a zero gradient, never NaN.

    {backends}

    Parameters
    ----------
    logits : array, shape (..., C, ...)
        Unnormalised log-probabilities, real floating.
    labels : array, same shape as ``logits``
        Probabilities (one-hot or soft) along ``axis``.
    {axis}
    {where}

    Returns
    -------
    array
        ``logits``' shape without ``axis``.

    References
    ----------
    optax.losses.softmax_cross_entropy.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import softmax_cross_entropy
    >>> np.round(softmax_cross_entropy(np.asarray([[2.0, 1.0, 0.1]]), np.asarray([[1.0, 0, 0]])), 7)
    array([0.41703])
    """
    xp, x, y, w, dtype = _prepare_soft(
        logits, labels, axis, where, "softmax_cross_entropy_with_integer_labels"
    )
    return cast(xp, _k.softmax_cross_entropy(xp, x, y, w), dtype)


@fill_doc
def safe_softmax_cross_entropy(logits: Any, labels: Any) -> Any:
    r"""Softmax cross-entropy that stays finite for ``-inf`` logits on zero-probability classes.

    .. math::

        \ell(x, y) = -\sum_c y_c \log \mathrm{softmax}(x)_c, \quad 0 \cdot \log 0 = 0

    Identical to :func:`softmax_cross_entropy` on the last axis (which is safe already); kept
    for optax compatibility.

    {backends}

    Parameters
    ----------
    logits : array, shape (..., C)
        Unnormalised log-probabilities; ``-inf`` allowed.
    labels : array, shape (..., C)
        Probabilities along the last axis.

    Returns
    -------
    array, shape (...)
        The unreduced loss.

    References
    ----------
    optax.losses.safe_softmax_cross_entropy.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import safe_softmax_cross_entropy
    >>> x = np.asarray([[0.0, -np.inf, 0.0]])
    >>> safe_softmax_cross_entropy(x, np.asarray([[0.5, 0.0, 0.5]]))
    array([0.69314718])
    """
    return softmax_cross_entropy(logits, labels)


def _prepare_hard(
    logits: Any, labels: Any, axis: int, where: Any, hint: str
) -> tuple[Any, Any, Any, Any, Any]:
    """Validate (logits, integer labels, axis, where); classes moved last, compute dtype."""
    xp = namespace(logits=logits, labels=labels, where=where)
    check_floating(xp, "logits", logits)
    check_integer(xp, "labels", labels, hint)
    _needs_ndim("logits", logits)
    axis = check_axis("axis", axis, logits.ndim)
    shape = tuple(logits.shape)
    expected = shape[:axis] + shape[axis + 1 :]
    if tuple(labels.shape) != expected:
        msg = (
            f"`labels` must have the shape of `logits` {shape} without axis {axis}, i.e. "
            f"{expected}; got {tuple(labels.shape)}."
        )
        raise ValueError(msg)
    check_labels_in_range(xp, "labels", labels, shape[axis])
    if where is not None:
        where = _check_where(xp, where, shape, axis)
    work = compute_dtype(xp, logits.dtype)
    (x, w) = _class_axis_last(xp, axis, logits, where)
    return xp, cast(xp, x, work), labels, w, logits.dtype


@fill_doc
def softmax_cross_entropy_with_integer_labels(
    logits: Any, labels: Any, axis: int = -1, where: Any = None
) -> Any:
    r"""Softmax cross-entropy between logits and integer class labels.

    .. math::

        \ell(x, y) = \log \sum_c e^{x_c} - x_y

    Labels outside ``[0, C)`` raise a ValueError on eager arrays; under ``jax.jit`` or Dask the
    sample's loss is NaN (never the loss of a clamped class, as a plain gather would give).

    {backends}

    Parameters
    ----------
    logits : array, shape (..., C, ...)
        Unnormalised log-probabilities, real floating.
    labels : array of int, ``logits``' shape without ``axis``
        Class indices in ``[0, C)``.
    {axis}
    {where}

    Returns
    -------
    array
        ``labels``' shape.

    References
    ----------
    optax.losses.softmax_cross_entropy_with_integer_labels.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import softmax_cross_entropy_with_integer_labels
    >>> x = np.asarray([[2.0, 1.0, 0.1]])
    >>> np.round(softmax_cross_entropy_with_integer_labels(x, np.asarray([0])), 7)
    array([0.41703])
    """
    xp, x, y, w, dtype = _prepare_hard(
        logits, labels, axis, where, _FLOAT_HINT.format(name="softmax_cross_entropy")
    )
    return cast(xp, _k.softmax_cross_entropy_with_integer_labels(xp, x, y, w), dtype)


@fill_doc
def poly_loss_cross_entropy(
    logits: Any, labels: Any, *, epsilon: Any = 2.0, axis: int = -1, where: Any = None
) -> Any:
    r"""Poly-1 loss (Leng et al., 2022): cross-entropy plus ``epsilon (1 - p_t)``.

    .. math::

        \ell(x, y) = -\sum_c y_c \log p_c + \epsilon \sum_c y_c (1 - p_c), \quad
        p = \mathrm{softmax}(x)

    {backends}

    Parameters
    ----------
    logits : array, shape (..., C, ...)
        Unnormalised log-probabilities.
    labels : array, same shape as ``logits``
        Probabilities along ``axis``.
    epsilon : float or array, default 2.0
        Weight of the polynomial term.
    {axis}
    {where}

    Returns
    -------
    array
        ``logits``' shape without ``axis``.

    References
    ----------
    optax.losses.poly_loss_cross_entropy.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import poly_loss_cross_entropy
    >>> x, y = np.asarray([[2.0, 1.0, 0.1]]), np.asarray([[1.0, 0.0, 0.0]])
    >>> np.round(poly_loss_cross_entropy(x, y, epsilon=2.0), 7)
    array([1.0990276])
    """
    xp, x, y, w, dtype = _prepare_soft(
        logits, labels, axis, where, "softmax_cross_entropy_with_integer_labels"
    )
    if not isinstance(epsilon, (int, float)):
        namespace(logits=logits, epsilon=epsilon)
        epsilon = cast(xp, epsilon, x.dtype)
    return cast(xp, _k.poly_loss_cross_entropy(xp, x, y, epsilon, w), dtype)


@fill_doc
def smooth_labels(labels: Any, alpha: Any, *, axis: int = -1, where: Any = None) -> Any:
    r"""Label smoothing: mix the labels with the uniform distribution over ``K`` classes.

    .. math::

        \tilde y = (1 - \alpha) y + \alpha / K

    With ``where``, ``K`` is the number of included classes of each row (excluded entries are
    shifted too, as in optax).

    {backends}

    Parameters
    ----------
    labels : array, shape (..., K, ...)
        One-hot (or soft) labels, real floating.
    alpha : float or array
        Smoothing factor in [0, 1].
    {axis}
    {where}

    Returns
    -------
    array
        ``labels``' shape and dtype.

    References
    ----------
    optax.smooth_labels.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import smooth_labels
    >>> np.round(smooth_labels(np.asarray([[1.0, 0.0, 0.0]]), 0.1), 8)
    array([[0.93333333, 0.03333333, 0.03333333]])
    """
    xp = namespace(labels=labels, alpha=alpha, where=where)
    check_floating(xp, "labels", labels)
    _needs_ndim("labels", labels)
    axis = check_axis("axis", axis, labels.ndim)
    work = compute_dtype(xp, labels.dtype)
    y = cast(xp, labels, work)
    alpha = _scalar_or_cast(xp, alpha, work)
    if where is None:
        count: Any = labels.shape[axis]
    else:
        where = _check_where(xp, where, tuple(labels.shape), axis)
        count = xp.sum(xp.astype(where, work), axis=axis, keepdims=True)
    return cast(xp, (1.0 - alpha) * y + alpha / count, labels.dtype)


@fill_doc
def nll_loss(log_probs: Any, target: Any) -> Any:
    r"""Negative log-likelihood of the target class, given log-probabilities (braintools).

    .. math::

        \ell(x, y) = -x_y

    The class axis is the last one for 1-D and 2-D ``log_probs`` and axis 1 for
    ``(N, C, d1, ..., dK)`` (torch convention). The result is the positive NLL.

    {backends}

    Parameters
    ----------
    log_probs : array, shape (C,), (N, C) or (N, C, d1, ..., dK)
        Log-probabilities.
    target : int or array of int, shape (), (N,) or (N, d1, ..., dK)
        Class indices in ``[0, C)``; out of range raises on eager arrays, NaN under jit.

    Returns
    -------
    array
        ``target``'s shape: the unreduced loss.

    References
    ----------
    braintools.metric.nll_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import nll_loss
    >>> round(float(nll_loss(np.log(np.asarray([0.1, 0.7, 0.2])), 1)), 8)
    0.35667494
    """
    xp = namespace(log_probs=log_probs, target=target)
    check_floating(xp, "log_probs", log_probs)
    if isinstance(target, (bool, float)):
        msg = f"`target` must be an integer class index, got {target!r}."
        raise TypeError(msg)
    if isinstance(target, int):
        target = xp.asarray(target, dtype=xp.int64, device=device_of(log_probs))
    check_integer(xp, "target", target, _FLOAT_HINT.format(name="softmax_cross_entropy"))
    if target.ndim <= 1:
        expected_ndim, axis = target.ndim + 1, log_probs.ndim - 1
    else:
        expected_ndim, axis = target.ndim + 1, 1
    if log_probs.ndim != expected_ndim:
        msg = (
            f"`log_probs` must have {expected_ndim} dimensions for a `target` of shape "
            f"{tuple(target.shape)}; got shape {tuple(log_probs.shape)}."
        )
        raise ValueError(msg)
    shape = tuple(log_probs.shape)
    if tuple(target.shape) != shape[:axis] + shape[axis + 1 :]:
        msg = (
            f"`target` must have shape {shape[:axis] + shape[axis + 1 :]} for `log_probs` of "
            f"shape {shape}; got {tuple(target.shape)}."
        )
        raise ValueError(msg)
    check_labels_in_range(xp, "target", target, shape[axis])
    work = compute_dtype(xp, log_probs.dtype)
    x = cast(xp, _k.move_axis_last(xp, log_probs, axis), work)
    return cast(xp, _k.nll_from_log_probs(xp, x, target), log_probs.dtype)


@fill_doc
def cross_entropy_loss(
    predicts: Any, targets: Any, weight: Any = None, reduction: str = "mean"
) -> Any:
    r"""Softmax cross-entropy with class-index or probability targets, classes last (brainpy).

    .. math::

        \ell_n = -\sum_c w_c \, t_{n,c} \log \mathrm{softmax}(x_n)_c

    Integer ``targets`` with one dimension fewer than ``predicts`` are class indices (``t`` is
    one-hot); floating ``targets`` of ``predicts``' shape are probabilities. ``'mean'`` is the
    plain mean; with ``weight`` and class indices it is ``sum(w_y l) / sum(w_y)`` (torch's
    weighted mean; brainpy itself has no ``weight``).

    {backends}

    Parameters
    ----------
    predicts : array, shape (..., C)
        Logits.
    targets : array, shape (...) of int, or (..., C) floating
        Class indices or probabilities.
    weight : array, shape (C,), optional
        Class weights (an extension over brainpy, which raises for it).
    {reduction}

    Returns
    -------
    array
        Scalar, or shape (...) with ``reduction='none'``.

    References
    ----------
    brainpy.losses.cross_entropy_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import cross_entropy_loss
    >>> x = np.asarray([[2.0, 1.0, 0.1], [0.5, 2.5, 0.0]])
    >>> round(float(cross_entropy_loss(x, np.asarray([0, 1]))), 6)
    0.306882
    """
    reduction = check_reduction(reduction)
    xp = namespace(predicts=predicts, targets=targets, weight=weight)
    check_floating(xp, "predicts", predicts)
    _needs_ndim("predicts", predicts)
    shape = tuple(predicts.shape)
    num_classes = shape[-1]
    if weight is not None and tuple(weight.shape) != (num_classes,):
        msg = (
            f"`weight` must have shape ({num_classes},), one per class; got {tuple(weight.shape)}."
        )
        raise ValueError(msg)
    work = compute_dtype(xp, predicts.dtype)
    x = cast(xp, predicts, work)
    w = None if weight is None else cast(xp, weight, work)
    log_p = _k.log_softmax_safe(xp, x)
    if xp.isdtype(targets.dtype, "integral"):
        if tuple(targets.shape) != shape[:-1]:
            msg = (
                f"integer `targets` must have shape {shape[:-1]} (`predicts` without its class "
                f"axis); got {tuple(targets.shape)}."
            )
            raise ValueError(msg)
        check_labels_in_range(xp, "targets", targets, num_classes)
        loss, w_y = _k.class_weighted_nll(xp, log_p, targets, w, ignore_index=None)
        if reduction == "mean" and weight is not None:
            out = safe_divide(xp, xp.sum(loss), xp.sum(w_y))
        else:
            out = apply_reduction(xp, loss, reduction)
        return cast(xp, out, predicts.dtype)
    check_floating(xp, "targets", targets, "Pass class indices as an integer array.")
    check_same_shape("predicts", predicts, "targets", targets)
    t = cast(xp, targets, work)
    terms = xmul(xp, t, log_p) if w is None else xmul(xp, t * w, log_p)
    loss = -xp.sum(terms, axis=-1)
    return cast(xp, apply_reduction(xp, loss, reduction), predicts.dtype)


# --- keras-only losses, optax-style names ---------------------------------------------------


@fill_doc
def softmax_focal_loss(
    logits: Any, labels: Any, alpha: Any = 0.25, gamma: float = 2.0, axis: int = -1
) -> Any:
    r"""Categorical (softmax) focal loss from logits, per example (keras semantics).

    .. math::

        \ell(x, y) = -\alpha \sum_c y_c (1 - p_c)^\gamma \log p_c, \quad p = \mathrm{softmax}(x)

    Computed in log space (``log p`` by log-softmax, ``log(1 - p) = log(-expm1(log p))``), so
    no probability is clipped and gradients stay finite for ``p`` at 0 or 1 and any
    ``gamma >= 0``. keras clips ``p`` to ``[1e-7, 1 - 1e-7]``, which differs from this only
    for extreme probabilities.

    {backends}

    Parameters
    ----------
    logits : array, shape (..., C, ...)
        Unnormalised log-probabilities.
    labels : array, same shape as ``logits``
        One-hot or soft labels along ``axis``.
    alpha : float or array, default 0.25
        Overall weight (an array broadcasts against the classes); ``None``: no weighting.
    gamma : float, default 2.0
        Focusing exponent, ``>= 0``.
    {axis}

    Returns
    -------
    array
        ``logits``' shape without ``axis``.

    References
    ----------
    keras.losses.categorical_focal_crossentropy(from_logits=True).

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import softmax_focal_loss
    >>> x, y = np.asarray([[2.0, 1.0, 0.1]]), np.asarray([[1.0, 0.0, 0.0]])
    >>> np.round(softmax_focal_loss(x, y), 7)
    array([0.0121231])
    """
    if not isinstance(gamma, (int, float)) or isinstance(gamma, bool) or gamma < 0:
        msg = f"`gamma` must be a Python float >= 0, got {gamma!r}."
        raise ValueError(msg)
    xp, x, y, _, dtype = _prepare_soft(
        logits, labels, axis, None, "softmax_cross_entropy_with_integer_labels"
    )
    if alpha is None:
        alpha = 1.0
    elif not isinstance(alpha, (int, float)):
        namespace(logits=logits, alpha=alpha)
        alpha = cast(xp, alpha, x.dtype)
    return cast(xp, _k.softmax_focal_loss(xp, x, y, alpha, float(gamma)), dtype)


@fill_doc
def generalized_cross_entropy(
    predictions: Any, labels: Any, q: float = 0.5, *, from_logits: bool = False
) -> Any:
    r"""Generalized cross-entropy (Zhang & Sabuncu, 2018) of integer labels, per example.

    .. math::

        \ell(p, y) = \frac{1 - p_y^q}{q}

    Interpolates between cross-entropy (``q -> 0``) and mean absolute error (``q = 1``). As in
    keras, ``predictions`` are class probabilities on the last axis; ``from_logits=True``
    takes logits instead and computes ``log p_y`` by log-softmax (the stable choice).
    ``p^q`` is evaluated as ``exp(q log p)``; at ``p_y = 0`` the value is ``1/q`` with a zero
    gradient (the true derivative is infinite there for ``q < 1``).

    {backends}

    Parameters
    ----------
    predictions : array, shape (..., C)
        Class probabilities (or logits with ``from_logits=True``).
    labels : array of int, shape (...)
        Class indices in ``[0, C)``.
    q : float, default 0.5
        In (0, 1].
    from_logits : bool, default False
        Whether ``predictions`` are logits.

    Returns
    -------
    array, shape (...)
        The unreduced loss.

    References
    ----------
    keras.losses.CategoricalGeneralizedCrossEntropy (``q=0.5``).

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import generalized_cross_entropy
    >>> p = np.asarray([[0.7, 0.3], [0.2, 0.8]])
    >>> np.round(generalized_cross_entropy(p, np.asarray([0, 0])), 6)
    array([0.32668 , 1.105573])
    """
    if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 < q <= 1:
        msg = f"`q` must be a float in (0, 1], got {q!r}."
        raise ValueError(msg)
    xp, x, y, _, dtype = _prepare_hard(
        predictions, labels, -1, None, "Pass class indices (keras expects integer labels)."
    )
    if from_logits:
        log_p = _k.log_softmax_safe(xp, x)
    else:
        check_probabilities(xp, "predictions", predictions)
        pos = x > 0
        log_p = xp.where(pos, xp.log(xp.where(pos, x, 1.0)), float("-inf"))
    log_p_y = -_k.nll_from_log_probs(xp, log_p, y)
    return cast(xp, _k.generalized_cross_entropy(xp, log_p_y, float(q)), dtype)
