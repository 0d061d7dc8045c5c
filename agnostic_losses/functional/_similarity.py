"""torch.nn.functional similarity and metric-learning losses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._dispatch import check_same_shape, namespace, normalize_axes
from .._docs import fill_doc
from .._kernels import similarity as _k
from .._native import autocast_float32, native_torch, triplet
from .._surface import REDUCTION, TORCH_REDUCTION, Call, flag, number, options, torch_reduction

__all__ = [
    "cosine_embedding_loss",
    "cosine_similarity",
    "pairwise_distance",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]

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


def _distance(p: float, eps: float) -> Callable[[Any, Any], Any]:
    """The triplet losses' distance: :func:`pairwise_distance` on arrays already validated."""
    return lambda x1, x2: _k.pnorm(namespace(x1=x1, x2=x2), x1 - x2 + eps, p)


def _broadcast_pair(c: Call, x1: Any, x2: Any) -> tuple[Any, Any]:
    """``x1`` and ``x2`` broadcast to one shape (torch's rule). Written out, not
    ``np.broadcast_shapes``: a symbolic size (``jax.export``, ``torch.export``) is no int."""
    s1, s2 = tuple(x1.shape), tuple(x2.shape)
    n = max(len(s1), len(s2))
    padded = [(1,) * (n - len(s)) + s for s in (s1, s2)]
    if any(a != b and 1 not in (a, b) for a, b in zip(*padded)):
        msg = f"`x1` and `x2` must broadcast to one shape, got {s1} and {s2}."
        raise ValueError(msg)
    shape = tuple(b if a == 1 else a for a, b in zip(*padded))
    return c.xp.broadcast_to(x1, shape), c.xp.broadcast_to(x2, shape)


@options(p=number(), eps=number(), keepdim=flag)
@native_torch("pairwise_distance")
@fill_doc
def pairwise_distance(
    x1: Any, x2: Any, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Any:
    r"""p-norm distance between the rows of two arrays, as torch's ``pairwise_distance``.

    .. math::

        d = \lVert x_1 - x_2 + \varepsilon \rVert_p

    over the last axis of the broadcast shape. ``p = 0`` counts the non-zero differences,
    ``p = \pm\infty`` takes the largest / smallest ``|x_1 - x_2 + eps|``, a negative ``p``
    follows the same formula (0 where a difference is 0), as torch's ``linalg.vector_norm``.
    This is the default ``distance_function`` of :func:`triplet_margin_with_distance_loss`.

    {backends}

    Parameters
    ----------
    x1, x2 : array, shape (..., D)
        Broadcast against each other; integer arrays compute in floating point, as in torch.
    p : float, default 2.0
        The norm's degree.
    eps : float, default 1e-6
        Added to every difference (torch's convention: it keeps the 2-norm's gradient finite
        when ``x1 == x2``).
    keepdim : bool, default False
        Keep the reduced axis, with length 1.

    Returns
    -------
    array
        Shape ``(...)`` (``(..., 1)`` with ``keepdim``); a 0-d result for 0-d inputs.

    References
    ----------
    torch.nn.functional.pairwise_distance.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import pairwise_distance
    >>> x1, x2 = np.asarray([[0.0, 0.0], [1.0, 1.0]]), np.asarray([[3.0, 4.0], [1.0, 1.0]])
    >>> np.round(pairwise_distance(x1, x2, eps=0.0), 6)
    array([5., 0.])
    """
    c = Call("torch", x1=x1, x2=x2)
    a = c.input("x1", promote=("x2",), values=("integral",))
    b = c.floating("x2", values=("integral",))
    a, b = _broadcast_pair(c, a, b)
    if a.ndim == 0:  # torch takes the norm of a 0-d difference, still 0-d
        a, b = c.xp.reshape(a, (1,)), c.xp.reshape(b, (1,))
        keepdim = False
    d = _k.pnorm(c.xp, a - b + eps, p)
    return c.finish(d[..., None] if keepdim else d)


@autocast_float32
@options(dim=number(integer=True), eps=number(low=0))
@fill_doc
def cosine_similarity(x1: Any, x2: Any, dim: int = 1, eps: float = 1e-8) -> Any:
    r"""Cosine similarity along one axis, as torch's ``cosine_similarity``.

    .. math::

        s = \sum_d \frac{x_{1,d}}{\max(\lVert x_1 \rVert_2, \varepsilon)}
            \frac{x_{2,d}}{\max(\lVert x_2 \rVert_2, \varepsilon)}

    Each norm is floored on its own and each vector divided by it first, as torch computes
    it (its docs write ``max(|x1| |x2|, eps)``); a zero vector gives 0 with a finite
    gradient. (Not optax's :func:`agnostic_losses.cosine_similarity`, which floors the
    squared norms and takes the last axis.)

    {backends}

    Parameters
    ----------
    x1, x2 : array
        Broadcast against each other; one of them may have an integer or boolean dtype, as in
        torch (both integral: torch and we raise).
    dim : int, default 1
        The axis of the broadcast shape that holds the vectors.
    eps : float, default 1e-8
        Floor of each norm, non-negative.

    Returns
    -------
    array
        The broadcast shape without ``dim``.

    References
    ----------
    torch.nn.functional.cosine_similarity.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import cosine_similarity
    >>> x1, x2 = np.asarray([[1.0, 0.0], [1.0, 1.0]]), np.asarray([[0.0, 2.0], [2.0, 2.0]])
    >>> np.round(cosine_similarity(x1, x2), 6)
    array([0., 1.])
    """
    c = Call("torch", x1=x1, x2=x2)
    xp = c.xp
    kinds = ("integral", "bool")
    if all(xp.isdtype(c[n].dtype, kinds) for n in ("x1", "x2")):
        msg = (
            f"`x1` and `x2` must not both be integral: one needs a floating dtype, got "
            f"{c['x1'].dtype} and {c['x2'].dtype}."
        )
        raise TypeError(msg)
    # an integral x1 takes x2's floating dtype (Call.input's `values`), as torch promotes
    a = c.input("x1", promote=("x2",), values=kinds)
    a, b = _broadcast_pair(c, a, c.floating("x2", values=kinds))
    (axis,) = normalize_axes("dim", dim, max(a.ndim, 1), tuples=False, none=False)
    if a.ndim == 0:  # torch takes dim 0 (or -1) of a 0-d pair as the pair itself
        a, b = xp.reshape(a, (1,)), xp.reshape(b, (1,))
    return c.finish(_k.torch_cosine_similarity(xp, a, b, eps, axis))


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
    return _triplet(anchor, positive, negative, _distance(p, eps), margin, swap, reduction)


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
    distance = distance_function or _distance(2.0, 1e-6)
    return _triplet(anchor, positive, negative, distance, margin, swap, reduction)
