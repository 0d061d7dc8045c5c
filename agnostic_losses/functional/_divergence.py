"""torch.nn.functional divergence losses."""

from __future__ import annotations

from typing import Any

from .._dispatch import warn_at_caller
from .._docs import fill_doc
from .._kernels import divergence as _k
from .._native import native_torch, same_shape_input_grad
from .._surface import Call, choice, flag, options, torch_reduction

__all__ = ["kl_div"]


KL_REDUCTIONS = ("none", "batchmean", "sum", "mean")

# torch warns at every kl_div(reduction='mean'); the first words are torch's, so that a filter
# written for torch's warning matches ours
KL_MEAN_WARNING = (
    "reduction: 'mean' divides the total loss by both the batch size and the support size. "
    "'batchmean' divides by the batch size only, which is the KL divergence; torch plans to "
    "give 'mean' that meaning in its next major release."
)


@options(
    size_average=flag,
    reduce=flag,
    reduction=choice(*KL_REDUCTIONS, deprecated={"elementwise_mean": "mean"}),
    log_target=flag,
)
@native_torch("kl_div", same_shape_input_grad)
@fill_doc
def kl_div(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Any:
    r"""Kullback-Leibler divergence KL(target || input), as torch's ``kl_div``.

    .. math::

        \ell_i = t_i (\log t_i - x_i), \qquad
        \ell_i = e^{t_i} (t_i - x_i) \text{ with } \texttt{log\_target}

    where ``x = input`` holds log-probabilities. ``'mean'`` divides the sum by the number of
    elements (torch's default, which is not the mathematical KL); ``'batchmean'`` divides by the
    batch size ``input.shape[0]`` and is the KL per sample; ``'mean'`` warns, as torch's does.
    A zero target contributes exactly 0, also where ``x = -inf`` (torch gives NaN there), and
    the gradients with respect to both arguments stay finite (torch's target gradient is NaN
    at a zero target).

    {backends}

    Parameters
    ----------
    input : array, shape (*)
        Log-probabilities of the prediction.
    target : array, shape (*)
        Target probabilities (or log-probabilities with ``log_target=True``), same shape.
    {legacy}
    reduction : {'mean', 'batchmean', 'sum', 'none'}, default 'mean'
        ``'none'``: elementwise; ``'sum'``; ``'mean'``: sum / number of elements;
        ``'batchmean'``: sum / ``input.shape[0]`` (sum for a 0-d input); with the legacy
        flags, their reduction / ``input.shape[0]``, as in torch.
    log_target : bool, default False
        Whether ``target`` is given in log space.

    Returns
    -------
    array
        Scalar, or shape (*) with ``reduction='none'``.

    References
    ----------
    torch.nn.functional.kl_div.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import kl_div
    >>> x = np.log(np.asarray([[0.5, 0.25, 0.25]]))
    >>> t = np.asarray([[0.25, 0.25, 0.5]])
    >>> round(float(kl_div(x, t, reduction="batchmean")), 7)
    0.1732868
    """
    if size_average is None and reduce is None and reduction == "mean":
        warn_at_caller(KL_MEAN_WARNING, input)
    c = Call("torch", input=input, target=target)
    x, t = c.input("input", promote=("target",)), c.target("target", "input")
    loss = _k.kl_terms_log_target(c.xp, x, t) if log_target else _k.kl_terms(c.xp, x, t)
    if reduction == "batchmean" and (size_average is not None or reduce is not None):
        # torch reduces by the legacy flags, then still divides by the batch size.
        loss = loss / x.shape[0] if x.ndim else loss
    elif reduction == "batchmean":
        return c.reduce(loss, "mean", divisor="batch")
    return c.reduce(loss, torch_reduction(size_average, reduce, reduction))
