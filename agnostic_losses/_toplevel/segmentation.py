"""Top-level segmentation losses: optax's Dice family and keras's Tversky loss."""

from __future__ import annotations

from typing import Any

from .._dispatch import check_floating, check_same_shape, message_value, normalize_axes
from .._docs import fill_doc
from .._kernels import segmentation as _k
from .._numerics import expand_rank, log_sigmoid, log_softmax
from .._surface import Call, choice, number, options

__all__ = ["binary_dice_loss", "dice_loss", "multiclass_generalized_dice_loss", "tversky_loss"]

# keras.backend.epsilon(): the denominator guard of keras's Tversky loss.
_KERAS_EPSILON = 1e-7


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    # optax documents a tuple; a list is accepted as well
    return normalize_axes("axis", tuple(axis) if isinstance(axis, list) else axis, ndim)


def _matched(c: Call, promote: tuple[str, ...] = ("targets",)) -> tuple[Any, Any]:
    """``predictions`` and ``targets`` of one shape, in the work dtype (promoted with
    ``promote``): where one lacks the other's trailing class axis of size 1, it gains it
    (optax's binary masks)."""
    p, t = c._array("predictions"), c._array("targets")
    check_floating(c.xp, "predictions", p)
    if p.ndim == t.ndim - 1:
        p = c.args["predictions"] = p[..., None]
    if t.ndim == p.ndim - 1:
        c.args["targets"] = t[..., None]
    x = c.input("predictions", promote=promote)
    t = c.target("targets", "predictions", integers=True)
    if x.ndim == 0:
        msg = "`predictions` must have at least one dimension (the class axis), got a 0-d array."
        raise ValueError(msg)
    return x, t


def _dice_per_class(
    c: Call,
    x: Any,
    t: Any,
    *,
    class_weights: Any,
    apply_softmax: bool,
    ignore_background: bool,
    axis: Any,
) -> Any:
    """Unreduced ``(..., C)`` Dice/Tversky loss of work-dtype ``x``, ``t`` (``smooth``,
    ``alpha``, ``beta`` are the call's arguments)."""
    xp = c.xp
    num_classes = x.shape[-1]
    if apply_softmax:
        logp = log_sigmoid(xp, x) if num_classes == 1 else log_softmax(xp, x, axis=-1)
        probs = xp.exp(logp)
    else:
        probs = x
        if num_classes > 1:
            # the row sums are checked (eager arrays only) as optax's isclose(sum, 1) would
            sums = xp.sum(x, axis=-1)
            c.check(
                "predictions",
                lambda: xp.abs(sums - 1.0) > 1e-8 + 1e-5,
                lambda: (
                    "`predictions` must be valid probability distributions along the last axis "
                    "when `apply_softmax=False` (rows summing to 1); got rows summing to "
                    f"[{message_value(xp.min(sums)):.6f}, {message_value(xp.max(sums)):.6f}]."
                ),
            )
    # optax's default: every axis but the batch (first) and the classes (last)
    axes = tuple(range(1, x.ndim - 1)) if axis is None else _axes(axis, x.ndim)
    inter, pred_sum, target_sum = _k.overlap_sums(xp, probs, t, axes)
    params = (c.param(name) for name in ("smooth", "alpha", "beta"))
    loss = 1.0 - _k.tversky_index(xp, inter, pred_sum, target_sum, *params)
    if class_weights is not None:
        if class_weights.ndim != 1:
            msg = (
                "`class_weights` must be 1-D (one weight per class), got shape "
                f"{tuple(class_weights.shape)}."
            )
            raise ValueError(msg)
        loss = loss * expand_rank(xp, class_weights, loss.ndim)
    if ignore_background and num_classes > 1:
        loss = loss[..., 1:]
    return loss


@options(
    reduction=choice("mean", "sum", "none"),
    smooth=number(arrays=True),
    alpha=number(arrays=True),
    beta=number(arrays=True),
)
@fill_doc
def dice_loss(
    predictions: Any,
    targets: Any,
    *,
    class_weights: Any = None,
    smooth: Any = 1.0,
    alpha: Any = 0.5,
    beta: Any = 0.5,
    apply_softmax: bool = True,
    reduction: str = "mean",
    ignore_background: bool = False,
    axis: Any = None,
) -> Any:
    r"""Soft Dice (Tversky) loss per class, as optax's ``dice_loss``.

    .. math::

        \ell_c = 1 - \frac{I_c + s}{I_c + \alpha (P_c - I_c) + \beta (T_c - I_c) + s},
        \quad I_c = \sum_i p_{ic} t_{ic},\ P_c = \sum_i p_{ic},\ T_c = \sum_i t_{ic}

    summed over the spatial axes; ``alpha`` weights false positives, ``beta`` false negatives
    (``alpha = beta = 0.5`` is the Dice loss). An empty prediction with an empty target gives 0
    (with ``smooth=0`` too, where optax gives NaN), with a finite gradient.

    {backends}

    Parameters
    ----------
    predictions : array, shape (B, ..., C), (B, ..., 1) or (B, ...)
        Logits (softmax over ``C``, or a sigmoid for one channel) or, with
        ``apply_softmax=False``, probabilities. One fewer dimension than ``targets`` adds a
        channel axis.
    targets : array, shape like ``predictions``
        One-hot (or soft) targets; integer and boolean masks are cast to the predictions'
        dtype, floating ones promote it (float32 targets beside bfloat16 logits give a
        float32 loss), as in optax.
    class_weights : array, shape (C,), optional
        Multiplies each class's loss (before the class reduction: ``'mean'`` is a plain mean).
    smooth : float, default 1.0
        Added to the numerator and denominator.
    alpha, beta : float, default 0.5
        Weights of false positives and false negatives.
    apply_softmax : bool, default True
        Whether ``predictions`` are logits. With ``False`` and ``C >= 2`` eager arrays are
        checked to sum to 1 along the class axis (optax also checks a single channel, which
        rejects every binary probability map; we do not).
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        Reduction over the class axis.
    ignore_background : bool, default False
        Drop class 0 (when ``C > 1``).
    axis : int or tuple of int, optional
        Axes summed over; default every axis except the first (batch) and the last (class).

    Returns
    -------
    array
        Shape (B, ...) without the summed axes and the class axis (``'mean'``/``'sum'``), or
        with the class axis (``'none'``).

    References
    ----------
    optax.losses.dice_loss; Milletari et al., "V-Net", 2016; Salehi et al., "Tversky loss", 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import dice_loss
    >>> probs = np.asarray([[[0.9, 0.1], [0.2, 0.8]]])
    >>> targets = np.asarray([[[1.0, 0.0], [0.0, 1.0]]])
    >>> loss = dice_loss(probs, targets, apply_softmax=False)
    >>> np.round(loss, 6)
    array([0.075047])
    """
    c = Call(
        "top",
        predictions=predictions,
        targets=targets,
        class_weights=class_weights,
        smooth=smooth,
        alpha=alpha,
        beta=beta,
    )
    x, t = _matched(c, ("targets", "class_weights"))
    loss = _dice_per_class(
        c,
        x,
        t,
        class_weights=c.param("class_weights"),
        apply_softmax=apply_softmax,
        ignore_background=ignore_background,
        axis=axis,
    )
    return c.reduce(loss, reduction, axis=-1)


@options(smooth=number(arrays=True))
@fill_doc
def binary_dice_loss(
    predictions: Any, targets: Any, *, smooth: Any = 1.0, apply_sigmoid: bool = True
) -> Any:
    r"""Dice loss of a binary segmentation, as optax's ``binary_dice_loss``.

    .. math::

        \ell = 1 - \frac{2 \sum_i p_i t_i + 2 s}{\sum_i p_i + \sum_i t_i + 2 s},
        \qquad p = \sigma(\text{predictions})

    over every axis but the first (see :func:`dice_loss` with one channel). An empty prediction
    with an empty target gives 0.

    {backends}

    Parameters
    ----------
    predictions : array, shape (B, ...) or (B, ..., 1)
        Logits (or probabilities with ``apply_sigmoid=False``).
    targets : array, same shape
        Binary (or soft) targets.
    smooth : float, default 1.0
        Smoothing added to numerator and denominator.
    apply_sigmoid : bool, default True
        Whether ``predictions`` are logits.

    Returns
    -------
    array, shape (B,)
        The loss of each batch element.

    References
    ----------
    optax.losses.binary_dice_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import binary_dice_loss
    >>> probs = np.asarray([[1.0, 0.0, 1.0, 0.0]])
    >>> targets = np.asarray([[1.0, 0.0, 0.0, 0.0]])
    >>> np.round(binary_dice_loss(probs, targets, apply_sigmoid=False), 6)  # 1 - 4/5
    array([0.2])
    """
    c = Call("top", predictions=predictions, targets=targets, smooth=smooth, alpha=0.5, beta=0.5)
    p, t = c._array("predictions"), c._array("targets")
    check_floating(c.xp, "predictions", p)
    if p.ndim == t.ndim and p.ndim >= 1 and p.shape[-1] != 1:
        # one channel per element: a binary mask is a 1-class problem
        c.args["predictions"], c.args["targets"] = p[..., None], t[..., None]
    x, t = _matched(c)
    loss = _dice_per_class(
        c, x, t, class_weights=None, apply_softmax=apply_sigmoid, ignore_background=False, axis=None
    )
    return c.finish(c.xp.mean(loss, axis=-1))


@options(smooth=number(arrays=True))
@fill_doc
def multiclass_generalized_dice_loss(
    predictions: Any,
    targets: Any,
    *,
    smooth: Any = 1.0,
    apply_softmax: bool = True,
    ignore_background: bool = False,
) -> Any:
    r"""Generalised Dice loss with inverse-squared-frequency class weights, as optax.

    .. math::

        w_c = C \frac{1 / (F_c^2 + 10^{-7})}{\sum_k 1 / (F_k^2 + 10^{-7})},\quad
        F_c = \sum_{b, i} t_{b i c},\qquad
        \ell = \operatorname{mean}_{b, c}\; w_c\, \ell^{\mathrm{dice}}_{b c}

    with :math:`\ell^{\mathrm{dice}}` the per-class loss of :func:`dice_loss` (spatial sums per
    batch element). The weights come from the targets only (they carry no gradient to the
    predictions). A class absent from the whole batch gets a weight near ``C``.

    {backends}

    Parameters
    ----------
    predictions : array, shape (B, ..., C)
        Logits (or probabilities with ``apply_softmax=False``).
    targets : array, shape (B, ..., C)
        One-hot targets.
    smooth : float, default 1.0
        Smoothing of each Dice ratio.
    apply_softmax : bool, default True
        Whether ``predictions`` are logits.
    ignore_background : bool, default False
        Drop class 0 after weighting (the weights are normalised over every class, as optax).

    Returns
    -------
    array, shape ()
        The mean weighted loss.

    References
    ----------
    optax.losses.multiclass_generalized_dice_loss; Sudre et al., "Generalised Dice overlap",
    2017.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import multiclass_generalized_dice_loss
    >>> targets = np.asarray([[[1.0, 0.0], [0.0, 1.0]]])
    >>> round(float(multiclass_generalized_dice_loss(targets, targets, apply_softmax=False)), 6)
    0.0
    """
    c = Call("top", predictions=predictions, targets=targets, smooth=smooth, alpha=0.5, beta=0.5)
    x = c.input("predictions", promote=("targets",))
    t = c.target("targets", "predictions", integers=True)
    if x.ndim < 2:
        msg = (
            "`predictions` must have shape (B, ..., C) with at least 2 dimensions, got "
            f"{tuple(x.shape)}."
        )
        raise ValueError(msg)
    num_classes = t.shape[-1]
    freq = c.xp.sum(t, axis=tuple(range(t.ndim - 1)))
    inverse = 1.0 / (freq * freq + 1e-7)
    weights = inverse / c.xp.sum(inverse) * num_classes
    loss = _dice_per_class(
        c,
        x,
        t,
        class_weights=weights,
        apply_softmax=apply_softmax,
        ignore_background=ignore_background,
        axis=None,
    )
    return c.finish(c.xp.mean(loss))


@options(alpha=number(arrays=True), beta=number(arrays=True))
@fill_doc
def tversky_loss(
    y_true: Any, y_pred: Any, alpha: float = 0.5, beta: float = 0.5, axis: Any = None
) -> Any:
    r"""Tversky loss, as ``keras.losses.tversky`` (keras's argument order and semantics).

    .. math::

        \ell = 1 - \frac{I}{I + \alpha\, \mathrm{FN} + \beta\, \mathrm{FP} + 10^{-7}},\quad
        I = \sum t p,\ \mathrm{FN} = \sum t (1 - p),\ \mathrm{FP} = \sum (1 - t) p

    summed over ``axis`` (every axis by default). Note the weights: keras's docstring says
    ``alpha`` weights false positives and ``beta`` false negatives, but its code does the
    opposite; we follow the code, so results equal keras's. ``alpha = beta = 0.5`` is keras's
    Dice loss. There is no smoothing term: where prediction and target are both exactly empty
    (all zeros) we return 0, keras returns 1.

    {backends}

    Parameters
    ----------
    y_true : array
        Targets in [0, 1] (cast to ``y_pred``'s dtype), same shape as ``y_pred``.
    y_pred : array
        Predicted probabilities, floating.
    alpha : float, default 0.5
        Weight of the false negatives (keras's code; its docstring says false positives).
    beta : float, default 0.5
        Weight of the false positives (keras's code; its docstring says false negatives).
    axis : int or tuple of int, optional
        Axes summed over; ``None`` sums everything.

    Returns
    -------
    array
        0-d with ``axis=None``, else the shape of ``y_pred`` without ``axis``.

    References
    ----------
    keras.losses.tversky; Salehi et al., "Tversky loss function for image segmentation", 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import tversky_loss
    >>> y_true = np.asarray([1.0, 1.0, 0.0, 0.0])
    >>> y_pred = np.asarray([1.0, 0.0, 1.0, 0.0])
    >>> round(float(tversky_loss(y_true, y_pred, alpha=0.2, beta=0.8)), 6)  # 1 - 1 / (1 + .2 + .8)
    0.5
    """
    c = Call("top", y_true=y_true, y_pred=y_pred)
    p = c.input("y_pred")
    check_same_shape("y_true", c._array("y_true"), "y_pred", p)
    axes = None if axis is None else _axes(axis, p.ndim)
    loss = _k.keras_tversky(c.xp, c.param("y_true"), p, alpha, beta, axes, _KERAS_EPSILON)
    return c.finish(loss)
