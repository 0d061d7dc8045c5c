"""Top-level ranking losses (optax names)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .._dispatch import (
    cast,
    check_floating,
    check_same_shape,
    compute_dtype,
    namespace,
    promoted,
)
from .._docs import fill_doc
from .._kernels import ranking as _k
from .._numerics import safe_divide
from .._surface import REDUCTION as _REDUCTION
from .._surface import options, with_companions

__all__ = ["ranking_softmax_loss"]


def mean(a: Any, where: Any = None) -> Any:
    """Mean of ``a`` over the entries where ``where`` is True (0 if there are none)."""
    return _masked_mean(namespace(a=a, where=where), a, where)


def _sum(a: Any) -> Any:
    """Stands for ``reduction='sum'`` (``_reduce`` recognises it by name)."""
    return namespace(a=a).sum(a)


_sum.__name__ = "sum"


def _masked_mean(xp: Any, a: Any, where: Any) -> Any:
    if where is None:
        # an empty batch of lists: 0, as optax's _safe_reduce gives (the mean of none is NaN)
        return xp.mean(a) if math.prod(a.shape) else xp.sum(a)
    kept = xp.astype(where, a.dtype)
    return safe_divide(xp, xp.sum(xp.where(where, a, 0.0)), xp.sum(kept))


def _reduce(xp: Any, loss: Any, mask: Any, reduce_fn: Callable[..., Any] | None) -> Any:
    """optax's ``_safe_reduce``: masked lists are excluded; a fully masked mean is 0."""
    if reduce_fn is None:
        return loss if mask is None else xp.where(mask, loss, 0.0)
    name = getattr(reduce_fn, "__name__", None)
    if name == "mean":
        # any library's `mean` (jnp.mean, np.mean, torch.mean) maps to the agnostic masked mean
        return _masked_mean(xp, loss, mask)
    if name == "sum":
        return xp.sum(loss if mask is None else xp.where(mask, loss, 0.0))
    return reduce_fn(loss) if mask is None else reduce_fn(loss, where=mask)


def _optional_reduction(name: str, value: Any) -> None:
    if value is not None:
        _REDUCTION(name, value)


@options(reduction=_optional_reduction)
@fill_doc
def ranking_softmax_loss(
    logits: Any,
    labels: Any,
    *,
    where: Any = None,
    weights: Any = None,
    reduction: str | None = None,
    reduce_fn: Callable[..., Any] | None = mean,
) -> Any:
    r"""Listwise softmax cross-entropy between item scores and relevance labels.

    .. math::

        \ell(s, y) = -\sum_i y_i \log \frac{e^{s_i}}{\sum_j e^{s_j}}

    over the last axis (the list); leading axes are lists in a batch. Labels are *not*
    normalised (as in optax): graded relevance scales the loss. Items with ``where`` False are
    dropped from both the softmax and the sum; ``weights`` multiply the labels.

    {backends}

    Parameters
    ----------
    logits : array, shape (..., n)
        Item scores, real floating.
    labels : array, shape (..., n)
        Relevance labels (cast to the logits' dtype).
    where : array of bool, shape (..., n), optional
        Valid items. A list with no valid item has loss 0 and is excluded from the mean.
    weights : array, shape (..., n), optional
        Per-item weights multiplying the labels.
    reduction : {'none', 'mean', 'sum'}, optional
        braintools' string form of the reduction; when given it takes precedence over
        ``reduce_fn`` (``'none'`` is ``reduce_fn=None``, ``'mean'``/``'sum'`` the masked
        mean/sum below).
    reduce_fn : callable or None, default :func:`mean`
        ``None``: one loss per list (0 for fully masked lists). Any function named ``mean`` or
        ``sum`` (``jnp.mean``, ``np.sum``, ``torch.mean``...) is replaced by the agnostic masked
        mean/sum over the lists with at least one valid item (a mean over none is 0, as optax);
        other callables are called as ``reduce_fn(loss, where=mask)`` when ``where`` is given.

    Returns
    -------
    array
        Scalar with a reduction, else shape (...).

    References
    ----------
    optax.losses.ranking_softmax_loss; braintools.metric.ranking_softmax_loss (``reduction``).

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import ranking_softmax_loss
    >>> scores, labels = np.asarray([2.0, 1.0, 3.0]), np.asarray([1.0, 0.0, 0.0])
    >>> round(float(ranking_softmax_loss(scores, labels)), 3)
    1.408
    >>> scores = np.asarray([[2.0, 1.0, 0.0], [1.0, 0.5, 1.5]])
    >>> labels = np.asarray([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    >>> where = np.asarray([[True, True, False], [True, True, True]])
    >>> round(float(ranking_softmax_loss(scores, labels, where=where)), 3)
    0.497
    """
    xp = namespace(logits=logits, labels=labels, where=where, weights=weights)
    check_floating(xp, "logits", logits)
    check_same_shape("logits", logits, "labels", labels)
    if logits.ndim < 1:
        msg = "`logits` must have at least one dimension (the list axis)."
        raise ValueError(msg)
    if where is not None:
        check_same_shape("logits", logits, "where", where)
        if where.dtype != xp.bool:
            msg = f"`where` must be a boolean array, got {where.dtype}."
            raise TypeError(msg)
    if weights is not None:
        check_same_shape("logits", logits, "weights", weights)
    if reduction is not None:
        reduce_fn = {"none": None, "mean": mean, "sum": _sum}[reduction]
    if reduce_fn is not None and not callable(reduce_fn):
        msg = f"`reduce_fn` must be callable or None, got {reduce_fn!r}."
        raise TypeError(msg)
    out = promoted(xp, logits.dtype, weights)
    work = compute_dtype(xp, out)
    if weights is not None:
        weights = cast(xp, weights, work)
    loss = _k.ranking_softmax(
        xp, cast(xp, logits, work), cast(xp, labels, work), where=where, weights=weights
    )
    mask = None if where is None else xp.any(where, axis=-1)
    return cast(xp, _reduce(xp, loss, mask, reduce_fn), out)


# Not yet on the surface layer: NumPy companions are converted at the door.
with_companions(globals(), __all__, "top")
