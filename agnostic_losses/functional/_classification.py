"""torch.nn.functional classification losses."""

from __future__ import annotations

import functools
from typing import Any

from .._docs import fill_doc
from .._kernels import classification as _k
from .._loops import rowwise
from .._native import cross_entropy_guard, native_torch, probability_target, same_shape
from .._reductions import legacy_reduction
from .._surface import TORCH_REDUCTION, Call, flag, number, options

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss"]

_LEGACY = {"size_average": flag, "reduce": flag, "reduction": TORCH_REDUCTION}
_TARGET_HINT = "Cast 0/1 labels to the input's dtype, as torch requires."


@options(**_LEGACY)
@native_torch("binary_cross_entropy_with_logits", same_shape)
@fill_doc
def binary_cross_entropy_with_logits(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Any:
    r"""Binary cross-entropy from logits, as torch's ``binary_cross_entropy_with_logits``.

    .. math::

        \ell_i = -w_i \left[p \, y_i \log \sigma(x_i) + (1 - y_i) \log \sigma(-x_i)\right]

    with ``p = pos_weight`` broadcast against the last (class) dimension and ``w = weight``
    against the input. ``'mean'`` is the plain mean over elements (not a weight-normalised one).
    Unlike torch, ``x = +-inf`` with an agreeing target gives exactly 0 rather than NaN.

    {backends}

    Parameters
    ----------
    input : array, shape (*)
        Logits.
    target : array, shape (*)
        Probabilities in [0, 1], floating, same shape as ``input``.
    weight : array, optional
        Rescaling weight, broadcastable to ``input``.
    {legacy}
    {reduction}
    pos_weight : array, optional
        Weight of the positive term per class, broadcastable to the last dimension of ``input``.

    Returns
    -------
    array
        Scalar, or shape (*) with ``reduction='none'``.

    References
    ----------
    torch.nn.functional.binary_cross_entropy_with_logits.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import binary_cross_entropy_with_logits
    >>> x = np.asarray([1.0, -1.0, 0.0])
    >>> round(float(binary_cross_entropy_with_logits(x, np.asarray([1.0, 0.0, 1.0]))), 7)
    0.4398902
    """
    c = Call("torch", input=input, target=target, weight=weight, pos_weight=pos_weight)
    x = c.input("input", promote=("target",))
    y = c.target("target", "input", hint=_TARGET_HINT)
    # torch's kernel updates ``1 - target`` in place: its result has the target's dtype
    c.dtype = c["target"].dtype
    pos_weight = c.floating("pos_weight", broadcasts="input")
    loss = _k.sigmoid_binary_cross_entropy(c.xp, x, y, pos_weight)
    if weight is not None:
        loss = loss * c.floating("weight", broadcasts="input")
    return c.reduce(loss, legacy_reduction(size_average, reduce, reduction))


def _layout(c: Call, *, soft: bool) -> tuple[Any, Any, int]:
    """torch's (C,), (N, C) or (N, C, d1..dk) layout: logits with the classes last, the target
    (class indices, or probabilities of the input's shape when ``soft``), and C. Probability
    targets and the class weight beside them promote the input's dtype, as torch's arithmetic
    does; beside class indices torch requires a weight of the input's dtype."""
    x = c.input("input", promote=("target", "weight") if soft else ())
    if x.ndim == 0:
        msg = "`input` must have shape (C,), (N, C) or (N, C, d1, ..., dK); got a 0-d array."
        raise ValueError(msg)
    shape = tuple(x.shape)
    axis = 1 if x.ndim > 1 else 0
    _, num_classes, (x,) = c.classes("input", axis, x)
    if soft:
        _, _, (t,) = c.classes("input", axis, c.target("target", "input"))
        return x, t, num_classes
    expected = shape[:axis] + shape[axis + 1 :]
    target = c["target"]
    if tuple(target.shape) != expected:
        msg = (
            f"`target` of class indices must have shape {expected} for `input` of shape "
            f"{shape} (the input without its class axis {axis}); got {tuple(target.shape)}."
        )
        raise ValueError(msg)
    return x, target, num_classes


def _index_target(c: Call, num_classes: int, ignore_index: int, hint: str) -> Any:
    return c.labels(
        "target", num_classes, ignore=ignore_index, ignore_name="ignore_index", hint=hint
    )


def _mean_over_kept(c: Call, loss: Any, w_y: Any, reduction: str) -> Any:
    # torch: sum(w_y l) / sum(w_y) over kept targets; all ignored -> NaN, gradient 0.
    return c.reduce(loss, reduction, divisor="weight_sum", weights=w_y, fill=float("nan"))


@options(
    **_LEGACY,
    ignore_index=number(integer=True),
    label_smoothing=number(low=0, high=1),
    z_loss=number(low=0),
)
@native_torch("cross_entropy", cross_entropy_guard, extensions=("z_loss", "return_lse"))
@fill_doc
def cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    *,
    z_loss: float = 0.0,
    return_lse: bool = False,
) -> Any:
    r"""Softmax cross-entropy from logits, as torch's ``cross_entropy``.

    .. math::

        \ell_n = (1 - \varepsilon)\, w_{y_n} (-\log p_{n, y_n})
                 + \frac{\varepsilon}{C} \sum_c w_c (-\log p_{n, c}),
        \quad p_n = \mathrm{softmax}(x_n)

    for class-index targets (positions equal to ``ignore_index`` contribute 0 to both terms);
    ``'mean'`` divides by ``sum(w_{y_n})`` over kept targets (NaN with a zero gradient when all
    are ignored, as torch). For probability targets ``t`` (floating, ``input``'s shape):
    :math:`\ell_n = -\sum_c w_c \tilde t_{n,c} \log p_{n,c}` with
    :math:`\tilde t = (1 - \varepsilon) t + \varepsilon / C`, and ``'mean'`` divides by the
    number of samples. Labels outside ``[0, C)`` that are not ``ignore_index`` raise on eager
    arrays and give NaN under ``jax.jit``/Dask. A ``-inf`` logit on a class with target 0 (and
    no smoothing) gives a finite value and a zero gradient.

    {backends}

    Parameters
    ----------
    input : array, shape (C,), (N, C) or (N, C, d1, ..., dK)
        Logits; the class axis is 1 (0 for unbatched input).
    target : array
        Class indices (integer, ``input``'s shape without the class axis) or probabilities
        (floating, ``input``'s shape).
    weight : array, shape (C,), optional
        Class weights.
    {legacy}
    ignore_index : int, default -100
        Target value that is ignored (index targets only); never used as an index.
    {reduction}
        With class-index targets ``'mean'`` is the weighted mean described above.
    label_smoothing : float, default 0.0
        ``eps`` in [0, 1]: mass spread uniformly (``eps / C``) over every class.
    z_loss : float, default 0.0
        Keyword-only extension over torch: ``z >= 0`` times the squared log-sum-exp of each
        position (PaLM-style z-loss) is added to its loss; with class-index targets it is
        weighted by ``w_y`` like the cross entropy (ignored positions add nothing), so
        ``'mean'`` stays the weighted mean of the per-position totals.
    return_lse : bool, default False
        Keyword-only extension: also return the log-sum-exp of each position (the input's
        shape without the class axis), unreduced, to log it.

    Returns
    -------
    array or (array, array)
        Scalar, or the target's shape (index) / the input's shape without the class axis
        (probabilities) with ``reduction='none'``; with ``return_lse``, ``(loss, lse)``.

    References
    ----------
    torch.nn.functional.cross_entropy.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import cross_entropy
    >>> x = np.asarray([[2.0, 1.0, 0.1], [0.5, 2.5, 0.0]])
    >>> round(float(cross_entropy(x, np.asarray([0, 1]))), 6)
    0.306882
    >>> round(float(cross_entropy(x, np.asarray([0, -100]))), 6)
    0.41703
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    c = Call("torch", input=input, target=target, weight=weight)
    soft = _soft_target(c)
    if soft and ignore_index >= 0:  # torch ignores a negative one there, whatever its value
        msg = (
            "`ignore_index` is not supported with probability targets (a floating `target` "
            f"of the input's shape); got ignore_index={ignore_index!r}, expected a negative "
            "value (the default -100)."
        )
        raise ValueError(msg)
    x, t, num_classes = _layout(c, soft=soft)
    w = c.floating("weight", shape=(num_classes,), same_dtype=not soft)
    options = {"label_smoothing": label_smoothing, "z_loss": z_loss}
    if soft:
        soft_rows = functools.partial(_k.soft_cross_entropy_rows, **options)
        loss, lse = rowwise(c.xp, soft_rows, (x, t), (w,), n_out=2)
        out = c.reduce(loss, reduction)
    else:
        y = _index_target(c, num_classes, ignore_index, "Class indices must be integers.")
        rows = functools.partial(_k.index_cross_entropy_rows, ignore_index=ignore_index, **options)
        loss, w_y, lse = rowwise(c.xp, rows, (x, y), (w,), n_out=3)
        if reduction == "mean":
            out = _mean_over_kept(c, loss, w_y, reduction)
        else:
            out = c.reduce(loss, reduction)
    return (out, c.finish(lse)) if return_lse else out


def _soft_target(c: Call) -> bool:
    """Whether ``target`` holds probabilities (floating, the input's shape); TypeError for
    floating class indices (the input's shape without its class axis), as torch."""
    input, target = c["input"], c["target"]
    if not hasattr(target, "dtype") or not c.xp.isdtype(target.dtype, "real floating"):
        return False
    if tuple(target.shape) == tuple(input.shape) or input.ndim == 0:
        return True
    msg = (
        f"`target` of class indices must have an integer dtype, got {target.dtype} with shape "
        f"{tuple(target.shape)}; probability targets must have the input's shape "
        f"{tuple(input.shape)}."
    )
    raise TypeError(msg)


@options(**_LEGACY, ignore_index=number(integer=True))
@native_torch("nll_loss")
@fill_doc
def nll_loss(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Any:
    r"""Negative log-likelihood of class indices given log-probabilities, as torch's ``nll_loss``.

    .. math::

        \ell_n = -w_{y_n} x_{n, y_n}

    ``'mean'`` divides by ``sum(w_{y_n})`` over targets that are not ``ignore_index`` (NaN with
    a zero gradient when all are ignored).

    {backends}

    Parameters
    ----------
    input : array, shape (C,), (N, C) or (N, C, d1, ..., dK)
        Log-probabilities; the class axis is 1 (0 for unbatched input).
    target : array of int, ``input``'s shape without the class axis
        Class indices in ``[0, C)`` or ``ignore_index``.
    weight : array, shape (C,), optional
        Class weights.
    {legacy}
    ignore_index : int, default -100
        Target value that is ignored; never used as an index.
    {reduction}
        ``'mean'`` is the weighted mean described above.

    Returns
    -------
    array
        Scalar, or the target's shape with ``reduction='none'``.

    References
    ----------
    torch.nn.functional.nll_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import nll_loss
    >>> logp = np.log(np.asarray([[0.1, 0.7, 0.2], [0.5, 0.25, 0.25]]))
    >>> round(float(nll_loss(logp, np.asarray([1, 0]))), 6)
    0.524911
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    c = Call("torch", input=input, target=target, weight=weight)
    hint = "For probability targets use `cross_entropy` on logits instead."
    x, _, num_classes = _layout(c, soft=False)
    y = _index_target(c, num_classes, ignore_index, hint)
    w = c.floating("weight", shape=(num_classes,), same_dtype=True)
    loss, w_y = _k.class_weighted_nll(c.xp, x, y, w, ignore_index)
    return (
        _mean_over_kept(c, loss, w_y, reduction)
        if reduction == "mean"
        else c.reduce(loss, reduction)
    )


@options(**_LEGACY)
@native_torch("binary_cross_entropy", probability_target)
@fill_doc
def binary_cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Any:
    r"""Binary cross-entropy of probabilities, as torch's ``binary_cross_entropy``.

    .. math::

        \ell_i = -w_i \left[y_i \max(\log p_i, -100)
                 + (1 - y_i) \max(\log(1 - p_i), -100)\right]

    Each log is clamped at -100 as in torch, so ``p`` exactly 0 or 1 gives a finite value (at
    most 100). The derivative in ``p`` is torch's, :math:`(p - y) / \max(p (1 - p), 10^{-12})`
    (the clamp's 0 would leave no signal at the worst prediction): about :math:`\mp 10^{12}` at
    ``p`` exactly 0 or 1 when the target disagrees. Prefer
    :func:`binary_cross_entropy_with_logits` when logits are available. ``input`` or ``target``
    outside [0, 1] raise a ValueError on eager arrays.

    {backends}

    Parameters
    ----------
    input : array, shape (*)
        Probabilities in [0, 1].
    target : array, shape (*)
        Targets in [0, 1], floating, same shape as ``input``.
    weight : array, optional
        Rescaling weight broadcastable to ``input``; ``'mean'`` stays the plain mean.
    {legacy}
    {reduction}

    Returns
    -------
    array
        Scalar, or shape (*) with ``reduction='none'``.

    References
    ----------
    torch.nn.functional.binary_cross_entropy.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import binary_cross_entropy
    >>> p, y = np.asarray([0.9, 0.2, 0.8, 0.1]), np.asarray([1.0, 0.0, 1.0, 0.0])
    >>> round(float(binary_cross_entropy(p, y)), 4)
    0.1643
    """
    c = Call("torch", input=input, target=target, weight=weight)
    p = c.input("input", probabilities=True)
    y = c.probabilities("target", like="input", hint=_TARGET_HINT)
    loss = _k.binary_cross_entropy_probs(c.xp, p, y)
    if weight is not None:
        loss = loss * c.floating("weight", broadcasts="input")
    return c.reduce(loss, legacy_reduction(size_average, reduce, reduction))
