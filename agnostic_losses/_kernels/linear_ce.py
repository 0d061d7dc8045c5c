"""Linear cross-entropy: the final projection fused with the loss, over vocabulary chunks.

``logits = hidden @ weight.T + bias`` is never materialised. One pass over chunks of the
vocabulary computes, per token, three statistics of the logits ``z`` (after the optional
soft-cap ``c * tanh(z / c)``):

- ``lse = log sum_v exp(z_v)``, online: a running maximum ``m`` and a sum rescaled by
  ``exp(m_old - m_new)`` whenever the maximum grows, so no exponential overflows;
- ``t = z_y``, the target's logit, as ``sum_v [v == y] z_v`` inside the chunk (a comparison,
  not a gather of weight rows: it traces on JAX's explicit sharding meshes, and the backward
  below needs no scatter-add, exact for repeated targets);
- ``s = sum_v u_v z_v`` for label smoothing (``u``: class weights, or ones).

The loss is then ordinary array code on these ``(N,)`` statistics (class weights, ignored
tokens, smoothing, z-loss, reductions), differentiated by the backend's autodiff; only the
statistics have a hand-written gradient (:func:`logit_stats_vjp`, wired in by
:func:`~agnostic_losses._autodiff.custom_vjp`), which recomputes each chunk's logits:
``dL/dz_v = g_lse softmax_v + g_t [v == y] + g_s u_v``, then ``dL/dh = sum_chunks dz @ W_c``,
``dL/dW_c = dz^T @ h`` (each chunk's rows written once), ``dL/db_c = sum_tokens dz``.
Half-precision inputs keep their dtype in the matmuls; logits, statistics and the ``dL/dh``
accumulator are float32.
"""

from __future__ import annotations

from typing import Any

from .._autodiff import custom_vjp, define_vjp
from .._dispatch import cast, compute_dtype, device_of, exporting
from .._loops import fold_chunks
from .._numerics import expand_rank, sanitize_labels, squared_lse, xmul

__all__ = [
    "DEFAULT_CHUNK_ELEMENTS",
    "default_chunk_size",
    "linear_cross_entropy",
    "logit_stats",
    "logit_stats_forward",
    "logit_stats_vjp",
]

# Logits per chunk by default: 2**20 float32 = 4 MiB (8192 tokens x 128 classes). A chunk
# lives as a few same-sized temporaries (logits, exponentials, their gradient), so the loss's
# own memory is a small multiple of this, whatever the vocabulary. Measured on 2 CPU cores
# (N=2048, D=128, V=65536, fwd+bwd): against 2**22, torch 1.3x faster in float32 and 1.8x in
# bfloat16, peak 50 MiB instead of 100-430 MiB; jax.jit 1.15x faster, 41 MiB instead of 65.
# Not measured on a GPU, where wider chunks may pay: pass ``chunk_size``.
DEFAULT_CHUNK_ELEMENTS = 2**20
# The token count assumed where it is symbolic and undecidable (see default_chunk_size): a
# large training batch per device, so the chunk (128 classes) is small rather than too wide.
ASSUMED_TOKENS = 8192
# The most vocabulary chunks of a torch.export'ed call (see default_chunk_size): the loop is
# unrolled there, a graph node per operation per chunk in the forward and the backward.
MAX_EXPORTED_CHUNKS = 64


def default_chunk_size(num_tokens: int, num_classes: int) -> int:
    """Vocabulary chunk size that keeps ``num_tokens * chunk`` near
    :data:`DEFAULT_CHUNK_ELEMENTS` (at least 128 classes, at most all of them).

    The token count enters through the largest power of two not above it (so a block holds at
    most twice the default): the chunk is the same for every count in ``[2**k, 2**(k+1))``.
    Under ``torch.compile`` a batch of another size makes the token count symbolic; these
    comparisons then guard a range of sizes, where ``DEFAULT_CHUNK_ELEMENTS // num_tokens``
    would need the exact count (a recompile per batch size) or trace a symbolic loop length.
    A count that no comparison can decide (``jax.export`` with a symbolic batch: ``b >= 2`` is
    neither true nor false for every ``b``) takes the chunk of :data:`ASSUMED_TOKENS` tokens,
    whose blocks hold the default number of logits at that many tokens per call. Under
    ``torch.export`` the count is never compared (a comparison would restrict the exported
    program to the traced bucket of batch sizes): the chunk is that of :data:`ASSUMED_TOKENS`
    tokens, widened to at most :data:`MAX_EXPORTED_CHUNKS` chunks, since torch unrolls the loop
    into the exported graph.
    """
    if exporting():
        widest = -(-int(num_classes) // MAX_EXPORTED_CHUNKS)
        bucket, floor = ASSUMED_TOKENS, max(128, widest)
    else:
        bucket, floor = 1, 128
        try:
            while 2 * bucket <= num_tokens:
                bucket *= 2
        except Exception:  # an undecidable symbolic comparison, whatever its type
            bucket = ASSUMED_TOKENS
    return max(1, min(int(num_classes), max(floor, DEFAULT_CHUNK_ELEMENTS // bucket)))


def _logits(xp: Any, hidden: Any, w: Any, b: Any, work: Any, softcap: float | None) -> Any:
    """One chunk's logits in the work dtype, and ``tanh(raw / c)`` (None without soft-cap)."""
    z = cast(xp, hidden @ xp.matrix_transpose(w), work)
    if b is not None:
        z = z + expand_rank(xp, cast(xp, b, work), z.ndim)
    if softcap is None:
        return z, None
    t = xp.tanh(z / softcap)
    return softcap * t, t


def _hits(xp: Any, targets: Any, offset: Any, width: int) -> Any:
    classes = xp.arange(width, dtype=targets.dtype, device=device_of(targets)) + offset
    return targets[:, None] == classes[None, :]


def logit_stats_forward(
    xp: Any,
    hidden: Any,
    weight: Any,
    bias: Any,
    targets: Any,
    u: Any,
    class_weight: Any = None,
    *,
    chunk: int,
    softcap: float | None = None,
) -> tuple[Any, Any, Any, Any]:
    """:func:`logit_stats` without a custom gradient (any backend; autodiff through it
    would save every chunk)."""
    work = compute_dtype(xp, hidden.dtype)
    n = hidden.shape[0]
    dev = device_of(hidden)
    neg_inf = xp.full((n,), float("-inf"), dtype=work, device=dev)
    # A fresh array per statistic: one that no chunk updates (s without smoothing) is returned
    # as it started, and torch's forward AD asserts when two outputs are one tensor.
    zeros = [xp.zeros((n,), dtype=work, device=dev) for _ in range(4)]

    def step(carry: Any, offset: Any, part: tuple[Any, ...]) -> Any:
        m, total, t, s, w_y = carry
        w, b, u_c, cw_c = part
        z, _ = _logits(xp, hidden, w, b, work, softcap)
        # The target's logit (and class weight) by comparison, not by a gather: a gather of a
        # replicated array by batch-sharded targets does not trace on JAX's explicit meshes.
        hits = _hits(xp, targets, offset, z.shape[1])
        t = t + xp.sum(xp.where(hits, z, 0.0), axis=1)
        if cw_c is not None:
            w_y = w_y + xp.sum(xp.where(hits, cast(xp, cw_c, work)[None, :], 0.0), axis=1)
        m_new = xp.maximum(m, xp.max(z, axis=1))
        # A running maximum still -inf (every logit so far -inf) shifts by 0: exp(-inf) = 0.
        shift = xp.where(xp.isfinite(m_new), m_new, 0.0)
        total = total * xp.exp(m - shift) + xp.sum(xp.exp(z - shift[:, None]), axis=1)
        if u_c is not None:
            s = s + xp.sum(xmul(xp, cast(xp, u_c, work)[None, :], z), axis=1)
        return (m_new, total, t, s, w_y), ()

    (m, total, t, s, w_y), _ = fold_chunks(
        xp, step, (neg_inf, *zeros), (weight, bias, u, class_weight), chunk
    )
    finite = xp.isfinite(m)
    lse = xp.where(finite, xp.where(finite, m, 0.0) + xp.log(total), m)
    return lse, t, s, w_y


def _backward(
    xp: Any,
    arrays: tuple[Any, ...],
    outputs: tuple[Any, ...],
    cotangents: tuple[Any, ...],
    *,
    chunk: int,
    softcap: Any,
) -> tuple[Any, ...]:
    hidden, weight, bias, targets, u, class_weight = arrays
    lse = outputs[0]
    g_lse, g_t, g_s, g_wy = cotangents
    work = compute_dtype(xp, hidden.dtype)
    lse_safe = xp.where(xp.isfinite(lse), lse, 0.0)

    def step(g_h: Any, offset: Any, part: tuple[Any, ...]) -> Any:
        w, b, u_c, cw_c = part
        z, tanh = _logits(xp, hidden, w, b, work, softcap)
        hits = _hits(xp, targets, offset, z.shape[1])
        dz = g_lse[:, None] * xp.exp(z - lse_safe[:, None]) + xp.where(hits, g_t[:, None], 0.0)
        if u_c is not None:
            dz = dz + g_s[:, None] * cast(xp, u_c, work)[None, :]
        if tanh is not None:
            dz = dz * (1.0 - tanh * tanh)
        # The two matmuls take the input dtype, as the forward's does: a half-precision matmul
        # accumulates in float32 inside (and runs 2x float32's speed where the hardware has
        # it); dz rounds to the input dtype as the materialised loss's logit gradient does.
        # What accumulates across chunks, g_h, stays in the work dtype.
        dz_in = cast(xp, dz, hidden.dtype)
        g_h = g_h + cast(xp, dz_in @ w, work)
        # permute_dims, not matrix_transpose (here and in _jvp): torch's batched cotangents and
        # tangents (is_grads_batched; jacobian(vectorize=True); gradcheck's batched checks)
        # have no batching rule for swapaxes.
        ys = [cast(xp, xp.permute_dims(dz_in, (1, 0)) @ hidden, weight.dtype)]
        if b is not None:
            ys.append(cast(xp, xp.sum(dz, axis=0), bias.dtype))
        if u_c is not None:
            ys.append(cast(xp, xp.sum(xmul(xp, g_s[:, None], z), axis=0), u.dtype))
        if cw_c is not None:
            g_cw = xp.sum(xp.where(hits, g_wy[:, None], 0.0), axis=0)
            ys.append(cast(xp, g_cw, class_weight.dtype))
        return g_h, tuple(ys)

    g_h0 = xp.zeros_like(hidden, dtype=work)
    g_h, parts = fold_chunks(xp, step, g_h0, (weight, bias, u, class_weight), chunk)
    left = list(parts)
    g_w = left.pop(0)
    g_b = left.pop(0) if bias is not None else None
    g_u = left.pop(0) if u is not None else None
    g_cw = left.pop(0) if class_weight is not None else None
    return cast(xp, g_h, hidden.dtype), g_w, g_b, None, g_u, g_cw


def _jvp(
    xp: Any,
    arrays: tuple[Any, ...],
    outputs: tuple[Any, ...],
    tangents: tuple[Any, ...],
    *,
    chunk: int,
    softcap: Any,
) -> tuple[Any, ...]:
    # Forward mode pushes the tangent of each chunk's logits,
    # dz = dh @ W_c^T + h @ dW_c^T + db_c (times 1 - tanh^2 under the soft-cap), through the
    # statistics: d lse = sum_v softmax_v dz_v, d t = dz_y, d s = sum_v (u_v dz_v + du_v z_v),
    # d w_y = d class_weight[y]. Nothing per chunk outlives its step.
    hidden, weight, bias, targets, u, _ = arrays
    t_h, t_w, t_b, _, t_u, t_cw = tangents
    lse = outputs[0]
    work = compute_dtype(xp, hidden.dtype)
    lse_safe = xp.where(xp.isfinite(lse), lse, 0.0)
    n = hidden.shape[0]
    zeros = tuple(xp.zeros((n,), dtype=work, device=device_of(hidden)) for _ in range(4))

    def step(carry: Any, offset: Any, part: tuple[Any, ...]) -> Any:
        d_lse, d_t, d_s, d_wy = carry
        w, b, u_c, tw, tb, tu, tcw = part
        z, tanh = _logits(xp, hidden, w, b, work, softcap)
        hits = _hits(xp, targets, offset, z.shape[1])
        terms = []
        if t_h is not None:
            terms.append(cast(xp, t_h @ xp.permute_dims(w, (1, 0)), work))
        if tw is not None:
            terms.append(cast(xp, hidden @ xp.permute_dims(tw, (1, 0)), work))
        if tb is not None:
            terms.append(expand_rank(xp, cast(xp, tb, work), z.ndim))
        dz = xp.zeros_like(z) if not terms else terms[0]
        for term in terms[1:]:
            dz = dz + term
        if dz.shape != z.shape:  # only the bias moves: one row, broadcast over the tokens
            dz = xp.broadcast_to(dz, z.shape)
        if tanh is not None:
            dz = dz * (1.0 - tanh * tanh)
        d_lse = d_lse + xp.sum(xp.exp(z - lse_safe[:, None]) * dz, axis=1)
        d_t = d_t + xp.sum(xp.where(hits, dz, 0.0), axis=1)
        if u_c is not None:
            d_s = d_s + xp.sum(xmul(xp, cast(xp, u_c, work)[None, :], dz), axis=1)
            if tu is not None:
                d_s = d_s + xp.sum(xmul(xp, cast(xp, tu, work)[None, :], z), axis=1)
        if tcw is not None:
            d_wy = d_wy + xp.sum(xp.where(hits, cast(xp, tcw, work)[None, :], 0.0), axis=1)
        return (d_lse, d_t, d_s, d_wy), ()

    parts = (weight, bias, u, t_w, t_b, t_u, t_cw)
    (d_lse, d_t, d_s, d_wy), _ = fold_chunks(xp, step, zeros, parts, chunk)
    # An all -inf row's lse is -inf and does not move (its softmax is 0/0).
    d_lse = xp.where(xp.isfinite(lse), d_lse, 0.0)
    return d_lse, d_t, d_s, d_wy


_STATS = define_vjp(logit_stats_forward, _backward, _jvp)


def logit_stats(
    xp: Any,
    hidden: Any,
    weight: Any,
    bias: Any,
    targets: Any,
    u: Any,
    class_weight: Any = None,
    *,
    chunk: int,
    softcap: float | None = None,
) -> tuple[Any, Any, Any, Any]:
    """``(lse, z_y, sum_v u_v z_v, class_weight[y])`` per token of ``hidden`` (N, D) against
    ``weight`` (V, D).

    Differentiable w.r.t. ``hidden``, ``weight``, ``bias``, ``u`` and ``class_weight`` on JAX
    and torch (through the chunked backward); ``targets`` outside ``[0, V)`` give ``z_y = 0``
    and a zero class weight; ``u`` (``class_weight``) None gives ``s = 0`` (0).
    """
    static = {"chunk": int(chunk), "softcap": None if softcap is None else float(softcap)}
    arrays = (hidden, weight, bias, targets, u, class_weight)
    return custom_vjp(xp, _STATS, arrays, static)


def logit_stats_vjp(
    xp: Any,
    hidden: Any,
    weight: Any,
    bias: Any,
    targets: Any,
    u: Any,
    class_weight: Any,
    outputs: tuple[Any, ...],
    cotangents: tuple[Any, ...],
    *,
    chunk: int,
    softcap: float | None = None,
) -> tuple[Any, ...]:
    """The chunked backward of :func:`logit_stats`: gradients w.r.t. ``(hidden, weight, bias,
    targets, u, class_weight)`` (None for ``targets`` and absent arguments)."""
    arrays = (hidden, weight, bias, targets, u, class_weight)
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
    _, keep, bad = sanitize_labels(xp, targets, num_classes, ignore_index)
    smooth = bool(label_smoothing)
    u = None
    if smooth:
        u = class_weight
        if u is None:
            u = xp.ones((num_classes,), dtype=work, device=device_of(hidden))
    lse, t, s, picked = logit_stats(
        xp, hidden, weight, bias, targets, u, class_weight, chunk=chunk, softcap=softcap
    )
    w_y = xp.astype(keep, work) if class_weight is None else xp.where(keep, picked, 0.0)
    # where() not a product: lse - t may be NaN at an ignored token of an all -inf row.
    nll = w_y * xp.where(keep, lse - xp.where(keep, t, 0.0), 0.0)
    if smooth:
        spread = xp.sum(u) * lse - s  # sum_v u_v (lse - z_v)
        spread = xp.where(keep, xp.where(keep, spread, 0.0), 0.0)
        nll = (1.0 - label_smoothing) * nll + (label_smoothing / num_classes) * spread
    if z_loss:
        nll = nll + z_loss * w_y * squared_lse(xp, lse, w_y > 0)
    return xp.where(bad, float("nan"), nll), w_y, lse
