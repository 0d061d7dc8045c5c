"""torch.nn.functional classification losses."""

from __future__ import annotations

from typing import Any

from .._dispatch import (
    cast,
    check_floating,
    check_integer,
    check_labels_in_range,
    check_probabilities,
    check_same_shape,
    compute_dtype,
    namespace,
)
from .._docs import fill_doc
from .._kernels import classification as _k
from .._native import cross_entropy_guard, labels_checked_off_cpu, native_torch, same_shape
from .._numerics import safe_divide, xmul
from .._reductions import apply_reduction, check_reduction, legacy_reduction

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss"]


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

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import binary_cross_entropy_with_logits
    >>> x = np.asarray([1.0, -1.0, 0.0])
    >>> round(float(binary_cross_entropy_with_logits(x, np.asarray([1.0, 0.0, 1.0]))), 7)
    0.4398902
    """
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction))
    xp = namespace(input=input, target=target, weight=weight, pos_weight=pos_weight)
    check_floating(xp, "input", input)
    check_floating(xp, "target", target, "Cast 0/1 labels to the input's dtype, as torch requires.")
    check_same_shape("input", input, "target", target)
    work = compute_dtype(xp, input.dtype)
    if pos_weight is not None:
        pos_weight = cast(xp, pos_weight, work)
    loss = _k.sigmoid_binary_cross_entropy(
        xp, cast(xp, input, work), cast(xp, target, work), pos_weight
    )
    if weight is not None:
        loss = loss * cast(xp, weight, work)
    return cast(xp, apply_reduction(xp, loss, reduction), input.dtype)


def _class_layout(xp: Any, input: Any, target: Any, weight: Any, name: str) -> tuple[Any, ...]:
    """torch's (N, C, d1..dk) / (C,) layout -> (classes-last input, target, batched?, C).

    Validates shapes (index targets: input's shape without axis 1; probability targets:
    input's shape) and ``weight`` (one per class).
    """
    if input.ndim == 0:
        msg = "`input` must have shape (C,), (N, C) or (N, C, d1, ..., dK); got a 0-d array."
        raise ValueError(msg)
    batched = input.ndim > 1
    shape = tuple(input.shape)
    num_classes = shape[1] if batched else shape[0]
    if weight is not None:
        check_floating(xp, "weight", weight)
        if tuple(weight.shape) != (num_classes,):
            msg = (
                f"`weight` must have shape ({num_classes},), one per class; "
                f"got {tuple(weight.shape)}."
            )
            raise ValueError(msg)
    soft = xp.isdtype(target.dtype, "real floating")
    if soft:
        check_same_shape("input", input, "target", target)
    else:
        check_integer(
            xp, "target", target, "Class indices must be integers; probabilities must be floating."
        )
        expected = shape[:1] + shape[2:] if batched else ()
        if tuple(target.shape) != expected:
            msg = (
                f"`target` of class indices must have shape {expected} for `input` of shape "
                f"{shape} (the input without its class axis {1 if batched else 0}); "
                f"got {tuple(target.shape)}."
            )
            raise ValueError(msg)
    if not batched:
        input = xp.expand_dims(input, axis=0)
        target = xp.expand_dims(target, axis=0)
    x = _k.move_axis_last(xp, input, 1)
    t = _k.move_axis_last(xp, target, 1) if soft else target
    return x, t, soft, batched, num_classes


def _reduce_indexed(xp: Any, loss: Any, w_y: Any, reduction: str, batched: bool) -> Any:
    if reduction == "mean":
        # torch: sum(w_y l) / sum(w_y) over kept targets; all ignored -> NaN, gradient 0.
        return safe_divide(xp, xp.sum(loss), xp.sum(w_y), fill=float("nan"))
    if reduction == "sum":
        return xp.sum(loss)
    return loss if batched else xp.squeeze(loss, axis=0)


@native_torch("cross_entropy", cross_entropy_guard)
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

    Returns
    -------
    array
        Scalar, or the target's shape (index) / the input's shape without the class axis
        (probabilities) with ``reduction='none'``.

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
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction))
    xp = namespace(input=input, target=target, weight=weight)
    check_floating(xp, "input", input)
    if not 0.0 <= label_smoothing <= 1.0:
        msg = f"`label_smoothing` must be in [0, 1], got {label_smoothing!r}."
        raise ValueError(msg)
    x, t, soft, batched, num_classes = _class_layout(xp, input, target, weight, "cross_entropy")
    work = compute_dtype(xp, input.dtype)
    w = None if weight is None else cast(xp, weight, work)
    log_p = _k.log_softmax_safe(xp, cast(xp, x, work))
    if soft:
        t = cast(xp, t, work)
        if label_smoothing:
            t = (1.0 - label_smoothing) * t + label_smoothing / num_classes
        terms = xmul(xp, t if w is None else t * w, log_p)
        loss = -xp.sum(terms, axis=-1)
        if reduction == "none" and not batched:
            loss = xp.squeeze(loss, axis=0)
        return cast(xp, apply_reduction(xp, loss, reduction), input.dtype)
    check_labels_in_range(
        xp, "target", target, num_classes, also=ignore_index, also_name="ignore_index"
    )
    loss, w_y = _k.class_weighted_nll(xp, log_p, t, w, ignore_index, float(label_smoothing))
    return cast(xp, _reduce_indexed(xp, loss, w_y, reduction, batched), input.dtype)


@native_torch("nll_loss", labels_checked_off_cpu)
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
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction))
    xp = namespace(input=input, target=target, weight=weight)
    check_floating(xp, "input", input)
    check_integer(
        xp, "target", target, "For probability targets use `cross_entropy` on logits instead."
    )
    x, t, _, batched, num_classes = _class_layout(xp, input, target, weight, "nll_loss")
    check_labels_in_range(
        xp, "target", target, num_classes, also=ignore_index, also_name="ignore_index"
    )
    work = compute_dtype(xp, input.dtype)
    w = None if weight is None else cast(xp, weight, work)
    loss, w_y = _k.class_weighted_nll(xp, cast(xp, x, work), t, w, ignore_index)
    return cast(xp, _reduce_indexed(xp, loss, w_y, reduction, batched), input.dtype)


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
    most 100) and a finite gradient (0 from a clamped log; torch's hand-written backward gives
    about 1e12 there instead). Prefer :func:`binary_cross_entropy_with_logits` when logits are
    available. ``input`` or ``target`` outside [0, 1] raise a ValueError on eager arrays.

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
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction))
    xp = namespace(input=input, target=target, weight=weight)
    check_floating(xp, "input", input)
    check_floating(xp, "target", target, "Cast 0/1 labels to the input's dtype, as torch requires.")
    check_same_shape("input", input, "target", target)
    check_probabilities(xp, "input", input)
    check_probabilities(xp, "target", target)
    work = compute_dtype(xp, input.dtype)
    loss = _k.binary_cross_entropy_probs(xp, cast(xp, input, work), cast(xp, target, work))
    if weight is not None:
        loss = loss * cast(xp, weight, work)
    return cast(xp, apply_reduction(xp, loss, reduction), input.dtype)
