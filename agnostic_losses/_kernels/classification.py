"""Classification kernels: sigmoid and softmax cross-entropies and their relatives.

Every kernel works on the LAST axis (surfaces move the class axis there first), takes arrays
already validated and cast to the compute dtype, and returns the unreduced loss.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

from .._dispatch import stop_gradient
from .._numerics import (
    expand_rank,
    gather_labels,
    log_sigmoid_pair,
    log_softmax,
    log_softmax_and_lse,
    logsumexp_and_rounding,
    safe_log,
    sanitize_labels,
    squared_lse,
    xmul,
)

__all__ = [
    "binary_cross_entropy_probs",
    "class_weighted_nll",
    "cross_entropy_sample_weighted",
    "generalized_cross_entropy",
    "index_cross_entropy_rows",
    "nll_from_log_probs",
    "poly_loss_cross_entropy",
    "sigmoid_binary_cross_entropy",
    "sigmoid_focal_loss",
    "soft_cross_entropy_rows",
    "softmax_cross_entropy",
    "softmax_cross_entropy_with_integer_labels",
    "softmax_focal_loss",
]

_NEG_INF = float("-inf")

# torch's backward floor for p (1 - p), 1e-12 as the float32 it stores (9.99999996e-13): float64
# gradients at p = 0 or 1 then match torch's to the last bit (-1.000000004e12, not -1e12).
_BCE_EPSILON = float.fromhex("0x1.197998p-40")


def _masked_logits(xp: Any, logits: Any, where: Any) -> Any:
    # Excluded classes become -inf: they leave the normaliser and get a zero gradient.
    return logits if where is None else xp.where(where, logits, _NEG_INF)


def _masked_labels(xp: Any, labels: Any, where: Any) -> Any:
    # Excluded entries' labels become 0 before the product with their -inf log-probability:
    # masking the product instead leaves d/dlabels = log p = -inf there, times a zero
    # cotangent: NaN wherever an excluded label is not 0.
    return labels if where is None else xp.where(where, labels, 0.0)


def softmax_cross_entropy(xp: Any, logits: Any, labels: Any, where: Any = None) -> Any:
    """``-sum(y * log_softmax(x))`` over the last axis.

    ``xmul`` makes ``0 * log 0 = 0``: a ``-inf`` logit on a zero-probability class adds nothing
    and receives a zero gradient (optax needs ``safe_softmax_cross_entropy`` for this), and so
    does an excluded entry, whatever its label.
    """
    log_p = log_softmax(xp, _masked_logits(xp, logits, where))
    return -xp.sum(xmul(xp, _masked_labels(xp, labels, where), log_p), axis=-1)


def softmax_cross_entropy_with_integer_labels(
    xp: Any, logits: Any, labels: Any, where: Any = None, *, use_take: bool | None = None
) -> tuple[Any, Any]:
    """``logsumexp(x) - x[label]`` over the last axis; NaN for out-of-range labels.

    Only the label's logit is gathered (no full log-softmax). A label outside ``[0, C)`` gives
    NaN for its sample instead of the loss of a clamped class. Returns ``(loss, lse)``, the
    log-sum-exp of each row (``-inf`` for a fully excluded row) for the z-loss.
    """
    num_classes = logits.shape[-1]
    safe, _, bad = sanitize_labels(xp, labels, num_classes)
    masked = _masked_logits(xp, logits, where)
    lse, rounding = logsumexp_and_rounding(xp, masked)
    label_logit = gather_labels(xp, logits, safe, use_take=use_take)
    # lse = -inf only for a fully excluded row; keep x - x = NaN out of that row's value/grad.
    dead = lse == _NEG_INF
    diff = xp.where(dead, 0.0, lse) - xp.where(dead, 0.0, label_logit)
    out = xp.where(dead, 0.0, diff - rounding)
    if where is None:
        # An all -inf row that is not excluded: +inf (as the math says), gradient 0.
        out = xp.where(dead, float("inf"), out)
    else:
        bad = bad & ~dead  # an excluded row's label is not read (padding such as -1): loss 0
    return xp.where(bad, float("nan"), out), lse


def nll_from_log_probs(
    xp: Any, log_probs: Any, labels: Any, *, use_take: bool | None = None
) -> Any:
    """``-log_probs[label]`` over the last axis; NaN for out-of-range labels."""
    safe, _, bad = sanitize_labels(xp, labels, log_probs.shape[-1])
    out = -gather_labels(xp, log_probs, safe, use_take=use_take)
    return xp.where(bad, float("nan"), out)


def class_weighted_nll(
    xp: Any,
    log_probs: Any,
    labels: Any,
    weight: Any,
    ignore_index: int | None,
    label_smoothing: float = 0.0,
    *,
    use_take: bool | None = None,
) -> tuple[Any, Any]:
    """torch's index-target (N, ..., C) NLL with class weights, ignore_index and smoothing.

    Returns ``(loss, w_y)``: the unreduced loss (0 at ignored positions, NaN at out-of-range
    labels) and the per-position weight ``w_y`` (0 where ignored) that torch's ``'mean'``
    divides by. Smoothing spreads ``eps / C`` over every class: the second term is
    ``eps / C * -sum_c w_c log p_c``; ignored positions contribute to neither term.
    """
    num_classes = log_probs.shape[-1]
    safe, keep, bad = sanitize_labels(xp, labels, num_classes, ignore_index)
    picked = gather_labels(xp, log_probs, safe, use_take=use_take)
    if weight is None:
        w_y = xp.astype(keep, log_probs.dtype)
    else:
        full = xp.broadcast_to(weight, log_probs.shape)
        w_y = xp.where(keep, gather_labels(xp, full, safe, use_take=use_take), 0.0)
    # where() not a product: picked may be -inf at an ignored position (all -inf row).
    nll = -xp.where(keep, w_y * xp.where(keep, picked, 0.0), 0.0)
    if label_smoothing:
        weighted = log_probs if weight is None else xmul(xp, weight, log_probs)
        smooth = -xp.sum(weighted, axis=-1)
        smooth = xp.where(keep, xp.where(keep, smooth, 0.0), 0.0)
        nll = (1.0 - label_smoothing) * nll + (label_smoothing / num_classes) * smooth
    nll = xp.where(bad, float("nan"), nll)
    return nll, w_y


def cross_entropy_sample_weighted(
    xp: Any,
    logits: Any,
    targets: Any,
    weight: Any,
    ignore_index: int,
    label_smoothing: float,
) -> tuple[Any, Any]:
    """``lse(x) - <t, x>`` per row, times a per-row weight; ``t`` is the (smoothed) one-hot of
    integer ``targets`` or the (smoothed) floating ``targets`` themselves, classes last.

    Returns ``(loss, w)``: ``w`` is ``weight[y]`` (0 where ``y == ignore_index``) for class
    indices and ``<weight, t>`` for probabilities, and the loss is already multiplied by it;
    without ``weight``, ``w`` is the 0/1 mask of the rows that count (class indices) or None.
    Unlike ``-sum(w t log p)`` the weight scales the whole row, smoothing included, and a
    target that does not sum to 1 adds ``lse (1 - sum t)``.
    """
    num_classes = logits.shape[-1]
    if xp.isdtype(targets.dtype, "integral"):
        safe, keep, _ = sanitize_labels(xp, targets, num_classes, ignore_index)
        if label_smoothing:
            # one-hot rows sum to 1, so lse - <t, x> = -<t, log p>: torch's unweighted smoothed NLL
            log_p = log_softmax(xp, logits)
            loss, kept = class_weighted_nll(xp, log_p, targets, None, ignore_index, label_smoothing)
        else:
            # lse - x_y from the logits: no (N, C) log-softmax for the backward to keep
            ignored = targets == ignore_index
            labels = xp.where(ignored, xp.zeros_like(targets), targets)
            loss, _ = softmax_cross_entropy_with_integer_labels(xp, logits, labels)
            loss = xp.where(ignored, 0.0, loss)
            kept = xp.astype(keep, loss.dtype)
        if weight is None:
            return loss, kept
        full = xp.broadcast_to(weight, logits.shape)  # a gather along the class axis shards
        w = xp.where(keep, gather_labels(xp, full, safe), 0.0)
        return loss * w, w
    t = targets
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + label_smoothing / num_classes
    log_p, lse = log_softmax_and_lse(xp, logits)
    # lse - <t, x> = -<t, log p> + lse (1 - sum t): exact for normalised rows (no lse - <t, x>
    # cancellation), and the target gradient is -x as the direct formula's.
    mass = xp.sum(t, axis=-1)
    loss = -xp.sum(xmul(xp, t, log_p), axis=-1) + xmul(xp, 1.0 - mass, lse[..., 0])
    if weight is None:
        return loss, None
    w = xp.sum(t * expand_rank(xp, weight, t.ndim), axis=-1)
    return loss * w, w


def index_cross_entropy_rows(
    xp: Any,
    logits: Any,
    labels: Any,
    weight: Any,
    *,
    ignore_index: int | None,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
) -> tuple[Any, Any, Any]:
    """torch's class-index cross entropy of each position: ``(loss, w_y, lse)``.

    :func:`class_weighted_nll` of the log-softmax, plus ``z_loss * w_y * lse**2`` (weighted like
    the position's cross entropy, so torch's weighted ``'mean'`` stays ``sum(w_y l) / sum(w_y)``;
    ignored positions add nothing).
    """
    log_p, lse = log_softmax_and_lse(xp, logits)
    lse = xp.squeeze(lse, axis=-1)
    loss, w_y = class_weighted_nll(xp, log_p, labels, weight, ignore_index, label_smoothing)
    if z_loss:
        loss = loss + z_loss * w_y * squared_lse(xp, lse, w_y > 0)
    return loss, w_y, lse


def soft_cross_entropy_rows(
    xp: Any,
    logits: Any,
    targets: Any,
    weight: Any,
    *,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
) -> tuple[Any, Any]:
    """torch's probability-target cross entropy of each position: ``(loss, lse)``.

    ``-sum_c w_c t_c log p_c`` with ``t`` smoothed towards ``1 / C``; ``0 log 0 = 0``.
    """
    num_classes = logits.shape[-1]
    log_p, lse = log_softmax_and_lse(xp, logits)
    lse = xp.squeeze(lse, axis=-1)
    if label_smoothing:
        targets = (1.0 - label_smoothing) * targets + label_smoothing / num_classes
    if weight is not None:
        targets = targets * expand_rank(xp, weight, targets.ndim)
    loss = -xp.sum(xmul(xp, targets, log_p), axis=-1)
    if z_loss:
        loss = loss + z_loss * squared_lse(xp, lse)
    return loss, lse


def _log_one_minus_pt(xp: Any, logits: Any, labels: Any) -> Any:
    """``log(1 - p_t)``, ``1 - p_t = y sigma(-x) + (1 - y) sigma(x)``, in log space.

    ``1 - p_t`` is linear in ``y``, so it is written as ``m + log(y e^(a-m) + (1-y) e^(b-m))``
    with ``a, b = log sigma(-x), log sigma(x)`` and ``m`` the log of the larger of the two
    weighted terms (no gradient through it): the mixture lies in [1, 2], so neither it nor its
    square (in second derivatives) underflows at saturated logits, and the derivative in ``y``
    is exact, also at hard labels. A zero-weight term whose exponent would overflow is 0 with
    no derivative (the true one is infinite). Where ``1 - p_t`` is exactly 0 (an infinite
    logit its hard label agrees with) the log is ``-inf`` with the ``log`` guarded.
    """
    b, a = log_sigmoid_pair(xp, logits)
    one, zero = labels == 1.0, labels == 0.0
    # log y, log(1 - y) of a hard label: -inf, without log(0) (m has no gradient anyway)
    log_y = xp.where(zero, _NEG_INF, xp.log(xp.where(zero, 1.0, labels)))
    log_not_y = xp.where(one, _NEG_INF, xp.log(xp.where(one, 1.0, 1.0 - labels)))
    m = stop_gradient(xp.maximum(a + log_y, b + log_not_y))
    dead = m == _NEG_INF
    m = xp.where(dead, 0.0, m)
    cap = math.log(float(xp.finfo(logits.dtype).max))
    ea, eb = a - m, b - m
    ea = xp.where(zero & (ea > cap), _NEG_INF, ea)
    eb = xp.where(one & (eb > cap), _NEG_INF, eb)
    mix = labels * xp.exp(ea) + (1.0 - labels) * xp.exp(eb)
    return xp.where(dead, _NEG_INF, xp.log(xp.where(dead, 1.0, mix)) + m)


def sigmoid_focal_loss(xp: Any, logits: Any, labels: Any, alpha: Any, gamma: Any) -> Any:
    """``alpha_t * (1 - p_t)^gamma * BCE(x, y)``.

    The modulating factor is ``exp(gamma * log(1 - p_t))``: its derivative
    ``gamma (1 - p_t)^gamma d log(1 - p_t)`` stays finite for ``gamma = 0``, ``0 < gamma < 1``
    and saturated logits, where ``(1 - p_t) ** gamma`` has an infinite derivative at 0.
    ``xmul`` keeps ``0 ** 0 = 1`` (``gamma = 0`` with ``1 - p_t = 0``).
    """
    ce = sigmoid_binary_cross_entropy(xp, logits, labels)
    factor = xp.exp(xmul(xp, gamma, _log_one_minus_pt(xp, logits, labels)))
    # An infinite logit against a soft or opposite label: ce is inf, the factor's derivative
    # 0 (a sigmoid's tail, which beats ce's linear growth): the product's limit is factor * ce',
    # so the factor is a constant there instead of sending 0 * inf = NaN into the gradient.
    factor = xp.where(xp.isinf(ce), stop_gradient(factor), factor)
    loss = ce * factor
    if alpha is None:
        return loss
    return (alpha * labels + (1.0 - alpha) * (1.0 - labels)) * loss


def softmax_focal_loss(xp: Any, logits: Any, labels: Any, alpha: Any, gamma: Any) -> Any:
    """``-alpha * sum_c y_c (1 - p_c)^gamma log p_c`` over the last axis, from logits.

    ``log(1 - p) = log(-expm1(log p))``, exact for ``p`` near 1. Where ``p`` rounds to exactly 1
    the term's value and its true gradient are 0 (``-log p = 0``), so the factor is set there
    by a double ``where`` instead of differentiating ``log 0``.
    """
    log_p = log_softmax(xp, logits)
    below = log_p < 0
    log_1mp = xp.log(-xp.expm1(xp.where(below, log_p, -1.0)))
    # (1 - p)^gamma at p = 1: 0^0 = 1, else 0 (gamma a Python number or a scalar array)
    at_one = (1.0 if gamma == 0 else 0.0) if isinstance(gamma, Real) else gamma == 0
    if not isinstance(at_one, float):
        at_one = xp.astype(at_one, log_p.dtype)
    factor = xp.where(below, xp.exp(gamma * log_1mp), at_one)
    # factor multiplies y log p (0 where y = 0), not log p: factor * (-inf) would send
    # 0 * inf = NaN into the factor's gradient at masked classes. Where a labelled class is
    # masked (p = 0, y log p = -inf) the factor is exactly 1 with derivative gamma p log p -> 0:
    # a constant there, so the gradient is cross entropy's, p - y, not 0 * inf.
    factor = xp.where(log_p == -math.inf, 1.0, factor)
    return -alpha * xp.sum(factor * xmul(xp, labels, log_p), axis=-1)


def poly_loss_cross_entropy(
    xp: Any, logits: Any, labels: Any, epsilon: Any, where: Any = None
) -> Any:
    """``CE(x, y) + epsilon * sum(y * (1 - softmax(x)))`` (Poly-1) over the last axis."""
    log_p = log_softmax(xp, _masked_logits(xp, logits, where))
    y = _masked_labels(xp, labels, where)
    ce_terms = xmul(xp, y, log_p)
    poly_terms = y * (1.0 - xp.exp(log_p))
    return -xp.sum(ce_terms, axis=-1) + epsilon * xp.sum(poly_terms, axis=-1)


def generalized_cross_entropy(xp: Any, log_p_y: Any, q: Any) -> Any:
    """``(1 - p_y^q) / q`` from ``log p_y``: ``p^q = exp(q log p)`` has a finite derivative."""
    return -xp.expm1(q * log_p_y) / q


def binary_cross_entropy_probs(xp: Any, probs: Any, target: Any) -> Any:
    """torch's probability BCE: ``-(y max(log p, -100) + (1 - y) max(log(1 - p), -100))``.

    Inside (0, 1), where ``p (1 - p)`` is above torch's floor ``1e-12``, this is the plain
    ``-(y log p + (1 - y) log1p(-p))`` (the clamps cannot bind there): exact derivatives of
    every order, in ``p`` and ``y``, as torch's double backward gives. At the ends ``log`` is
    taken of a guarded argument -- the clamped branch is a constant, and the unguarded
    ``log 0`` would put ``0 * inf = NaN`` into the gradient -- and, since the clamp alone would
    make the gradient 0 (no signal at the worst prediction), the derivative in ``p`` is
    attached straight-through as torch defines it, ``(p - y) / max(p (1 - p), 1e-12)``: large
    and of the right sign. A ``where`` joins the two, each computed on guarded operands.
    """
    fixed = stop_gradient(probs)
    inside = fixed * (1.0 - fixed) > _BCE_EPSILON
    p = xp.where(inside, probs, 0.5)
    smooth = -(target * xp.log(p) + (1.0 - target) * xp.log1p(-p))
    log_p, log_not_p = safe_log(xp, fixed, -100.0), safe_log(xp, 1.0 - fixed, -100.0)
    clamped = -(target * log_p + (1.0 - target) * log_not_p)
    slope = stop_gradient((fixed - target) / xp.maximum(fixed * (1.0 - fixed), _BCE_EPSILON))
    return xp.where(inside, smooth, clamped + (probs - fixed) * slope)


def sigmoid_binary_cross_entropy(xp: Any, logits: Any, labels: Any, pos_weight: Any = None) -> Any:
    """Elementwise ``-(p * y * log sigmoid(x) + (1 - y) * log sigmoid(-x))``, ``p = pos_weight``.

    Logit space throughout: at ``x = +-inf`` the log-sigmoids are 0 and ``-inf``, and ``xmul``
    keeps ``0 * (-inf) = 0``, so saturated logits with agreeing labels give exactly 0.
    """
    log_p, log_not_p = log_sigmoid_pair(xp, logits)
    positive = xmul(xp, labels, log_p)
    if pos_weight is not None:
        positive = positive * expand_rank(xp, pos_weight, positive.ndim)
    return -(positive + xmul(xp, 1.0 - labels, log_not_p))
