"""Class labels in a narrow or unsigned integer dtype (uint8 segmentation masks, int8 codes).

Every loss that takes class indices compares them with Python ints (the class count, an ignore
value) and with an ``arange`` of the classes. In uint8, JAX and torch read ``300`` as 44 and
``-100`` as 156, and an ``arange`` of 300 classes repeats 0..43: with more classes than the
label dtype holds, a valid label was flagged out of range, counted as ignored, or matched two
classes. The peers index with such labels directly; so must we, on every backend and under jit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import agnostic_losses as al
from agnostic_losses import functional as F
from agnostic_losses import keras as K
from agnostic_losses._testing.backends import to_numpy

C = 300  # more classes than uint8 or int8 can count
N, T, D = 6, 9, 8
_rng = np.random.default_rng(0)
X = _rng.normal(size=(N, C))
P = np.abs(X) / np.abs(X).sum(-1, keepdims=True)
H = _rng.normal(size=(N, D))
W = _rng.normal(size=(C, D)) / 4
LOGP = X[None] + _rng.normal(size=(T, N, C))
LOGP = LOGP - np.log(np.exp(LOGP).sum(-1, keepdims=True))

LABELS = {
    # 255 is past 300 mod 256 = 44, and 156 is -100 in uint8 (torch's default ignore_index)
    "uint8": np.asarray([0, 5, 255, 156, 100, 3]),
    "int8": np.asarray([0, 5, 127, 100, 44, 3]),
}

Loss = Callable[[Callable[..., Any], Any, Any], Any]

LOSSES: dict[str, Loss] = {
    "softmax_cross_entropy_with_integer_labels": lambda m, y, xp: (
        al.softmax_cross_entropy_with_integer_labels(m(X), y)
    ),
    "cross_entropy_loss": lambda m, y, xp: al.cross_entropy_loss(m(X), y, label_smoothing=0.1),
    "nll_loss": lambda m, y, xp: al.nll_loss(m(X), y),
    "generalized_cross_entropy": lambda m, y, xp: al.generalized_cross_entropy(m(P), y),
    "multiclass_hinge_loss": lambda m, y, xp: al.multiclass_hinge_loss(m(X), y),
    "multiclass_perceptron_loss": lambda m, y, xp: al.multiclass_perceptron_loss(m(X), y),
    "multiclass_sparsemax_loss": lambda m, y, xp: al.multiclass_sparsemax_loss(m(X), y),
    "linear_cross_entropy": lambda m, y, xp: al.linear_cross_entropy(
        m(H), m(W), y, reduction="none", chunk_size=64, label_smoothing=0.1
    ),
    "functional.cross_entropy": lambda m, y, xp: F.cross_entropy(m(X), y, reduction="none"),
    "functional.cross_entropy[smoothing]": lambda m, y, xp: F.cross_entropy(
        m(X), y, reduction="none", label_smoothing=0.1
    ),
    "functional.nll_loss": lambda m, y, xp: F.nll_loss(m(X), y, reduction="none"),
    "functional.multi_margin_loss": lambda m, y, xp: F.multi_margin_loss(m(X), y, reduction="none"),
    "functional.linear_cross_entropy": lambda m, y, xp: F.linear_cross_entropy(
        m(H), m(W), y, reduction="none"
    ),
    "keras.sparse_categorical_crossentropy": lambda m, y, xp: K.sparse_categorical_crossentropy(
        y, m(X), from_logits=True
    ),
    "keras.sparse_categorical_crossentropy[ignore_class]": lambda m, y, xp: (
        K.sparse_categorical_crossentropy(y, m(X), from_logits=True, ignore_class=255)
    ),
}


def _ctc(m: Callable[..., Any], y: Any, xp: Any) -> Any:
    # two labels per sequence, (N, 2): the N labels beside their reverse; blank 1
    targets = xp.stack([y, xp.flip(y)], axis=1)
    frames, lengths = m(np.full((N,), T), dtype="int32"), m(np.full((N,), 2), dtype="int32")
    return F.ctc_loss(m(LOGP), targets, frames, lengths, blank=1, reduction="none")


LOSSES["functional.ctc_loss"] = _ctc


@pytest.mark.parametrize("label_dtype", sorted(LABELS))
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_narrow_labels_equal_wide_labels(
    name: str, label_dtype: str, xp: Any, make: Any, run: Any, close: Any
) -> None:
    labels = LABELS[label_dtype]
    wide = make(labels, dtype="int32")
    narrow = xp.astype(wide, getattr(xp, label_dtype))

    def loss(y: Any) -> Any:
        return LOSSES[name](make, y, xp)

    expected = run(loss, wide)
    assert np.all(np.isfinite(to_numpy(expected)))
    close(run(loss, narrow), expected)
