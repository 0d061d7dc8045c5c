"""CTC kernel: the forward (alpha) recursion of Graves et al. (2006) in log space.

The recursion keeps two groups of states per sequence, as optax does: ``phi[n]`` (the first ``n``
labels emitted, the last frame a blank) for ``n = 0..N`` and ``emit[n]`` (the first ``n + 1``
labels emitted, the last frame label ``n``) for ``n = 0..N-1``. The loop over time is
:func:`agnostic_losses._loops.scan`; everything else is the Array API standard.
"""

from __future__ import annotations

import math
from typing import Any

from .._dispatch import device_of, index_dtype
from .._loops import compiled, scan
from .._numerics import gather_labels, log_softmax, logaddexp

__all__ = ["CTC_STATIC", "ctc_forward", "ctc_forward_compiled", "ctc_from_logits"]

CTC_STATIC = ("blank", "log_zero", "nan_for_invalid", "use_lax")


def ctc_forward(
    xp: Any,
    logprobs: Any,
    frame_pad: Any,
    labels: Any,
    label_valid: Any,
    *,
    blank: int,
    log_zero: float,
    nan_for_invalid: bool = False,
    use_lax: bool | None = None,
) -> tuple[Any, Any, Any]:
    """Per-sequence ``-log p(labels | logprobs)`` and the forward log-probabilities.

    Parameters
    ----------
    xp : namespace
    logprobs : array, shape (T, B, K)
        Time-major log-probabilities (normalised or not: they are used as given).
    frame_pad : array of bool, shape (T, B)
        True where frame ``t`` of sequence ``b`` is padding: the state is carried unchanged.
    labels : integer array, shape (B, N)
        Label indices; positions where ``label_valid`` is False are never read for the loss.
    label_valid : array of bool, shape (B, N)
        True for the first ``L_b`` positions of row ``b`` (right padding).
    blank : int
        Index of the blank class.
    log_zero : float
        The log-probability of an impossible state: ``-inf`` (exact; impossible alignments give
        ``+inf``) or optax's ``log_epsilon`` (a large negative finite number).
    nan_for_invalid : bool
        Emission log-probability of a label outside ``[0, K)`` at a valid position: NaN (the
        sequence's loss becomes NaN) if True, else 0 (optax's one-hot convention). Padded
        positions always use 0.
    use_lax : bool, optional
        Passed to :func:`~agnostic_losses._loops.scan`.

    Returns
    -------
    loss : array, shape (B,)
    logalpha_phi : array, shape (T, B, N + 1)
        ``log alpha`` of the blank states after each frame; the last row also includes the
        final emit-to-blank transition (as optax returns it).
    logalpha_emit : array, shape (T, B, N)
    """
    num_frames, batch, num_classes = logprobs.shape
    num_labels = labels.shape[1]
    dev = device_of(logprobs)
    dtype = logprobs.dtype

    in_range = (labels >= 0) & (labels < num_classes)
    safe_labels = xp.where(in_range, labels, 0)
    # (T, B, N): log-probability of emitting label n at frame t, via a gather on the class axis.
    wide = xp.broadcast_to(logprobs[:, :, None, :], (num_frames, batch, num_labels, num_classes))
    index = xp.broadcast_to(safe_labels[None, ...], (num_frames, batch, num_labels))
    emit_lp = gather_labels(xp, wide, index)
    invalid = math.nan if nan_for_invalid else 0.0
    bad = xp.where(label_valid, xp.full(label_valid.shape, invalid, dtype=dtype, device=dev), 0.0)
    emit_lp = xp.where(in_range[None, ...], emit_lp, bad[None, ...])
    blank_lp = logprobs[:, :, blank]

    # repeat[b, n]: label n + 1 equals label n, so the path must pass through a blank between them.
    if num_labels >= 1:
        same = labels[:, :-1] == labels[:, 1:]
        tail = xp.zeros((batch, 1), dtype=xp.bool, device=dev)
        repeat = xp.concat([same, tail], axis=1)
    else:
        repeat = xp.zeros((batch, 0), dtype=xp.bool, device=dev)

    phi0 = xp.concat(
        [
            xp.zeros((batch, 1), dtype=dtype, device=dev),
            xp.full((batch, num_labels), log_zero, dtype=dtype, device=dev),
        ],
        axis=1,
    )
    emit0 = xp.full((batch, num_labels), log_zero, dtype=dtype, device=dev)

    def with_emit(phi: Any, extra: Any) -> Any:
        # phi[n + 1] <- phi[n + 1] (+) extra[n]: label n was just emitted, n + 1 labels are done.
        return xp.concat([phi[:, :1], logaddexp(xp, phi[:, 1:], extra)], axis=1)

    def step(carry: tuple[Any, Any], x: tuple[Any, ...]) -> tuple[Any, Any]:
        phi, emit = carry
        lp_emit, lp_blank, pad = x
        lp_blank = lp_blank[:, None]
        # "ready" to emit label n: after a blank, or straight after label n - 1 unless it repeats.
        ready = with_emit(phi, xp.where(repeat, emit + log_zero, emit))
        new_emit = logaddexp(xp, ready[:, :-1] + lp_emit, emit + lp_emit)
        new_phi = ready + lp_blank
        # label n -> blank when label n + 1 repeats it (the other case is already in `ready`).
        new_phi = with_emit(new_phi, xp.where(repeat, emit + lp_blank, emit + lp_blank + log_zero))
        pad = pad[:, None]
        new_phi = xp.where(pad, phi, new_phi)
        new_emit = xp.where(pad, emit, new_emit)
        return (new_phi, new_emit), (new_phi, new_emit)

    (phi, emit), (all_phi, all_emit) = scan(
        xp, step, (phi0, emit0), (emit_lp, blank_lp, frame_pad), use_lax=use_lax
    )
    phi_last = with_emit(phi, emit)
    all_phi = xp.concat([all_phi[:-1, ...], phi_last[None, ...]], axis=0)

    index = index_dtype(xp, labels)
    lengths = xp.sum(xp.astype(label_valid, index), axis=1)
    positions = xp.arange(num_labels + 1, dtype=index, device=dev)
    # where() rather than a one-hot product: 0 * (-inf) would be NaN.
    picked = xp.where(positions[None, :] == lengths[:, None], phi_last, 0.0)
    loss = -xp.sum(picked, axis=1)
    return loss, all_phi, all_emit


def ctc_forward_compiled(xp: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any, Any]:
    """:func:`ctc_forward`, compiled once per shape on JAX (see ``_loops.compiled``)."""
    return compiled(xp, ctc_forward, CTC_STATIC)(xp, *args, **kwargs)


def ctc_from_logits(
    xp: Any,
    logits: Any,
    logit_pad: Any,
    labels: Any,
    label_valid: Any,
    *,
    blank: int,
    log_zero: float,
) -> tuple[Any, Any, Any]:
    """:func:`ctc_forward_compiled` of batch-major ``(B, T, K)`` logits and ``(B, T)`` frame
    padding: the log-softmax over the classes, then time-major for the recursion."""
    logprobs = xp.permute_dims(log_softmax(xp, logits, axis=-1), (1, 0, 2))
    frame_pad = xp.permute_dims(logit_pad, (1, 0))
    return ctc_forward_compiled(
        xp, logprobs, frame_pad, labels, label_valid, blank=blank, log_zero=log_zero
    )
