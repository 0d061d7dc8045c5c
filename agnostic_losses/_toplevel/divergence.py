"""Top-level divergence losses (optax names and arguments, unreduced output)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._dispatch import normalize_axes, warn_at_caller
from .._docs import fill_doc
from .._kernels import divergence as _k
from .._native import log_prob_kl, log_target_kl, native_route
from .._surface import Call

__all__ = [
    "convex_kl_divergence",
    "generalized_kl_divergence",
    "kl_divergence",
    "kl_divergence_with_log_targets",
]

_AXIS_DOC = """axis : int or tuple of int or None, default -1
        Axis or axes holding the distribution; ``None`` reduces over every axis."""


def _divergence(
    terms: Callable[[Any, Any, Any], Any],
    log_predictions: Any,
    targets: Any,
    target_name: str,
    axis: Any,
    where: Any,
    *,
    probabilities: bool,
) -> Any:
    c = Call("top", log_predictions=log_predictions, **{target_name: targets}, where=where)
    lp = c.input("log_predictions", promote=(target_name,))
    t = c.floating(target_name, like="log_predictions")
    axes = normalize_axes("axis", axis, lp.ndim)
    where = c.where("where", "log_predictions")
    if where is not None:
        # Excluded entries become (0, 0), whose term is exactly 0 with a zero gradient, so no
        # inf or NaN there can leak into the sum or the gradient.
        lp, t = c.xp.where(where, lp, 0.0), c.xp.where(where, t, 0.0)
    if probabilities:
        # After the mask: an excluded entry may hold anything (a padding value such as -1).
        c.check(
            target_name,
            lambda: t < 0,
            lambda: f"`{target_name}` must be non-negative probabilities; got a negative value.",
        )
    loss = terms(c.xp, lp, t)
    if where is not None:
        loss = c.xp.where(where, loss, 0.0)
    return c.finish(c.xp.sum(loss, axis=axes))


@native_route(log_prob_kl)
@fill_doc
def kl_divergence(log_predictions: Any, targets: Any, axis: Any = -1, where: Any = None) -> Any:
    r"""Kullback-Leibler divergence of the predictions from the targets, KL(targets || q).

    .. math::

        \mathrm{KL}(t \,\|\, q) = \sum_i t_i \left(\log t_i - \log q_i\right)

    Terms with ``t_i = 0`` are exactly 0 even where ``log q_i = -inf``, and their gradients
    are finite for both arguments (optax gives a NaN target gradient there).

    {backends}

    Parameters
    ----------
    log_predictions : array, shape (..., dim)
        Log-probabilities of the predicted distribution.
    targets : array, shape (..., dim)
        Probabilities of the target distribution (non-negative), same shape.
    {axis_doc}
    where : array of bool, optional
        Elements to include, broadcastable to the inputs; excluded ones neither contribute nor
        receive a gradient.

    Returns
    -------
    array, shape (...)
        The divergence with ``axis`` reduced.

    Raises
    ------
    ValueError
        On eager arrays, if ``targets`` has a negative entry.

    References
    ----------
    optax.losses.kl_divergence.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import kl_divergence
    >>> q = np.log(np.asarray([0.5, 0.25, 0.25]))
    >>> round(float(kl_divergence(q, np.asarray([0.25, 0.25, 0.5]))), 7)
    0.1732868
    """
    return _divergence(
        _k.kl_terms, log_predictions, targets, "targets", axis, where, probabilities=True
    )


@native_route(log_target_kl)
@fill_doc
def kl_divergence_with_log_targets(
    log_predictions: Any, log_targets: Any, axis: Any = -1, where: Any = None
) -> Any:
    r"""Kullback-Leibler divergence KL(t || q) with the targets given as log-probabilities.

    .. math::

        \mathrm{KL}(t \,\|\, q) = \sum_i e^{l_i} \left(l_i - \log q_i\right), \quad l = \log t

    A target of ``-inf`` (probability 0) contributes exactly 0 with finite gradients.

    {backends}

    Parameters
    ----------
    log_predictions : array, shape (..., dim)
        Log-probabilities of the predicted distribution.
    log_targets : array, shape (..., dim)
        Log-probabilities of the target distribution, same shape.
    {axis_doc}
    where : array of bool, optional
        Elements to include, broadcastable to the inputs.

    Returns
    -------
    array, shape (...)
        The divergence with ``axis`` reduced.

    References
    ----------
    optax.losses.kl_divergence_with_log_targets.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import kl_divergence_with_log_targets
    >>> q = np.log(np.asarray([0.5, 0.25, 0.25]))
    >>> t = np.log(np.asarray([0.25, 0.25, 0.5]))
    >>> round(float(kl_divergence_with_log_targets(q, t)), 7)
    0.1732868
    """
    return _divergence(
        _k.kl_terms_log_target,
        log_predictions,
        log_targets,
        "log_targets",
        axis,
        where,
        probabilities=False,
    )


@fill_doc
def generalized_kl_divergence(
    log_predictions: Any, targets: Any, axis: Any = -1, where: Any = None
) -> Any:
    r"""Generalized Kullback-Leibler divergence of unnormalised non-negative measures.

    .. math::

        D(t \,\|\, q) = \sum_i t_i \log \frac{t_i}{q_i} - t_i + q_i

    the Bregman divergence of :math:`x \log x - x`; equal to :func:`kl_divergence` when both
    sum to 1. Zero targets are handled as in :func:`kl_divergence`.

    {backends}

    Parameters
    ----------
    log_predictions : array, shape (..., dim)
        Logarithm of the predicted (possibly unnormalised) measure.
    targets : array, shape (..., dim)
        Non-negative target measure, same shape.
    {axis_doc}
    where : array of bool, optional
        Elements to include, broadcastable to the inputs.

    Returns
    -------
    array, shape (...)
        The divergence with ``axis`` reduced.

    References
    ----------
    optax.losses.generalized_kl_divergence.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import generalized_kl_divergence
    >>> q = np.log(np.asarray([1.0, 2.0]))
    >>> round(float(generalized_kl_divergence(q, np.asarray([2.0, 2.0]))), 7)
    0.3862944
    """
    return _divergence(
        _k.generalized_kl_terms,
        log_predictions,
        targets,
        "targets",
        axis,
        where,
        probabilities=True,
    )


_CONVEX_DEPRECATED = (
    "`convex_kl_divergence` is deprecated (as in optax); use generalized_kl_divergence."
)


@fill_doc
def convex_kl_divergence(
    log_predictions: Any, targets: Any, axis: Any = -1, where: Any = None
) -> Any:
    r"""Alias of :func:`generalized_kl_divergence` (optax's deprecated name).

    .. math::

        D(t \,\|\, q) = \sum_i t_i \log \frac{t_i}{q_i} - t_i + q_i

    Deprecated, as in optax 0.2.8: every call warns ``DeprecationWarning`` (use
    :func:`generalized_kl_divergence`), so code written for optax behaves the same here.

    {backends}

    Parameters
    ----------
    log_predictions : array, shape (..., dim)
        Logarithm of the predicted measure.
    targets : array, shape (..., dim)
        Non-negative target measure, same shape.
    {axis_doc}
    where : array of bool, optional
        Elements to include, broadcastable to the inputs.

    Returns
    -------
    array, shape (...)
        The divergence with ``axis`` reduced.

    References
    ----------
    optax.losses.convex_kl_divergence.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import convex_kl_divergence
    >>> q = np.log(np.asarray([1.0, 2.0]))
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     round(float(convex_kl_divergence(q, np.asarray([2.0, 2.0]))), 7)
    0.3862944
    """
    warn_at_caller(_CONVEX_DEPRECATED, log_predictions, DeprecationWarning)
    return generalized_kl_divergence(log_predictions, targets, axis=axis, where=where)


for _f in (
    kl_divergence,
    kl_divergence_with_log_targets,
    generalized_kl_divergence,
    convex_kl_divergence,
):
    _f.__doc__ = (_f.__doc__ or "").replace("{axis_doc}", _AXIS_DOC)
