"""Top-level regression losses (optax / braintools / brainpy / keras names).

optax's names (``squared_error``, ``l2_loss``, ``huber_loss``, ``log_cosh``) return the
unreduced loss by default; braintools' ``axis``/``reduction`` options are accepted as a superset.
``absolute_error`` and ``l1_loss`` follow braintools (default ``reduction='mean'``),
``mean_squared_log_error`` follows brainpy and ``mean_absolute_percentage_error`` keras.
"""

from __future__ import annotations

from typing import Any

from .._dispatch import message_value
from .._docs import fill_doc
from .._kernels import regression as _k
from .._native import huber_residual, native_route, squared_residual
from .._surface import REDUCTION, Call, options

__all__ = [
    "absolute_error",
    "huber_loss",
    "l1_loss",
    "l2_loss",
    "log_cosh",
    "mean_absolute_percentage_error",
    "mean_squared_log_error",
    "squared_error",
]

# keras.backend.epsilon(), the floor of |y_true| in keras's MAPE.
_KERAS_EPSILON = 1e-7

_AXIS_DOC = """axis : int or tuple of int, optional
        Axes the ``'mean'``/``'sum'`` reduction runs over (braintools); ``None``: all of them.
        Ignored by ``reduction='none'``."""


def _axis_doc(func: Any) -> Any:
    func.__doc__ = func.__doc__.replace("{axis_reduce}", _AXIS_DOC)
    return fill_doc(func)


def _positive(name: str, value: Any) -> None:
    """A Python number must be > 0 (an array ``delta`` broadcasts; its values are not read)."""
    if isinstance(value, (int, float)) and not value > 0:
        msg = f"`{name}` must be positive, got {value!r}."
        raise ValueError(msg)


def _residual(c: Call, name: str) -> Any:
    """``predictions - targets``: ``targets`` may be None (zeros) or a Python number."""
    p = c.input(name, promote=("targets",))
    t = c.param("targets", like=name)
    return p if t is None else p - t


@options(reduction=REDUCTION)
@native_route(squared_residual, everywhere=True)
@_axis_doc
def squared_error(
    predictions: Any, targets: Any = None, axis: Any = None, reduction: str = "none"
) -> Any:
    r"""Squared error of each element.

    .. math::

        \ell_i = (\hat y_i - y_i)^2

    {backends}

    Parameters
    ----------
    predictions : array, shape (...)
        Predicted values, real floating.
    targets : array, shape (...), Python scalar or None, optional
        Targets, same shape as ``predictions`` (no broadcasting: an ``(N, 1)`` against an
        ``(N,)`` is a ValueError); ``None`` means zeros. Integer targets are cast.
    {axis_reduce}
    reduction : {'none', 'mean', 'sum'}, default 'none'
        braintools' option; the default returns the elementwise loss, as optax.

    Returns
    -------
    array
        Shape (...) with ``reduction='none'``, else reduced over ``axis``.

    References
    ----------
    optax.losses.squared_error; braintools.metric.squared_error.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import squared_error
    >>> squared_error(np.asarray([1.0, 2.0, 3.0]), np.asarray([1.5, 2.0, 1.0]))
    array([0.25, 0.  , 4.  ])
    """
    c = Call("top", predictions=predictions, targets=targets)
    return c.reduce(_k.squared(c.xp, _residual(c, "predictions")), reduction, axis=axis)


@options(reduction=REDUCTION)
@_axis_doc
def l2_loss(
    predictions: Any, targets: Any = None, axis: Any = None, reduction: str = "none"
) -> Any:
    r"""Half the squared error of each element.

    .. math::

        \ell_i = \tfrac12 (\hat y_i - y_i)^2

    {backends}

    Parameters
    ----------
    predictions : array, shape (...)
        Predicted values, real floating.
    targets : array, shape (...), Python scalar or None, optional
        Targets, same shape as ``predictions``; ``None`` means zeros.
    {axis_reduce}
    reduction : {'none', 'mean', 'sum'}, default 'none'
        braintools' option; the default returns the elementwise loss, as optax.

    Returns
    -------
    array
        Shape (...) with ``reduction='none'``, else reduced over ``axis``.

    References
    ----------
    optax.losses.l2_loss; braintools.metric.l2_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import l2_loss
    >>> l2_loss(np.asarray([1.0, 2.0, 3.0]), np.asarray([1.5, 2.5, 2.0]))
    array([0.125, 0.125, 0.5  ])
    """
    c = Call("top", predictions=predictions, targets=targets)
    return c.reduce(0.5 * _k.squared(c.xp, _residual(c, "predictions")), reduction, axis=axis)


@options(reduction=REDUCTION)
@_axis_doc
def absolute_error(
    predictions: Any, targets: Any = None, axis: Any = None, reduction: str = "mean"
) -> Any:
    r"""Absolute error, averaged by default (braintools' ``absolute_error``).

    .. math::

        \ell_i = |\hat y_i - y_i|

    The derivative at a zero residual is 0 on every backend (as torch's ``l1_loss``).

    {backends}

    Parameters
    ----------
    predictions : array, shape (...)
        Predicted values, real floating.
    targets : array, shape (...), Python scalar or None, optional
        Targets, same shape as ``predictions``; ``None`` means zeros.
    {axis_reduce}
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        braintools' default is the mean (unlike its ``squared_error``).

    Returns
    -------
    array
        Reduced over ``axis`` (a scalar by default), or shape (...) with ``reduction='none'``.

    References
    ----------
    braintools.metric.absolute_error.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import absolute_error
    >>> float(absolute_error(np.asarray([1.0, 2.0, 3.0]), np.asarray([1.5, 2.5, 2.0])))
    0.6666666666666666
    """
    c = Call("top", predictions=predictions, targets=targets)
    return c.reduce(_k.absolute(c.xp, _residual(c, "predictions")), reduction, axis=axis)


@options(reduction=REDUCTION)
@fill_doc
def l1_loss(logits: Any, targets: Any, reduction: str = "mean") -> Any:
    r"""Per-sample mean absolute error, then reduced over the batch (braintools' ``l1_loss``).

    .. math::

        \ell_n = \frac{1}{D} \sum_{d=1}^{D} |x_{n,d} - y_{n,d}|

    where ``n`` runs over the first axis and ``d`` over all the others flattened (a 0-d input
    is one sample of one feature).

    {backends}

    Parameters
    ----------
    logits : array, shape (N, ...)
        Predictions (braintools' argument name), real floating.
    targets : array, shape (N, ...)
        Targets, same shape as ``logits``.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        ``'none'`` returns the per-sample errors, shape (N,).

    Returns
    -------
    array
        Scalar, or shape (N,) with ``reduction='none'``.

    References
    ----------
    braintools.metric.l1_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import l1_loss
    >>> x = np.asarray([[1.0, 2.0], [3.0, 4.0]])
    >>> y = np.asarray([[1.5, 2.5], [2.0, 5.0]])
    >>> float(l1_loss(x, y))
    0.75
    >>> l1_loss(x, y, reduction="none")
    array([0.5, 1. ])
    """
    c = Call("top", logits=logits, targets=targets)
    c._array("targets")
    diff = _residual(c, "logits")
    if diff.ndim == 0:
        diff = c.xp.reshape(diff, (1,))
    per_sample = c.xp.mean(_k.absolute(c.xp, c.xp.reshape(diff, (diff.shape[0], -1))), axis=-1)
    return c.reduce(per_sample, reduction)


@options(reduction=REDUCTION, delta=_positive)
@native_route(huber_residual, everywhere=True)
@_axis_doc
def huber_loss(
    predictions: Any,
    targets: Any = None,
    delta: Any = 1.0,
    axis: Any = None,
    reduction: str = "none",
) -> Any:
    r"""Huber loss of each element: quadratic near 0, linear beyond ``delta``.

    .. math::

        \ell_i = \begin{cases} \tfrac12 r_i^2 & |r_i| \le \delta \\
                 \delta (|r_i| - \tfrac12 \delta) & |r_i| > \delta \end{cases},
        \qquad r = \hat y - y

    The gradient is ``clip(r, -delta, delta)`` exactly, 0 at ``r = 0`` on every backend.

    {backends}

    Parameters
    ----------
    predictions : array, shape (...)
        Predicted values, real floating.
    targets : array, shape (...), Python scalar or None, optional
        Targets, same shape as ``predictions``; ``None`` means zeros.
    delta : float or array, default 1.0
        Where the quadratic part ends; positive. An array broadcasts against ``predictions``.
    {axis_reduce}
    reduction : {'none', 'mean', 'sum'}, default 'none'
        braintools' option; the default returns the elementwise loss, as optax.

    Returns
    -------
    array
        Shape (...) with ``reduction='none'``, else reduced over ``axis``.

    References
    ----------
    optax.losses.huber_loss; braintools.metric.huber_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import huber_loss
    >>> huber_loss(np.asarray([1.0, 2.0, 5.0]), np.asarray([1.5, 2.0, 3.0]))
    array([0.125, 0.   , 1.5  ])
    """
    c = Call("top", predictions=predictions, targets=targets, delta=delta)
    r = _residual(c, "predictions")
    return c.reduce(_k.huber(c.xp, r, c.param("delta")), reduction, axis=axis)


@options(reduction=REDUCTION)
@_axis_doc
def log_cosh(
    predictions: Any, targets: Any = None, axis: Any = None, reduction: str = "none"
) -> Any:
    r"""Log-cosh of each residual: ``r**2 / 2`` near 0, ``|r| - log 2`` far away.

    .. math::

        \ell_i = \log\cosh(r_i) = |r_i| + \log(1 + e^{-2|r_i|}) - \log 2,
        \qquad r = \hat y - y

    The right-hand form never overflows (``cosh`` does past ``|r| = 89`` in float32 and 710 in
    float64); the gradient is ``tanh(r)``, finite everywhere.

    {backends}

    Parameters
    ----------
    predictions : array, shape (...)
        Predicted values, real floating.
    targets : array, shape (...), Python scalar or None, optional
        Targets, same shape as ``predictions``; ``None`` means zeros.
    {axis_reduce}
    reduction : {'none', 'mean', 'sum'}, default 'none'
        braintools' option; the default returns the elementwise loss, as optax.

    Returns
    -------
    array
        Shape (...) with ``reduction='none'``, else reduced over ``axis``.

    References
    ----------
    optax.losses.log_cosh; braintools.metric.log_cosh. Chen et al., "Log hyperbolic cosine loss
    improves variational auto-encoder", 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import log_cosh
    >>> out = log_cosh(np.asarray([0.0, 1.0, -1000.0]))
    >>> [round(float(v), 6) for v in out]
    [0.0, 0.433781, 999.306853]
    """
    c = Call("top", predictions=predictions, targets=targets)
    return c.reduce(_k.log_cosh(c.xp, _residual(c, "predictions")), reduction, axis=axis)


def _check_log1p_domain(c: Call, name: str, x: Any) -> None:
    c.check(
        name,
        lambda: x <= -1,
        lambda: (
            f"`{name}` must be greater than -1 (the domain of log1p); "
            f"got {message_value(c.xp.min(x))!r}."
        ),
    )


@options(reduction=REDUCTION)
@_axis_doc
def mean_squared_log_error(
    predicts: Any, targets: Any, axis: Any = None, reduction: str = "mean"
) -> Any:
    r"""Mean squared logarithmic error (brainpy's ``mean_squared_log_error``).

    .. math::

        \ell_i = \left(\log(1 + \hat y_i) - \log(1 + y_i)\right)^2

    averaged by default. Both arguments must exceed -1; eager backends raise a ValueError
    otherwise (brainpy returns NaN), lazy ones (jit, Dask) give NaN there.

    {backends}

    Parameters
    ----------
    predicts : array, shape (...)
        Predicted values (brainpy's argument name), real floating, > -1.
    targets : array, shape (...)
        Targets, same shape as ``predicts``, > -1.
    {axis_reduce}
    reduction : {'mean', 'sum', 'none'}, default 'mean'

    Returns
    -------
    array
        Reduced over ``axis`` (a scalar by default), or shape (...) with ``reduction='none'``.

    References
    ----------
    brainpy.losses.mean_squared_log_error.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import mean_squared_log_error
    >>> e = np.e - 1.0
    >>> float(mean_squared_log_error(np.asarray([e, 0.0]), np.asarray([0.0, 0.0])))
    0.5
    """
    c = Call("top", predicts=predicts, targets=targets)
    p = c.input("predicts", promote=("targets",))
    t = c.target("targets", "predicts", integers=True)
    _check_log1p_domain(c, "predicts", p)
    _check_log1p_domain(c, "targets", t)
    return c.reduce(_k.squared_log_error(c.xp, p, t), reduction, axis=axis)


def mean_absolute_percentage_error(predictions: Any, targets: Any) -> Any:
    r"""Mean absolute percentage error over the last axis (keras's ``MAPE``).

    .. math::

        \ell = \frac{100}{D} \sum_{d=1}^{D}
               \frac{|y_d - \hat y_d|}{\max(|y_d|, \epsilon)}, \qquad \epsilon = 10^{-7}

    **Argument order**: ``(predictions, targets)`` like every top-level loss here; keras's
    function takes ``(y_true, y_pred)``, so swap the arguments when porting keras code.

    Works on any Array API library (NumPy, CuPy, JAX, PyTorch, Dask, array-api-strict): the
    result has the input's library, dtype and device. Half-precision inputs are accumulated in
    float32 and returned in their own dtype.

    Parameters
    ----------
    predictions : array, shape (..., D)
        Predicted values, real floating, at least one dimension.
    targets : array, shape (..., D)
        Targets, same shape as ``predictions``. A zero target divides by ``1e-7``, as keras.

    Returns
    -------
    array, shape (...)
        The percentage error averaged over the last axis (keras's unreduced output).

    References
    ----------
    keras.losses.mean_absolute_percentage_error.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import mean_absolute_percentage_error
    >>> y_pred = np.asarray([[1.0, 1.0], [1.0, 0.0]])
    >>> y_true = np.asarray([[2.0, 1.0], [2.0, 3.0]])
    >>> mean_absolute_percentage_error(y_pred, y_true)
    array([25., 75.])
    """
    c = Call("top", predictions=predictions, targets=targets)
    p = c.input("predictions")
    t = c.target("targets", "predictions", integers=True)
    if p.ndim == 0:
        msg = "`predictions` must have at least one dimension (MAPE averages the last one)."
        raise ValueError(msg)
    return c.finish(c.xp.mean(_k.absolute_percentage_error(c.xp, p, t, _KERAS_EPSILON), axis=-1))
