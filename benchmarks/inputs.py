"""Sized inputs for the benchmarks, grown from each registry case's small seeded inputs.

The registry's ``make_inputs`` gives a few dozen elements. For a benchmark size we keep the
structure of the call and rescale every array: the first argument (predictions) gets the new
shape; each other array is matched by the role its shape plays against the first argument's
shape (same shape, labels without the class axis, a per-class vector, a per-sample vector) and
is refilled by resampling its own small values, so probabilities stay in [0, 1], weights stay
positive and integer labels stay valid (ignore values such as -100 are kept). Cases whose shapes
match no role are skipped with the reason.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agnostic_losses._registry import Inputs, LossCase

__all__ = ["PAIRWISE_CLASSES", "SIZES", "applies", "class_axis", "sized_inputs"]

# name -> shape of the prediction in the (N, C) / (N, C, d1, d2) layout of torch.
SIZES: dict[str, tuple[int, ...]] = {
    "tiny": (8, 10),  # dispatch-bound: per-call overhead dominates
    "medium": (4096, 1000),
    "lm": (256, 32000),  # a language-model vocabulary on CPU
    "seg": (8, 21, 128, 128),  # semantic segmentation (PASCAL VOC classes), cross entropy only
}

# Losses whose inputs have a class axis and whose peers accept K-dim inputs: the only ones the
# `seg` size applies to.
_SEG_LOSSES = (
    "cross_entropy",
    "nll_loss",
    "CrossEntropyLoss",
    "NLLLoss",
    "softmax_cross_entropy",
    "softmax_cross_entropy_with_integer_labels",
)


# Losses over pairs (target slot, class): O(N C^2) work in every implementation (torch's kernel
# loops over both), and O(N C^2) memory in our composition, 16 GB at (4096, 1000). They grow to
# at most this many classes (the shape is recorded in each result row).
PAIRWISE_CLASSES: dict[str, int] = {"multilabel_margin_loss": 100, "MultiLabelMarginLoss": 100}


def class_axis(case: LossCase) -> int:
    """The class axis of the case's prediction: 1 on the torch surfaces, -1 on optax's."""
    return -1 if case.surface == "top" else 1


def applies(case: LossCase, size: str) -> str | None:
    """None if ``size`` applies to ``case``, else the reason it does not."""
    if size == "seg" and case.name not in _SEG_LOSSES:
        return "seg size is for cross entropy only"
    return None


def _target_shape(case: LossCase, size: str) -> tuple[int, ...]:
    shape = SIZES[size]
    if len(shape) > 2 and class_axis(case) == -1:
        # optax keeps classes last: (N, d1, d2, C)
        return (shape[0], *shape[2:], shape[1])
    return shape


def _resample(rng: np.random.Generator, small: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    flat = small.reshape(-1)
    if flat.size == 0:
        return np.zeros(shape, dtype=small.dtype)
    return rng.choice(flat, size=shape).astype(small.dtype, copy=False)


def _labels(
    rng: np.random.Generator, small: np.ndarray, shape: tuple[int, ...], small_c: int, big_c: int
) -> np.ndarray:
    """Integer labels: valid classes redrawn in [0, big_c), other values (ignore) kept."""
    picked = _resample(rng, small, shape)
    valid = (picked >= 0) & (picked < small_c)
    fresh = rng.integers(0, big_c, size=shape).astype(small.dtype)
    return np.where(valid, fresh, picked)


def sized_inputs(case: LossCase, size: str, seed: int = 0) -> tuple[Inputs | None, str]:
    """``(inputs, '')`` at ``size`` for ``case``, or ``(None, reason)`` where it cannot grow."""
    reason = applies(case, size)
    if reason is not None:
        return None, reason
    small = case.inputs(seed)
    if not small.args or not isinstance(small.args[0], np.ndarray):
        return None, "first argument is not an array"
    x = small.args[0]
    big = _target_shape(case, size)
    if case.name in PAIRWISE_CLASSES:
        axis = class_axis(case) % len(big)
        big = tuple(
            min(d, PAIRWISE_CLASSES[case.name]) if i == axis else d for i, d in enumerate(big)
        )
    if x.ndim != 2:
        return None, f"prediction has {x.ndim} dims; only 2-D cases are rescaled"
    rng = np.random.default_rng(seed)
    axis = class_axis(case)
    s_c, b_c = x.shape[axis], big[axis]
    s_n, _b_n = x.shape[0], big[0]
    # labels without the class axis: (N,) -> (N, d1..dk)
    b_labels = tuple(d for i, d in enumerate(big) if i != (axis % len(big)))

    def grow(a: Any, name: str) -> tuple[Any, str]:
        if not isinstance(a, np.ndarray):
            return a, ""
        if a.shape == x.shape:
            if np.issubdtype(a.dtype, np.integer) and np.issubdtype(x.dtype, np.integer):
                return _labels(rng, a, big, s_c, b_c), ""
            return _resample(rng, a, big), ""
        if a.ndim == 1 and a.shape[0] == s_n and np.issubdtype(a.dtype, np.integer):
            return _labels(rng, a, b_labels, s_c, b_c), ""
        if a.ndim == 1 and a.shape[0] == s_c and s_c != s_n:
            return _resample(rng, a, (b_c,)), ""
        if a.ndim == 1 and a.shape[0] == s_n:
            return _resample(rng, a, b_labels), ""
        if a.ndim == 0:
            return a, ""
        return None, f"cannot rescale `{name}` of shape {a.shape} against {x.shape}"

    args = [_resample(rng, x, big)]
    for i, a in enumerate(small.args[1:], start=1):
        grown, why = grow(a, f"arg {i}")
        if why:
            return None, why
        args.append(grown)
    kwargs = {}
    for k, v in small.kwargs.items():
        grown, why = grow(v, k)
        if why:
            return None, why
        kwargs[k] = grown
    return Inputs(tuple(args), kwargs), ""
