"""Top-level classification losses (optax / braintools names, unreduced output)."""

from __future__ import annotations

from typing import Any

from .._dispatch import cast, check_floating, check_same_shape, compute_dtype, namespace
from .._docs import fill_doc
from .._kernels import classification as _k

__all__ = ["sigmoid_binary_cross_entropy"]


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
