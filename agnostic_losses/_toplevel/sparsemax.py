"""Top-level sparsemax and Fenchel-Young losses (optax names, unreduced output)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._dispatch import (
    at_least_float32,
    cast,
    check_floating,
    check_integer,
    check_labels_in_range,
    check_same_shape,
    class_indices,
    compute_dtype,
    namespace,
    promoted,
    stop_gradient,
)
from .._docs import fill_doc
from .._kernels import sparsemax as _k
from .._surface import companions, with_companions

__all__ = ["make_fenchel_young_loss", "multiclass_sparsemax_loss", "sparsemax_loss"]


@fill_doc
def sparsemax_loss(logits: Any, labels: Any) -> Any:
    r"""Binary sparsemax loss of each element.

    .. math::

        \ell(x, y) = \operatorname{sparse\_plus}(-x) \text{ if } y \text{ else }
        \operatorname{sparse\_plus}(x), \quad
        \operatorname{sparse\_plus}(t) = \begin{cases} 0 & t \le -1 \\ (t + 1)^2 / 4 & |t| < 1
        \\ t & t \ge 1 \end{cases}

    Zero exactly when the sparse sigmoid of ``x`` equals the label (``x >= 1`` for label 1,
    ``x <= -1`` for label 0).

    {backends}

    Parameters
    ----------
    logits : array, shape (...)
        Scores, real floating.
    labels : array, shape (...)
        0/1 labels (integer, boolean or floating; any nonzero value counts as 1, as in optax),
        same shape as ``logits``. For class indices use :func:`multiclass_sparsemax_loss`.

    Returns
    -------
    array, shape (...)
        The unreduced loss.

    References
    ----------
    optax.losses.sparsemax_loss; Blondel, Martins, Niculae, "Learning with Fenchel-Young
    losses", JMLR 2020, sec. 4.4.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import sparsemax_loss
    >>> sparsemax_loss(np.asarray([2.0, 0.0, -3.0]), np.asarray([1, 1, 1]))
    array([0.  , 0.25, 3.  ])
    """
    xp = namespace(logits=logits, labels=labels)
    check_floating(xp, "logits", logits)
    if tuple(logits.shape) != tuple(labels.shape):
        msg = (
            f"`logits` and `labels` must have the same shape; got {tuple(logits.shape)} and "
            f"{tuple(labels.shape)}. For class-index labels use `multiclass_sparsemax_loss`."
        )
        raise ValueError(msg)
    work = compute_dtype(xp, logits.dtype)
    loss = _k.binary_sparsemax(xp, cast(xp, logits, work), labels)
    return cast(xp, loss, logits.dtype)


@fill_doc
def multiclass_sparsemax_loss(scores: Any, labels: Any) -> Any:
    r"""Multiclass sparsemax loss of each sample (Fenchel-Young loss of the Gini entropy).

    .. math::

        \ell(s, y) = \langle p, s \rangle - s_y + \tfrac12 (1 - \lVert p \rVert^2),
        \qquad p = \operatorname{sparsemax}(s) = \arg\min_{q \in \Delta} \lVert q - s \rVert^2

    The projection onto the simplex uses sorting and a cumulative sum (no data-dependent
    shapes). The gradient is ``sparsemax(s) - onehot(y)``, also where a score ties with the
    threshold (optax's agrees there; autodiff through the sort-based threshold would not); the
    loss is 0 when ``s_y`` beats every other score by at least 1, and invariant to adding a
    constant to all scores. ``-inf`` scores (masked classes) get probability 0 and a zero
    gradient; a row of only ``-inf`` scores gives ``+inf`` with a zero gradient (optax: NaN).

    {backends}

    Parameters
    ----------
    scores : array, shape (..., C)
        Class scores, real floating.
    labels : array of int, shape (...)
        Class indices in ``[0, C)`` (ValueError eagerly, NaN under jit/Dask otherwise).

    Returns
    -------
    array, shape (...)
        The unreduced loss.

    References
    ----------
    optax.losses.multiclass_sparsemax_loss; Martins and Astudillo, "From softmax to sparsemax",
    ICML 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import multiclass_sparsemax_loss
    >>> scores = np.asarray([[3.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    >>> multiclass_sparsemax_loss(scores, np.asarray([0, 2]))
    array([0.        , 0.33333333])
    """
    xp = namespace(scores=scores, labels=labels)
    check_floating(xp, "scores", scores)
    check_integer(
        xp, "labels", labels, "For 0/1 labels of the same shape as the scores use `sparsemax_loss`."
    )
    if scores.ndim < 1 or tuple(labels.shape) != tuple(scores.shape[:-1]):
        msg = (
            f"`labels` must have the shape of `scores` without its last (class) axis; got "
            f"`scores` {tuple(scores.shape)} and `labels` {tuple(labels.shape)}."
        )
        raise ValueError(msg)
    labels = class_indices(xp, labels)
    check_labels_in_range(xp, "labels", labels, scores.shape[-1])
    work = compute_dtype(xp, scores.dtype)
    loss = _k.multiclass_sparsemax(xp, cast(xp, scores, work), labels)
    return cast(xp, loss, at_least_float32(xp, scores.dtype))  # optax's one_hot is float32


def _apply_last_axis(xp: Any, fun: Callable[..., Any], scores: Any, *args: Any, **kw: Any) -> Any:
    """``fun`` applied to each vector along the last axis of ``scores``, output ``shape[:-1]``.

    A ``fun`` that already reduces the last axis is called once. One that reduces everything
    (e.g. ``jax.scipy.special.logsumexp`` without ``axis``, as optax's examples pass it) is
    applied row by row over the static batch shape, like optax's ``jnp.vectorize``.
    """
    batch = tuple(scores.shape[:-1])
    out = fun(scores, *args, **kw)
    if tuple(out.shape) == batch:
        return out
    if out.ndim != 0:
        msg = (
            f"`max_fun` must reduce the last axis of `scores`: expected an output of shape "
            f"{batch} or a scalar per vector, got {tuple(out.shape)}."
        )
        raise ValueError(msg)
    rows = xp.reshape(scores, (-1, scores.shape[-1]))
    values = [fun(rows[i, ...], *args, **kw) for i in range(rows.shape[0])]
    return xp.reshape(xp.stack(values), batch)


def _with_gradient(xp: Any, value: Any, scores: Any, gradient: Any) -> Any:
    """``value`` whose derivative with respect to ``scores`` is ``gradient``.

    The straight-through form ``stop(v) + <stop(g), s> - stop(<stop(g), s>)`` has the value
    ``v`` and the gradient ``g``; without autodiff ``stop`` is the identity and it is ``v``.
    """
    surrogate = xp.sum(stop_gradient(gradient) * scores, axis=-1)
    return stop_gradient(value) + surrogate - stop_gradient(surrogate)


def make_fenchel_young_loss(
    max_fun: Callable[..., Any], grad_max_fun: Callable[..., Any] | None = None
) -> Callable[..., Any]:
    r"""Build the Fenchel-Young loss of a regularised max function.

    .. math::

        \ell(s, y) = \max_\Omega(s) - \langle y, s \rangle

    The loss works on the last axis; leading axes are batch axes. Its gradient with respect to
    ``s`` is ``grad max_Omega(s) - y``, obtained by the backend's autodiff through ``max_fun``
    (torch, JAX), so ``max_fun`` must be written with the scores' own namespace (e.g.
    :func:`agnostic_losses._numerics.logsumexp` or any Array API code).

    Parameters
    ----------
    max_fun : callable
        ``max_fun(scores, *args, **kwargs)``: either reduces the last axis (output shape
        ``scores.shape[:-1]``) or maps one vector to a scalar (then applied row by row, as
        optax's ``jnp.vectorize``).
    grad_max_fun : callable, optional
        ``grad_max_fun(scores, *args, **kwargs)`` with the shape of ``scores``: the gradient of
        ``max_fun`` (the regularised argmax, e.g. softmax or sparsemax). When given, torch and
        JAX differentiate the loss with it instead of through ``max_fun`` -- use it when
        ``max_fun`` is not differentiable by the backend or its gradient is costly. Optax has no
        such argument (it always differentiates ``max_fun``).

    Returns
    -------
    callable
        ``fenchel_young_loss(scores, targets, *args, **kwargs)`` returning shape
        ``scores.shape[:-1]``; ``targets`` is floating, same shape as ``scores``.

    References
    ----------
    optax.losses.make_fenchel_young_loss; Blondel, Martins, Niculae, "Learning with
    Fenchel-Young losses", JMLR 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import make_fenchel_young_loss
    >>> def logsumexp(s):
    ...     m = np.max(s, axis=-1)
    ...     return m + np.log(np.sum(np.exp(s - m[..., None]), axis=-1))
    >>> fy = make_fenchel_young_loss(logsumexp)  # softmax cross-entropy
    >>> np.round(fy(np.asarray([[0.0, 0.0]]), np.asarray([[1.0, 0.0]])), 6)
    array([0.693147])
    """
    if not callable(max_fun):
        msg = f"`max_fun` must be callable, got {type(max_fun).__name__}."
        raise TypeError(msg)
    if grad_max_fun is not None and not callable(grad_max_fun):
        msg = f"`grad_max_fun` must be callable or None, got {type(grad_max_fun).__name__}."
        raise TypeError(msg)

    def fenchel_young_loss(scores: Any, targets: Any, *args: Any, **kwargs: Any) -> Any:
        xp = namespace(scores=scores, targets=targets)
        check_floating(xp, "scores", scores)
        check_floating(
            xp,
            "targets",
            targets,
            "For integer class labels pass a one-hot encoding, or use "
            "`multiclass_sparsemax_loss` / `softmax_cross_entropy_with_integer_labels`.",
        )
        check_same_shape("scores", scores, "targets", targets)
        if scores.ndim < 1:
            msg = "`scores` must have at least one dimension (the last one is reduced)."
            raise ValueError(msg)
        max_value = _apply_last_axis(xp, max_fun, scores, *args, **kwargs)
        if grad_max_fun is not None:
            max_value = _with_gradient(xp, max_value, scores, grad_max_fun(scores, *args, **kwargs))
        # optax's arithmetic promotes: bfloat16 scores with float32 targets give float32
        out = promoted(xp, scores.dtype, targets)
        linear = xp.sum(cast(xp, targets, out) * cast(xp, scores, out), axis=-1)
        return cast(xp, max_value, out) - linear

    fenchel_young_loss.__doc__ = (
        f"Fenchel-Young loss of ``{getattr(max_fun, '__name__', 'max_fun')}``."
    )
    return companions("top")(fenchel_young_loss)


# Not yet on the surface layer: NumPy companions are converted at the door.
with_companions(globals(), __all__, "top")
