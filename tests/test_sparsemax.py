"""Sparsemax / Fenchel-Young family: literals, pitfalls, errors and properties."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from array_api_extra.testing import lazy_xp_function
from hypothesis import given, settings
from hypothesis import strategies as st

from agnostic_losses import make_fenchel_young_loss, multiclass_sparsemax_loss, sparsemax_loss
from agnostic_losses._dispatch import namespace
from agnostic_losses._kernels.sparsemax import sparsemax
from agnostic_losses._numerics import logsumexp
from agnostic_losses._testing.backends import to_numpy

lazy_xp_function(sparsemax_loss)
lazy_xp_function(multiclass_sparsemax_loss)


def _lse(scores: Any) -> Any:
    return logsumexp(namespace(scores=scores), scores, axis=-1)


def _softmax(scores: Any) -> Any:
    xp = namespace(scores=scores)
    return xp.exp(scores - _lse(scores)[..., None])


class TestSparsemaxLoss:
    def test_seed_values(self, make: Any, close: Any) -> None:
        out = sparsemax_loss(make([2.0, 0.0, -3.0, 0.5]), make([1, 1, 1, 0], dtype="int64"))
        close(out, np.asarray([0.0, 0.25, 3.0, 0.5625]), check_dtype=False)

    def test_saturated_logits(self, make: Any, grad: Any) -> None:
        x = make([1e4, -1e4, np.inf, -1e4])
        y = make([1.0, 0.0, 1.0, 1.0])
        value, (g,) = grad(sparsemax_loss, (x, y))
        np.testing.assert_array_equal(value, [0.0, 0.0, 0.0, 1e4])
        np.testing.assert_array_equal(g, [0.0, 0.0, 0.0, -1.0])

    def test_class_indices_raise(self, make: Any) -> None:
        with pytest.raises(ValueError, match=r"same shape.*use `multiclass_sparsemax_loss`"):
            sparsemax_loss(make([[0.1, 0.2]]), make([1], dtype="int64"))


class TestMulticlassSparsemaxLoss:
    def test_seed_values(self, make: Any, close: Any) -> None:
        scores = make([[3.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.5, -1.0]])
        # row 3: p = (0.75, 0.25, 0); <p, s> - s_y + (1 - 0.625) / 2 with y = 1
        expected = [0.0, 1.0 / 3.0, 0.75 + 0.125 - 0.5 + 0.1875]
        out = multiclass_sparsemax_loss(scores, make([0, 2, 1], dtype="int64"))
        close(out, np.asarray(expected), check_dtype=False)

    def test_gradient_is_sparsemax_minus_onehot(self, make: Any, grad: Any) -> None:
        scores = make([[1.0, 0.5, -1.0]])
        _, (g,) = grad(multiclass_sparsemax_loss, (scores, make([1], dtype="int64")))
        np.testing.assert_allclose(g, [[0.75, -0.75, 0.0]], atol=1e-6)

    def test_masked_class(self, make: Any, grad: Any) -> None:
        # pitfall 1 analogue: a -inf score gets probability 0, a finite value and zero gradient
        scores = make([[1.0, -np.inf, 0.5]])
        value, (g,) = grad(multiclass_sparsemax_loss, (scores, make([0], dtype="int64")))
        np.testing.assert_allclose(value, [0.0625])
        np.testing.assert_allclose(g, [[-0.25, 0.0, 0.25]])

    def test_gradient_at_a_tie_with_the_threshold(self, make: Any, grad: Any) -> None:
        # [1, 1.5, 1.5]: tau = 1 from the top two AND the top three, and s_0 = tau; [0, -inf,
        # 1]: tau = 0 from k = 1 and k = 2. The loss is C1 there: its gradient is still
        # sparsemax(s) - e_y (autodiff through the max over k mixed the two supports: the first
        # row read [-0.25, -0.125, 0.375] + ... and the second [0.25, 0, -0.25])
        scores = make([[1.0, 1.5, 1.5], [0.0, -np.inf, 1.0], [2.0, 2.0, 2.0]])
        labels = make([1, 2, 0], dtype="int64")
        value, (g,) = grad(multiclass_sparsemax_loss, (scores, labels))
        np.testing.assert_allclose(value, [0.25, 0.0, 1.0 / 3.0], rtol=1e-6)
        expected = [[0.0, -0.5, 0.5], [0.0, 0.0, 0.0], [-2.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0]]
        np.testing.assert_allclose(g, expected, atol=1e-6)

    def test_masked_label(self, make: Any, grad: Any) -> None:
        # the label's own score is -inf (or the whole row is): +inf with a zero gradient
        scores = make([[0.0, -np.inf, 1.0], [-np.inf, -np.inf, -np.inf], [1.0, 0.5, 0.0]])
        labels = make([1, 0, 0], dtype="int64")
        cotangent = np.asarray([0.0, 0.0, 1.0])
        value, (g,) = grad(multiclass_sparsemax_loss, (scores, labels), cotangent=cotangent)
        assert np.all(np.isposinf(value[:2]))
        assert np.isfinite(value[2])
        np.testing.assert_allclose(g[:2], 0.0)
        np.testing.assert_allclose(g[2], [-0.25, 0.25, 0.0], atol=1e-6)

    def test_nan_and_inf_scores_give_nan(self, make: Any, grad: Any) -> None:
        # NaN > tau is False: a NaN score fell out of the support and the row read 0.5
        scores = make([[np.nan, 1.0, 0.0], [np.inf, 0.0, 1.0], [1.0, 2.0, 0.0]])
        cotangent = np.asarray([0.0, 0.0, 1.0])
        value, (g,) = grad(
            multiclass_sparsemax_loss, (scores, make([1, 1, 0], dtype="int64")), cotangent=cotangent
        )
        assert np.all(np.isnan(value[:2]))
        np.testing.assert_allclose(value[2], 1.0)
        np.testing.assert_allclose(g, [[0.0] * 3, [0.0] * 3, [-1.0, 1.0, 0.0]], atol=1e-6)

    def test_simplex_projection(self, xp: Any, make: Any, run: Any) -> None:
        scores = make([[3.0, 1.0, 0.0], [0.2, 0.1, -0.4], [-np.inf, 2.0, 2.0]])
        p = to_numpy(run(lambda s: sparsemax(namespace(s=s), s), scores))
        np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-6)
        np.testing.assert_allclose(p, [[1.0, 0.0, 0.0], [0.55, 0.45, 0.0], [0.0, 0.5, 0.5]])

    def test_out_of_range_label(self, backend: Any, make: Any, run: Any) -> None:
        scores, labels = make([[1.0, 2.0], [0.0, 1.0]]), make([0, 2], dtype="int64")
        if backend.lazy:
            out = to_numpy(run(multiclass_sparsemax_loss, scores, labels))
            assert np.isfinite(out[0])
            assert np.isnan(out[1])
        else:
            with pytest.raises(ValueError, match=r"`labels` must hold class indices.*got 2"):
                multiclass_sparsemax_loss(scores, labels)

    def test_errors(self, make: Any) -> None:
        with pytest.raises(TypeError, match=r"`labels` must have an integer dtype.*sparsemax_loss"):
            multiclass_sparsemax_loss(make([[0.1, 0.2]]), make([1.0]))
        with pytest.raises(ValueError, match=r"`labels` must have the shape of `scores`"):
            multiclass_sparsemax_loss(make([[0.1, 0.2]]), make([1, 0], dtype="int64"))


class TestFenchelYoung:
    def test_logsumexp_is_softmax_cross_entropy(self, make: Any, close: Any) -> None:
        fy = make_fenchel_young_loss(_lse)
        scores, targets = make([[0.0, 0.0], [2.0, 0.0]]), make([[1.0, 0.0], [0.0, 1.0]])
        expected = [np.log(2.0), np.log1p(np.exp(2.0))]
        close(fy(scores, targets), np.asarray(expected), check_dtype=False)

    def test_grad_max_fun_gives_the_same_gradient(self, make: Any, grad: Any) -> None:
        scores = make([[0.3, -1.0, 2.0], [0.0, 0.5, 0.1]])
        targets = make([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
        v1, (g1,) = grad(make_fenchel_young_loss(_lse), (scores, targets))
        v2, (g2,) = grad(make_fenchel_young_loss(_lse, grad_max_fun=_softmax), (scores, targets))
        np.testing.assert_allclose(v1, v2)
        np.testing.assert_allclose(g1, g2, atol=1e-6)

    def test_grad_max_fun_replaces_the_gradient(self, make: Any, grad: Any) -> None:
        def zero_grad(scores: Any) -> Any:
            return namespace(scores=scores).zeros_like(scores)

        fy = make_fenchel_young_loss(_lse, grad_max_fun=zero_grad)
        _, (g,) = grad(fy, (make([[0.3, -1.0]]), make([[1.0, 0.0]])))
        np.testing.assert_allclose(g, [[-1.0, 0.0]])

    def test_vector_max_fun_is_applied_row_by_row(self) -> None:
        def lse_all(s: Any) -> Any:  # reduces every axis, like jax.scipy.special.logsumexp
            return np.log(np.sum(np.exp(s)))

        scores = np.asarray([[0.0, 0.0], [2.0, 0.0]])
        targets = np.asarray([[1.0, 0.0], [0.0, 1.0]])
        out = make_fenchel_young_loss(lse_all)(scores, targets)
        np.testing.assert_allclose(out, [np.log(2.0), np.log1p(np.exp(2.0))])

    def test_errors(self) -> None:
        with pytest.raises(TypeError, match=r"`max_fun` must be callable"):
            make_fenchel_young_loss(3.0)  # type: ignore[arg-type]
        fy = make_fenchel_young_loss(_lse)
        with pytest.raises(TypeError, match=r"`targets` must have a real floating dtype.*one-hot"):
            fy(np.zeros((2, 3)), np.asarray([0, 1]))
        with pytest.raises(ValueError, match=r"`max_fun` must reduce the last axis"):
            make_fenchel_young_loss(lambda s: s)(np.zeros((2, 3)), np.zeros((2, 3)))


@settings(max_examples=20, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), shift=st.floats(-20.0, 20.0))
def test_sparsemax_properties(seed: int, shift: float) -> None:
    rng = np.random.default_rng(seed)
    scores = 2.0 * rng.normal(size=(4, 6))
    labels = rng.integers(0, 6, size=(4,))
    p = sparsemax(namespace(s=scores), scores)
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-12)
    assert np.all(p >= 0)
    loss = multiclass_sparsemax_loss(scores, labels)
    assert np.all(loss >= -1e-12)
    np.testing.assert_allclose(multiclass_sparsemax_loss(scores + shift, labels), loss, atol=1e-9)
