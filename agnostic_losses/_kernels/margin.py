"""Margin kernels: binary and multiclass hinge / perceptron losses and torch's margin losses.

Every kernel is unreduced and takes arrays already validated and cast to the compute dtype.
Each kink (``max(0, .)``) takes its peer's subgradient at the margin, the same on every
backend: the hinge and perceptron kernels and the two that torch computes natively
(``multi_margin``, ``multilabel_margin``) use ``relu`` (derivative 0 there: torch's kernels'
and ``torch.relu``'s, which it delegates to on eager torch, one pass, not three);
``margin_ranking`` and ``hinge_embedding`` use ``clamp_min_zero`` (derivative 1: torch writes
them with ``clamp_min``); optax's ``multiclass_hinge`` splits a tie evenly among the tied
classes, as ``jnp.max``.
"""

from __future__ import annotations

from typing import Any

from .._numerics import (
    clamp_min_zero,
    expand_rank,
    gather_labels,
    invalid_to_nan,
    label_mask,
    log_sigmoid_pair,
    relu,
    sanitize_labels,
    softplus,
    take_last,
    xmul,
)

__all__ = [
    "hinge",
    "hinge_embedding",
    "margin_ranking",
    "multi_margin",
    "multiclass_hinge",
    "multiclass_perceptron",
    "multilabel_margin",
    "multilabel_soft_margin",
    "perceptron",
    "soft_margin",
    "squared_hinge",
    "to_signed_labels",
]


# --- label helpers (shared by the margin, sparsemax and ranking surfaces) -------------------


def to_signed_labels(xp: Any, labels: Any) -> Any:
    """Keras's convention: a target array entirely in {0, 1} is mapped to {-1, 1}.

    The test is a 0-d array fed to ``where`` (no Python ``bool``), so it runs under jit; a
    target array with any other value (e.g. already -1/1) is left unchanged.
    """
    is_binary = xp.all((labels == 0) | (labels == 1))
    return xp.where(is_binary, 2.0 * labels - 1.0, labels)


# --- binary ----------------------------------------------------------------------------------


def hinge(xp: Any, outputs: Any, targets: Any) -> Any:
    """``max(0, 1 - y x)`` for targets ``y`` in {-1, 1}."""
    return relu(xp, 1.0 - outputs * targets)


def squared_hinge(xp: Any, outputs: Any, targets: Any) -> Any:
    """``max(0, 1 - y x) ** 2``; differentiable at the margin (derivative 0 there)."""
    h = hinge(xp, outputs, targets)
    return h * h


def perceptron(xp: Any, outputs: Any, targets: Any) -> Any:
    """``max(0, -y x)`` for targets ``y`` in {-1, 1}."""
    return relu(xp, -outputs * targets)


def soft_margin(xp: Any, x: Any, y: Any) -> Any:
    """``log(1 + exp(-y x))`` as ``softplus(-y x)``: no overflow for ``|x|`` up to ``+-inf``."""
    return softplus(xp, -y * x)


def margin_ranking(xp: Any, x1: Any, x2: Any, y: Any, margin: float) -> Any:
    """``max(0, -y (x1 - x2) + margin)``."""
    return clamp_min_zero(xp, margin - y * (x1 - x2))


def hinge_embedding(xp: Any, x: Any, y: Any, margin: float) -> Any:
    """torch's ``x`` where ``y == 1``, ``max(0, margin - x)`` where ``y == -1``.

    As in torch, a target that is neither 1 nor -1 receives both terms.
    """
    zero = xp.zeros_like(x)
    clamp = xp.where(y != 1, clamp_min_zero(xp, margin - x), zero)
    return clamp + xp.where(y != -1, x, zero)


def multilabel_soft_margin(xp: Any, x: Any, y: Any, weight: Any = None) -> Any:
    """Per-sample mean over the last axis of the sigmoid cross-entropy (torch's definition).

    Log-sigmoids keep saturated logits exact; ``xmul`` makes ``0 * log sigmoid(-inf)`` zero.
    """
    log_p, log_not_p = log_sigmoid_pair(xp, x)
    loss = -(xmul(xp, y, log_p) + xmul(xp, 1.0 - y, log_not_p))
    if weight is not None:
        loss = loss * expand_rank(xp, weight, loss.ndim)
    return xp.mean(loss, axis=-1)


# --- multiclass (class indices on the last axis) ---------------------------------------------


def multiclass_hinge(xp: Any, scores: Any, labels: Any) -> Any:
    """Crammer-Singer: ``max_j (s_j + 1 - [j = y]) - s_y``; invalid labels give NaN.

    Computed as ``max_j t_j`` with ``t_j = (s_j - s_y) + 1`` for ``j != y`` and ``t_y = 0``:
    shifting by ``s_y`` keeps the value exactly 0 at a large-margin prediction, 0 at
    ``s_y = +inf``, and invariant to adding a constant to every score. One max over every
    class, the label's term included, as optax's: a tie of ``k`` terms gives each ``1/k`` of
    the gradient. A masked label (``s_y = -inf``) is shifted by 0 and added back after the max
    (``+inf``): every ``t_j`` would be ``+inf``, a tie, where optax passes the whole gradient
    to the best other class, as this does.
    """
    num_classes = scores.shape[-1]
    safe, valid, _ = sanitize_labels(xp, labels, num_classes)
    target = gather_labels(xp, scores, safe)
    is_target = label_mask(xp, safe, num_classes)
    masked = target == float("-inf")
    shift = xp.where(masked, 0.0, target)
    terms = xp.where(is_target, 0.0, (scores - shift[..., None]) + 1.0)
    loss = xp.max(terms, axis=-1) + xp.where(masked, -target, 0.0)
    return invalid_to_nan(xp, loss, valid)


def multiclass_perceptron(xp: Any, scores: Any, labels: Any) -> Any:
    """``max_j s_j - s_y``; invalid labels give NaN."""
    safe, valid, _ = sanitize_labels(xp, labels, scores.shape[-1])
    # max(s) - s_y, not max(s - s_y): the same rounding (subtracting s_y is monotone) and the
    # same subgradient at ties, without a pass over the (..., C) scores.
    loss = xp.max(scores, axis=-1) - gather_labels(xp, scores, safe)
    return invalid_to_nan(xp, loss, valid)


def multi_margin(xp: Any, x: Any, target: Any, p: int, margin: float, weight: Any = None) -> Any:
    """Weston-Watkins: ``sum_{j != y} w_y max(0, margin - x_y + x_j) ** p / C`` per sample."""
    num_classes = x.shape[-1]
    safe, valid, _ = sanitize_labels(xp, target, num_classes)
    x_y = gather_labels(xp, x, safe)
    is_label = label_mask(xp, safe, num_classes)
    # The label's own term is set to 0 before the hinge, with a where on a sanitised operand
    # (double where): a product with a mask after it was NaN at an infinite label score
    # (x_y - x_y = inf - inf), and so was its gradient (0 * inf) where p = 2.
    diff = margin - x_y[..., None] + xp.where(is_label, 0.0, x)
    h = relu(xp, xp.where(is_label, 0.0, diff))
    if p == 2:
        h = h * h
    loss = xp.sum(h, axis=-1) / num_classes
    if weight is not None:
        loss = loss * gather_labels(xp, xp.broadcast_to(weight, x.shape), safe)
    return invalid_to_nan(xp, loss, valid)


def multilabel_margin(xp: Any, x: Any, target: Any) -> Any:
    """torch's multilabel margin loss for index targets padded with -1.

    Only the prefix before the first -1 counts. The prefix is a cumulative mask (no
    data-dependent shape): entry ``j`` is kept while no -1 has been seen at or before ``j``.
    ``loss = sum_{j kept} sum_{i not a target} max(0, 1 - (x[t_j] - x[i])) / C``; a repeated
    target index counts once per occurrence, as in torch.
    """
    num_classes = x.shape[-1]
    seen_pad = xp.cumulative_sum(xp.astype(target == -1, xp.int32), axis=-1)
    kept = (seen_pad == 0) & (target >= 0) & (target < num_classes)
    invalid = xp.any((seen_pad == 0) & ((target < -1) | (target >= num_classes)), axis=-1)
    safe = xp.where(kept, target, xp.zeros_like(target))
    # targeted[i]: class i appears among the kept targets
    targeted = xp.any(label_mask(xp, safe, num_classes) & kept[..., None], axis=-2)
    # The pairs that do not count are masked with where (a product with the mask was NaN at
    # an infinite score), and their operands are sanitised first (double where): a padded slot
    # reads class 0's score and a target class's score is no `i`, either of which may be
    # infinite (inf - inf, and NumPy's warning, even in a pair the where drops).
    x_t = xp.where(kept, take_last(xp, x, safe), 0.0)  # (..., slot j): x at each target
    x_i = xp.where(targeted, 0.0, x)  # (..., class i)
    pair = relu(xp, 1.0 - x_t[..., :, None] + x_i[..., None, :])
    counts = kept[..., :, None] & ~targeted[..., None, :]
    loss = xp.sum(xp.where(counts, pair, 0.0), axis=(-2, -1)) / num_classes
    return invalid_to_nan(xp, loss, ~invalid)
