"""torch.nn.functional margin losses."""

from __future__ import annotations

from typing import Any

from .._dispatch import check_integer, check_same_shape
from .._docs import fill_doc
from .._kernels import margin as _k
from .._native import autocast_float32, native_torch, only_input_grad, same_shape_input_grad
from .._surface import REDUCTION, TORCH_REDUCTION, Call, flag, number, options, torch_reduction

__all__ = [
    "hinge_embedding_loss",
    "margin_ranking_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "soft_margin_loss",
]

_LEGACY = {"size_average": flag, "reduce": flag, "reduction": TORCH_REDUCTION}


def _one_or_two(name: str, value: Any) -> None:
    if value not in (1, 2) or isinstance(value, bool):
        msg = f"`{name}` must be 1 or 2; got {value!r}."
        raise ValueError(msg)


def _check_class_input(name: str, x: Any) -> None:
    if x.ndim not in (1, 2):
        msg = f"`{name}` must have shape (C,) or (N, C); got {tuple(x.shape)}."
        raise ValueError(msg)


@autocast_float32
@options(**_LEGACY, margin=number())
@fill_doc
def margin_ranking_loss(
    input1: Any,
    input2: Any,
    target: Any,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Any:
    r"""Margin ranking loss, as torch's ``margin_ranking_loss``.

    .. math::

        \ell_i = \max(0, -y_i (x_{1,i} - x_{2,i}) + \text{margin})

    ``y = 1`` asks for ``x1`` to rank above ``x2``, ``y = -1`` for the reverse.

    {backends}

    Parameters
    ----------
    input1, input2 : array, shape (*)
        Scores of the two items, same shape, real floating or integer (as in torch,
        integers compute in the floating dtype of the other arguments, else the default one).
    target : array, shape (*)
        -1 or 1, same shape as the inputs (integer or floating).
    margin : float, default 0
        Required score gap.
    {legacy}
    {reduction}

    Returns
    -------
    array
        Scalar, or shape (*) with ``reduction='none'``.

    References
    ----------
    torch.nn.functional.margin_ranking_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import margin_ranking_loss
    >>> x1, x2 = np.asarray([1.0, 0.2]), np.asarray([0.5, 0.4])
    >>> margin_ranking_loss(x1, x2, np.asarray([1.0, 1.0]), margin=0.1, reduction="none")
    array([0. , 0.3])
    """
    c = Call("torch", input1=input1, input2=input2, target=target)
    x1 = c.input("input1", promote=("input2", "target"), values=("integral",))
    x2 = c.floating("input2", like="input1", values=("integral",))
    y = c.target("target", "input1", integers=True)
    loss = _k.margin_ranking(c.xp, x1, x2, y, margin)
    return c.reduce(loss, torch_reduction(size_average, reduce, reduction))


@autocast_float32
@options(**_LEGACY, margin=number())
@fill_doc
def hinge_embedding_loss(
    input: Any,
    target: Any,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Any:
    r"""Hinge embedding loss, as torch's ``hinge_embedding_loss``.

    .. math::

        \ell_i = \begin{cases} x_i & y_i = 1 \\ \max(0, \text{margin} - x_i) & y_i = -1
        \end{cases}

    ``input`` is usually a distance between two embeddings. As in torch, a target that is
    neither 1 nor -1 receives both terms.

    {backends}

    Parameters
    ----------
    input : array, shape (*)
        Real floating.
    target : array, shape (*)
        -1 or 1, same shape as ``input``.
    margin : float, default 1.0
    {legacy}
    {reduction}

    Returns
    -------
    array
        Scalar, or shape (*) with ``reduction='none'``.

    References
    ----------
    torch.nn.functional.hinge_embedding_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import hinge_embedding_loss
    >>> x = np.asarray([0.3, 0.4, 2.0])
    >>> hinge_embedding_loss(x, np.asarray([1.0, -1.0, -1.0]), reduction="none")
    array([0.3, 0.6, 0. ])
    """
    c = Call("torch", input=input, target=target)
    x, y = c.input("input"), c.target("target", "input", integers=True)
    loss = _k.hinge_embedding(c.xp, x, y, margin)
    return c.reduce(loss, torch_reduction(size_average, reduce, reduction))


@options(**_LEGACY)
@native_torch("soft_margin_loss", same_shape_input_grad)
@fill_doc
def soft_margin_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Any:
    r"""Two-class logistic loss, as torch's ``soft_margin_loss``.

    .. math::

        \ell_i = \log(1 + e^{-y_i x_i})

    computed as ``softplus(-y x)``: exact for ``|x|`` up to ``1e4`` and ``inf``.

    {backends}

    Parameters
    ----------
    input : array, shape (*)
        Real floating.
    target : array, shape (*)
        -1 or 1, same shape as ``input``.
    {legacy}
    {reduction}

    Returns
    -------
    array
        Scalar, or shape (*) with ``reduction='none'``.

    References
    ----------
    torch.nn.functional.soft_margin_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import soft_margin_loss
    >>> round(float(soft_margin_loss(np.asarray([0.0, 2.0]), np.asarray([1.0, -1.0]))), 6)
    1.410038
    """
    c = Call("torch", input=input, target=target)
    x, y = c.input("input"), c.target("target", "input", integers=True)
    return c.reduce(_k.soft_margin(c.xp, x, y), torch_reduction(size_average, reduce, reduction))


@options(**{**_LEGACY, "reduction": REDUCTION})  # torch refuses 'elementwise_mean' here
@native_torch("multilabel_soft_margin_loss", same_shape_input_grad)
@fill_doc
def multilabel_soft_margin_loss(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Any:
    r"""Multi-label one-versus-all logistic loss, as torch's ``multilabel_soft_margin_loss``.

    .. math::

        \ell_n = -\frac{1}{C} \sum_{c} w_c \left[y_{nc} \log \sigma(x_{nc})
        + (1 - y_{nc}) \log \sigma(-x_{nc})\right]

    computed with log-sigmoids (exact for saturated logits). ``'mean'`` averages ``l_n`` over
    samples.

    {backends}

    Parameters
    ----------
    input : array, shape (N, C) or (C,)
        Logits, real floating.
    target : array, shape (N, C) or (C,)
        0/1 (multi-hot) or probabilities, same shape as ``input``. For class-index targets
        padded with -1 use :func:`multilabel_margin_loss`.
    weight : array, shape (C,), optional
        Class weights (broadcast against ``input``).
    {legacy}
    {reduction}

    Returns
    -------
    array
        Scalar, or shape (N,) with ``reduction='none'``.

    References
    ----------
    torch.nn.functional.multilabel_soft_margin_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import multilabel_soft_margin_loss
    >>> x = np.asarray([[0.0, 0.0], [2.0, -2.0]])
    >>> multilabel_soft_margin_loss(x, np.asarray([[1.0, 0.0], [1.0, 0.0]]), reduction="none")
    array([0.69314718, 0.12692801])
    """
    c = Call("torch", input=input, target=target, weight=weight)
    x = c.input("input", promote=("target", "weight"))
    _check_class_input("input", x)
    y = c.target("target", "input", integers=True)
    loss = _k.multilabel_soft_margin(c.xp, x, y, c.param("weight"))
    return c.reduce(loss, torch_reduction(size_average, reduce, reduction))


@options(**_LEGACY)
@native_torch("multilabel_margin_loss", same_shape_input_grad)
@fill_doc
def multilabel_margin_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Any:
    r"""Multi-label hinge loss over class-index targets, as torch's ``multilabel_margin_loss``.

    .. math::

        \ell_n = \frac{1}{C} \sum_{j \in T_n} \sum_{i \notin T_n}
        \max(0, 1 - (x_{n, j} - x_{n, i}))

    where ``T_n`` is the prefix of ``target[n]`` before its first -1. The prefix is found with
    a cumulative mask, so shapes never depend on the data (works under ``jax.jit``).

    {backends}

    Parameters
    ----------
    input : array, shape (N, C) or (C,)
        Scores, real floating (a 0-d input is one class, as in torch).
    target : array of int, shape (N, C) or (C,)
        Class indices padded with -1, same shape as ``input``; entries after the first -1 are
        ignored. Out-of-range indices raise ValueError eagerly and give NaN under jit/Dask.
    {legacy}
    {reduction}

    Returns
    -------
    array
        Scalar, or shape (N,) (or () for 1-d input) with ``reduction='none'``.

    References
    ----------
    torch.nn.functional.multilabel_margin_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import multilabel_margin_loss
    >>> x = np.asarray([[0.1, 0.2, 0.4, 0.8]])
    >>> round(float(multilabel_margin_loss(x, np.asarray([[3, 0, -1, 1]]))), 6)
    0.85
    """
    c = Call("torch", input=input, target=target)
    x, y = c.input("input"), c["target"]
    hint = "For 0/1 multi-hot targets use `multilabel_soft_margin_loss`."
    check_integer(c.xp, "target", y, hint)
    if x.ndim == 0 and y.ndim == 0:  # torch reads a 0-d input as one class
        x = c.args["input"] = c.xp.reshape(x, (1,))
        c.args["target"] = c.xp.reshape(y, (1,))
    _check_class_input("input", x)
    check_same_shape("input", x, "target", c["target"])
    y = c.labels("target", x.shape[-1], ignore=-1)
    return c.reduce(
        _k.multilabel_margin(c.xp, x, y), torch_reduction(size_average, reduce, reduction)
    )


@options(**_LEGACY, p=_one_or_two, margin=number())
@native_torch("multi_margin_loss", only_input_grad)
@fill_doc
def multi_margin_loss(
    input: Any,
    target: Any,
    p: int = 1,
    margin: float = 1.0,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Any:
    r"""Multiclass (Weston-Watkins) hinge loss, as torch's ``multi_margin_loss``.

    .. math::

        \ell_n = \frac{1}{C} \sum_{j \neq y_n} w_{y_n}
        \max(0, \text{margin} - x_{n, y_n} + x_{n, j})^p

    A sum over the wrong classes divided by ``C``, unlike the Crammer-Singer max of
    :func:`agnostic_losses.multiclass_hinge_loss`. ``'mean'`` is the plain mean over samples
    (not divided by the sum of ``w_y``).

    {backends}

    Parameters
    ----------
    input : array, shape (N, C) or (C,)
        Scores, real floating (a 0-d input is one class, as in torch).
    target : array of int, shape (N,) or ()
        Class indices in ``[0, C)`` (ValueError eagerly, NaN under jit/Dask otherwise).
    p : {1, 2}, default 1
    margin : float, default 1.0
    weight : array, shape (C,), optional
        Class weights; each sample's loss is scaled by the weight of its target class.
    {legacy}
    {reduction}

    Returns
    -------
    array
        Scalar, or shape (N,) (or () for 1-d input) with ``reduction='none'``.

    References
    ----------
    torch.nn.functional.multi_margin_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import multi_margin_loss
    >>> x = np.asarray([[0.1, 0.2, 0.4, 0.8]])
    >>> round(float(multi_margin_loss(x, np.asarray([3]))), 6)
    0.325
    """
    c = Call("torch", input=input, target=target, weight=weight)
    x, y = c.input("input"), c["target"]
    check_integer(
        c.xp,
        "target",
        y,
        "For -1/1 or 0/1 targets of the same shape as `input` use `soft_margin_loss` or "
        "`multilabel_soft_margin_loss`.",
    )
    if x.ndim == 0:  # torch reads a 0-d input as one class
        x = c.xp.reshape(x, (1,))
    _check_class_input("input", x)
    if x.ndim == 1 and tuple(y.shape) == (1,):
        x = x[None, :]  # torch accepts a (1,) target for a (C,) input
    if tuple(y.shape) != tuple(x.shape[:-1]):
        msg = (
            f"`target` must have shape {tuple(x.shape[:-1])} (the shape of `input` without "
            f"its class axis); got {tuple(y.shape)}."
        )
        raise ValueError(msg)
    num_classes = x.shape[-1]
    weight = c["weight"]
    if weight is not None and tuple(weight.shape) != (num_classes,):
        msg = f"`weight` must have shape ({num_classes},); got {tuple(weight.shape)}."
        raise ValueError(msg)
    y = c.labels("target", num_classes)
    loss = _k.multi_margin(c.xp, x, y, p, margin, c.param("weight"))
    return c.reduce(loss, torch_reduction(size_average, reduce, reduction))
