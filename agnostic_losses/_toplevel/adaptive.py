"""Adaptive softmax with loss: torch's ``nn.AdaptiveLogSoftmaxWithLoss`` as functions of arrays."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from .. import _native
from .._docs import fill_doc
from .._kernels import adaptive as _k
from .._native import try_route
from .._surface import Call

__all__ = ["adaptive_log_softmax", "adaptive_log_softmax_with_loss"]


class ASMOutput(NamedTuple):
    """What :func:`adaptive_log_softmax_with_loss` returns, as torch's ``_ASMoutput``."""

    output: Any
    """The log-probability of each sample's target, ``target``'s shape."""
    loss: Any
    """``-output.mean()``, a scalar."""


def _resolve(
    input: Any, head_weight: Any, tail_weights: Any, head_bias: Any, **more: Any
) -> tuple[Call, Any, Any, Any, list[tuple[Any, Any]]]:
    """Validate the layer's arrays; ``(call, input, head_weight, head_bias, tails)`` in the
    compute dtype, ``input`` with a leading batch axis."""
    if isinstance(tail_weights, (str, bytes)) or not isinstance(tail_weights, Sequence):
        msg = (
            "`tail_weights` must be a sequence of (projection, output) weight pairs, one per "
            f"cluster; got {type(tail_weights).__name__}."
        )
        raise TypeError(msg)
    names: list[tuple[str, str]] = []
    arrays: dict[str, Any] = {}
    for k, pair in enumerate(tail_weights):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            msg = (
                f"`tail_weights[{k}]` must be a (projection, output) pair of weights, "
                f"(h_k, D) and (o_k, h_k); got {type(pair).__name__}"
                + (f" of length {len(pair)}." if isinstance(pair, Sequence) else ".")
            )
            raise TypeError(msg)
        names.append((f"tail_weights[{k}][0]", f"tail_weights[{k}][1]"))
        arrays.update(zip(names[-1], pair))
    c = Call("top", input=input, head_weight=head_weight, head_bias=head_bias, **arrays, **more)
    x = c.input("input")
    if x.ndim not in (1, 2):
        msg = f"`input` must have shape (N, D) or (D,); got {tuple(x.shape)}."
        raise ValueError(msg)
    features = x.shape[-1]
    w = c.floating("head_weight", same_dtype=True)
    if w.ndim != 2 or w.shape[1] != features or w.shape[0] < len(names):
        msg = (
            f"`head_weight` must have shape (S + K, {features}): a row per shortlist class and "
            f"one per cluster (K = {len(names)} tails), `input`'s features; got "
            f"{tuple(w.shape)}."
        )
        raise ValueError(msg)
    b = c.floating("head_bias", shape=(w.shape[0],), same_dtype=True)
    tails = []
    for projection_name, out_name in names:
        projection = c.floating(projection_name, same_dtype=True)
        out = c.floating(out_name, same_dtype=True)
        if projection.ndim != 2 or projection.shape[1] != features:
            msg = (
                f"`{projection_name}` must have shape (h_k, {features}) (`input`'s features); "
                f"got {tuple(projection.shape)}."
            )
            raise ValueError(msg)
        if out.ndim != 2 or out.shape[1] != projection.shape[0] or out.shape[0] < 1:
            msg = (
                f"`{out_name}` must have shape (o_k, {projection.shape[0]}): one row per class "
                f"of the cluster, the projection's size; got {tuple(out.shape)}."
            )
            raise ValueError(msg)
        tails.append((projection, out))
    return c, (x if x.ndim == 2 else x[None, ...]), w, b, tails


@fill_doc
def adaptive_log_softmax_with_loss(
    input: Any, target: Any, head_weight: Any, tail_weights: Any, head_bias: Any = None
) -> ASMOutput:
    r"""Adaptive softmax (Grave et al., 2017): ``torch.nn.AdaptiveLogSoftmaxWithLoss.forward``.

    torch's layer's ``forward``, with the layer's weights passed in. The ``C`` classes are
    split into a shortlist ``[0, S)`` and ``K`` clusters ``[c_k, c_{k+1})``. The head scores
    the shortlist and one token per cluster; tail ``k`` scores its cluster through a low-rank
    projection:

    .. math::

        \log p(y) = \begin{cases}
            \log \mathrm{softmax}(W x + b)_y & y < S \\
            \log \mathrm{softmax}(W x + b)_{S+k}
            + \log \mathrm{softmax}(O_k P_k x)_{y - c_k} & c_k \le y < c_{k+1}
        \end{cases}

    The cutoffs come from the shapes: ``S`` is the head's rows minus ``K``, and
    ``c_{k+1} - c_k`` is tail ``k``'s output rows. Every tail is evaluated for every sample
    (static shapes, so it runs under ``jax.jit`` and on lazy arrays; torch evaluates a tail only
    on the samples whose targets fall in it): the same values, for a full projection's compute.
    Eager CPU float32/float64 torch tensors with int64 targets run torch's own layer on these
    weights instead, each tail on its cluster's rows. A target outside ``[0, C)`` raises on
    eager arrays and gives NaN for its sample elsewhere.

    {backends}

    Parameters
    ----------
    input : array, shape (N, D) or (D,)
        Hidden features, real floating.
    target : array of int, shape (N,) or ()
        Class indices in ``[0, C)``.
    head_weight : array, shape (S + K, D)
        The head's ``Linear`` weight (torch's ``head.weight``), ``input``'s dtype.
    tail_weights : sequence of (array, array)
        Per cluster, the projection ``(h_k, D)`` and output ``(o_k, h_k)`` weights (torch's
        ``tail[k][0].weight`` and ``tail[k][1].weight``), ``input``'s dtype.
    head_bias : array, shape (S + K,), optional
        The head's bias (torch's ``head_bias=True``).

    Returns
    -------
    ASMOutput
        ``(output, loss)``: the log-probability of each target (``target``'s shape) and
        ``-output.mean()``.

    References
    ----------
    Grave et al., "Efficient softmax approximation for GPUs" (ICML 2017);
    torch.nn.AdaptiveLogSoftmaxWithLoss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import adaptive_log_softmax_with_loss
    >>> x = np.asarray([[1.0, 0.0], [0.0, 1.0]])
    >>> head = np.asarray([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])  # 2 shortlist classes, 1 cluster
    >>> tail = (np.eye(2), np.asarray([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))  # 3 rare classes
    >>> out = adaptive_log_softmax_with_loss(x, np.asarray([0, 4]), head, [tail])
    >>> np.round(out.output, 4), round(float(out.loss), 4)
    (array([-0.6803, -2.0423]), 1.3613)
    """
    c, x, w, b, tails = _resolve(input, head_weight, tail_weights, head_bias, target=target)
    cutoffs = _k.cutoffs_of(w.shape[0], tails)
    y = c["target"]
    expected = tuple(c["input"].shape[:-1])
    if tuple(getattr(y, "shape", ())) != expected:
        msg = (
            f"`target` must have shape {expected} (`input` without its feature dimension); "
            f"got {tuple(getattr(y, 'shape', ()))}."
        )
        raise ValueError(msg)
    xp = c.xp
    y = xp.reshape(c.labels("target", cutoffs[-1], hint="Class indices must be integers."), (-1,))
    routed = None
    if c.dtype == c.work:  # (half precision computes on float32 copies: the generic path)
        # on eager CPU torch, torch's own layer: each tail on its cluster's rows only
        routed = try_route(_native.adaptive_softmax, x, y, w, tails, b, cutoffs, everywhere=True)
    if routed is None:
        out = _k.adaptive_target_log_prob(xp, x, y, w, b, tails)
        routed = out, c.reduce(-out, "mean")
    out, loss = routed
    return ASMOutput(c.finish(xp.reshape(out, expected)), loss)


adaptive_log_softmax_with_loss.native_route = "adaptive_softmax"  # type: ignore[attr-defined]


@fill_doc
def adaptive_log_softmax(
    input: Any, head_weight: Any, tail_weights: Any, head_bias: Any = None
) -> Any:
    r"""Every class's log-probability under an adaptive softmax (torch's layer's ``log_prob``).

    ``torch.nn.AdaptiveLogSoftmaxWithLoss.log_prob`` with the layer's weights passed in: the
    shortlist's head log-probabilities, then for each cluster its tail's log-softmax plus the
    cluster's head entry (see :func:`adaptive_log_softmax_with_loss`),

    .. math::

        \log p_{:, y} = \begin{cases}
            \log \mathrm{softmax}(W x + b)_y & y < S \\
            \log \mathrm{softmax}(W x + b)_{S+k}
            + \log \mathrm{softmax}(O_k P_k x)_{y - c_k} & c_k \le y < c_{k+1}
        \end{cases}

    so the rows sum to 1 in probability. Its ``argmax`` over the last axis is torch's
    ``predict``.

    {backends}

    Parameters
    ----------
    input : array, shape (N, D) or (D,)
        Hidden features, real floating.
    head_weight, tail_weights, head_bias
        As :func:`adaptive_log_softmax_with_loss`.

    Returns
    -------
    array, shape (N, C) or (C,)

    References
    ----------
    torch.nn.AdaptiveLogSoftmaxWithLoss.log_prob.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import adaptive_log_softmax
    >>> head = np.asarray([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    >>> tail = (np.eye(2), np.asarray([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    >>> logp = adaptive_log_softmax(np.asarray([1.0, 0.0]), head, [tail])
    >>> logp.shape, round(float(np.exp(logp).sum()), 6)
    ((5,), 1.0)
    """
    c, x, w, b, tails = _resolve(input, head_weight, tail_weights, head_bias)
    out = _k.adaptive_log_softmax(c.xp, x, w, b, tails)
    return c.finish(out if c["input"].ndim == 2 else out[0, ...])
