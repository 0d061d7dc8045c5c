"""Top-level CTC losses (optax names and semantics: batch-major logits, float paddings)."""

from __future__ import annotations

from typing import Any

from .._dispatch import (
    at_least_float32,
    cast,
    check_floating,
    check_integer,
    check_values,
    class_indices,
    compute_dtype,
    device_of,
    index_dtype,
    namespace,
    promoted,
)
from .._docs import fill_doc
from .._kernels import ctc as _k
from .._surface import number, options, with_companions

__all__ = ["ctc_loss", "ctc_loss_with_forward_probs"]


def _check_rank(name: str, x: Any, ndim: int, layout: str) -> None:
    if x.ndim != ndim:
        msg = f"`{name}` must have {ndim} dimensions {layout}, got shape {tuple(x.shape)}."
        raise ValueError(msg)


def _check_shape(name: str, x: Any, expected: tuple[int, ...], why: str) -> None:
    if tuple(x.shape) != expected:
        msg = f"`{name}` must have shape {expected} ({why}), got {tuple(x.shape)}."
        raise ValueError(msg)


def _forward(
    logits: Any,
    logit_paddings: Any,
    labels: Any,
    label_paddings: Any,
    blank_id: int,
    log_epsilon: float,
) -> tuple[Any, Any, Any]:
    xp = namespace(
        logits=logits,
        logit_paddings=logit_paddings,
        labels=labels,
        label_paddings=label_paddings,
    )
    check_floating(xp, "logits", logits)
    _check_rank("logits", logits, 3, "(batch, time, classes)")
    _check_rank("labels", labels, 2, "(batch, max_label_length)")
    check_integer(xp, "labels", labels)
    labels = class_indices(xp, labels)
    batch, _, num_classes = logits.shape
    _check_shape("logit_paddings", logit_paddings, tuple(logits.shape[:2]), "`logits` without K")
    _check_shape("label_paddings", label_paddings, tuple(labels.shape), "the shape of `labels`")
    if labels.shape[0] != batch:
        msg = (
            f"`labels` must have the batch size of `logits` ({batch}), got {labels.shape[0]} "
            f"(shapes {tuple(labels.shape)} and {tuple(logits.shape)})."
        )
        raise ValueError(msg)
    # @options has checked (and unwrapped from NumPy) a non-negative int; the bound is C.
    if not blank_id < num_classes:
        msg = f"`blank_id` must be an int in [0, {num_classes}), got {blank_id!r}."
        raise ValueError(msg)
    # optax's float32 constants (its log_epsilon fill) make a half-precision call float32
    out = at_least_float32(xp, promoted(xp, logits.dtype, logit_paddings, label_paddings))
    work = compute_dtype(xp, out)
    num_labels = labels.shape[1]
    # optax's label length: max length minus the number of padded positions.
    index = index_dtype(xp, labels)
    lengths = num_labels - xp.astype(xp.sum(cast(xp, label_paddings, work), axis=1), index)
    positions = xp.arange(num_labels, dtype=index, device=device_of(labels))
    label_valid = positions[None, :] < lengths[:, None]
    check_values(
        xp,
        labels,
        lambda: label_valid & ((labels < 0) | (labels >= num_classes)),
        lambda: (
            f"`labels` must be class indices in [0, {num_classes}) where not padded; got "
            "out-of-range values."
        ),
    )
    loss, phi, emit = _k.ctc_from_logits(
        xp,
        cast(xp, logits, work),
        logit_paddings != 0,
        labels,
        label_valid,
        blank=blank_id,
        log_zero=float(log_epsilon),
    )
    return cast(xp, loss, out), cast(xp, phi, out), cast(xp, emit, out)


# log_epsilon is a static option (it parametrises the compiled recursion), not an array.
@options(blank_id=number(low=0, integer=True), log_epsilon=number())
@fill_doc
def ctc_loss_with_forward_probs(
    logits: Any,
    logit_paddings: Any,
    labels: Any,
    label_paddings: Any,
    *,
    blank_id: int = 0,
    log_epsilon: float = -1e5,
) -> tuple[Any, Any, Any]:
    r"""CTC loss of each sequence and the forward (alpha) log-probabilities, as optax.

    .. math::

        \ell_b = -\log \sum_{\pi \in \mathcal{B}^{-1}(y_b)} \prod_t p_{b,t}(\pi_t),
        \qquad p_{b,t} = \operatorname{softmax}(\text{logits}_{b,t})

    where :math:`\mathcal{B}` removes repeats and then blanks. The recursion runs in log space
    with ``log_epsilon`` standing for :math:`\log 0`, over the blank states
    :math:`\alpha_\phi(t, n)` (``n`` labels emitted, frame ``t`` a blank) and the label states
    :math:`\alpha_y(t, n)` (frame ``t`` emits label ``n``). On JAX the time loop is a
    ``lax.scan``, so ``jax.jit`` compiles in a time independent of ``T``.

    {backends}

    Parameters
    ----------
    logits : array, shape (B, T, K)
        Unnormalised scores of the ``K`` classes (blank included) per frame.
    logit_paddings : array, shape (B, T)
        1.0 where frame ``t`` of sequence ``b`` is padding, 0.0 otherwise.
    labels : integer array, shape (B, N)
        Label indices, right-padded.
    label_paddings : array, shape (B, N)
        1.0 where ``labels[b, n]`` is padding (right padding), 0.0 otherwise.
    blank_id : int, default 0
        Class index of the blank.
    log_epsilon : float, default -1e5
        Stand-in for :math:`\log 0`. With the default an impossible alignment (too few frames
        for the labels) gives a large finite loss, as in optax; ``-inf`` gives ``+inf`` instead,
        with finite (zero) gradients.

    Returns
    -------
    loss : array, shape (B,)
        ``-log p(labels_b | logits_b)``.
    logalpha_blank : array, shape (T, B, N + 1)
        :math:`\log \alpha_\phi(t, n)`; the last frame also includes the final label-to-blank
        transition, so ``loss[b] = -logalpha_blank[-1, b, L_b]``.
    logalpha_nonblank : array, shape (T, B, N)
        :math:`\log \alpha_y(t, n)`.

    References
    ----------
    optax.losses.ctc_loss_with_forward_probs; Graves et al., "Connectionist temporal
    classification", ICML 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import ctc_loss_with_forward_probs
    >>> logits = np.zeros((1, 3, 3))
    >>> loss, blank, nonblank = ctc_loss_with_forward_probs(
    ...     logits, np.zeros((1, 3)), np.asarray([[1, 2]]), np.zeros((1, 2)))
    >>> round(float(loss[0]), 6), blank.shape, nonblank.shape  # five paths of 1/27: -log(5/27)
    (1.686399, (3, 1, 3), (3, 1, 2))
    """
    return _forward(logits, logit_paddings, labels, label_paddings, blank_id, log_epsilon)


@options(blank_id=number(low=0, integer=True), log_epsilon=number())
@fill_doc
def ctc_loss(
    logits: Any,
    logit_paddings: Any,
    labels: Any,
    label_paddings: Any,
    *,
    blank_id: int = 0,
    log_epsilon: float = -1e5,
) -> Any:
    r"""Connectionist temporal classification loss of each sequence, as optax.

    .. math::

        \ell_b = -\log \sum_{\pi \in \mathcal{B}^{-1}(y_b)} \prod_t p_{b,t}(\pi_t)

    the negative log-likelihood of the label sequence summed over every alignment ``pi`` that
    collapses to it (:math:`\mathcal{B}` removes repeats, then blanks), computed by the forward
    recursion in log space (see :func:`ctc_loss_with_forward_probs`). Unreduced, as optax.

    {backends}

    Parameters
    ----------
    logits : array, shape (B, T, K)
        Unnormalised class scores per frame (log-softmax is applied here).
    logit_paddings : array, shape (B, T)
        1.0 at padded frames, 0.0 elsewhere.
    labels : integer array, shape (B, N)
        Right-padded label indices (the blank must not appear among the valid labels).
    label_paddings : array, shape (B, N)
        1.0 at padded label positions, 0.0 elsewhere.
    blank_id : int, default 0
        Class index of the blank.
    log_epsilon : float, default -1e5
        Stand-in for :math:`\log 0` (``-inf`` is accepted and exact).

    Returns
    -------
    array, shape (B,)
        The per-sequence loss.

    References
    ----------
    optax.losses.ctc_loss.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import ctc_loss
    >>> logits = np.zeros((1, 2, 2))
    >>> loss = ctc_loss(logits, np.zeros((1, 2)), np.asarray([[1]]), np.zeros((1, 1)))
    >>> round(float(loss[0]), 6)  # three alignments of probability 1/4: -log(3/4)
    0.287682
    """
    return _forward(logits, logit_paddings, labels, label_paddings, blank_id, log_epsilon)[0]


# Not yet on the surface layer: NumPy companions are converted at the door.
with_companions(globals(), __all__, "top")
