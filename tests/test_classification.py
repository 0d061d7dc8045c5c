"""Classification family: seed literals, pitfalls and errors on every backend.

Reference values, gradients against finite differences and peers, half precision and invariants
of every registered case run in ``test_registry.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from array_api_extra.testing import lazy_xp_function

from agnostic_losses import BCEWithLogitsLoss, sigmoid_binary_cross_entropy
from agnostic_losses.functional import binary_cross_entropy_with_logits

lazy_xp_function(sigmoid_binary_cross_entropy)
lazy_xp_function(binary_cross_entropy_with_logits)


class TestSigmoidBinaryCrossEntropy:
    def test_seed_values(self, xp: Any, make: Any, close: Any) -> None:
        out = sigmoid_binary_cross_entropy(make([1.0, -1.0, 0.0]), make([1.0, 0.0, 1.0]))
        close(out, np.asarray([0.3132617, 0.3132617, 0.6931472]), atol=1e-7, check_dtype=False)
        close(xp.mean(out), np.asarray(0.4398902), atol=1e-7, check_dtype=False)

    def test_integer_labels_are_cast(self, make: Any, close: Any) -> None:
        out = sigmoid_binary_cross_entropy(make([1.0, -1.0]), make([1, 0], dtype="int64"))
        close(out, np.asarray([0.3132617, 0.3132617]), atol=1e-7, check_dtype=False)

    def test_saturated_logits_exact_with_finite_gradient(self, make: Any, grad: Any) -> None:
        # pitfall 12: +-1e4 and +-inf logits
        logits = make([1e4, -1e4, np.inf, -np.inf, 1e4, -1e4])
        labels = make([1.0, 0.0, 1.0, 0.0, 0.0, 1.0])
        value, (g,) = grad(sigmoid_binary_cross_entropy, (logits, labels))
        np.testing.assert_array_equal(value, [0.0, 0.0, 0.0, 0.0, 1e4, 1e4])
        np.testing.assert_array_equal(g, [0.0, 0.0, 0.0, 0.0, 1.0, -1.0])

    def test_gradient_at_zero_is_exact(self, make: Any, grad: Any) -> None:
        _, (g,) = grad(sigmoid_binary_cross_entropy, (make([0.0, 0.0]), make([1.0, 0.0])))
        np.testing.assert_allclose(g, [-0.5, 0.5])

    def test_shape_mismatch_raises(self, make: Any) -> None:
        # pitfall 14: (N, 1) against (N,) is an error, not an (N, N) broadcast
        with pytest.raises(ValueError, match=r"`logits` and `labels` must have the same shape"):
            sigmoid_binary_cross_entropy(make([0.1, 0.2]), make([[1.0], [0.0]]))

    def test_python_list_raises(self, make: Any) -> None:
        with pytest.raises(TypeError, match=r"`labels` must be an array, got a Python list"):
            sigmoid_binary_cross_entropy(make([0.1]), [1.0])

    def test_mixed_libraries_raise(self, backend: Any, make: Any) -> None:
        if backend.library == "numpy":
            pytest.skip("needs a second library")
        with pytest.raises(TypeError, match=r"`logits` is a \w+ array but `labels` is a numpy"):
            sigmoid_binary_cross_entropy(make([0.1]), np.asarray([1.0]))


class TestBinaryCrossEntropyWithLogits:
    def test_pos_weight_broadcasts_over_last_axis(self, make: Any, close: Any) -> None:
        x = np.asarray([[0.5, -1.0, 2.0], [0.0, 1.0, -2.0]])
        y = np.asarray([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
        pw = np.asarray([1.0, 2.0, 3.0])
        expected = pw * y * np.logaddexp(0, -x) + (1 - y) * np.logaddexp(0, x)
        out = binary_cross_entropy_with_logits(
            make(x), make(y), pos_weight=make(pw), reduction="none"
        )
        close(out, expected, check_dtype=False)

    def test_integer_target_raises(self, make: Any) -> None:
        with pytest.raises(TypeError, match=r"`target` must have a real floating dtype"):
            binary_cross_entropy_with_logits(make([0.1]), make([1], dtype="int64"))

    def test_invalid_reduction_raises(self, make: Any) -> None:
        with pytest.raises(ValueError, match=r"`reduction` must be one of 'none', 'mean', 'sum'"):
            binary_cross_entropy_with_logits(make([0.1]), make([1.0]), reduction="avg")

    def test_legacy_flags(self, make: Any, close: Any) -> None:
        x, y = make([0.0, 0.0]), make([1.0, 0.0])
        summed = binary_cross_entropy_with_logits(x, y, size_average=False)
        close(summed, np.asarray(2 * np.log(2.0)), check_dtype=False)

    def test_class_matches_function(self, make: Any, close: Any) -> None:
        x, y = make([0.3, -2.0]), make([1.0, 0.0])
        close(
            BCEWithLogitsLoss(reduction="sum")(x, y),
            binary_cross_entropy_with_logits(x, y, reduction="sum"),
        )
