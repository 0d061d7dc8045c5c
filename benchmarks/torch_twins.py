"""The best torch formulation of each optax-named (top-level) loss that torch can express.

The top level mirrors optax, whose peer runs on JAX; on eager torch the fair baseline is what a
torch user would write for the same numbers: torch's fused kernel where one computes the loss
(``cross_entropy`` with ``reduction='none'`` for the softmax cross entropies), else a short
composition of torch's own ops. Each twin takes the registry case's arguments as torch tensors
and returns what ours returns; ``tests/test_benchmarks_smoke.py`` checks every twin against ours
on the registry's inputs, so a ratio never compares two different losses.

Top-level losses without a twin (sparsemax, Fenchel-Young, ranking, NT-Xent, circle, dice,
tversky, CTC, the generalized / convex KL) have no torch formulation short enough to count as
"what a torch user writes"; their torch rows are not measured.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["TWINS", "twin"]


def _f() -> Any:
    import torch.nn.functional as F

    return F


def _one_hot(labels: Any, like: Any) -> Any:
    return _f().one_hot(labels, like.shape[-1]).to(like.dtype)


def _classes_last(x: Any, y: Any, *, probabilities: bool) -> Any:
    """torch's ``cross_entropy(reduction='none')`` on optax's layout (classes last)."""
    y = y.movedim(-1, 1) if probabilities else y
    return _f().cross_entropy(x.movedim(-1, 1), y, reduction="none")


def _picked(x: Any, labels: Any) -> Any:
    return x.gather(-1, labels.unsqueeze(-1)).squeeze(-1)


def _sigmoid_focal(x: Any, y: Any, alpha: Any = None, gamma: float = 2.0) -> Any:
    # torchvision.ops.sigmoid_focal_loss without its reduction
    p = x.sigmoid()
    ce = _f().binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * (1 - p_t) ** gamma
    return loss if alpha is None else (alpha * y + (1 - alpha) * (1 - y)) * loss


def _poly(x: Any, y: Any, epsilon: float = 2.0) -> Any:
    ce = _f().cross_entropy(x, y, reduction="none")
    return ce + epsilon * (y * (1 - x.softmax(-1))).sum(-1)


def _log_cosh(x: Any, y: Any) -> Any:
    d = x - y
    return d + _f().softplus(-2 * d) - math.log(2.0)


def _cosine(x: Any, y: Any) -> Any:
    return _f().cosine_similarity(x, y, dim=-1, eps=0.0)


def _pairwise_cosine(x: Any, y: Any) -> Any:
    F = _f()
    return F.normalize(x, dim=-1, eps=1e-8) @ F.normalize(y, dim=-1, eps=1e-8).T


# name -> (label, twin)
TWINS: dict[str, tuple[str, Callable[..., Any]]] = {
    "sigmoid_binary_cross_entropy": (
        "F.binary_cross_entropy_with_logits(none)",
        lambda x, y: _f().binary_cross_entropy_with_logits(x, y, reduction="none"),
    ),
    "softmax_cross_entropy": (
        "F.cross_entropy(none), probabilities",
        lambda x, y: _classes_last(x, y, probabilities=True),
    ),
    "safe_softmax_cross_entropy": (
        "F.cross_entropy(none), probabilities",
        lambda x, y: _classes_last(x, y, probabilities=True),
    ),
    "softmax_cross_entropy_with_integer_labels": (
        "F.cross_entropy(none)",
        lambda x, y: _classes_last(x, y, probabilities=False),
    ),
    "poly_loss_cross_entropy": ("F.cross_entropy + softmax term", _poly),
    "sigmoid_focal_loss": ("torchvision's sigmoid_focal_loss formula", _sigmoid_focal),
    "cross_entropy_loss": (
        "F.cross_entropy(weight=)",
        lambda x, y, weight=None: _f().cross_entropy(x, y, weight=weight),
    ),
    "squared_error": ("F.mse_loss(none)", lambda x, y: _f().mse_loss(x, y, reduction="none")),
    "l2_loss": ("0.5 * F.mse_loss(none)", lambda x, y: 0.5 * _f().mse_loss(x, y, reduction="none")),
    "huber_loss": ("F.huber_loss(none)", lambda x, y: _f().huber_loss(x, y, reduction="none")),
    "log_cosh": ("d + softplus(-2d) - log 2", _log_cosh),
    "hinge_loss": ("relu(1 - x y)", lambda x, y: (1 - x * y).relu()),
    "perceptron_loss": ("relu(-x y)", lambda x, y: (-x * y).relu()),
    "multiclass_hinge_loss": (
        "amax(x + 1 - one_hot) - x[y]",
        lambda x, y: (x + 1 - _one_hot(y, x)).amax(-1) - _picked(x, y),
    ),
    "multiclass_perceptron_loss": ("amax(x) - x[y]", lambda x, y: x.amax(-1) - _picked(x, y)),
    "kl_divergence": (
        "F.kl_div(none).sum(-1)",
        lambda log_p, q: _f().kl_div(log_p, q, reduction="none").sum(-1),
    ),
    "kl_divergence_with_log_targets": (
        "F.kl_div(none, log_target=True).sum(-1)",
        lambda log_p, log_q: _f().kl_div(log_p, log_q, reduction="none", log_target=True).sum(-1),
    ),
    "cosine_similarity": ("F.cosine_similarity(eps=0)", _cosine),
    "cosine_distance": ("1 - F.cosine_similarity(eps=0)", lambda x, y: 1 - _cosine(x, y)),
    "pairwise_cosine_similarity": ("F.normalize(x) @ F.normalize(y).T", _pairwise_cosine),
    "pairwise_cosine_distance": (
        "1 - F.normalize(x) @ F.normalize(y).T",
        lambda x, y: 1 - _pairwise_cosine(x, y),
    ),
}


def twin(name: str) -> tuple[str, Callable[..., Any]] | None:
    """``(label, callable)`` of the top-level loss ``name``'s torch twin, or None."""
    return TWINS.get(name)
