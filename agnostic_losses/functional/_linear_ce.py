"""torch.nn.functional.linear_cross_entropy: the final projection fused with the loss."""

from __future__ import annotations

import math
from typing import Any

from .._bodies import CHUNKING, chunked
from .._docs import fill_doc
from .._native import autocast_float32
from .._numerics import expand_rank
from .._surface import TORCH_REDUCTION, Call, number, options
from ._classification import cross_entropy

__all__ = ["linear_cross_entropy"]


@autocast_float32
@options(
    reduction=TORCH_REDUCTION,
    ignore_index=number(integer=True, none=True),
    label_smoothing=number(low=0, high=1),
    z_loss=number(low=0),
    **CHUNKING,
)
@fill_doc
def linear_cross_entropy(
    input: Any,
    linear_weight: Any,
    target: Any,
    *,
    linear_bias: Any = None,
    weight: Any = None,
    reduction: str = "mean",
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    options: Any = None,
    z_loss: float = 0.0,
    chunk_size: int | None = None,
    logit_softcap: float | None = None,
    return_lse: bool = False,
) -> Any:
    r"""The cross entropy of a linear layer's logits, as torch's ``linear_cross_entropy``.

    ``cross_entropy(linear(input, linear_weight, linear_bias), target)`` without materialising
    the logits (class-index targets):

    .. math::

        z = x W^\top + b, \qquad
        \ell_i = \log \sum_c e^{z_{ic}} - z_{i y_i}

    (with ``weight``, ``ignore_index`` and ``label_smoothing`` as :func:`cross_entropy`).
    With class-index targets the vocabulary is walked in chunks (see the top-level
    :func:`agnostic_losses.linear_cross_entropy` for the method): one ``(N, chunk_size)`` block
    of logits lives at a time, in the forward and (on torch and JAX) in the backward, on every
    backend, with torch's semantics: class ``weight``, ``ignore_index`` (default -100),
    ``label_smoothing``, ``'mean'`` over the kept class weight. Probability targets (a
    floating ``target`` of the logits' shape) take the reference path, the materialised
    :func:`cross_entropy` of the logits, as torch's ``options=None`` does.

    {backends}

    Parameters
    ----------
    input : array, shape (D,) or (N, D)
        Input features (``in_features`` last); any leading token shape is accepted.
    linear_weight : array, shape (C, D) or (C, d1, ..., dK, D)
        ``torch.nn.Linear(D, C).weight``; ``input``'s dtype.
    target : array
        Class indices (integer, ``input``'s shape without ``D``) or probabilities (floating,
        the logits' shape).
    linear_bias : array, shape (C,) or (C, d1, ..., dK), optional
        Bias of the projection.
    weight : array, shape (C,), optional
        Class weights.
    {reduction}
    ignore_index : int, optional
        Ignored target value (class-index targets); None means -100, as torch. Probability
        targets refuse any value, as torch does.
    label_smoothing : float, default 0.0
        ``eps`` in [0, 1], as :func:`cross_entropy`.
    options : object, optional
        torch's ``LinearCrossEntropyOptions``: accepted for signature compatibility and
        ignored (chunking is always on here; its size is ``chunk_size``).
    z_loss, return_lse
        Keyword extensions over torch, as :func:`cross_entropy`.
    chunk_size : int, optional
        Classes per chunk (default: about :math:`2^{{20}}` logits per chunk).
    logit_softcap : float, optional
        Extension: logits become ``c * tanh(logits / c)`` (class-index targets).

    Returns
    -------
    array or (array, array)
        Scalar, or ``target``'s shape with ``reduction='none'``; with ``return_lse``,
        ``(loss, lse)``.

    References
    ----------
    torch.nn.functional.linear_cross_entropy.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import linear_cross_entropy
    >>> x = np.asarray([[1.0, 0.0], [0.0, 1.0]])
    >>> w = np.asarray([[2.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    >>> round(float(linear_cross_entropy(x, w, np.asarray([0, 1]))), 6)
    0.493313
    """
    del options  # torch's chunking strategy; ours is chunk_size
    ignore = -100 if ignore_index is None else ignore_index
    c = Call(
        "torch",
        input=input,
        linear_weight=linear_weight,
        target=target,
        linear_bias=linear_bias,
        weight=weight,
    )
    t, w = c["target"], c["linear_weight"]
    floating = hasattr(t, "dtype") and c.xp.isdtype(t.dtype, "real floating")
    if floating and ignore_index is not None:
        msg = (
            "`ignore_index` cannot be given with probability targets (a floating `target`), "
            f"as in torch; got ignore_index={ignore_index!r}, expected None."
        )
        raise ValueError(msg)
    if floating or getattr(w, "ndim", 2) > 2:
        if logit_softcap is not None:
            msg = (
                "`logit_softcap` needs class-index targets and a 2-D `linear_weight` (got the "
                "reference path: probability targets or a K-dimensional weight)."
            )
            raise ValueError(msg)
        return cross_entropy(
            _logits(c),
            t,
            weight,
            ignore_index=ignore,
            reduction=reduction,
            label_smoothing=label_smoothing,
            z_loss=z_loss,
            return_lse=return_lse,
        )
    return chunked(
        c,
        ("input", "linear_weight", "target", "linear_bias", "weight"),
        ignore_index=ignore,
        label_smoothing=label_smoothing,
        z_loss=z_loss,
        reduction=reduction,
        chunk_size=chunk_size,
        logit_softcap=logit_softcap,
        return_lse=return_lse,
    )


def _logits(c: Call) -> Any:
    """The materialised logits of torch's reference path: ``(N, C)`` or ``(C,)`` for a 2-D
    weight, ``(N, C, d1, ..., dK)`` for a ``(C, d1, ..., dK, D)`` weight (bias ``(C, d1..dK)``).
    """
    xp = c.xp
    x, w, b = c["input"], c["linear_weight"], c["linear_bias"]
    if not hasattr(w, "ndim") or w.ndim < 2:
        msg = f"`linear_weight` must have shape (C, ..., D); got {getattr(w, 'shape', w)!r}."
        raise ValueError(msg)
    if tuple(w.shape[-1:]) != tuple(x.shape[-1:]):
        msg = (
            f"`linear_weight` of shape {tuple(w.shape)} must end with `input`'s last dimension "
            f"{x.shape[-1]}."
        )
        raise ValueError(msg)
    classes = tuple(w.shape[:-1])
    if len(classes) > 1 and x.ndim != 2:
        msg = f"a K-dimensional `linear_weight` needs a batched (N, D) `input`; got {x.ndim}-d."
        raise ValueError(msg)
    flat = xp.reshape(w, (math.prod(classes), w.shape[-1]))
    logits = x @ xp.matrix_transpose(flat)
    if b is not None:
        logits = logits + expand_rank(xp, xp.reshape(b, (-1,)), logits.ndim)
    return xp.reshape(logits, (*x.shape[:-1], *classes))
