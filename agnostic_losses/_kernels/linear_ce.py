"""Linear cross-entropy: the final projection fused with the loss, over vocabulary chunks.

``logits = hidden @ weight.T + bias`` is never materialised. One pass over chunks of the
vocabulary computes, per token, three statistics of the logits ``z`` (after the optional
soft-cap ``c * tanh(z / c)``):

- ``lse = log sum_v exp(z_v)``, online: a running maximum ``m`` and a sum rescaled by
  ``exp(m_old - m_new)`` whenever the maximum grows, so no exponential overflows;
- ``t = z_y``, the target's logit, from the gathered weight rows (one (N, D) temporary);
- ``s = sum_v u_v z_v`` for label smoothing (``u``: class weights, or ones).

The loss is then ordinary array code on these ``(N,)`` statistics (class weights, ignored
tokens, smoothing, z-loss, reductions), differentiated by the backend's autodiff; only the
statistics have a hand-written gradient (:func:`logit_stats_vjp`, wired in by
:func:`~agnostic_losses._autodiff.custom_vjp`), which recomputes each chunk's logits:
``dL/dz_v = g_lse softmax_v + g_t [v == y] + g_s u_v`` (the target term as a comparison
inside the chunk, not a scatter-add of gathered rows: exact for repeated targets on every
backend), then ``dL/dh = sum_chunks dz @ W_c``,
``dL/dW_c = dz^T @ h`` (each chunk's rows written once), ``dL/db_c = sum_tokens dz``.
Half-precision inputs keep their dtype in the matmuls; logits, statistics and the ``dL/dh``
accumulator are float32.
"""

from __future__ import annotations

from typing import Any

from .._autodiff import custom_vjp, define_vjp
from .._dispatch import cast, compute_dtype, device_of, index_dtype
from .._loops import fold_chunks
from .._numerics import sanitize_labels, squared_lse, xmul

__all__ = [
    "DEFAULT_CHUNK_ELEMENTS",
    "default_chunk_size",
    "linear_cross_entropy",
    "logit_stats",
    "logit_stats_forward",
    "logit_stats_vjp",
]

# Logits per chunk by default: 2**22 float32 = 16 MiB (8192 tokens x 512 classes). A chunk
# lives as a few same-sized temporaries (logits, exponentials, their gradient), so the loss's
# own memory is a small multiple of this, whatever the vocabulary.
DEFAULT_CHUNK_ELEMENTS = 2**22


def default_chunk_size(num_tokens: int, num_classes: int) -> int:
    """Vocabulary chunk size that keeps ``num_tokens * chunk`` near
    :data:`DEFAULT_CHUNK_ELEMENTS` (at least 128 classes, at most all of them)."""
    return max(1, min(num_classes, max(128, DEFAULT_CHUNK_ELEMENTS // max(num_tokens, 1))))


def _logits(xp: Any, hidden: Any, w: Any, b: Any, work: Any, softcap: float | None) -> Any:
    """One chunk's logits in the work dtype, and ``tanh(raw / c)`` (None without soft-cap)."""
    z = cast(xp, hidden @ xp.matrix_transpose(w), work)
    if b is not None:
        z = z + cast(xp, b, work)
    if softcap is None:
        return z, None
    t = xp.tanh(z / softcap)
    return softcap * t, t


def _hits(xp: Any, targets: Any, offset: Any, width: int) -> Any:
    classes = xp.arange(width, dtype=targets.dtype, device=device_of(targets)) + offset
    return targets[:, None] == classes[None, :]


def _forward(
    xp: Any, hidden: Any, weight: Any, bias: Any, targets: Any, u: Any, *, chunk: int, softcap: Any
) -> tuple[Any, Any, Any]:
    work = compute_dtype(xp, hidden.dtype)
    n = hidden.shape[0]
    dev = device_of(hidden)
    neg_inf = xp.full((n,), float("-inf"), dtype=work, device=dev)
    zeros = xp.zeros((n,), dtype=work, device=dev)

    def step(carry: Any, offset: Any, part: tuple[Any, ...]) -> Any:
        m, total, s = carry
        w, b, u_c = part
        z, _ = _logits(xp, hidden, w, b, work, softcap)
        m_new = xp.maximum(m, xp.max(z, axis=1))
        # A running maximum still -inf (every logit so far -inf) shifts by 0: exp(-inf) = 0.
        shift = xp.where(xp.isfinite(m_new), m_new, 0.0)
        total = total * xp.exp(m - shift) + xp.sum(xp.exp(z - shift[:, None]), axis=1)
        if u_c is not None:
            s = s + xp.sum(xmul(xp, cast(xp, u_c, work)[None, :], z), axis=1)
        return (m_new, total, s), ()

    (m, total, s), _ = fold_chunks(xp, step, (neg_inf, zeros, zeros), (weight, bias, u), chunk)
    finite = xp.isfinite(m)
    lse = xp.where(finite, xp.where(finite, m, 0.0) + xp.log(total), m)
    return lse, _target_logit(xp, hidden, weight, bias, targets, work, softcap), s


def _target_logit(
    xp: Any, hidden: Any, weight: Any, bias: Any, targets: Any, work: Any, softcap: Any
) -> Any:
    """``z_y`` per token from the gathered weight rows (an (N, D) temporary, no per-chunk
    comparison); 0 for a target outside ``[0, V)``. Forward only: the backward's comparison
    form stays exact for repeated targets."""
    safe, keep, _ = sanitize_labels(xp, targets, weight.shape[0])
    index = cast(xp, safe, index_dtype(xp, safe))
    rows = cast(xp, xp.take(weight, index, axis=0), work)
    raw = xp.sum(cast(xp, hidden, work) * rows, axis=1)
    if bias is not None:
        raw = raw + cast(xp, xp.take(bias, index, axis=0), work)
    if softcap is not None:
        raw = softcap * xp.tanh(raw / softcap)
    return xp.where(keep, raw, 0.0)


def _backward(
    xp: Any,
    arrays: tuple[Any, ...],
    outputs: tuple[Any, ...],
    cotangents: tuple[Any, ...],
    *,
    chunk: int,
    softcap: Any,
) -> tuple[Any, ...]:
    hidden, weight, bias, targets, u = arrays
    lse, _, _ = outputs
    g_lse, g_t, g_s = cotangents
    work = compute_dtype(xp, hidden.dtype)
    h = cast(xp, hidden, work)
    lse_safe = xp.where(xp.isfinite(lse), lse, 0.0)

    def step(g_h: Any, offset: Any, part: tuple[Any, ...]) -> Any:
        w, b, u_c = part
        z, tanh = _logits(xp, hidden, w, b, work, softcap)
        hits = _hits(xp, targets, offset, z.shape[1])
        dz = g_lse[:, None] * xp.exp(z - lse_safe[:, None]) + xp.where(hits, g_t[:, None], 0.0)
        if u_c is not None:
            dz = dz + g_s[:, None] * cast(xp, u_c, work)[None, :]
        if tanh is not None:
            dz = dz * (1.0 - tanh * tanh)
        g_h = g_h + dz @ cast(xp, w, work)
        ys = [cast(xp, xp.matrix_transpose(dz) @ h, weight.dtype)]
        if b is not None:
            ys.append(cast(xp, xp.sum(dz, axis=0), bias.dtype))
        if u_c is not None:
            ys.append(cast(xp, xp.sum(xmul(xp, g_s[:, None], z), axis=0), u.dtype))
        return g_h, tuple(ys)

    g_h, parts = fold_chunks(xp, step, xp.zeros_like(h), (weight, bias, u), chunk)
    parts = list(parts)
    g_w = parts.pop(0)
    g_b = parts.pop(0) if bias is not None else None
    g_u = parts.pop(0) if u is not None else None
    return cast(xp, g_h, hidden.dtype), g_w, g_b, None, g_u


def logit_stats_forward(
    xp: Any,
    hidden: Any,
    weight: Any,
    bias: Any,
    targets: Any,
    u: Any,
    *,
    chunk: int,
    softcap: float | None = None,
) -> tuple[Any, Any, Any]:
    """:func:`logit_stats` without a custom gradient (any backend; autodiff through it
    would save every chunk)."""
    return _forward(xp, hidden, weight, bias, targets, u, chunk=chunk, softcap=softcap)


_STATS = define_vjp(logit_stats_forward, _backward)


def logit_stats(
    xp: Any,
    hidden: Any,
    weight: Any,
    bias: Any,
    targets: Any,
    u: Any,
    *,
    chunk: int,
    softcap: float | None = None,
) -> tuple[Any, Any, Any]:
    """``(lse, z_y, sum_v u_v z_v)`` per token of ``hidden`` (N, D) against ``weight`` (V, D).

    Differentiable w.r.t. ``hidden``, ``weight``, ``bias`` and ``u`` on JAX and torch (through
    the chunked backward); ``targets`` outside ``[0, V)`` give ``z_y = 0``; ``u`` None gives
    ``s = 0``.
    """
    static = {"chunk": int(chunk), "softcap": None if softcap is None else float(softcap)}
    return custom_vjp(xp, _STATS, (hidden, weight, bias, targets, u), static)


def logit_stats_vjp(
    xp: Any,
    hidden: Any,
    weight: Any,
    bias: Any,
    targets: Any,
    u: Any,
    outputs: tuple[Any, Any, Any],
    cotangents: tuple[Any, Any, Any],
    *,
    chunk: int,
    softcap: float | None = None,
) -> tuple[Any, ...]:
    """The chunked backward of :func:`logit_stats`: gradients w.r.t. ``(hidden, weight, bias,
    targets, u)`` (None for ``targets`` and absent arguments)."""
    arrays = (hidden, weight, bias, targets, u)
    return _backward(xp, arrays, outputs, cotangents, chunk=int(chunk), softcap=softcap)


def linear_cross_entropy(
    xp: Any,
    hidden: Any,
    weight: Any,
    bias: Any,
    targets: Any,
    class_weight: Any,
    *,
    ignore_index: int | None,
    label_smoothing: float,
    z_loss: float,
    softcap: float | None,
    chunk: int,
) -> tuple[Any, Any, Any]:
    """torch's index-target cross entropy of ``hidden @ weight.T + bias`` (N tokens).

    Returns ``(loss, w_y, lse)`` per token: the loss (0 where ignored, NaN for an out-of-range
    label), the weight ``w_y`` that a torch-style ``'mean'`` divides by (0 where ignored) and
    the log-sum-exp. Same conventions as ``class_weighted_nll`` plus ``z_loss * w_y * lse**2``.
    """
    num_classes = weight.shape[0]
    work = compute_dtype(xp, hidden.dtype)
    safe, keep, bad = sanitize_labels(xp, targets, num_classes, ignore_index)
    smooth = bool(label_smoothing)
    u = None
    if smooth:
        u = class_weight
        if u is None:
            u = xp.ones((num_classes,), dtype=work, device=device_of(hidden))
    lse, t, s = logit_stats(xp, hidden, weight, bias, targets, u, chunk=chunk, softcap=softcap)
    if class_weight is None:
        w_y = xp.astype(keep, work)
    else:
        w_y = xp.where(
            keep, xp.take(class_weight, cast(xp, safe, index_dtype(xp, safe)), axis=0), 0.0
        )
    # where() not a product: lse - t may be NaN at an ignored token of an all -inf row.
    nll = w_y * xp.where(keep, lse - xp.where(keep, t, 0.0), 0.0)
    if smooth:
        spread = xp.sum(u) * lse - s  # sum_v u_v (lse - z_v)
        spread = xp.where(keep, xp.where(keep, spread, 0.0), 0.0)
        nll = (1.0 - label_smoothing) * nll + (label_smoothing / num_classes) * spread
    if z_loss:
        nll = nll + z_loss * w_y * squared_lse(xp, lse, w_y > 0)
    return xp.where(bad, float("nan"), nll), w_y, lse
