"""Top-level margin losses (optax names, plus keras's squared hinge; unreduced output)."""

from __future__ import annotations

from typing import Any

from .._dispatch import check_integer
from .._docs import fill_doc
from .._kernels import margin as _k
from .._native import native_route, perceptron_margin
from .._surface import Call

__all__ = [
    "hinge_loss",
    "multiclass_hinge_loss",
    "multiclass_perceptron_loss",
    "perceptron_loss",
    "squared_hinge_loss",
]


def _binary(func: Any, predictor_outputs: Any, targets: Any, signed: bool = False) -> tuple:
    """``(call, loss)`` of an elementwise margin loss; ``signed``: keras's 0/1 -> -1/1 rule.
    optax's arithmetic promotes the outputs' dtype with the targets'; keras (``signed``) casts
    the targets to the outputs' dtype."""
    c = Call("top", predictor_outputs=predictor_outputs, targets=targets)
    x = c.input("predictor_outputs", promote=() if signed else ("targets",))
    y = c.target("targets", "predictor_outputs", integers=True)
    return c, func(c.xp, x, _k.to_signed_labels(c.xp, y) if signed else y)


def _multiclass(func: Any, scores: Any, labels: Any, binary: str) -> Any:
    c = Call("top", scores=scores, labels=labels)
    x, y = c.input("scores"), c["labels"]
    check_integer(
        c.xp, "labels", y, f"For -1/1 targets of the same shape as the scores use `{binary}`."
    )
    if x.ndim < 1 or tuple(y.shape) != tuple(x.shape[:-1]):
        msg = (
            "`labels` must have the shape of `scores` without its last (class) axis; got "
            f"`scores` {tuple(x.shape)} and `labels` {tuple(y.shape)}."
        )
        raise ValueError(msg)
    c.widen_half()  # optax's one_hot(labels) is float32
    return c.finish(func(c.xp, x, c.labels("labels", x.shape[-1])))


@fill_doc
def hinge_loss(predictor_outputs: Any, targets: Any) -> Any:
    r"""Binary hinge loss of each element, targets in {-1, 1}.

    .. math::

        \ell(x, y) = \max(0, 1 - y x)

    Targets must be -1 or 1, as in optax; 0/1 labels are *not* remapped here (a 0 target gives
    the constant loss 1). Use :func:`squared_hinge_loss` for keras's remapping of 0/1 targets,
    or pass ``2 * labels - 1``. At the margin ``y x = 1`` the gradient is half the one-sided
    slope on every backend.

    {backends}

    Parameters
    ----------
    predictor_outputs : array, shape (...)
        Decision function outputs, real floating.
    targets : array, shape (...)
        -1 or 1, same shape as ``predictor_outputs`` (integer or floating).

    Returns
    -------
    array, shape (...)
        The unreduced loss.

    References
    ----------
    optax.losses.hinge_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import hinge_loss
    >>> hinge_loss(np.asarray([2.0, 0.5, -1.0]), np.asarray([1.0, 1.0, 1.0]))
    array([0. , 0.5, 2. ])
    """
    c, loss = _binary(_k.hinge, predictor_outputs, targets)
    return c.finish(loss)


@fill_doc
def perceptron_loss(predictor_outputs: Any, targets: Any) -> Any:
    r"""Binary perceptron loss of each element, targets in {-1, 1}.

    .. math::

        \ell(x, y) = \max(0, -y x)

    {backends}

    Parameters
    ----------
    predictor_outputs : array, shape (...)
        Scores, real floating.
    targets : array, shape (...)
        -1 or 1, same shape as ``predictor_outputs``.

    Returns
    -------
    array, shape (...)
        The unreduced loss.

    References
    ----------
    optax.losses.perceptron_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import perceptron_loss
    >>> perceptron_loss(np.asarray([2.0, -0.5]), np.asarray([1.0, 1.0]))
    array([0. , 0.5])
    """
    c, loss = _binary(_k.perceptron, predictor_outputs, targets)
    return c.finish(loss)


@fill_doc
def squared_hinge_loss(predictor_outputs: Any, targets: Any) -> Any:
    r"""Squared hinge loss averaged over the last axis, as keras's ``squared_hinge``.

    .. math::

        \ell(x, y) = \frac{1}{d} \sum_{k=1}^{d} \max(0, 1 - y_k x_k)^2

    Targets are -1 or 1; as in keras, a ``targets`` array whose values are all 0 or 1 is first
    mapped to -1/1 (``2 y - 1``). The test is made on the whole array, so a batch whose targets
    happen to be all 1 is left unchanged either way. Argument order is (prediction, target),
    unlike keras's ``(y_true, y_pred)``.

    {backends}

    Parameters
    ----------
    predictor_outputs : array, shape (..., d)
        Decision function outputs, real floating.
    targets : array, shape (..., d)
        -1/1 (or 0/1) targets, same shape as ``predictor_outputs``.

    Returns
    -------
    array, shape (...)
        The loss of each sample (the last axis is averaged, as in keras).

    References
    ----------
    keras.losses.squared_hinge.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import squared_hinge_loss
    >>> x = np.asarray([[0.5, -2.0], [1.0, 0.0]])
    >>> squared_hinge_loss(x, np.asarray([[1, 0], [1, 1]]))
    array([0.125, 0.5  ])
    """
    c, loss = _binary(_k.squared_hinge, predictor_outputs, targets, signed=True)
    return c.finish(c.xp.mean(loss, axis=-1) if loss.ndim > 0 else loss)


@fill_doc
def multiclass_hinge_loss(scores: Any, labels: Any) -> Any:
    r"""Crammer-Singer multiclass hinge loss of each sample.

    .. math::

        \ell(s, y) = \max_j \left(s_j + 1 - [j = y]\right) - s_y

    This is optax's (and braintools's) multiclass hinge: one max over classes. torch's
    ``multi_margin_loss`` is the Weston-Watkins sum instead
    (:func:`agnostic_losses.functional.multi_margin_loss`). The loss is invariant to adding a
    constant to every score, and 0 when ``s_y`` beats every other score by at least 1.

    {backends}

    Parameters
    ----------
    scores : array, shape (..., C)
        Class scores, real floating.
    labels : array of int, shape (...)
        Class indices in ``[0, C)``. Out-of-range labels raise ValueError on eager arrays and
        give NaN under ``jax.jit``/Dask (never the loss of a clamped class).

    Returns
    -------
    array, shape (...)
        The unreduced loss.

    References
    ----------
    optax.losses.multiclass_hinge_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import multiclass_hinge_loss
    >>> scores = np.asarray([[2.0, 0.5, 1.5], [0.0, 3.0, 1.0]])
    >>> multiclass_hinge_loss(scores, np.asarray([0, 1]))
    array([0.5, 0. ])
    """
    return _multiclass(_k.multiclass_hinge, scores, labels, "hinge_loss")


@native_route(perceptron_margin)
@fill_doc
def multiclass_perceptron_loss(scores: Any, labels: Any) -> Any:
    r"""Multiclass perceptron loss of each sample.

    .. math::

        \ell(s, y) = \max_j s_j - s_y

    {backends}

    Parameters
    ----------
    scores : array, shape (..., C)
        Class scores, real floating.
    labels : array of int, shape (...)
        Class indices in ``[0, C)`` (out-of-range: ValueError eagerly, NaN under jit/Dask).

    Returns
    -------
    array, shape (...)
        The unreduced loss.

    References
    ----------
    optax.losses.multiclass_perceptron_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import multiclass_perceptron_loss
    >>> scores = np.asarray([[2.0, 0.5, 1.5], [0.0, 3.0, 1.0]])
    >>> multiclass_perceptron_loss(scores, np.asarray([2, 1]))
    array([0.5, 0. ])
    """
    return _multiclass(_k.multiclass_perceptron, scores, labels, "perceptron_loss")
