"""Top-level classification losses (optax / braintools / brainpy names, unreduced output).

``softmax_focal_loss`` and ``generalized_cross_entropy`` mirror keras losses under optax-style
names and argument order (prediction first).
"""

from __future__ import annotations

from typing import Any

from .._docs import fill_doc
from .._kernels import classification as _k
from .._loops import rowwise
from .._native import (
    integer_label_cross_entropy,
    native_route,
    poly_cross_entropy,
    sigmoid_cross_entropy,
    sigmoid_focal,
    soft_label_cross_entropy,
    weighted_cross_entropy,
)
from .._numerics import log_or_neg_inf, log_softmax, squared_lse
from .._surface import REDUCTION, Call, number, options

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


# --- sigmoid ----------------------------------------------------------------------------------


@native_route(sigmoid_cross_entropy)
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
    c = Call("top", logits=logits, labels=labels)
    x = c.input("logits")
    y = c.probabilities("labels", like="logits", integers=True)
    return c.finish(_k.sigmoid_binary_cross_entropy(c.xp, x, y))


_ALPHA = number(low=0, high=1, none=True, arrays=True)


def _no_weighting(alpha: Any) -> bool:
    """torchvision's and braintools' convention: a negative number disables the weighting."""
    return type(alpha) in (int, float) and alpha < 0


def _focal_alpha(name: str, value: Any) -> None:
    if not _no_weighting(value):
        _ALPHA(name, value)


@options(alpha=_focal_alpha, gamma=number(low=0, arrays=True))
@native_route(sigmoid_focal)
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
        Weight of the positive term (negatives get ``1 - alpha``), in [0, 1]. ``None`` or a
        negative number (torchvision's and braintools' convention): no weighting.
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
    c = Call("top", logits=logits, labels=labels, alpha=alpha, gamma=gamma)
    x = c.input("logits")
    y = c.probabilities("labels", like="logits", integers=True)
    alpha = None if _no_weighting(alpha) else c.param("alpha")
    return c.finish(_k.sigmoid_focal_loss(c.xp, x, y, alpha, c.param("gamma")))


# --- softmax ----------------------------------------------------------------------------------


def _soft(
    c: Call, axis: Any, integer_alternative: str, promote: tuple[str, ...] = ("labels",)
) -> tuple[Any, Any, Any]:
    """Logits, probability labels and ``where`` with the class axes last (compute dtype;
    optax's arithmetic promotes the logits' dtype with the labels')."""
    x = c.input("logits", promote=promote)
    y = c.target("labels", "logits", hint=_INT_HINT.format(name=integer_alternative))
    axes, _, (x, y) = c.classes("logits", axis, x, y, none=True)
    _, _, (w,) = c.classes("logits", axis, c.mask("where", "logits", axes), none=True)
    return x, y, w


def _hard(c: Call, axis: Any, hint: str) -> tuple[Any, Any, Any]:
    """Logits, integer labels (validated) and ``where`` with the class axes last."""
    x = c.input("logits")
    axes, num_classes, (x,) = c.classes("logits", axis, x)
    shape = tuple(c["logits"].shape)
    expected = tuple(n for i, n in enumerate(shape) if i not in axes)
    labels = c["labels"]
    if tuple(getattr(labels, "shape", ())) != expected and hasattr(labels, "dtype"):
        msg = (
            f"`labels` must have the shape of `logits` {shape} without the class axes "
            f"{axes}, i.e. {expected}; got {tuple(labels.shape)}."
        )
        raise ValueError(msg)
    _, _, (w,) = c.classes("logits", axis, c.mask("where", "logits", axes))
    # A row the mask excludes entirely may hold a padding label (-1): not checked, loss 0.
    counts = None if w is None else lambda: c.xp.any(w, axis=-1)
    y = c.labels("labels", num_classes, hint=hint, counts=counts)
    return x, y, w


@native_route(soft_label_cross_entropy)
@fill_doc
def softmax_cross_entropy(logits: Any, labels: Any, axis: Any = -1, where: Any = None) -> Any:
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
    {class_axes}
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
    c = Call("top", logits=logits, labels=labels, where=where)
    x, y, w = _soft(c, axis, "softmax_cross_entropy_with_integer_labels")
    return c.finish(_k.softmax_cross_entropy(c.xp, x, y, w))


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


@options(z_loss=number(low=0))
@native_route(integer_label_cross_entropy)
@fill_doc
def softmax_cross_entropy_with_integer_labels(
    logits: Any,
    labels: Any,
    axis: Any = -1,
    where: Any = None,
    *,
    z_loss: float = 0.0,
    return_lse: bool = False,
) -> Any:
    r"""Softmax cross-entropy between logits and integer class labels.

    .. math::

        \ell(x, y) = \log \sum_c e^{x_c} - x_y + z \left(\log \sum_c e^{x_c}\right)^2

    Labels outside ``[0, C)`` raise a ValueError on eager arrays; under ``jax.jit`` or Dask the
    sample's loss is NaN (never the loss of a clamped class, as a plain gather would give). The
    label of a row that ``where`` excludes entirely is not read (a padding value such as -1
    gives loss 0 there, as in optax).
    The z-loss term (PaLM-style, ``z`` typically ``1e-4``) keeps the log-partition near 0; it is
    0 for a fully excluded row.

    {backends}

    Parameters
    ----------
    logits : array, shape (..., C, ...)
        Unnormalised log-probabilities, real floating.
    labels : array of int, ``logits``' shape without ``axis``
        Class indices in ``[0, C)``.
    {axis}
    {where}
    z_loss : float, default 0.0
        Weight ``z >= 0`` of the squared log-sum-exp added to each example's loss (an extension
        over optax).
    return_lse : bool, default False
        Also return the log-sum-exp of each example (to log it).

    Returns
    -------
    array or (array, array)
        ``labels``' shape; with ``return_lse``, ``(loss, lse)``, both of that shape.

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
    c = Call("top", logits=logits, labels=labels, where=where)
    x, y, w = _hard(c, axis, _FLOAT_HINT.format(name="softmax_cross_entropy"))
    loss, lse = rowwise(c.xp, _k.softmax_cross_entropy_with_integer_labels, (x, y, w), n_out=2)
    if z_loss:
        loss = loss + z_loss * squared_lse(c.xp, lse)
    return (c.finish(loss), c.finish(lse)) if return_lse else c.finish(loss)


@options(epsilon=number(arrays=True))
@native_route(poly_cross_entropy)
@fill_doc
def poly_loss_cross_entropy(
    logits: Any, labels: Any, *, epsilon: Any = 2.0, axis: Any = -1, where: Any = None
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
    {class_axes}
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
    c = Call("top", logits=logits, labels=labels, epsilon=epsilon, where=where)
    x, y, w = _soft(c, axis, "softmax_cross_entropy_with_integer_labels")
    return c.finish(_k.poly_loss_cross_entropy(c.xp, x, y, c.param("epsilon"), w))


@options(alpha=number(low=0, high=1, arrays=True))
@fill_doc
def smooth_labels(labels: Any, alpha: Any, *, axis: Any = -1, where: Any = None) -> Any:
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
    {class_axes}
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
    c = Call("top", labels=labels, alpha=alpha, where=where)
    y = c.input("labels")
    axes = c.classes("labels", axis, none=True)[0]
    w = c.mask("where", "labels", axes)
    if w is None:
        count: Any = 1
        for a in axes:
            count *= y.shape[a]
    else:
        count = c.xp.sum(c.xp.astype(w, c.work), axis=axes, keepdims=True)
    alpha = c.param("alpha")
    return c.finish((1.0 - alpha) * y + alpha / count)


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
    if isinstance(target, (bool, float)):
        msg = f"`target` must be an integer class index, got {target!r}."
        raise TypeError(msg)
    c = Call("top", log_probs=log_probs, target=target)
    x = c.input("log_probs")
    t = c.index("target")
    hint = _FLOAT_HINT.format(name="softmax_cross_entropy")
    ndim = t.ndim
    axis = x.ndim - 1 if ndim <= 1 else 1
    if x.ndim != ndim + 1:
        msg = (
            f"`log_probs` must have {ndim + 1} dimensions for a `target` of shape "
            f"{tuple(t.shape)}; got shape {tuple(x.shape)}."
        )
        raise ValueError(msg)
    shape = tuple(x.shape)
    expected = shape[:axis] + shape[axis + 1 :]
    if tuple(t.shape) != expected:
        msg = (
            f"`target` must have shape {expected} for `log_probs` of shape {shape}; "
            f"got {tuple(t.shape)}."
        )
        raise ValueError(msg)
    _, num_classes, (x,) = c.classes("log_probs", axis, x)
    y = c.labels("target", num_classes, hint=hint)
    return c.finish(_k.nll_from_log_probs(c.xp, x, y))


@options(
    reduction=REDUCTION,
    ignore_index=number(integer=True),
    label_smoothing=number(low=0, high=1),
)
@native_route(weighted_cross_entropy)
@fill_doc
def cross_entropy_loss(
    predicts: Any,
    targets: Any,
    weight: Any = None,
    reduction: str = "mean",
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
) -> Any:
    r"""Softmax cross-entropy with class-index or probability targets, classes last (brainpy).

    .. math::

        \ell_n = s_n \Big( \log \sum_c e^{x_{n,c}} - \sum_c t_{n,c} x_{n,c} \Big),
        \qquad t_n = (1 - \varepsilon) \, y_n + \varepsilon / C

    Integer ``targets`` with one dimension fewer than ``predicts`` are class indices (``y`` is
    one-hot, the sample weight ``s_n = w_{y_n}``, and a label equal to ``ignore_index`` gives 0);
    floating ``targets`` of ``predicts``' shape are the probabilities ``y`` (``s_n = <w, t_n>``).
    Without ``weight``, ``s_n = 1``. For targets that sum to 1 the bracket is
    ``-sum_c t_c log softmax(x)_c``; for others it is brainpy's formula, not that sum, and the
    derivative with respect to the targets is ``-x`` as brainpy's. The class weight scales a
    whole sample, smoothing term included (torch's ``cross_entropy`` weighs each class's term
    instead: the two agree without smoothing on class indices).

    ``'mean'`` divides the sum by ``sum(s_n)`` with ``weight`` (NaN when that is 0, e.g. every
    label ignored), otherwise by the number of samples that count (at least 1: every label
    ignored gives 0, where torch gives NaN).

    {backends}

    Parameters
    ----------
    predicts : array, shape (..., C)
        Logits.
    targets : array, shape (...) of int, or (..., C) floating
        Class indices or probabilities.
    weight : array, shape (C,), optional
        Class weights.
    {reduction}
    ignore_index : int, default -100
        Class-index targets equal to it contribute 0 and leave the mean's divisor.
    label_smoothing : float in [0, 1], default 0.0
        ``\varepsilon``: the targets are mixed with the uniform distribution.

    Returns
    -------
    array
        Scalar, or shape (...) with ``reduction='none'``.

    References
    ----------
    brainpy.losses.cross_entropy_loss (brainpy 2.8).

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import cross_entropy_loss
    >>> x = np.asarray([[2.0, 1.0, 0.1], [0.5, 2.5, 0.0]])
    >>> round(float(cross_entropy_loss(x, np.asarray([0, 1]))), 6)
    0.306882
    >>> round(float(cross_entropy_loss(x, np.asarray([0, -100]))), 6)
    0.417030
    """
    c = Call("top", predicts=predicts, targets=targets, weight=weight)
    x = c.input("predicts", promote=("targets", "weight"))
    _, num_classes, _ = c.classes("predicts", -1)
    w = c.floating("weight", shape=(num_classes,))
    t = c["targets"]
    if c.xp.isdtype(t.dtype, "integral"):
        if tuple(t.shape) != tuple(x.shape[:-1]):
            msg = (
                f"integer `targets` must have shape {tuple(x.shape[:-1])} (`predicts` without "
                f"its class axis); got {tuple(t.shape)}."
            )
            raise ValueError(msg)
        t = c.labels("targets", num_classes, ignore=ignore_index, ignore_name="ignore_index")
        c.widen_half()  # brainpy's one_hot(targets) is float32
    else:
        t = c.target("targets", "predicts", hint="Pass class indices as an integer array.")
    loss, s = _k.cross_entropy_sample_weighted(c.xp, x, t, w, ignore_index, label_smoothing)
    if s is None:
        return c.reduce(loss, reduction)
    fill = 0.0 if w is None else float("nan")
    return c.reduce(loss, reduction, divisor="weight_sum", weights=s, fill=fill)


# --- keras-only losses, optax-style names ---------------------------------------------------


@options(alpha=number(none=True, arrays=True), gamma=number(low=0, arrays=True))
@fill_doc
def softmax_focal_loss(
    logits: Any, labels: Any, alpha: Any = 0.25, gamma: Any = 2.0, axis: int = -1
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
    gamma : float or array, default 2.0
        Focusing exponent, ``>= 0`` (a scalar array may be traced: a schedule or a learned
        exponent, differentiable).
    {class_axes}

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
    c = Call("top", logits=logits, labels=labels, alpha=alpha, gamma=gamma)
    # keras casts the labels to the predictions' dtype
    x, y, _ = _soft(c, axis, "softmax_cross_entropy_with_integer_labels", promote=())
    a = 1.0 if alpha is None else c.param("alpha")
    return c.finish(_k.softmax_focal_loss(c.xp, x, y, a, c.param("gamma")))


@options(q=number(low=0, high=1, low_open=True, arrays=True))
@fill_doc
def generalized_cross_entropy(
    predictions: Any, labels: Any, q: Any = 0.5, *, from_logits: bool = False
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
    q : float or array, default 0.5
        In (0, 1] (a scalar array may be traced, and is differentiable).
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
    c = Call("top", predictions=predictions, labels=labels, q=q)
    if from_logits:
        x = c.input("predictions")
        _, num_classes, _ = c.classes("predictions", -1)
        log_p = log_softmax(c.xp, x)
    else:
        x = c.input("predictions", probabilities=True)
        _, num_classes, _ = c.classes("predictions", -1)
        log_p = log_or_neg_inf(c.xp, x)
    if tuple(c["labels"].shape) != tuple(x.shape[:-1]):
        msg = (
            f"`labels` must have the shape of `predictions` without its last axis, "
            f"{tuple(x.shape[:-1])}; got {tuple(c['labels'].shape)}."
        )
        raise ValueError(msg)
    y = c.labels("labels", num_classes, hint="Pass class indices (keras expects integer labels).")
    log_p_y = -_k.nll_from_log_probs(c.xp, log_p, y)
    return c.finish(_k.generalized_cross_entropy(c.xp, log_p_y, c.param("q")))
