"""torch.nn.functional classification losses."""

from __future__ import annotations

from typing import Any

from .._dispatch import cast, check_floating, check_same_shape, compute_dtype, namespace
from .._docs import fill_doc
from .._kernels import classification as _k
from .._reductions import apply_reduction, check_reduction, legacy_reduction

__all__ = ["binary_cross_entropy_with_logits"]


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
