"""Classification family: seed literals, pitfalls and errors on every backend.

Reference values, gradients against finite differences and peers, half precision and invariants
of every registered case run in ``test_registry.py``.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
from array_api_extra.testing import lazy_xp_function
from hypothesis import given, settings
from hypothesis import strategies as st

from agnostic_losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    NLLLoss,
    checks,
    cross_entropy_loss,
    generalized_cross_entropy,
    nll_loss,
    poly_loss_cross_entropy,
    safe_softmax_cross_entropy,
    sigmoid_binary_cross_entropy,
    sigmoid_focal_loss,
    smooth_labels,
    softmax_cross_entropy,
    softmax_cross_entropy_with_integer_labels,
    softmax_focal_loss,
)
from agnostic_losses._dispatch import AxisError
from agnostic_losses._kernels import classification as K
from agnostic_losses.functional import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
)
from agnostic_losses.functional import nll_loss as f_nll_loss

for _func in (
    sigmoid_binary_cross_entropy,
    binary_cross_entropy_with_logits,
    softmax_cross_entropy,
    softmax_cross_entropy_with_integer_labels,
    safe_softmax_cross_entropy,
    sigmoid_focal_loss,
    smooth_labels,
    poly_loss_cross_entropy,
    nll_loss,
    cross_entropy_loss,
    softmax_focal_loss,
    generalized_cross_entropy,
    cross_entropy,
    f_nll_loss,
    binary_cross_entropy,
):
    lazy_xp_function(_func)

INF = np.inf


def _np_log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    return x - (np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m)


@pytest.fixture
def close(close: Any) -> Any:
    """The conftest ``close`` without the dtype check: literals here are float64 NumPy."""

    def _close(actual: Any, desired: Any, factor: float = 1.0, **kwargs: Any) -> None:
        kwargs.setdefault("check_dtype", False)
        close(actual, desired, factor, **kwargs)

    return _close


def _lit(close: Any, actual: Any, desired: Any, **kwargs: Any) -> None:
    """Seed literals are float32 values given to 7-8 digits: compare at that precision."""
    kwargs.setdefault("atol", 1e-7)
    close(actual, desired, rtol=1e-6, **kwargs)


def _finite(*arrays: Any) -> None:
    for a in arrays:
        assert np.all(np.isfinite(a)), a


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

    def test_target_gradient_is_the_clamped_values(self, make: Any, grad: Any, dtype: str) -> None:
        """Below ``e**-100`` the log is clamped, in the value and in d/dy alike (torch's d/dy
        uses the unclamped log: 150.9 at ``p = 3e-66``); float64 only, where such p exist."""
        if dtype != "float64":
            pytest.skip("probabilities below e**-100 are float64 (float32's are subnormal)")
        p = make([3e-66, 1.0 - 1e-10, 1e-300])
        y = make([0.25, 0.5, 1.0])
        value, (gy,) = grad(binary_cross_entropy, (p, y), {"reduction": "none"}, argnums=(1,))
        np.testing.assert_allclose(value[[0, 2]], [0.25 * 100.0, 100.0], rtol=1e-12)
        np.testing.assert_allclose(gy, [100.0, np.log(1e-10) - np.log1p(-1e-10), 100.0], rtol=1e-6)

    def test_shape_mismatch_raises(self, make: Any) -> None:
        # pitfall 14: (N, 1) against (N,) is an error, not an (N, N) broadcast
        with pytest.raises(ValueError, match=r"`logits` and `labels` must have the same shape"):
            sigmoid_binary_cross_entropy(make([0.1, 0.2]), make([[1.0], [0.0]]))

    def test_python_lists_are_accepted_as_optax_does(self, make: Any, close: Any) -> None:
        out = sigmoid_binary_cross_entropy(make([0.1, -0.3]), [1.0, 0.0])
        close(out, sigmoid_binary_cross_entropy(make([0.1, -0.3]), make([1.0, 0.0])))

    def test_numpy_labels_beside_another_library(self, make: Any, close: Any) -> None:
        # pitfall 32: a data loader's NumPy labels are converted to the logits' library
        out = sigmoid_binary_cross_entropy(make([0.1, -0.3]), np.asarray([1, 0]))
        close(out, sigmoid_binary_cross_entropy(make([0.1, -0.3]), make([1.0, 0.0])))

    def test_two_libraries_raise(self, make: Any, foreign: Any) -> None:
        with pytest.raises(TypeError, match=r"`logits` is a \w+ array but `labels` is a \w+"):
            sigmoid_binary_cross_entropy(make([0.1]), foreign([1.0]))


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


# --- seed literals (float32 and float64, every backend) -------------------------------------


class TestSeedValues:
    def test_softmax_cross_entropy(self, make: Any, close: Any, dtype: str) -> None:
        x = make([[2.0, 1.0, 0.1]])
        _lit(close, softmax_cross_entropy(x, make([[1.0, 0.0, 0.0]])), np.asarray([0.41702995]))
        _lit(
            close,
            softmax_cross_entropy_with_integer_labels(x, make([0], dtype="int64")),
            np.asarray([0.41702995]),
        )
        _lit(
            close, safe_softmax_cross_entropy(x, make([[1.0, 0.0, 0.0]])), np.asarray([0.41702995])
        )

    def test_sigmoid_focal_loss(self, make: Any, close: Any, dtype: str) -> None:
        x, y = make([2.0, -1.0, 0.5, -2.0]), make([1.0, 0.0, 1.0, 0.0])
        _lit(
            close,
            sigmoid_focal_loss(x, y, alpha=0.25, gamma=2.0),
            np.asarray([0.00045089, 0.01699354, 0.01689337, 0.00135267]),
            atol=5e-9,
        )
        _lit(
            close,
            sigmoid_focal_loss(x, y, alpha=None, gamma=2.0),
            np.asarray([0.00180356, 0.02265805, 0.06757348, 0.00180356]),
            atol=5e-9,
        )

    def test_smooth_labels_then_cross_entropy(self, make: Any, close: Any, dtype: str) -> None:
        smoothed = smooth_labels(make([[1.0, 0.0, 0.0]]), 0.1)
        _lit(close, smoothed, np.asarray([[0.93333334, 0.03333334, 0.03333334]]))
        _lit(
            close,
            softmax_cross_entropy(make([[2.0, 1.0, 0.5]]), smoothed),
            np.asarray([0.54770213]),
        )

    def test_nll_loss_is_positive(self, make: Any, close: Any, dtype: str) -> None:
        logp = make(np.log([0.1, 0.7, 0.2]))
        _lit(close, nll_loss(logp, 1), np.asarray(0.35667497))
        _lit(close, nll_loss(logp, make(1, dtype="int64")), np.asarray(0.35667497))

    def test_smooth_labels_with_where(self, make: Any, close: Any, dtype: str) -> None:
        where = make(np.asarray([[True, True, False, True]]), dtype="bool")
        out = smooth_labels(make([[1.0, 0.0, 0.0, 0.0]]), 0.3, where=where)
        _lit(close, out, np.asarray([[0.8, 0.1, 0.1, 0.1]]))

    def test_poly_loss(self, make: Any, close: Any, dtype: str) -> None:
        out = poly_loss_cross_entropy(make([[2.0, 1.0, 0.1]]), make([[1.0, 0.0, 0.0]]), epsilon=2)
        _lit(close, out, np.asarray([1.0990276]))

    def test_binary_cross_entropy(self, make: Any, close: Any, dtype: str) -> None:
        out = binary_cross_entropy(make([0.9, 0.2, 0.8, 0.1]), make([1.0, 0.0, 1.0, 0.0]))
        np.testing.assert_allclose(_to_numpy(out).astype(np.float64), 0.1643, atol=5e-5)
        _lit(
            close,
            BCELoss()(make([0.9, 0.2]), make([1.0, 0.0])),
            np.asarray(-(np.log(0.9) + np.log(0.8)) / 2),
        )

    def test_torch_cross_entropy_literal(self, make: Any, close: Any, dtype: str) -> None:
        x = make([[2.0, 1.0, 0.1], [0.5, 2.5, 0.0]])
        y = make([0, 1], dtype="int64")
        expected = -(
            _np_log_softmax(np.asarray([[2.0, 1.0, 0.1], [0.5, 2.5, 0.0]]))[[0, 1], [0, 1]]
        )
        _lit(close, cross_entropy(x, y), np.asarray(expected.mean()))
        _lit(close, CrossEntropyLoss(reduction="sum")(x, y), np.asarray(expected.sum()))
        _lit(close, NLLLoss(reduction="none")(x, y), -np.asarray([2.0, 2.5]))


# --- softmax cross-entropy pitfalls ---------------------------------------------------------


class TestSoftmaxPitfalls:
    def test_neg_inf_logit_on_zero_label_class(self, make: Any, grad: Any) -> None:
        # pitfall 1: finite value, gradient 0 at the -inf class, finite elsewhere
        x = make([[0.0, -INF, 1.0], [2.0, 0.5, -INF]])
        y = make([[0.3, 0.0, 0.7], [1.0, 0.0, 0.0]])
        for fn in (softmax_cross_entropy, safe_softmax_cross_entropy):
            value, (g,) = grad(fn, (x, y))
            _finite(value, g)
            assert g[0, 1] == 0.0
            assert g[1, 2] == 0.0
        value, (g,) = grad(cross_entropy, (x, y), {"reduction": "none"})
        _finite(value, g)
        assert g[0, 1] == 0.0
        assert g[1, 2] == 0.0
        labels = make([2, 0], dtype="int64")
        for fn in (softmax_cross_entropy_with_integer_labels, cross_entropy):
            value, (g,) = grad(fn, (x, labels))
            _finite(value, g)
            assert g[0, 1] == 0.0
            assert g[1, 2] == 0.0

    def test_neg_inf_forward_mode(self, backend: Any, make: Any) -> None:
        if backend.library != "jax":
            pytest.skip("forward-mode differentiation is checked with jax.jvp")
        import jax
        import jax.numpy as jnp

        x = make([[0.0, -INF, 1.0]])
        y = make([[0.3, 0.0, 0.7]])
        _, tangent = jax.jvp(lambda v: softmax_cross_entropy(v, y), (x,), (jnp.ones_like(x),))
        _finite(np.asarray(tangent))

    def test_all_neg_inf_row(self, make: Any, grad: Any) -> None:
        # pitfall 2: ignored -> 0 and gradient 0; not ignored -> +inf, never NaN
        x = make([[-INF, -INF, -INF], [1.0, 0.0, -1.0]])
        value, (g,) = grad(cross_entropy, (x, make([-100, 0], dtype="int64")), {"reduction": "sum"})
        _finite(value, g)
        np.testing.assert_array_equal(g[0], 0.0)
        value, (g,) = grad(softmax_cross_entropy, (x, make([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])))
        assert value[0] == INF
        assert np.isfinite(value[1])
        assert not np.any(np.isnan(g))
        value, (g,) = grad(
            softmax_cross_entropy_with_integer_labels, (x, make([0, 0], dtype="int64"))
        )
        assert value[0] == INF
        assert np.isfinite(value[1])
        assert not np.any(np.isnan(g))

    def test_out_of_range_label(self, backend: Any, make: Any) -> None:
        # pitfall 3: eager -> ValueError naming the value; lazy -> NaN for that sample only
        x = make([[1.0, 0.0, -1.0], [0.5, 0.2, 0.1]])
        y = make([1, 3], dtype="int64")
        if backend.lazy:
            for out in (
                cross_entropy(x, y, reduction="none"),
                softmax_cross_entropy_with_integer_labels(x, y),
                f_nll_loss(x, y, reduction="none"),
            ):
                got = np.asarray(_to_numpy(out))
                assert np.isfinite(got[0])
                assert np.isnan(got[1])
            return
        with pytest.raises(ValueError, match=r"`target` must hold class indices in \[0, 3\).*3"):
            cross_entropy(x, y)
        with pytest.raises(ValueError, match=r"`labels` must hold class indices in \[0, 3\);.*3"):
            softmax_cross_entropy_with_integer_labels(x, y)
        with pytest.raises(ValueError, match=r"class indices .*; got -2"):
            f_nll_loss(x, make([-2, 0], dtype="int64"))
        with pytest.raises(ValueError, match=r"class indices .*; got 7"):
            nll_loss(make([0.1, 0.2]), 7)

    def test_all_ignored_mean(self, make: Any, grad: Any) -> None:
        # pitfall 4: torch-compat NaN value with exactly zero gradient; optax `where` gives 0
        x = make([[1.0, 0.0, -1.0], [0.5, 0.2, 0.1]])
        value, (g,) = grad(cross_entropy, (x, make([-100, -100], dtype="int64")))
        assert np.isnan(value)
        np.testing.assert_array_equal(g, 0.0)
        value, (g,) = grad(
            softmax_cross_entropy_with_integer_labels,
            (x, make([0, 1], dtype="int64")),
            {"where": make(np.zeros((2, 3), dtype=bool), dtype="bool")},
        )
        np.testing.assert_array_equal(value, 0.0)
        np.testing.assert_array_equal(g, 0.0)

    @pytest.mark.parametrize("ignore", [-100, 255])
    def test_ignored_equals_subset(self, make: Any, close: Any, ignore: int) -> None:
        # pitfalls 5, 6, 7: smoothing + weights + ignore values outside [0, C)
        rng = np.random.default_rng(0)
        x = rng.normal(size=(5, 4))
        y = np.asarray([0, ignore, 3, ignore, 2])
        w = np.asarray([0.5, 1.0, 2.0, 1.5])
        kept = y != ignore
        kwargs = {"weight": make(w), "ignore_index": ignore, "label_smoothing": 0.2}
        full = cross_entropy(make(x), make(y, dtype="int64"), **kwargs)
        subset = cross_entropy(make(x[kept]), make(y[kept], dtype="int64"), **kwargs)
        close(full, subset)
        none = cross_entropy(make(x), make(y, dtype="int64"), reduction="none", **kwargs)
        assert tuple(none.shape) == (5,)  # pitfall 30: shape kept
        np.testing.assert_array_equal(np.asarray(_to_numpy(none))[~kept], 0.0)

    def test_probability_targets_weight_divides_by_n(self, make: Any, close: Any) -> None:
        # pitfall 7: with probability targets torch divides by N, not by a weight sum
        x = np.asarray([[1.0, 0.0, -1.0], [0.5, 0.2, 0.1]])
        t = np.asarray([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
        w = np.asarray([2.0, 1.0, 0.5])
        expected = -np.sum(w * t * _np_log_softmax(x), axis=-1).mean()
        close(cross_entropy(make(x), make(t), weight=make(w)), np.asarray(expected))

    def test_label_smoothing_is_eps_over_c(self, make: Any, close: Any) -> None:
        # pitfall 10
        x = np.asarray([[1.0, 0.0, -0.5, 2.0]])
        logp = _np_log_softmax(x)[0]
        expected = 0.7 * -logp[1] + 0.3 / 4 * -logp.sum()
        close(cross_entropy(make(x), make([1], dtype="int64"), label_smoothing=0.3), expected)
        soft = make(np.eye(4)[[1]])
        close(cross_entropy(make(x), soft, label_smoothing=0.3), expected)

    def test_unbatched_and_kdim_shapes(self, make: Any, close: Any) -> None:
        # pitfall 8 and 30
        x = np.asarray([1.0, 0.0, -1.0])
        out = cross_entropy(make(x), make(2, dtype="int64"), reduction="none")
        assert tuple(out.shape) == ()
        close(out, np.asarray(-_np_log_softmax(x)[2]))
        xk = make(np.zeros((2, 3, 4, 5)))
        yk = make(np.zeros((2, 4, 5), dtype=np.int64), dtype="int64")
        assert tuple(cross_entropy(xk, yk, reduction="none").shape) == (2, 4, 5)

    def test_half_precision_no_overflow(self, make: Any, half_dtype: str) -> None:
        # pitfall 9: exp(30) overflows float16; the log-sum-exp is accumulated in float32
        x = np.asarray([[30.0, 20.0, 0.0], [-30.0, 0.0, 25.0]])
        y = np.asarray([1, 2])
        for out in (
            softmax_cross_entropy_with_integer_labels(
                make(x, dtype=half_dtype), make(y, dtype="int64")
            ),
            cross_entropy(make(x, dtype=half_dtype), make(y, dtype="int64"), reduction="none"),
            softmax_cross_entropy(make(x, dtype=half_dtype), make(np.eye(3)[y], dtype=half_dtype)),
        ):
            assert half_dtype in str(out.dtype)
            expected = -_np_log_softmax(x)[[0, 1], y]
            np.testing.assert_allclose(
                _to_numpy(out).astype(np.float64), expected, rtol=2e-2, atol=1e-3
            )

    @pytest.mark.parametrize("use_take", [True, False])
    def test_gather_paths_agree(self, xp: Any, make: Any, backend: Any, use_take: bool) -> None:
        if use_take and not hasattr(xp, "take_along_axis"):
            pytest.skip(f"{backend.value} has no take_along_axis")
        x = np.asarray([[1.0, 0.0, -INF], [0.5, 0.2, 0.1]])
        y = np.asarray([0, 2])
        logp = _np_log_softmax(np.asarray([[1.0, 0.0, -1e300], [0.5, 0.2, 0.1]]))
        expected = -logp[[0, 1], y]
        out, _ = K.softmax_cross_entropy_with_integer_labels(
            xp, make(x), make(y, dtype="int64"), use_take=use_take
        )
        np.testing.assert_allclose(_to_numpy(out), expected, rtol=1e-6)
        loss, w_y = K.class_weighted_nll(
            xp, make(logp), make([0, -100], dtype="int64"), None, -100, use_take=use_take
        )
        np.testing.assert_allclose(_to_numpy(loss), [expected[0], 0.0], rtol=1e-6)
        np.testing.assert_array_equal(_to_numpy(w_y), [1.0, 0.0])

    @pytest.mark.parametrize("use_take", [True, False])
    def test_gather_paths_gradient(self, grad: Any, make: Any, xp: Any, use_take: bool) -> None:
        x = make([[1.0, 0.0, -INF], [0.5, 0.2, 0.1]])
        y = make([0, 2], dtype="int64")

        def f(v: Any, labels: Any) -> Any:
            return K.softmax_cross_entropy_with_integer_labels(xp, v, labels, use_take=use_take)[0]

        _, (g,) = grad(f, (x, y))
        _finite(g)
        assert g[0, 2] == 0.0
        np.testing.assert_allclose(g.sum(axis=-1), 0.0, atol=1e-6)


# --- binary cross-entropy pitfalls ------------------------------------------------------------


class TestBinaryPitfalls:
    def test_probabilities_exactly_zero_and_one(self, make: Any, grad: Any) -> None:
        # pitfall 11 and 33: each log clamped at -100, gradients finite
        p = make([0.0, 1.0, 0.0, 1.0, 0.5])
        y = make([0.0, 1.0, 1.0, 0.0, 1.0])
        value, (g, gy) = grad(binary_cross_entropy, (p, y), {"reduction": "none"}, argnums=(0, 1))
        np.testing.assert_allclose(value, [0.0, 0.0, 100.0, 100.0, np.log(2.0)], rtol=1e-6)
        # torch's derivative (p - y) / max(p (1 - p), 1e-12): a strong push at the worst
        # prediction, where the clamped value alone would give a dead zero gradient
        np.testing.assert_allclose(g, [0.0, 0.0, -1e12, 1e12, -2.0], rtol=1e-5)
        # d/dy = clamped log(1 - p) - clamped log p: finite (torch: +-inf)
        np.testing.assert_allclose(gy, [100.0, -100.0, 100.0, -100.0, 0.0], rtol=1e-6, atol=1e-6)

    def test_shape_mismatch_raises(self, make: Any) -> None:
        # pitfall 14
        with pytest.raises(ValueError, match=r"`input` and `target` must have the same shape"):
            binary_cross_entropy(make([0.1, 0.2]), make([[1.0], [0.0]]))
        with pytest.raises(ValueError, match=r"`logits` and `labels` must have the same shape"):
            sigmoid_focal_loss(make([0.1, 0.2]), make([[1.0], [0.0]]))

    def test_values_outside_unit_interval_raise(self, backend: Any, make: Any) -> None:
        # pitfall 15
        if backend.lazy:
            pytest.skip("value checks need concrete values (jit / dask are lazy)")
        with pytest.raises(ValueError, match=r"`target` must hold probabilities in \[0, 1\]"):
            binary_cross_entropy(make([0.5, 0.5]), make([1.5, 0.0]))
        with pytest.raises(ValueError, match=r"`input` must hold probabilities in \[0, 1\]"):
            binary_cross_entropy(make([-0.1, 0.5]), make([1.0, 0.0]))
        # the message shows a value just past 1 as past 1 (six significant digits showed "1")
        with pytest.raises(ValueError, match=r"got values in \[0\.0, 1\.0000\d*\]"):
            binary_cross_entropy(make([0.5, 0.5]), make([0.0, 1.000001]))

    def test_nan_probabilities_raise_as_torch(self, backend: Any, make: Any, run: Any) -> None:
        # torch's binary_cross_entropy refuses NaN input and target ("all elements of input
        # should be between 0 and 1"); optax's and keras's probabilities let NaN through
        nan = float("nan")
        if not backend.lazy:
            with pytest.raises(ValueError, match=r"`input` must hold probabilities .*; got NaN"):
                binary_cross_entropy(make([0.5, nan]), make([1.0, 0.0]))
            with pytest.raises(ValueError, match=r"`target` must hold probabilities .*; got NaN"):
                binary_cross_entropy(make([0.5, 0.5]), make([nan, 0.0]))
        from agnostic_losses import keras as K

        out = run(sigmoid_focal_loss, make([1.0, 0.0]), make([nan, 1.0]))
        assert np.isnan(np.asarray(_to_numpy(out))[0])
        keras_out = run(K.binary_crossentropy, make([[nan, 1.0]]), make([[0.5, 0.5]]))
        assert np.isnan(np.asarray(_to_numpy(keras_out))[0])

    def test_zero_sample_weights_mean_is_plain_mean(self, make: Any, close: Any) -> None:
        # pitfall 29: BCE's weighted 'mean' divides by the element count, zeros included
        out = binary_cross_entropy(make([0.9, 0.2]), make([1.0, 0.0]), weight=make([1.0, 0.0]))
        close(out, np.asarray(-np.log(0.9) / 2))


# --- focal ----------------------------------------------------------------------------------


class TestFocal:
    @pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
    def test_sigmoid_focal_saturated_finite_gradients(
        self, make: Any, grad: Any, gamma: float
    ) -> None:
        # pitfall 16
        x = make([100.0, -100.0, 1000.0, -1000.0, 0.0, 3.0])
        y = make([1.0, 0.0, 0.0, 1.0, 1.0, 0.3])
        value, (g,) = grad(sigmoid_focal_loss, (x, y), {"gamma": gamma})
        _finite(value, g)
        if gamma == 0.0:
            plain = sigmoid_binary_cross_entropy(x, y)
            np.testing.assert_allclose(value, _to_numpy(plain), rtol=1e-6)

    @pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
    def test_softmax_focal_saturated_finite_gradients(
        self, make: Any, grad: Any, gamma: float
    ) -> None:
        x = make([[100.0, -100.0, 0.0], [0.0, 1000.0, -INF], [1.0, 2.0, 3.0]])
        y = make([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.2, 0.3, 0.5]])
        value, (g,) = grad(softmax_focal_loss, (x, y), {"gamma": gamma})
        _finite(value, g)
        assert g[1, 2] == 0.0

    @pytest.mark.parametrize("gamma", [0.5, 2.0])
    def test_sigmoid_focal_at_infinite_logits(
        self, backend: Any, make: Any, run: Any, request: pytest.FixtureRequest, gamma: float
    ) -> None:
        # an infinite logit against a soft or opposite label costs inf; the gradient is the
        # limit (1 - p_t)^gamma (sigmoid(x) - y), not 0 * inf = NaN from the factor's
        # vanishing derivative times the infinite cross entropy
        x = np.asarray([INF, -INF, INF, -INF, 1.0])
        y = np.asarray([0.95, 0.05, 0.0, 1.0, 0.5])
        value = _to_numpy(run(sigmoid_focal_loss, make(x), make(y), gamma=gamma))
        assert np.all(np.isinf(value[:4]))
        assert np.isfinite(value[4])
        if not backend.differentiable:
            return
        grad = request.getfixturevalue("grad")
        _, (g,) = grad(sigmoid_focal_loss, (make(x), make(y)), {"gamma": gamma})
        s = 1.0 / (1.0 + np.exp(-1.0))
        one_minus_pt = np.asarray([0.05, 0.05, 1.0, 1.0, 0.5])
        expected = one_minus_pt**gamma * (np.asarray([1.0, 0.0, 1.0, 0.0, s]) - y)
        # the finite logit, label 1/2: 1 - p_t = 1/2 for every x, so the factor is constant
        np.testing.assert_allclose(g, expected, rtol=1e-5, atol=1e-12)

    @pytest.mark.parametrize("gamma", [0.0, 2.0])
    def test_softmax_focal_at_a_masked_labelled_class(
        self, backend: Any, make: Any, run: Any, request: pytest.FixtureRequest, gamma: float
    ) -> None:
        # a masked (-inf) class with label 1 costs inf; its factor is (1 - 0)^gamma = 1 with
        # derivative gamma p log p -> 0, so the gradient is alpha times cross entropy's,
        # alpha (p - y), not 0 * inf = NaN
        x = np.asarray([[0.0, -INF, 1.0]])
        y = np.asarray([[0.0, 1.0, 0.0]])
        value = _to_numpy(run(softmax_focal_loss, make(x), make(y), gamma=gamma))
        np.testing.assert_array_equal(value, [INF])
        if not backend.differentiable:
            return
        grad = request.getfixturevalue("grad")
        _, (g,) = grad(softmax_focal_loss, (make(x), make(y)), {"gamma": gamma})
        e = np.e
        expected = 0.25 * np.asarray([[1.0 / (1.0 + e), -1.0, e / (1.0 + e)]])
        np.testing.assert_allclose(g, expected, rtol=1e-5)
        # soft labels on a masked class, keras's class-weighted focal loss from logits
        from agnostic_losses.keras import categorical_focal_crossentropy

        soft = make([[0.3, 0.5, 0.2]])
        _, (g,) = grad(
            categorical_focal_crossentropy,
            (soft, make(x)),
            {"alpha": make([0.2, 0.3, 0.5]), "gamma": gamma, "from_logits": True},
            argnums=(1,),
        )
        _finite(g)
        assert g[0, 1] == pytest.approx(-0.3 * 0.5)

    def test_softmax_focal_gamma_zero_is_alpha_ce(self, make: Any, close: Any) -> None:
        x, y = make([[2.0, 1.0, 0.1]]), make([[0.0, 1.0, 0.0]])
        close(softmax_focal_loss(x, y, alpha=1.0, gamma=0.0), softmax_cross_entropy(x, y))

    def test_softmax_focal_alpha_none_is_unweighted(self, make: Any, close: Any) -> None:
        x, y = make([[2.0, 1.0, 0.1]]), make([[0.0, 1.0, 0.0]])
        close(softmax_focal_loss(x, y, alpha=None), softmax_focal_loss(x, y, alpha=1.0))

    def test_zero_dim_inputs(self, make: Any, close: Any) -> None:
        # pitfall 31: 0-d arrays where the peers accept them
        x, y = make(0.5), make(1.0)
        expected = np.log1p(np.exp(-0.5)) * (1 - 1 / (1 + np.exp(-0.5))) ** 2
        close(sigmoid_focal_loss(x, y), np.asarray(expected))
        close(binary_cross_entropy(make(0.25), y, reduction="none"), np.asarray(-np.log(0.25)))

    def test_alpha_weights_positives_and_negatives(self, make: Any, close: Any) -> None:
        # pitfall 17
        x, y = make([0.3, 0.3]), make([1.0, 0.0])
        plain = np.asarray(_to_numpy(sigmoid_focal_loss(x, y)))
        close(sigmoid_focal_loss(x, y, alpha=0.25), plain * np.asarray([0.25, 0.75]))

    def test_generalized_cross_entropy_limits(self, make: Any, close: Any, grad: Any) -> None:
        p = np.asarray([[0.7, 0.3], [0.2, 0.8]])
        y = make([0, 1], dtype="int64")
        close(generalized_cross_entropy(make(p), y, q=1.0), 1.0 - np.asarray([0.7, 0.8]))
        logits = make([[0.0, 50.0], [3.0, -INF]])
        value, (g,) = grad(generalized_cross_entropy, (logits, y), {"from_logits": True})
        _finite(value, g)

    def test_generalized_cross_entropy_keeps_nan(self, make: Any, run: Any) -> None:
        # a NaN probability at the label was read as p = 0 (loss 1/q) by a `p > 0` guard
        from agnostic_losses.keras import categorical_generalized_cross_entropy as keras_gce

        p = make([[np.nan, 0.5, 0.5], [0.0, 0.5, 0.5], [0.2, 0.3, 0.5]])
        y = make([0, 0, 2], dtype="int64")
        with checks("never"):
            for out in (run(generalized_cross_entropy, p, y), run(keras_gce, y, p, q=0.5)):
                np.testing.assert_allclose(_to_numpy(out), [np.nan, 2.0, 2.0 - 2.0 * 0.5**0.5])


# --- errors ---------------------------------------------------------------------------------


class TestErrors:
    def test_invalid_reduction(self, make: Any) -> None:
        x, y = make([[0.1, 0.2]]), make([0], dtype="int64")
        for fn in (cross_entropy, f_nll_loss, cross_entropy_loss):
            with pytest.raises(
                ValueError, match=r"`reduction` must be one of 'none', 'mean', 'sum'"
            ):
                fn(x, y, reduction="avg")
        with pytest.raises(ValueError, match=r"`reduction` must be one of"):
            CrossEntropyLoss(reduction="batchmean")

    def test_shape_mismatch_names_both_shapes(self, make: Any) -> None:
        with pytest.raises(ValueError, match=r"got \(2, 3\) and \(2, 2\)"):
            softmax_cross_entropy(make(np.zeros((2, 3))), make(np.zeros((2, 2))))
        with pytest.raises(ValueError, match=r"\(2,\).*got \(3,\)"):
            softmax_cross_entropy_with_integer_labels(
                make(np.zeros((2, 3))), make([0, 1, 2], dtype="int64")
            )
        with pytest.raises(ValueError, match=r"`target` of class indices must have shape"):
            cross_entropy(make(np.zeros((2, 3, 4))), make(np.zeros((2, 3), np.int64), "int64"))

    def test_wrong_label_kind_names_the_right_function(self, make: Any) -> None:
        x = make([[0.1, 0.2, 0.3]])
        with pytest.raises(TypeError, match=r"softmax_cross_entropy_with_integer_labels"):
            softmax_cross_entropy(x, make([0], dtype="int64"))
        # an integer array of the logits' shape is a one-hot encoding: cast it, not argmax it
        msg = r"integer array of `logits`'s shape \(a one-hot encoding\) must be cast .*optax"
        with pytest.raises(TypeError, match=msg):
            softmax_cross_entropy(x, make([[1, 0, 0]], dtype="int64"))
        with pytest.raises(TypeError, match=r"`input`'s shape \(a one-hot encoding\)"):
            binary_cross_entropy_with_logits(x, make([[1, 0, 0]], dtype="int64"))
        with pytest.raises(TypeError, match=r"use `softmax_cross_entropy` instead"):
            softmax_cross_entropy_with_integer_labels(x, make([0.0]))
        with pytest.raises(TypeError, match=r"`target` must have an integer dtype"):
            f_nll_loss(x, make([0.0]))

    def test_bad_axis(self, make: Any) -> None:
        x = make(np.zeros((2, 3)))
        with pytest.raises(AxisError, match=r"`axis`=2 is out of range"):
            softmax_cross_entropy(x, make(np.zeros((2, 3))), axis=2)
        with pytest.raises(AxisError, match=r"`axis`=-3"):
            softmax_cross_entropy_with_integer_labels(x, make([0, 1], dtype="int64"), axis=-3)

    def test_mixed_libraries(self, make: Any, foreign: Any) -> None:
        # pitfall 32: two non-NumPy libraries are an error naming both arguments
        with pytest.raises(TypeError, match=r"`input` is a \w+ array but `target` is a \w+"):
            cross_entropy(make([[0.1, 0.2]]), foreign([0], dtype="int64"))
        with pytest.raises(TypeError, match=r"`logits` is a \w+ array but `labels` is a \w+"):
            softmax_cross_entropy(make([[0.1, 0.2]]), foreign([[1.0, 0.0]]))

    def test_python_list_and_weight_shape(self, make: Any) -> None:
        # pitfall 31
        with pytest.raises(TypeError, match=r"`target` must be an array, got a Python list"):
            cross_entropy(make([[0.1, 0.2]]), [0])
        with pytest.raises(ValueError, match=r"`weight` must have shape \(2,\)"):
            cross_entropy(make([[0.1, 0.2]]), make([0], dtype="int64"), weight=make([1.0]))


# --- signatures (drop-in rule) --------------------------------------------------------------


# Keyword-only extensions over the peer's signature (documented in the docstrings).
_EXTENSIONS = {
    "cross_entropy": ("z_loss", "return_lse"),
    "softmax_cross_entropy_with_integer_labels": ("z_loss", "return_lse"),
}


def _same_signature(name: str, ours: Any, theirs: Any) -> None:
    mine, peer = _params(ours), _params(theirs)
    extra = _EXTENSIONS.get(name, ())
    assert mine[: len(peer)] == peer
    assert [(n, kind) for n, _, kind in mine[len(peer) :]] == [
        (n, inspect.Parameter.KEYWORD_ONLY) for n in extra
    ]


def _params(func: Any) -> list[tuple[str, Any, Any]]:
    import inspect

    return [(p.name, p.default, p.kind) for p in inspect.signature(func).parameters.values()]


@pytest.mark.parametrize(
    "name",
    ["cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"],
)
def test_functional_signatures_match_torch(name: str) -> None:
    torch_functional = pytest.importorskip("torch.nn.functional")
    from agnostic_losses import functional

    _same_signature(name, getattr(functional, name), getattr(torch_functional, name))


# every torch-style class (the family modules declare them from their function)
_CLASS_NAMES = sorted(
    n
    for n in __import__("agnostic_losses").__all__
    if n.endswith("Loss") and n not in ("Loss", "WeightedLoss")
)
# keyword-only extensions of the constructor over torch's (documented in the docstrings)
_CLASS_EXTENSIONS = {"LinearCrossEntropyLoss": ("z_loss", "chunk_size", "logit_softcap")}


@pytest.mark.parametrize("name", _CLASS_NAMES)
def test_class_signatures_match_torch(name: str) -> None:
    nn = pytest.importorskip("torch.nn")
    if not hasattr(nn, name):
        pytest.skip(f"torch.nn has no {name} in this torch (nox -s minimum runs an older one)")
    import agnostic_losses

    ours = getattr(agnostic_losses, name)
    extra = _CLASS_EXTENSIONS.get(name, ())
    for of in (lambda c: c, lambda c: c.__init__):
        mine = [p for p in _params(of(ours)) if p[0] not in extra]
        assert mine == _params(of(getattr(nn, name)))


@pytest.mark.parametrize("name", _CLASS_NAMES)
def test_class_docstring_documents_every_argument(name: str) -> None:
    # generated from the function's Parameters where the class declares none of its own
    import inspect

    import agnostic_losses
    from agnostic_losses._docs import parameter_entries

    cls = getattr(agnostic_losses, name)
    entries = parameter_entries(cls.__doc__)
    for p in inspect.signature(cls).parameters.values():
        names, _, kind = entries[p.name][0].partition(" : ")
        assert kind or len(entries[p.name]) > 1, names  # a type, or at least a description
        default = p.default not in (None, inspect.Parameter.empty)
        single = "," not in names and default and "optional" not in kind
        assert not single or f"default {p.default!r}" in kind, (names, kind)
    assert "\nExamples\n--------\n>>> " in inspect.getdoc(cls)


@pytest.mark.parametrize(
    "name",
    [
        "softmax_cross_entropy",
        "softmax_cross_entropy_with_integer_labels",
        "safe_softmax_cross_entropy",
        "sigmoid_focal_loss",
        "smooth_labels",
        "poly_loss_cross_entropy",
        "sigmoid_binary_cross_entropy",
    ],
)
def test_top_level_signatures_match_optax(name: str) -> None:
    optax = pytest.importorskip("optax")
    import agnostic_losses

    peer = getattr(optax.losses, name, None) or getattr(optax, name)
    _same_signature(name, getattr(agnostic_losses, name), peer)


# --- properties (NumPy, float64) ----------------------------------------------------------


_SEEDS = st.integers(0, 2**31 - 1)


@settings(max_examples=10, deadline=None)
@given(seed=_SEEDS)
def test_where_mask_equals_subset(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3, 6))
    keep = np.asarray([True, False, True, True, False, True])
    y = rng.uniform(size=(3, 6)) * keep
    y /= y.sum(axis=-1, keepdims=True)
    where = np.broadcast_to(keep, x.shape)
    masked = softmax_cross_entropy(x, y, where=where)
    np.testing.assert_allclose(masked, softmax_cross_entropy(x[:, keep], y[:, keep]), rtol=1e-12)
    masked_poly = poly_loss_cross_entropy(x, y, where=where)
    np.testing.assert_allclose(
        masked_poly, poly_loss_cross_entropy(x[:, keep], y[:, keep]), rtol=1e-12
    )
    labels = rng.integers(0, 4, size=(3,))
    cols = np.flatnonzero(keep)
    out = softmax_cross_entropy_with_integer_labels(x, cols[labels], where=where)
    np.testing.assert_allclose(
        out, softmax_cross_entropy_with_integer_labels(x[:, keep], labels), rtol=1e-12
    )


@settings(max_examples=10, deadline=None)
@given(seed=_SEEDS, axis=st.integers(0, 2))
def test_axis_equals_moveaxis(seed: int, axis: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, 3, 4))
    y = rng.uniform(size=(2, 3, 4))
    labels = rng.integers(0, x.shape[axis], size=np.delete(x.shape, axis))
    expected = softmax_cross_entropy(np.moveaxis(x, axis, -1), np.moveaxis(y, axis, -1))
    np.testing.assert_allclose(softmax_cross_entropy(x, y, axis=axis), expected, rtol=1e-12)
    expected_int = softmax_cross_entropy_with_integer_labels(np.moveaxis(x, axis, -1), labels)
    np.testing.assert_allclose(
        softmax_cross_entropy_with_integer_labels(x, labels, axis=axis), expected_int, rtol=1e-12
    )


@settings(max_examples=10, deadline=None)
@given(seed=_SEEDS)
def test_integer_labels_equal_one_hot(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = 3.0 * rng.normal(size=(5, 4))
    labels = rng.integers(0, 4, size=(5,))
    hot = np.eye(4)[labels]
    expected = softmax_cross_entropy(x, hot)
    # lse - x[y] against -((x[y] - max) - log sum): equal up to a few ulps of the logits, which
    # is most of a near-zero loss's value (1e-16 absolute on 3e-4 when the label is the max).
    tol = {"rtol": 1e-12, "atol": 1e-14}
    integer = softmax_cross_entropy_with_integer_labels(x, labels)
    np.testing.assert_allclose(integer, expected, **tol)
    np.testing.assert_allclose(cross_entropy(x, labels, reduction="none"), expected, **tol)
    np.testing.assert_allclose(cross_entropy_loss(x, hot), expected.mean(), **tol)


def test_tuple_axis_flattens_in_the_order_given(make: Any, close: Any) -> None:
    # optax: axis=(2, 1) moves axis 2 then axis 1 last, so class c is (c // 2, c % 2) there
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 2, 3))
    labels = rng.integers(0, 6, size=(4,))
    flat = np.transpose(x, (0, 2, 1)).reshape(4, 6)
    want = softmax_cross_entropy_with_integer_labels(flat, labels)
    got = softmax_cross_entropy_with_integer_labels(make(x), make(labels, dtype="int64"), (2, 1))
    close(got, want, check_dtype=False)
    sorted_order = softmax_cross_entropy_with_integer_labels(x.reshape(4, 6), labels)
    assert not np.allclose(want, sorted_order)  # the order is observable on these inputs


@pytest.mark.parametrize(
    "name",
    ["softmax_cross_entropy", "poly_loss_cross_entropy", "softmax_focal_loss", "smooth_labels"],
)
def test_axis_none_takes_every_axis(name: str, make: Any, close: Any) -> None:
    """optax's soft-label losses take ``axis=None``: every axis is the class axis (the integer
    labels' loss refuses it, in optax too)."""
    loss = globals()[name]  # looked up at run time: the lazy cells patch the module's names
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(2, 3)), rng.dirichlet(np.ones(6)).reshape(2, 3)
    where = np.asarray([[True, False, True], [True, True, False]])
    labels = name == "smooth_labels"
    other, flat_other = (0.1, 0.1) if labels else (make(y), y.reshape(6))
    shape = (2, 3) if labels else ()
    want = np.reshape(np.asarray(loss(x.reshape(6), flat_other)), shape)
    close(loss(make(x), other, axis=None), want, check_dtype=False)
    if name != "softmax_focal_loss":  # the one without `where`
        masked = loss(make(x), other, axis=None, where=make(where, dtype="bool"))
        want = np.reshape(np.asarray(loss(x.reshape(6), flat_other, where=where.reshape(6))), shape)
        close(masked, want, check_dtype=False)
    with pytest.raises(TypeError, match="`axis` must be an int or a tuple of ints, got None"):
        softmax_cross_entropy_with_integer_labels(make(x), make([0, 1], dtype="int64"), None)


def test_axis_none_matches_optax() -> None:
    optax = pytest.importorskip("optax")
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(2, 3)), rng.dirichlet(np.ones(6)).reshape(2, 3)
    for name in ("softmax_cross_entropy", "poly_loss_cross_entropy"):
        want = getattr(optax.losses, name)(x, y, axis=None)
        np.testing.assert_allclose(globals()[name](x, y, axis=None), want, rtol=1e-6)
    want = optax.losses.smooth_labels(y, 0.1, axis=None)
    np.testing.assert_allclose(smooth_labels(y, 0.1, axis=None), want, rtol=1e-6)


@settings(max_examples=10, deadline=None)
@given(seed=_SEEDS, smoothing=st.sampled_from([0.0, 0.1]))
def test_kdim_equals_flattened(seed: int, smoothing: float) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, 4, 3, 2))
    y = rng.integers(0, 4, size=(2, 3, 2))
    y[0, 1, 1] = -100
    w = rng.uniform(0.5, 2.0, size=(4,))
    flat_x = np.moveaxis(x, 1, -1).reshape(-1, 4)
    for reduction in ("mean", "sum"):
        kdim = cross_entropy(x, y, weight=w, reduction=reduction, label_smoothing=smoothing)
        flat = cross_entropy(
            flat_x, y.reshape(-1), weight=w, reduction=reduction, label_smoothing=smoothing
        )
        np.testing.assert_allclose(kdim, flat, rtol=1e-12)


# --- issue 8: drop-in fidelity ----------------------------------------------------------------

_YS = np.asarray([[10.0, 1.0, -2.0], [1.0, 4.0, 0.2]])
_TS = np.asarray([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


class TestBrainpyCrossEntropy:
    """brainpy 2.8's ``cross_entropy_loss``: ``s_n (lse(x) - <t, x>)``, hand-computed literals."""

    # lse(2, 1, 0.1) = log(7.389056 + 2.718282 + 1.105171) = 2.417030
    X = ((2.0, 1.0, 0.1), (0.5, 2.5, 0.0))

    def test_unnormalised_targets_and_their_gradient(self, make: Any, grad: Any) -> None:
        # targets summing to 2: lse - (2 + 1) = -0.582970 (-<t, log p> would be 1.834060)
        t = make([[1.0, 1.0, 0.0]])
        value, (gt,) = grad(cross_entropy_loss, (make(self.X[:1]), t), argnums=(1,))
        np.testing.assert_allclose(value, -0.582970, atol=2e-6)
        np.testing.assert_allclose(gt, [[-2.0, -1.0, -0.1]], rtol=1e-6)  # -x, as brainpy's

    def test_weight_scales_the_smoothed_row(self, make: Any, close: Any) -> None:
        # t = 0.7 e_0 + 0.1 = (0.8, 0.1, 0.1): 2.417030 - 1.71 = 0.707030, times w_0 = 2;
        # the mean divides by w_0 again
        x, y, w = make(self.X[:1]), make([0], dtype="int64"), make([2.0, 1.0, 1.0])
        kw = {"weight": w, "label_smoothing": 0.3}
        close(cross_entropy_loss(x, y, reduction="none", **kw), np.asarray([1.414060]), 5e3)
        close(cross_entropy_loss(x, y, **kw), np.asarray(0.707030), 5e3)

    def test_ignored_labels(self, make: Any, close: Any) -> None:
        x = make(self.X)
        close(cross_entropy_loss(x, make([0, -100], dtype="int64")), np.asarray(0.417030), 5e3)
        out = cross_entropy_loss(x, make([2, 0], dtype="int64"), ignore_index=0)
        close(out, np.asarray(2.317030), 5e3)
        # every label ignored: 0 (the divisor is at least 1; torch gives NaN), NaN with a weight
        none = make([-100, -100], dtype="int64")
        close(cross_entropy_loss(x, none), np.asarray(0.0))
        assert np.isnan(np.asarray(cross_entropy_loss(x, none, weight=make([1.0, 1.0, 1.0]))))


class TestTargetGradients:
    """d/d(target) is exact where it is finite, also at targets exactly 0 and 1 (issue 8.1)."""

    def test_softmax_cross_entropy(self, make: Any, grad: Any) -> None:
        want = -_np_log_softmax(_YS)  # optax: [[0.00013, 9.00013, 12.00013], [3.07, 0.07, 3.87]]
        for fn in (softmax_cross_entropy, safe_softmax_cross_entropy):
            _, (gt,) = grad(fn, (make(_YS), make(_TS)), argnums=(1,))
            np.testing.assert_allclose(gt, want, rtol=1e-5, atol=1e-6)

    def test_poly_loss(self, make: Any, grad: Any) -> None:
        p = np.exp(_np_log_softmax(_YS))
        _, (gt,) = grad(poly_loss_cross_entropy, (make(_YS), make(_TS)), {"epsilon": 2.0}, (1,))
        np.testing.assert_allclose(gt, -np.log(p) + 2.0 * (1.0 - p), rtol=1e-5, atol=1e-6)

    @pytest.mark.parametrize("native", [True, False], ids=["native", "generic"])
    def test_torch_surface_probability_targets(self, make: Any, grad: Any, native: bool) -> None:
        from agnostic_losses import _native

        with _native.disabled() if not native else _nullcontext():
            _, (gt,) = grad(cross_entropy, (make(_YS), make(_TS)), {"reduction": "sum"}, (1,))
            np.testing.assert_allclose(gt, -_np_log_softmax(_YS), rtol=1e-5, atol=1e-6)
            loss = CrossEntropyLoss(reduction="sum")
            _, (gt,) = grad(loss, (make(_YS), make(_TS)), argnums=(1,))
            np.testing.assert_allclose(gt, -_np_log_softmax(_YS), rtol=1e-5, atol=1e-6)

    @pytest.mark.parametrize("native", [True, False], ids=["native", "generic"])
    def test_sigmoid_cross_entropies(self, make: Any, grad: Any, native: bool) -> None:
        from agnostic_losses import _native

        x = np.asarray([3.0, -2.0, 0.5, -40.0])
        t = np.asarray([0.0, 1.0, 0.0, 1.0])
        w = np.asarray([1.0, 2.0, 0.5, 1.5])
        _, (gt,) = grad(sigmoid_binary_cross_entropy, (make(x), make(t)), argnums=(1,))
        np.testing.assert_allclose(gt, -x, rtol=1e-6)
        with _native.disabled() if not native else _nullcontext():
            args = (make(x), make(t), make(w))
            _, (gt, gw) = grad(
                binary_cross_entropy_with_logits, args, {"reduction": "sum"}, argnums=(1, 2)
            )
            np.testing.assert_allclose(gt, -x * w, rtol=1e-6)
            expected = t * np.logaddexp(0, -x) + (1 - t) * np.logaddexp(0, x)
            np.testing.assert_allclose(gw, expected, rtol=1e-6)

    def test_sigmoid_focal_against_finite_differences(self, make: Any, grad: Any) -> None:
        x = np.asarray([2.0, -1.0, 0.5, -2.0, 3.0])
        t = np.asarray([1.0, 0.0, 0.0, 1.0, 0.3])

        def ref(tt: np.ndarray) -> float:
            p = 1.0 / (1.0 + np.exp(-x))
            ce = tt * np.logaddexp(0, -x) + (1 - tt) * np.logaddexp(0, x)
            p_t = p * tt + (1 - p) * (1 - tt)
            return float(np.sum((0.25 * tt + 0.75 * (1 - tt)) * (1 - p_t) ** 2 * ce))

        h = 1e-6
        want = [(ref(t + h * e) - ref(t - h * e)) / (2 * h) for e in np.eye(t.size)]
        kw = {"alpha": 0.25, "gamma": 2.0}
        _, (gt,) = grad(sigmoid_focal_loss, (make(x), make(t)), kw, argnums=(1,))
        np.testing.assert_allclose(gt, want, rtol=1e-4, atol=1e-6)


class TestZLoss:
    """z-loss and the log-sum-exp output (issue 11.2)."""

    def test_return_lse(self, make: Any, close: Any) -> None:
        x = np.asarray([[2.0, 1.0, 0.1], [0.5, 2.5, 0.0]])
        lse = np.log(np.sum(np.exp(x), axis=-1))
        for out, got in (
            softmax_cross_entropy_with_integer_labels(
                make(x), make([0, 1], "int64"), return_lse=True
            ),
            cross_entropy(make(x), make([0, -100], "int64"), reduction="none", return_lse=True),
        ):
            close(got, lse)
            assert got.dtype == out.dtype
            assert tuple(got.shape) == (2,)

    def test_z_loss_adds_squared_lse_of_kept_tokens(self, make: Any, close: Any) -> None:
        x = np.asarray([[2.0, 1.0, 0.1], [0.5, 2.5, 0.0]])
        lse = np.log(np.sum(np.exp(x), axis=-1))
        base = cross_entropy(make(x), make([0, -100], "int64"), reduction="sum")
        with_z = cross_entropy(make(x), make([0, -100], "int64"), reduction="sum", z_loss=0.5)
        close(with_z, np.asarray(_to_numpy(base)) + 0.5 * lse[0] ** 2)

    def test_class_keeps_torch_signature(self) -> None:
        import inspect

        assert "z_loss" not in inspect.signature(CrossEntropyLoss).parameters


class _nullcontext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


class TestFocalSaturation:
    def test_infinite_logits_with_agreeing_labels(self, make: Any, grad: Any) -> None:
        # issue 8.4: value 0, no NaN gradient (logaddexp of two -inf once made NaN)
        x = make([np.inf, -np.inf, 1e4, -1e4])
        y = make([1.0, 0.0, 1.0, 0.0])
        for gamma in (0.0, 0.5, 2.0):
            value, (gx, gy) = grad(
                sigmoid_focal_loss, (x, y), {"gamma": gamma, "alpha": 0.25}, argnums=(0, 1)
            )
            np.testing.assert_array_equal(value, 0.0)
            _finite(gx, gy)

    @pytest.mark.parametrize("gamma", [0.5, 2.0])
    def test_hessian_finite_at_saturation(self, gamma: float) -> None:
        # log(1 - p_t) once kept a mixture of e^-50 whose square underflowed: NaN Hessian at
        # x = +-50 with hard labels (optax's own test_extreme_logits_finite_gradients)
        jax = pytest.importorskip("jax")
        import jax.numpy as jnp

        x = jnp.asarray([100.0, -100.0, 75.0, -75.0, 50.0, -50.0, 20.0], dtype=jnp.float32)
        y = jnp.asarray([0.9, 0.1, 0.8, 0.2, 1.0, 0.0, 1.0], dtype=jnp.float32)

        def total(logits: Any) -> Any:
            return jnp.sum(sigmoid_focal_loss(logits, y, gamma=gamma))

        assert bool(jnp.all(jnp.isfinite(jax.hessian(total)(x))))


class TestPeerInputs:
    """Inputs the mirrored peer accepts (issue 8.5)."""

    def test_tuple_axes_flatten_the_classes(self, xp: Any, make: Any, close: Any) -> None:
        # optax's own example: logits (1, 2, 3, 4), classes over axes (2, 3)
        logits = make(np.arange(24.0).reshape(1, 2, 3, 4))
        labels = make(np.ravel_multi_index(([[1, 2]], [[1, 3]]), (3, 4)), dtype="int64")
        out = softmax_cross_entropy_with_integer_labels(logits, labels, axis=(2, 3))
        lse = 11.0 + np.log(np.sum(np.exp(-np.arange(12.0))))  # optax prints [[6.4587 0.4587]]
        close(out, np.asarray([[lse - 5.0, lse - 11.0]]))
        hot = np.eye(12)[np.asarray([[5, 11]])].reshape(1, 2, 3, 4)
        close(softmax_cross_entropy(logits, make(hot), axis=(2, 3)), out, check_dtype=True)

    def test_empty_class_axis(self, make: Any, close: Any) -> None:
        # optax returns 0 for a class axis of size 0
        out = softmax_cross_entropy(make(np.zeros((2, 0))), make(np.zeros((2, 0))))
        close(out, np.zeros(2))

    def test_empty_batch(self, make: Any, close: Any) -> None:
        x, t = make(np.zeros((0, 3))), make(np.zeros((0,), dtype=np.int64), dtype="int64")
        close(cross_entropy(x, t, reduction="sum"), np.asarray(0.0))
        close(cross_entropy(x, t), np.asarray(np.nan))  # torch: 0 / 0
        assert tuple(cross_entropy(x, t, reduction="none").shape) == (0,)
        assert tuple(softmax_cross_entropy_with_integer_labels(x, t).shape) == (0,)


class TestTorchErrors:
    """Errors torch raises and we must too, naming the argument and value (issue 8.6)."""

    def test_ignore_index_with_probability_targets(self, make: Any, close: Any) -> None:
        # torch refuses a class index (>= 0) there and ignores any negative value, not only -100
        for ignore in (0, 1):
            with pytest.raises(ValueError, match=r"`ignore_index` is not supported .* got ignore_"):
                cross_entropy(make(_YS), make(_TS), ignore_index=ignore)
        for ignore in (-1, -5):
            close(
                cross_entropy(make(_YS), make(_TS), ignore_index=ignore),
                cross_entropy(make(_YS), make(_TS)),
            )

    def test_weight_of_another_dtype(self, backend: Any, make: Any) -> None:
        if not backend.x64:
            pytest.skip("float64 does not exist in JAX's 32-bit mode")
        x = make(_YS, dtype="float32")
        with pytest.raises(TypeError, match=r"`weight` must have the input's dtype"):
            cross_entropy(x, make([0, 1], dtype="int64"), weight=make([1.0, 2.0, 3.0], "float64"))

    def test_float_class_indices(self, make: Any) -> None:
        with pytest.raises(TypeError, match=r"`target` of class indices must have an integer"):
            cross_entropy(make(_YS), make([0.0, 2.0]))
        with pytest.raises(TypeError, match=r"`target` of class indices must have an integer"):
            CrossEntropyLoss()(make(_YS), make([0.0, 2.0]))

    def test_class_options_are_validated_at_construction(self) -> None:
        with pytest.raises(ValueError, match=r"`label_smoothing` must be a real number in \[0"):
            CrossEntropyLoss(label_smoothing=1.5)
        with pytest.raises(TypeError, match=r"`ignore_index` must be an int"):
            NLLLoss(ignore_index=0.5)
        with pytest.raises(ValueError, match=r"`reduction` must be one of"):
            BCELoss(reduction="avg")

    def test_smooth_labels_alpha_range(self, make: Any) -> None:
        with pytest.raises(ValueError, match=r"`alpha` must be a real number in \[0, 1\], got 1.5"):
            smooth_labels(make([[1.0, 0.0]]), 1.5)

    def test_focal_labels_and_gamma(self, backend: Any, make: Any) -> None:
        with pytest.raises(ValueError, match=r"`gamma` must be a real number in \[0, inf\]"):
            sigmoid_focal_loss(make([1.0]), make([1.0]), gamma=-1.0)
        if backend.lazy:
            pytest.skip("value checks need concrete arrays (jit / dask are lazy)")
        with pytest.raises(ValueError, match=r"`labels` must hold probabilities in \[0, 1\]"):
            sigmoid_focal_loss(make([1.0]), make([2.0]))


class TestClassesAreModules:
    def test_torch_module_behaviour(self) -> None:
        torch = pytest.importorskip("torch")
        loss = CrossEntropyLoss(weight=torch.ones(3), label_smoothing=0.1)
        assert isinstance(loss, torch.nn.Module)
        assert set(loss.state_dict()) == {"weight"}
        assert loss.double().weight.dtype == torch.float64
        assert loss.to("cpu").weight.device.type == "cpu"
        modules = torch.nn.ModuleList([loss, BCELoss()])
        assert len(list(modules.modules())) == 3
        assert repr(loss).startswith("CrossEntropyLoss(weight=tensor([1., 1., 1.], dtype=")
        assert "label_smoothing=0.1" in repr(loss)

    def test_any_library_through_the_module(self, make: Any, close: Any) -> None:
        loss = CrossEntropyLoss(reduction="none")
        close(loss(make(_YS), make([1, 0], dtype="int64")), -_np_log_softmax(_YS)[[0, 1], [1, 0]])


def _to_numpy(x: Any) -> Any:
    from agnostic_losses._testing.backends import to_numpy

    return np.asarray(to_numpy(x))
