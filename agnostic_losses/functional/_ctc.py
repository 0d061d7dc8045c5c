"""torch.nn.functional CTC loss (time-major log-probabilities, integer lengths)."""

from __future__ import annotations

import math
from typing import Any

from .._dispatch import (
    cast,
    check_floating,
    check_integer,
    check_values,
    class_indices,
    compute_dtype,
    device_of,
    index_dtype,
    namespace,
    python_int,
)
from .._docs import fill_doc
from .._kernels import ctc as _k
from .._native import autocast_float32
from .._reductions import check_reduction
from .._surface import TORCH_REDUCTION, flag, number, options, with_companions

__all__ = ["ctc_loss"]


def _lengths(xp: Any, name: str, value: Any, batch: int | None, like: Any) -> Any:
    """Validate a length argument; returns an index-dtype array of shape (batch,) or (1,)."""
    if isinstance(value, (bool, float)):
        msg = f"`{name}` must be an integer array (lengths), got the Python {type(value).__name__}."
        raise TypeError(msg)
    if isinstance(value, (list, tuple)):  # torch's int[] overload: lengths as Python ints
        ints = [python_int(v) for v in value]
        if None in ints:
            kind = type(value).__name__
            msg = f"`{name}` given as a {kind} must hold Python ints, got {value!r}."
            raise TypeError(msg)
        value = xp.asarray(ints, dtype=index_dtype(xp, like), device=device_of(like))
    scalar = python_int(value)
    if scalar is not None:
        value = xp.asarray(scalar, dtype=index_dtype(xp, like), device=device_of(like))
    check_integer(xp, name, value, "Lengths are counts of frames or labels.")
    expected = (batch,) if batch is not None else (1,)
    if batch is None and value.ndim == 0:
        value = xp.reshape(value, (1,))
    if tuple(value.shape) != expected:
        what = f"one length per sequence, ({batch},)" if batch is not None else "a 0-d length"
        msg = f"`{name}` must have shape {expected} ({what}), got {tuple(value.shape)}."
        raise ValueError(msg)
    return xp.astype(value, index_dtype(xp, like))


def _check_max(xp: Any, name: str, lengths: Any, limit: int, what: str) -> None:
    check_values(
        xp,
        lengths,
        lambda: (lengths > limit) | (lengths < 0),
        lambda: f"`{name}` must be in [0, {limit}] ({what}); got {lengths!r}.",
    )


@autocast_float32
@options(blank=number(low=0, integer=True), reduction=TORCH_REDUCTION, zero_infinity=flag)
@fill_doc
def ctc_loss(
    log_probs: Any,
    targets: Any,
    input_lengths: Any,
    target_lengths: Any,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Any:
    r"""Connectionist temporal classification loss, as torch's ``ctc_loss``.

    .. math::

        \ell_n = -\log \sum_{\pi \in \mathcal{B}^{-1}(y_n)} \prod_{t < T_n} p_{t,n}(\pi_t)

    summed over the alignments ``pi`` of the first ``T_n = input_lengths[n]`` frames that collapse
    to the first ``target_lengths[n]`` targets (:math:`\mathcal{B}` removes repeats, then blanks);
    the forward recursion runs in log space with an exact :math:`\log 0 = -\infty`. ``'mean'``
    is :math:`\frac{1}{N} \sum_n \ell_n / \max(S_n, 1)` with :math:`S_n` the target length, as
    torch. An impossible alignment (too few frames) gives ``inf``, or 0 with
    ``zero_infinity=True``; its gradient is 0 either way (torch's is NaN without
    ``zero_infinity``). On JAX the time loop is a ``lax.scan`` (jit compile time independent of
    ``T``).

    {backends}

    Parameters
    ----------
    log_probs : array, shape (T, N, C) or (T, C)
        Log-probabilities per frame (usually a log-softmax output; used as given).
    targets : integer array, shape (N, S) or (sum(target_lengths),) or (S,) unbatched
        Padded targets (row ``n`` holds its ``target_lengths[n]`` labels first) or the
        concatenation of every sequence's targets. Must not contain ``blank``.
    input_lengths : integer array, shape (N,) (0-d or (1,) unbatched), or tuple/list of ints
        Frames used per sequence, at most ``T``.
    target_lengths : integer array, shape (N,) (0-d or (1,) unbatched), or tuple/list of ints
        Targets per sequence, at most ``S``.
    blank : int, default 0
        Class index of the blank.
    {reduction}
        ``'mean'`` divides each loss by its target length first (see above).
    zero_infinity : bool, default False
        Replace infinite losses (impossible alignments) by 0.

    Returns
    -------
    array
        Scalar, or shape (N,) with ``reduction='none'`` (0-d for unbatched input).

    Raises
    ------
    TypeError
        Floating ``targets`` or lengths (torch accepts float targets; we require integers).
    ValueError
        Bad shapes, ``blank`` outside ``[0, C)``, or (eager arrays only) lengths longer than
        the arrays.

    Notes
    -----
    Concatenated 1-D targets are laid out as ``(N, len(targets))`` before the recursion, so
    its cost grows with the total target length rather than the longest one (a data-dependent
    shape would not run under ``jax.jit``).

    References
    ----------
    torch.nn.functional.ctc_loss; Graves et al., ICML 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.functional import ctc_loss
    >>> log_probs = np.log(np.full((2, 1, 2), 0.5))
    >>> loss = ctc_loss(log_probs, np.asarray([[1]]), np.asarray([2]), np.asarray([1]))
    >>> round(float(loss), 6)  # -log(3/4) divided by the target length 1
    0.287682
    """
    reduction = check_reduction(reduction)
    lengths = {"input_lengths": input_lengths, "target_lengths": target_lengths}
    xp = namespace(
        log_probs=log_probs,
        targets=targets,
        # lists and tuples of lengths are torch's documented int[] form, converted in _lengths
        **{k: v for k, v in lengths.items() if not isinstance(v, (list, tuple))},
    )
    check_floating(xp, "log_probs", log_probs)
    if log_probs.ndim not in (2, 3):
        msg = (
            "`log_probs` must have shape (T, N, C) or (T, C) unbatched, got "
            f"{tuple(log_probs.shape)}."
        )
        raise ValueError(msg)
    check_integer(xp, "targets", targets, "Targets are class indices.")
    targets = class_indices(xp, targets)
    unbatched = log_probs.ndim == 2
    num_frames, num_classes = log_probs.shape[0], log_probs.shape[-1]
    batch = None if unbatched else log_probs.shape[1]
    # @options has checked (and unwrapped from NumPy) a non-negative int; the bound is C.
    if not blank < num_classes:
        msg = f"`blank` must be an int in [0, {num_classes}), got {blank!r}."
        raise ValueError(msg)
    in_len = _lengths(xp, "input_lengths", input_lengths, batch, log_probs)
    tgt_len = _lengths(xp, "target_lengths", target_lengths, batch, log_probs)
    dev = device_of(log_probs)

    if unbatched:
        if targets.ndim != 1:
            msg = f"`targets` must have shape (S,) for unbatched `log_probs`, got {targets.shape}."
            raise ValueError(msg)
        padded = targets[None, :]
    elif targets.ndim == 2:
        if targets.shape[0] != batch:
            msg = (
                f"`targets` must have shape ({batch}, S) to match `log_probs` of shape "
                f"{tuple(log_probs.shape)}, got {tuple(targets.shape)}."
            )
            raise ValueError(msg)
        padded = targets
    elif targets.ndim == 1:
        total = targets.shape[0]
        check_values(
            xp,
            tgt_len,
            lambda: xp.sum(tgt_len) != total,
            lambda: (
                f"`targets` is 1-D, so its length ({total}) must equal sum(`target_lengths`) "
                f"({int(xp.sum(tgt_len))})."
            ),
        )
        # Row n starts at the running sum of the earlier lengths; clamp so padding reads a valid
        # index (its value is never used for the loss).
        # (The running sum as a masked row sum: compat's cumulative_sum and a Python-scalar
        # minimum both break torch.compile's graph; the batch is small.)
        rows = xp.arange(batch, dtype=tgt_len.dtype, device=dev)
        earlier = xp.astype(rows[None, :] < rows[:, None], tgt_len.dtype)
        starts = xp.sum(earlier * tgt_len[None, :], axis=1)
        cols = xp.arange(total, dtype=tgt_len.dtype, device=dev)
        # total - 1 counted on the device: a Python int of a dynamic length would specialise a
        # torch.export'ed program to that length (no index is read when total is 0). Not
        # cols[-1:]: the standard leaves that slice of an empty axis unspecified (strict raises).
        last = xp.sum(xp.ones_like(cols), dtype=cols.dtype) - 1
        index = xp.minimum(starts[:, None] + cols[None, :], last)
        flat = xp.reshape(index, (-1,))
        padded = xp.reshape(xp.take(targets, flat, axis=0), (batch, total))
    else:
        msg = f"`targets` must have shape (N, S) or (sum(target_lengths),), got {targets.shape}."
        raise ValueError(msg)

    num_labels = padded.shape[1]
    _check_max(xp, "input_lengths", in_len, num_frames, "the time length of `log_probs`")
    _check_max(xp, "target_lengths", tgt_len, num_labels, "the length of `targets`")
    positions = xp.arange(num_labels, dtype=index_dtype(xp, tgt_len), device=dev)
    label_valid = positions[None, :] < tgt_len[:, None]
    check_values(
        xp,
        padded,
        lambda: label_valid & ((padded < 0) | (padded >= num_classes)),
        lambda: f"`targets` must be class indices in [0, {num_classes}); got out-of-range values.",
    )

    work = compute_dtype(xp, log_probs.dtype)
    logprobs = cast(xp, log_probs, work)
    if unbatched:
        logprobs = logprobs[:, None, :]
    frames = xp.arange(num_frames, dtype=index_dtype(xp, in_len), device=dev)
    frame_pad = frames[:, None] >= in_len[None, :]
    loss, _, _ = _k.ctc_forward_compiled(
        xp,
        logprobs,
        frame_pad,
        padded,
        label_valid,
        blank=blank,
        log_zero=-math.inf,
        nan_for_invalid=True,
    )
    if zero_infinity:
        # where() zeroes both the value and the gradient reaching the infinite branch.
        loss = xp.where(xp.isinf(loss), 0.0, loss)
    if reduction == "mean":
        divisor = xp.astype(tgt_len, work)
        # An array floor, not a Python 1: the scalar promotion breaks torch.compile's graph.
        divisor = xp.maximum(divisor, xp.ones_like(divisor))
        loss = xp.mean(loss / divisor)
    elif reduction == "sum":
        loss = xp.sum(loss)
    elif unbatched:
        loss = loss[0]
    return cast(xp, loss, log_probs.dtype)


# Not yet on the surface layer: NumPy companions are converted at the door.
with_companions(globals(), __all__, "torch")
