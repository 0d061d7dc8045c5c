"""Stable numerical helpers the Array API standard lacks, written once for every namespace.

Each helper takes the namespace ``xp`` explicitly. None reads array values in Python or builds a
data-dependent shape, so all of them run under ``jax.jit`` and on Dask graphs.
"""

from __future__ import annotations

from typing import Any

from ._dispatch import cast, device_of, stop_gradient

__all__ = [
    "gather_labels",
    "log_sigmoid",
    "log_sigmoid_pair",
    "log_softmax",
    "logaddexp",
    "logsumexp",
    "one_hot",
    "safe_divide",
    "safe_log",
    "softplus",
    "xlogy",
    "xmul",
]


def _abs(xp: Any, x: Any) -> Any:
    """``|x|`` whose derivative at 0 is 0 on every backend.

    ``xp.abs`` has derivative 0 at 0 in torch but 1 in JAX; ``maximum`` splits a tie evenly
    everywhere, so ``maximum(x, -x)`` gives ``(1 - 1) / 2 = 0``.
    """
    return xp.maximum(x, -x)


def softplus(xp: Any, x: Any) -> Any:
    """``log(1 + exp(x))`` without overflow.

    ``max(x, 0) + log1p(exp(-|x|))`` never exponentiates a positive number; ``maximum`` splits
    its gradient at the tie, so the derivative at 0 is exactly ``sigmoid(0) = 0.5``.
    """
    return xp.maximum(x, 0.0) + xp.log1p(xp.exp(-_abs(xp, x)))


def log_sigmoid(xp: Any, x: Any) -> Any:
    """``log(sigmoid(x)) = -softplus(-x)``: exact for large ``|x|``, 0 at ``+inf``."""
    return -softplus(xp, -x)


def log_sigmoid_pair(xp: Any, x: Any) -> tuple[Any, Any]:
    """``(log(sigmoid(x)), log(sigmoid(-x)))`` sharing one ``log1p(exp(-|x|))``.

    ``log sigmoid(x) = -max(-x, 0) - log1p(exp(-|x|))``; the two outputs differ only in which
    ``max`` term they take, so one exponential serves both.
    """
    tail = xp.log1p(xp.exp(-_abs(xp, x)))
    return -xp.maximum(-x, 0.0) - tail, -xp.maximum(x, 0.0) - tail


def logaddexp(xp: Any, a: Any, b: Any) -> Any:
    """``log(exp(a) + exp(b))``; ``-inf`` operands give no NaN values or gradients."""
    m = xp.maximum(a, b)
    m_safe = xp.where(xp.isfinite(m), m, 0.0)
    return xp.log(xp.exp(a - m_safe) + xp.exp(b - m_safe)) + m_safe


def logsumexp(xp: Any, x: Any, axis: int | tuple[int, ...] = -1, keepdims: bool = False) -> Any:
    """``log(sum(exp(x), axis))`` with the max shifted out.

    The shift is replaced by 0 where the max is not finite, so a slice of all ``-inf`` gives
    ``-inf`` (not NaN) and ``-inf`` entries receive a zero gradient.
    """
    # The shift cancels in value and derivative, so it is taken out of the graph: without
    # stop_gradient the backward pass also builds the argmax mask of ``max`` (measured on JAX
    # CPU, (4096, 1000) integer-label cross entropy: 3.3x optax's forward+backward before).
    m = stop_gradient(xp.max(x, axis=axis, keepdims=True))
    m = xp.where(xp.isfinite(m), m, 0.0)
    out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        out = xp.squeeze(out, axis=axis)
    return out


def log_softmax(xp: Any, x: Any, axis: int = -1) -> Any:
    """``x - logsumexp(x)`` along ``axis``; ``-inf`` logits map to ``-inf`` log-probabilities."""
    return x - logsumexp(xp, x, axis=axis, keepdims=True)


def xmul(xp: Any, x: Any, y: Any) -> Any:
    """``x * y`` with the convention ``0 * y = 0`` even for infinite ``y``.

    Double ``where``: ``y`` is replaced before the product, so the gradient with respect to
    ``y`` is 0 (not NaN) where ``x == 0``. Used for ``p * log q`` given ``log q`` directly.
    """
    zero = x == 0
    return xp.where(zero, 0.0, x * xp.where(zero, 0.0, y))


def xlogy(xp: Any, x: Any, y: Any) -> Any:
    """``x * log(y)`` with ``0 * log(0) = 0``; values and gradients finite where ``x == 0``."""
    zero = x == 0
    return xp.where(zero, 0.0, x * xp.log(xp.where(zero, 1.0, y)))


def safe_log(xp: Any, x: Any, floor: float | None = None) -> Any:
    """``log(x)`` clamped below at ``floor`` (-100 in torch's BCE); gradient 0 where clamped.

    The input is guarded as well as the output: ``maximum(log(0), floor)`` alone would send
    ``0 * (1/0) = NaN`` back through the discarded branch.
    """
    if floor is None:
        return xp.log(x)
    positive = x > 0
    out = xp.log(xp.where(positive, x, 1.0))
    return xp.where(positive, xp.maximum(out, floor), floor)


def safe_divide(xp: Any, num: Any, den: Any, fill: float = 0.0) -> Any:
    """``num / den`` with ``fill`` where ``den == 0``.

    Double ``where``: the denominator is replaced by 1 before dividing, so no 0/0 reaches the
    value or the gradient. ``fill=nan`` reproduces torch's all-ignored mean with a zero gradient.
    """
    zero = den == 0
    return xp.where(zero, fill, num / xp.where(zero, 1.0, den))


def one_hot(xp: Any, labels: Any, num_classes: int, dtype: Any) -> Any:
    """One-hot encode integer ``labels`` on a new last axis, in ``dtype`` on the labels' device.

    Out-of-range labels give an all-zero row.
    """
    classes = xp.arange(num_classes, dtype=labels.dtype, device=device_of(labels))
    return xp.astype(labels[..., None] == classes, dtype)


def gather_labels(xp: Any, x: Any, labels: Any, *, use_take: bool | None = None) -> Any:
    """``x[..., labels]`` along the last axis: ``out[i] = x[i, labels[i]]``.

    ``labels`` must already be valid indices (sanitise ignored labels first). Uses
    ``take_along_axis`` where the namespace has it (standard 2024.12) and a broadcast one-hot
    sum otherwise; ``use_take`` forces either path (tests compare both).
    """
    if use_take is None:
        use_take = hasattr(xp, "take_along_axis")
    if use_take:
        # torch's gather wants int64; JAX without x64 has no int64 (asking for it warns): the
        # namespace's own indexing dtype serves both.
        index = labels
        if labels.dtype != xp.int64:
            info = xp.__array_namespace_info__().default_dtypes(device=device_of(labels))
            index = cast(xp, labels, info["indexing"])
        index = index[..., None]
        return xp.squeeze(xp.take_along_axis(x, index, axis=-1), axis=-1)
    classes = xp.arange(x.shape[-1], dtype=labels.dtype, device=device_of(labels))
    hit = labels[..., None] == classes
    # where() rather than a product: 0 * (-inf) would be NaN for masked classes.
    return xp.sum(xp.where(hit, x, 0.0), axis=-1)
