"""torch.nn.functional similarity and metric-learning losses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._dispatch import check_same_shape, namespace
from .._docs import fill_doc
from .._kernels import similarity as _k
from .._native import autocast_float32, native_torch, triplet
from .._surface import REDUCTION, TORCH_REDUCTION, Call, flag, number, options, torch_reduction

__all__ = ["cosine_embedding_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss"]

_LEGACY = {"size_average": flag, "reduce": flag, "reduction": TORCH_REDUCTION}


def _triplet_inputs(anchor: Any, positive: Any, negative: Any) -> tuple[Call, Any, Any, Any]:
    """Floating arrays of one shape, in the work dtype."""
    c = Call("torch", anchor=anchor, positive=positive, negative=negative)
    a = c.input("anchor", promote=("positive", "negative"), values=("integral",))
    pos = c.floating("positive", values=("integral",))
    neg = c.floating("negative", values=("integral",))
    if not a.ndim == pos.ndim == neg.ndim:
        msg = (
            "`anchor`, `positive` and `negative` must have the same number of dimensions; got "
            f"{a.ndim}, {pos.ndim} and {neg.ndim}."
        )
        raise ValueError(msg)
    check_same_shape("anchor", a, "positive", pos)
    check_same_shape("anchor", a, "negative", neg)
    return c, a, pos, neg


class PairwiseDistance:
    """torch's ``pairwise_distance``: ``||x1 - x2 + eps||_p`` over the last axis, on any
    library. ``PairwiseDistance()`` is the triplet losses' default distance, and
    ``TripletMarginWithDistanceLoss().distance_function``, as torch's ``nn.PairwiseDistance()``
    is there."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6) -> None:
        self.p, self.eps = p, eps

    def __call__(self, x1: Any, x2: Any) -> Any:
        xp = namespace(x1=x1, x2=x2)
        return _k.pnorm(xp, x1 - x2 + self.eps, self.p)

    def __repr__(self) -> str:
        return f"PairwiseDistance(p={self.p!r}, eps={self.eps!r})"


def _triplet(
    anchor: Any,
    positive: Any,
    negative: Any,
    distance: Callable[[Any, Any], Any],
    margin: float,
    swap: bool,
    reduction: str,
) -> Any:
    c, a, pos, neg = _triplet_inputs(anchor, positive, negative)
    d_pos = distance(a, pos)
    d_neg = distance(a, neg)
    if swap:
        d_neg = c.xp.minimum(d_neg, distance(pos, neg))
    loss = _k.triplet_hinge(c.xp, d_pos, d_neg, margin, full_at_margin=True)
    return c.reduce(loss, reduction)


@autocast_float32
@options(**_LEGACY, margin=number())
@fill_doc
def cosine_embedding_loss(
    input1: Any,
    input2: Any,
    target: Any,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Any:
    r"""Cosine embedding loss of pairs labelled similar (1) or dissimilar (-1), as torch's.

    .. math::

        \ell_i = \begin{cases} 1 - \cos(x_{1i}, x_{2i}) & y_i = 1 \\
                 \max(0, \cos(x_{1i}, x_{2i}) - m) & y_i = -1 \end{cases}

    with :math:`\cos = \langle x_1, x_2 \rangle / \sqrt{(\|x_1\|^2 + 10^{-12})(\|x_2\|^2 +
    10^{-12})}` as in torch, so a zero vector gives cosine 0 and a finite gradient. Targets other
    than 1 and -1 contribute 0 (torch's behaviour; not checked).

    {backends}

    Parameters
    ----------
    input1, input2 : array, shape (N, D) or (D,)
        Embedding pairs, same shape; integer and boolean embeddings compute in floating point,
        as in torch.
    target : array, shape (N,) or ()
        1 or -1 per pair (integer or floating).
    margin : float, default 0
        Margin of dissimilar pairs, in [-1, 1].
    {legacy}
    {reduction}

    Returns
    -------
    array
        Scalar, or shape (N,) with ``reduction='none'``.

    References
    ----------
    torch.nn.functional.cosine_embedding_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import cosine_embedding_loss
    >>> x1 = np.asarray([[1.0, 0.0], [1.0, 1.0]])
    >>> x2 = np.asarray([[0.0, 1.0], [1.0, 1.0]])
    >>> np.round(cosine_embedding_loss(x1, x2, np.asarray([1, -1]), reduction="none"), 6)
    array([1., 1.])
    """
    c = Call("torch", input1=input1, input2=input2, target=target)
    x1 = c.input("input1", promote=("input2",), values=("integral", "bool"))
    x2 = c.floating("input2", like="input1", values=("integral", "bool"))
    if x1.ndim not in (1, 2):
        msg = f"`input1` must be 1-d (D,) or 2-d (N, D), got shape {tuple(input1.shape)}."
        raise ValueError(msg)
    expected, y = tuple(x1.shape[:-1]), c["target"]
    if tuple(y.shape) != expected:
        msg = f"`target` must have shape {expected} to match `input1`, got {tuple(y.shape)}."
        raise ValueError(msg)
    loss = _k.cosine_embedding(c.xp, x1, x2, y, margin)
    return c.reduce(loss, torch_reduction(size_average, reduce, reduction))


@options(
    **_LEGACY,
    margin=number(low=0, low_open=True),
    p=number(low=0, low_open=True),
    eps=number(),
    swap=flag,
)
@native_torch("triplet_margin_loss", triplet, arity=3)
@fill_doc
def triplet_margin_loss(
    anchor: Any,
    positive: Any,
    negative: Any,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Any:
    r"""Triplet margin loss with torch's pairwise distance ``||a - b + eps||_p``.

    .. math::

        \ell_i = \max(d(a_i, p_i) - d(a_i, n_i) + m, 0), \qquad d(a, b) = \|a - b + \epsilon\|_p

    With ``swap=True`` the negative distance is ``min(d(a, n), d(p, n))``. The norm's gradient
    is 0 (not NaN) where ``a - b + eps`` is the zero vector.

    {backends}

    Parameters
    ----------
    anchor, positive, negative : array, shape (N, D) or (D,)
        Embeddings, same shape; integer embeddings compute in floating point, as in torch.
    margin : float, default 1.0
        Required gap between the distances, positive (torch raises otherwise).
    p : float, default 2
        Norm degree, positive (``inf`` allowed).
    eps : float, default 1e-6
        Added to the difference before the norm.
    swap : bool, default False
        Use the distance swap of Balntas et al.
    {legacy}
    {reduction}

    Returns
    -------
    array
        Scalar, or shape (N,) with ``reduction='none'``.

    References
    ----------
    torch.nn.functional.triplet_margin_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import triplet_margin_loss
    >>> a, p, n = np.asarray([[0.0, 0.0]]), np.asarray([[3.0, 4.0]]), np.asarray([[0.0, 1.0]])
    >>> round(float(triplet_margin_loss(a, p, n, eps=0.0)), 6)
    5.0
    """
    reduction = torch_reduction(size_average, reduce, reduction)
    return _triplet(anchor, positive, negative, PairwiseDistance(p, eps), margin, swap, reduction)


@options(margin=number(low=0, low_open=True), swap=flag, reduction=REDUCTION)
@native_torch("triplet_margin_with_distance_loss", triplet, arity=3)
def triplet_margin_with_distance_loss(
    anchor: Any,
    positive: Any,
    negative: Any,
    *,
    distance_function: Callable[[Any, Any], Any] | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Any:
    r"""Triplet margin loss with any distance, as torch's ``triplet_margin_with_distance_loss``.

    .. math::

        \ell_i = \max(d(a_i, p_i) - d(a_i, n_i) + m, 0)

    ``distance_function(x1, x2)`` receives arrays of the caller's library (in float32 for
    half-precision inputs) and returns one distance per row; the default is torch's
    ``pairwise_distance`` (``||x1 - x2 + 1e-6||_2``) written with the Array API.

    Works on any Array API library (NumPy, CuPy, JAX, PyTorch, Dask, array-api-strict): the
    result has the input's library, dtype and device.

    Parameters
    ----------
    anchor, positive, negative : array, shape (N, D) or (D,)
        Embeddings, same shape; integer embeddings compute in floating point, as in torch.
    distance_function : callable, optional
        Non-negative distance between two arrays, reducing the last axis.
    margin : float, default 1.0
        Required gap, positive (torch raises otherwise).
    swap : bool, default False
        Use ``min(d(a, n), d(p, n))`` as the negative distance.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        ``'none'``: no reduction; ``'mean'``: the mean over all elements; ``'sum'``: the sum.

    Returns
    -------
    array
        Scalar, or shape (N,) with ``reduction='none'``.

    References
    ----------
    torch.nn.functional.triplet_margin_with_distance_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import triplet_margin_with_distance_loss
    >>> l1 = lambda x, y: np.sum(np.abs(x - y), axis=-1)
    >>> a, p, n = np.asarray([[0.0, 0.0]]), np.asarray([[1.0, 1.0]]), np.asarray([[0.0, 1.0]])
    >>> float(triplet_margin_with_distance_loss(a, p, n, distance_function=l1))
    2.0
    """
    if distance_function is not None and not callable(distance_function):
        msg = f"`distance_function` must be callable or None, got {type(distance_function)}."
        raise TypeError(msg)
    distance = distance_function or PairwiseDistance()
    return _triplet(anchor, positive, negative, distance, margin, swap, reduction)
