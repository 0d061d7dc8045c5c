"""Top-level similarity and metric-learning losses (optax / braintools / keras names)."""

from __future__ import annotations

from typing import Any

from .._dispatch import (
    check_axis,
    check_integer,
    check_labelled_embeddings,
    check_same_shape,
    normalize_axes,
)
from .._docs import fill_doc
from .._kernels import similarity as _k
from .._surface import Call, number, options

__all__ = [
    "circle_loss",
    "cosine_distance",
    "cosine_similarity",
    "ntxent",
    "pairwise_cosine_distance",
    "pairwise_cosine_similarity",
    "triplet_margin_loss",
]


def _cosine(predictions: Any, targets: Any, epsilon: float, axis: Any, where: Any) -> tuple:
    """``(call, similarity)`` along ``axis``, excluded entries (``where``) zeroed first."""
    c = Call("top", predictions=predictions, targets=targets, where=where)
    a = c.input("predictions", promote=("targets",))
    b = c.floating("targets", like="predictions")
    axes = normalize_axes("axis", axis, a.ndim)
    where = c.where("where", "predictions")
    if where is not None:
        a, b = c.xp.where(where, a, 0.0), c.xp.where(where, b, 0.0)
    return c, _k.cosine_similarity(c.xp, a, b, epsilon, axes)


@options(epsilon=number(arrays=True))
@fill_doc
def cosine_similarity(
    predictions: Any, targets: Any, *, epsilon: float = 0.0, axis: Any = -1, where: Any = None
) -> Any:
    r"""Cosine similarity of predictions and targets along ``axis``.

    .. math::

        s(a, b) = \frac{\langle a, b \rangle}
                       {\sqrt{\max(\|a\|^2, \epsilon)} \sqrt{\max(\|b\|^2, \epsilon)}}

    ``epsilon`` floors each squared norm, as in optax. A zero vector with ``epsilon=0`` gives
    similarity 0 and a zero gradient (optax gives NaN for both).

    {backends}

    Parameters
    ----------
    predictions : array, shape (..., dim)
        Predicted vectors.
    targets : array, shape (..., dim)
        Target vectors, same shape.
    epsilon : float, default 0.0
        Floor of each squared norm.
    axis : int or tuple of int or None, default -1
        Axis or axes holding the vectors.
    where : array of bool, optional
        Elements to include, broadcastable to the inputs; excluded ones count as 0 and receive
        no gradient.

    Returns
    -------
    array, shape (...)
        Similarities in [-1, 1].

    References
    ----------
    optax.losses.cosine_similarity.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import cosine_similarity
    >>> a = np.asarray([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    >>> b = np.asarray([[2.0, 0.0], [-1.0, 0.0], [1.0, 0.0]])
    >>> np.round(cosine_similarity(a, b), 7)
    array([ 1.       , -0.7071068,  0.       ])
    """
    c, sim = _cosine(predictions, targets, epsilon, axis, where)
    return c.finish(sim)


@options(epsilon=number(arrays=True))
@fill_doc
def cosine_distance(
    predictions: Any, targets: Any, *, epsilon: float = 0.0, axis: Any = -1, where: Any = None
) -> Any:
    r"""Cosine distance ``1 - cosine_similarity`` of predictions and targets along ``axis``.

    .. math::

        d(a, b) = 1 - \frac{\langle a, b \rangle}
                           {\sqrt{\max(\|a\|^2, \epsilon)} \sqrt{\max(\|b\|^2, \epsilon)}}

    A zero vector with ``epsilon=0`` gives distance 1 and a zero gradient (optax: NaN).

    {backends}

    Parameters
    ----------
    predictions : array, shape (..., dim)
        Predicted vectors.
    targets : array, shape (..., dim)
        Target vectors, same shape.
    epsilon : float, default 0.0
        Floor of each squared norm.
    axis : int or tuple of int or None, default -1
        Axis or axes holding the vectors.
    where : array of bool, optional
        Elements to include, broadcastable to the inputs.

    Returns
    -------
    array, shape (...)
        Distances in [0, 2].

    References
    ----------
    optax.losses.cosine_distance.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import cosine_distance
    >>> a, b = np.asarray([1.0, 0.0]), np.asarray([0.0, 3.0])
    >>> float(cosine_distance(a, b))
    1.0
    """
    c, sim = _cosine(predictions, targets, epsilon, axis, where)
    return c.finish(1.0 - sim)


def _pairwise(x: Any, y: Any, eps: float) -> tuple:
    """``(call, similarity matrix)`` of the rows of ``x`` and ``y`` (default ``x``)."""
    c = Call("top", X=x, Y=y)
    a = c.input("X", promote=("Y",))
    if a.ndim != 2:
        msg = f"`X` must be a 2-d array (n_samples, n_features), got shape {tuple(a.shape)}."
        raise ValueError(msg)
    b = a if y is None else c.floating("Y")
    if b.ndim != 2 or b.shape[1] != a.shape[1]:
        msg = (
            f"`Y` must be a 2-d array with {a.shape[1]} features like `X`, got shape "
            f"{tuple(b.shape)}."
        )
        raise ValueError(msg)
    return c, _k.pairwise_cosine_similarity(c.xp, a, b, eps)


@options(eps=number(arrays=True))
@fill_doc
def pairwise_cosine_similarity(X: Any, Y: Any = None, eps: float = 1e-8) -> Any:
    r"""Matrix of cosine similarities between the rows of ``X`` and the rows of ``Y``.

    .. math::

        S_{ij} = \frac{\langle x_i, y_j \rangle}{\max(\|x_i\|, \epsilon) \max(\|y_j\|, \epsilon)}

    A pair involving a zero row has similarity 0 and a finite gradient.

    {backends}

    Parameters
    ----------
    X : array, shape (n, d)
        Rows to compare.
    Y : array, shape (m, d), optional
        Rows to compare against; ``X`` itself when omitted.
    eps : float, default 1e-8
        Floor of each row norm (as torch's ``cosine_similarity``), so tiny non-zero rows
        keep their direction.

    Returns
    -------
    array, shape (n, m)
        Similarities.

    References
    ----------
    braintools.metric.pairwise_cosine_similarity (optax 0.2.8 has no pairwise variant).

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import pairwise_cosine_similarity
    >>> X = np.asarray([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    >>> np.round(pairwise_cosine_similarity(X), 4)
    array([[1.    , 0.    , 0.7071],
           [0.    , 1.    , 0.7071],
           [0.7071, 0.7071, 1.    ]])
    """
    c, sim = _pairwise(X, Y, eps)
    return c.finish(sim)


@options(eps=number(arrays=True))
@fill_doc
def pairwise_cosine_distance(X: Any, Y: Any = None, eps: float = 1e-8) -> Any:
    r"""Matrix of cosine distances ``1 - S_ij`` between the rows of ``X`` and of ``Y``.

    .. math::

        D_{ij} = 1 - \frac{\langle x_i, y_j \rangle}
                          {\max(\|x_i\|, \epsilon) \max(\|y_j\|, \epsilon)}

    {backends}

    Parameters
    ----------
    X : array, shape (n, d)
        Rows to compare.
    Y : array, shape (m, d), optional
        Rows to compare against; ``X`` itself when omitted.
    eps : float, default 1e-8
        Floor of each row norm (as torch's ``cosine_similarity``), so tiny non-zero rows
        keep their direction.

    Returns
    -------
    array, shape (n, m)
        Distances in [0, 2].

    References
    ----------
    braintools.metric.pairwise_cosine_distance.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import pairwise_cosine_distance
    >>> X = np.asarray([[1.0, 0.0], [-1.0, 0.0]])
    >>> pairwise_cosine_distance(X)
    array([[0., 2.],
           [2., 0.]])
    """
    c, sim = _pairwise(X, Y, eps)
    return c.finish(1.0 - sim)


@options(norm_degree=number(arrays=True), margin=number(arrays=True), eps=number(arrays=True))
@fill_doc
def triplet_margin_loss(
    anchors: Any,
    positives: Any,
    negatives: Any,
    axis: int = -1,
    norm_degree: float = 2,
    margin: float = 1.0,
    eps: float = 1e-6,
) -> Any:
    r"""Triplet margin loss of each (anchor, positive, negative) triple, optax's formula.

    .. math::

        \ell = \max(d(a, p) - d(a, n) + m, 0), \qquad
        d(a, b) = \Big(\sum_k |a_k - b_k|^{p} + \epsilon\Big)^{1/p}

    ``eps`` sits inside the root, so the gradient is finite when ``a == p``. We take
    ``|a - b|`` before the power (optax raises ``a - b`` itself, which differs for odd ``p``).

    {backends}

    Parameters
    ----------
    anchors, positives, negatives : array, shape (batch, dim)
        Embeddings, same shape.
    axis : int, default -1
        Axis holding the features.
    norm_degree : float, default 2
        The ``p`` of the distance, positive.
    margin : float, default 1.0
        Required gap between the negative and the positive distance.
    eps : float, default 1e-6
        Added inside the root.

    Returns
    -------
    array, shape (batch,)
        The unreduced loss.

    References
    ----------
    optax.losses.triplet_margin_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import triplet_margin_loss
    >>> a = np.asarray([[0.0, 0.0], [1.0, 1.0]])
    >>> p = np.asarray([[0.1, 0.1], [1.1, 1.1]])
    >>> n = np.asarray([[1.0, 0.0], [0.0, 1.0]])
    >>> np.round(triplet_margin_loss(a, p, n), 4)
    array([0.1414, 0.1414])
    """
    c = Call("top", anchors=anchors, positives=positives, negatives=negatives, margin=margin)
    a = c.input("anchors", promote=("positives", "negatives"))
    p, n = c.floating("positives"), c.floating("negatives")
    check_same_shape("anchors", a, "positives", p)
    check_same_shape("anchors", a, "negatives", n)
    ax = check_axis("axis", axis, a.ndim)
    if not norm_degree > 0:
        msg = f"`norm_degree` must be positive, got {norm_degree!r}."
        raise ValueError(msg)
    d_pos = _k.optax_triplet_distance(c.xp, a, p, norm_degree, eps, ax)
    d_neg = _k.optax_triplet_distance(c.xp, a, n, norm_degree, eps, ax)
    return c.finish(_k.triplet_hinge(c.xp, d_pos, d_neg, c.param("margin")))


@options(temperature=number(arrays=True))
@fill_doc
def ntxent(embeddings: Any, labels: Any, temperature: float = 0.07) -> Any:
    r"""Normalized temperature-scaled cross-entropy (NT-Xent), averaged over positive pairs.

    .. math::

        \ell = -\frac{1}{|P|} \sum_{(i, j) \in P}
        \log \frac{e^{s_{ij}}}{e^{s_{ij}} + \sum_{k: y_k \ne y_i} e^{s_{ik}}},
        \qquad s_{ij} = \cos(e_i, e_j) / T

    over the positive pairs ``P = {(i, j): i != j, y_i = y_j}``. Log-sum-exp throughout. With
    no positive pair at all the loss is 0 (optax: NaN).

    {backends}

    Parameters
    ----------
    embeddings : array, shape (batch, dim)
        Embeddings, real floating.
    labels : array, shape (batch,)
        Integer group ids; equal ids mark positive pairs.
    temperature : float, default 0.07
        Temperature ``T``.

    Returns
    -------
    array, shape ()
        The mean loss.

    References
    ----------
    optax.losses.ntxent.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import ntxent
    >>> e = np.asarray([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.1, 1.0]])
    >>> round(float(ntxent(e, np.asarray([0, 0, 1, 1]), temperature=1.0)), 6)
    0.597808
    """
    c = Call("top", embeddings=embeddings, labels=labels, temperature=temperature)
    e, labels = c.input("embeddings"), c["labels"]
    check_integer(c.xp, "labels", labels, "Pass group ids as integers.")
    if e.ndim != 2:
        msg = f"`embeddings` must be 2-d (batch, dim), got shape {tuple(e.shape)}."
        raise ValueError(msg)
    if labels.ndim != 1 or labels.shape[0] != e.shape[0]:
        msg = (
            f"`labels` must have shape ({e.shape[0]},) to match `embeddings`, got "
            f"{tuple(labels.shape)}."
        )
        raise ValueError(msg)
    return c.finish(_k.ntxent(c.xp, e, labels, c.param("temperature")))


@options(gamma=number(arrays=True), margin=number(arrays=True))
@fill_doc
def circle_loss(
    embeddings: Any,
    labels: Any,
    ref_embeddings: Any = None,
    ref_labels: Any = None,
    remove_diagonal: bool = True,
    gamma: float = 80.0,
    margin: float = 0.4,
) -> Any:
    r"""Circle loss of each embedding against a reference set, as Keras 3's ``circle``.

    On cosine distances :math:`d_{ij} = \max(1 - \langle e_i, r_j \rangle, 0)`,

    .. math::

        \ell_i = \operatorname{softplus}\Big(
          \operatorname{LSE}_{j \in P_i} \big[-\gamma\, \alpha^p_{ij} (m - d_{ij})\big] +
          \operatorname{LSE}_{j \in N_i} \big[\gamma\, \alpha^n_{ij} (1 - m - d_{ij})\big]\Big)

    with :math:`\alpha^p = \max(m + d, 0)`, :math:`\alpha^n = \max(1 + m - d, 0)` (not detached,
    as in keras), positives :math:`P_i` (same label, minus ``j = i`` when ``remove_diagonal``)
    and negatives :math:`N_i` (other labels). A row without positives or without negatives is 0
    with a zero gradient. Embeddings are expected L2-normalised, as in keras.

    {backends}

    Parameters
    ----------
    embeddings : array, shape (batch, dim)
        Query embeddings (keras's ``y_pred``).
    labels : array, shape (batch,)
        Integer labels of the queries (keras's ``y_true``).
    ref_embeddings : array, shape (n_ref, dim), optional
        Reference embeddings; ``embeddings`` when omitted.
    ref_labels : array, shape (n_ref,), optional
        Integer labels of the references; ``labels`` when omitted.
    remove_diagonal : bool, default True
        Exclude ``j = i`` from the positives (self-similarity).
    gamma : float, default 80.0
        Scale.
    margin : float, default 0.4
        Relaxation margin.

    Returns
    -------
    array, shape (batch,)
        The unreduced loss per query (keras then averages).

    References
    ----------
    keras.losses.circle (Sun et al., 2020, Circle Loss). Arguments follow optax-style names:
    ``(embeddings, labels)`` rather than keras's ``(y_true, y_pred)``.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import circle_loss
    >>> e = np.asarray([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    >>> np.round(circle_loss(e, np.asarray([0, 0, 1]), gamma=2.0), 6)
    array([0.545893, 1.284178, 0.      ])
    """
    c = Call(
        "top",
        embeddings=embeddings,
        labels=labels,
        ref_embeddings=ref_embeddings,
        ref_labels=ref_labels,
    )
    e, labels = c.input("embeddings", promote=("ref_embeddings",)), c["labels"]
    check_integer(c.xp, "labels", labels)
    r = e if ref_embeddings is None else c.floating("ref_embeddings")
    ref_labels = labels if ref_labels is None else c["ref_labels"]
    check_integer(c.xp, "ref_labels", ref_labels)
    check_labelled_embeddings(
        ("embeddings", e, "labels", labels), ("ref_embeddings", r, "ref_labels", ref_labels)
    )
    loss = _k.circle(c.xp, e, labels, r, ref_labels, remove_diagonal, gamma, margin)
    return c.finish(loss)
