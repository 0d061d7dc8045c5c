"""Regression family: seed literals, pitfalls (values and gradients) and errors on every backend.

Reference values, gradients against finite differences and peers, half precision and invariants
of every registered case run in ``test_registry.py``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from array_api_extra.testing import lazy_xp_function
from hypothesis import given, settings
from hypothesis import strategies as st

from agnostic_losses import (
    GaussianNLLLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    absolute_error,
    huber_loss,
    l1_loss,
    l2_loss,
    log_cosh,
    mean_absolute_percentage_error,
    mean_squared_log_error,
    squared_error,
)
from agnostic_losses._dispatch import AxisError
from agnostic_losses._testing.assertions import dtype_name
from agnostic_losses._testing.backends import to_numpy
from agnostic_losses.functional import gaussian_nll_loss, mse_loss, poisson_nll_loss
from agnostic_losses.functional import huber_loss as f_huber_loss
from agnostic_losses.functional import l1_loss as f_l1_loss
from agnostic_losses.functional import smooth_l1_loss as f_smooth_l1_loss

for _f in (
    absolute_error,
    huber_loss,
    l1_loss,
    l2_loss,
    log_cosh,
    mean_absolute_percentage_error,
    mean_squared_log_error,
    squared_error,
    gaussian_nll_loss,
    mse_loss,
    poisson_nll_loss,
    f_huber_loss,
    f_l1_loss,
    f_smooth_l1_loss,
):
    lazy_xp_function(_f)

LOG2 = math.log(2.0)


class TestSeedValues:
    def test_functional_l1_seed(self, make: Any, run: Any, close: Any) -> None:
        out = run(f_l1_loss, make([1.0, 2.0, 3.0]), make([1.5, 2.5, 3.5]))
        close(out, np.asarray(0.5), check_dtype=False)

    def test_top_level_literals(self, make: Any, close: Any) -> None:
        p, t = make([1.0, 2.0, 5.0]), make([1.5, 2.0, 3.0])
        close(squared_error(p, t), np.asarray([0.25, 0.0, 4.0]), check_dtype=False)
        close(l2_loss(p, t), np.asarray([0.125, 0.0, 2.0]), check_dtype=False)
        close(huber_loss(p, t), np.asarray([0.125, 0.0, 1.5]), check_dtype=False)
        close(absolute_error(p, t), np.asarray(2.5 / 3), check_dtype=False)
        close(log_cosh(p, t), np.log(np.cosh([-0.5, 0.0, 2.0])), check_dtype=False)
        close(squared_error(p), np.asarray([1.0, 4.0, 25.0]), check_dtype=False)

    def test_braintools_l1_loss_is_per_sample_mean(self, make: Any, close: Any) -> None:
        x, y = make([[1.0, 2.0], [3.0, 4.0]]), make([[1.5, 2.5], [2.0, 5.0]])
        close(l1_loss(x, y), np.asarray(0.75), check_dtype=False)
        close(l1_loss(x, y, reduction="none"), np.asarray([0.5, 1.0]), check_dtype=False)
        close(l1_loss(x, y, reduction="sum"), np.asarray(1.5), check_dtype=False)

    def test_msle_and_mape(self, make: Any, close: Any) -> None:
        e = math.e - 1.0
        close(
            mean_squared_log_error(make([e, 0.0]), make([0.0, 0.0])),
            np.asarray(0.5),
            check_dtype=False,
        )
        # keras's docstring example, arguments in our (predictions, targets) order
        pred, true = make([[1.0, 1.0], [1.0, 0.0]]), make([[2.0, 1.0], [2.0, 3.0]])
        close(mean_absolute_percentage_error(pred, true), np.asarray([25.0, 75.0]))

    def test_mape_zero_target_divides_by_keras_epsilon(self, make: Any, close: Any) -> None:
        out = mean_absolute_percentage_error(make([[1.0, 1.0]]), make([[0.0, 1.0]]))
        close(out, np.asarray([100 * 0.5 / 1e-7]), check_dtype=False)

    def test_functional_literals(self, make: Any, close: Any) -> None:
        x, y = make([0.5, 3.0]), make([0.0, 0.0])
        close(mse_loss(x, y), np.asarray(4.625 / 1), factor=1, check_dtype=False)
        close(
            f_smooth_l1_loss(x, y, reduction="none"),
            np.asarray([0.125, 2.5]),
            check_dtype=False,
        )
        close(
            f_huber_loss(x, y, reduction="none", delta=2.0),
            np.asarray([0.125, 4.0]),
            check_dtype=False,
        )
        close(
            poisson_nll_loss(make([0.0, 1.0]), make([1.0, 2.0])),
            np.asarray((1.0 + math.e - 2.0) / 2),
            check_dtype=False,
        )

    def test_poisson_stirling_only_above_one(self, make: Any, close: Any) -> None:
        x, y = make([1.0, 1.0, 1.0]), make([0.0, 1.0, 3.0])
        out = poisson_nll_loss(x, y, log_input=False, full=True, reduction="none")
        eps = 1e-8
        base = 1.0 - np.asarray([0.0, 1.0, 3.0]) * math.log(1.0 + eps)
        stirling = 3 * math.log(3) - 3 + 0.5 * math.log(2 * math.pi * 3)
        close(out, base + np.asarray([0.0, 0.0, stirling]), check_dtype=False)


class TestLogCosh:
    def test_no_overflow_past_cosh_range(self, make: Any, run: Any, close: Any) -> None:
        # pitfall 20: cosh overflows past 89 (float32) and 710 (float64)
        big = [100.0, -100.0, 1000.0, -1000.0, 1e4]
        out = run(log_cosh, make(big))
        close(out, np.abs(big) - LOG2, check_dtype=False)

    def test_gradient_is_tanh_and_finite(self, make: Any, grad: Any, close: Any) -> None:
        x = [0.0, 0.5, -2.0, 100.0, -1000.0, 1e4]
        _, (g,) = grad(log_cosh, (make(x),))
        np.testing.assert_allclose(g, np.tanh(x), rtol=1e-5, atol=1e-7)

    def test_with_targets_and_half_precision(self, backend: Any, make: Any) -> None:
        if "float16" not in backend.dtypes:
            pytest.skip(f"{backend.value} has no float16")
        out = log_cosh(make([200.0, 0.0], dtype="float16"), make([0.0, 0.0], dtype="float16"))
        assert dtype_name(out) == "float16"
        np.testing.assert_allclose(to_numpy(out), [200.0 - LOG2, 0.0], rtol=1e-2)


class TestHuberSmoothL1:
    def test_huber_is_delta_times_smooth_l1(self, make: Any, grad: Any) -> None:
        # pitfall 21: huber(delta) = delta * smooth_l1(beta=delta), values and gradients
        x, y = make([-3.0, -0.4, 0.0, 0.2, 0.7, 5.0]), make([0.0] * 6)
        for delta in (0.5, 1.0, 2.5):
            vh, (gh,) = grad(f_huber_loss, (x, y), {"reduction": "none", "delta": delta})
            vs, (gs,) = grad(f_smooth_l1_loss, (x, y), {"reduction": "none", "beta": delta})
            rtol = 1e-5 if vh.dtype == np.float32 else 1e-6  # JAX's 32-bit mode: float32
            np.testing.assert_allclose(vh, delta * vs, rtol=rtol, atol=1e-12)
            np.testing.assert_allclose(gh, delta * gs, rtol=rtol, atol=1e-12)

    def test_beta_zero_is_l1_with_finite_gradient(self, make: Any, grad: Any) -> None:
        x, y = make([-2.0, 0.0, 0.5]), make([0.0, 0.0, 0.0])
        value, (g,) = grad(f_smooth_l1_loss, (x, y), {"reduction": "none", "beta": 0.0})
        np.testing.assert_array_equal(value, [2.0, 0.0, 0.5])
        np.testing.assert_array_equal(g, [-1.0, 0.0, 1.0])

    def test_gradient_is_clipped_residual(self, make: Any, grad: Any) -> None:
        r = [-3.0, -1.0, -0.25, 0.0, 0.25, 1.0, 3.0]
        _, (g,) = grad(huber_loss, (make(r),))
        np.testing.assert_allclose(g, np.clip(r, -1.0, 1.0))

    def test_gradient_at_an_infinite_residual_is_delta(self, make: Any, grad: Any) -> None:
        # the quadratic piece squares x set to 0 outside [-delta, delta]: an unselected
        # inf * inf would send 0 * inf = NaN into the gradient
        r = [-math.inf, math.inf, 0.5]
        value, (g,) = grad(huber_loss, (make(r),), {"delta": 2.0})
        np.testing.assert_array_equal(value, [math.inf, math.inf, 0.125])
        np.testing.assert_array_equal(g, [-2.0, 2.0, 0.5])

    def test_huber_array_delta(self, make: Any, close: Any) -> None:
        out = huber_loss(make([3.0, 3.0]), None, make([1.0, 2.0]))
        close(out, np.asarray([2.5, 4.0]), check_dtype=False)

    def test_zero_residual_gradients_are_zero(self, make: Any, grad: Any) -> None:
        # pitfall 33: |x| at 0 has derivative 1 in JAX's abs; ours is 0 everywhere
        z = make([0.0, 0.0])
        for fn, kw in (
            (absolute_error, {"reduction": "sum"}),
            (f_l1_loss, {}),
            (huber_loss, {}),
            (log_cosh, {}),
            (mean_absolute_percentage_error, {}),
        ):
            _, (g,) = grad(fn, (z, make([0.0, 0.0]) if fn is not log_cosh else None), kw)
            np.testing.assert_array_equal(g, [0.0, 0.0], err_msg=fn.__name__)


class TestWeights:
    def test_weighted_mean_divides_by_weight_sum(self, make: Any, grad: Any) -> None:
        # pitfall 29: torch 2.13 mse/l1 'mean' with weight is sum(w l) / sum(w)
        x, y, w = make([1.0, 2.0, 4.0]), make([0.0, 0.0, 0.0]), make([1.0, 3.0, 0.0])
        value, (g,) = grad(mse_loss, (x, y), {"weight": w})
        np.testing.assert_allclose(value, (1.0 + 12.0) / 4.0)
        np.testing.assert_allclose(g, [2 * 1.0 / 4, 2 * 2.0 * 3 / 4, 0.0])
        value, _ = grad(f_l1_loss, (x, y), {"weight": w})
        np.testing.assert_allclose(value, (1.0 + 6.0) / 4.0)

    def test_all_zero_weights_nan_value_zero_gradient(self, make: Any, grad: Any) -> None:
        x, y, w = make([1.0, 2.0]), make([0.0, 0.0]), make([0.0, 0.0])
        for fn in (mse_loss, f_l1_loss):
            value, (g,) = grad(fn, (x, y), {"weight": w})
            assert np.isnan(value)
            np.testing.assert_array_equal(g, [0.0, 0.0])

    def test_huber_weighted_mean_divides_by_count(self, make: Any, close: Any) -> None:
        x, y, w = make([0.5, 3.0]), make([0.0, 0.0]), make([2.0, 0.0])
        close(f_huber_loss(x, y, weight=w), np.asarray(0.125 * 2 / 2), check_dtype=False)

    @settings(max_examples=15, deadline=None, derandomize=True)
    @given(seed=st.integers(0, 2**32 - 1))
    def test_zero_one_weights_equal_subset(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        x, y = rng.normal(size=8), rng.normal(size=8)
        keep = rng.uniform(size=8) < 0.6
        keep[0] = True
        w = keep.astype(np.float64)
        for fn in (mse_loss, f_l1_loss):
            np.testing.assert_allclose(fn(x, y, weight=w), fn(x[keep], y[keep]), rtol=1e-12)


class TestComplexL1:
    """torch's ``l1_loss`` (its only loss that does) takes complex tensors: the modulus of the
    complex residual, in the matching real dtype."""

    @staticmethod
    def _complex(xp: Any, make: Any, re: list[float], im: list[float]) -> Any:
        r = make(re)
        dtype = xp.complex64 if dtype_name(r) == "float32" else xp.complex128
        return xp.astype(r, dtype) + xp.astype(make(im), dtype) * 1j

    def test_modulus_of_the_residual(self, xp: Any, make: Any, run: Any, close: Any) -> None:
        x = self._complex(xp, make, [3.0, 0.0, 1.0], [4.0, 1.0, -1.0])
        y = self._complex(xp, make, [0.0, 0.0, 1.0], [0.0, 1.0, 1.0])
        real = dtype_name(make([0.0]))
        out = run(f_l1_loss, x, y, reduction="none")  # residuals 3 + 4i, 0, -2i
        assert dtype_name(out) == real
        close(out, np.asarray([5.0, 0.0, 2.0]), check_dtype=False)
        close(run(f_l1_loss, x, y), np.asarray(7.0 / 3.0), check_dtype=False)
        weighted = run(f_l1_loss, x, y, weight=make([1.0, 2.0, 0.0]))
        close(weighted, np.asarray(5.0 / 3.0), check_dtype=False)
        # a real target beside a complex input promotes, as torch's subtraction does
        mixed = run(f_l1_loss, x, make([0.0, 0.0, 1.0]), reduction="none")
        close(mixed, np.asarray([5.0, 1.0, 1.0]), check_dtype=False)

    def test_integer_target_raises(self, xp: Any, make: Any) -> None:
        x = self._complex(xp, make, [1.0], [1.0])
        with pytest.raises(TypeError, match=r"`target` must have a floating or complex dtype"):
            f_l1_loss(x, make([1], dtype="int32"))

    def test_matches_torch_values_and_gradients(self) -> None:
        torch = pytest.importorskip("torch")
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(4, 3, dtype=torch.complex64, generator=gen)
        y = torch.randn(4, 3, dtype=torch.complex64, generator=gen)
        x[0, 0] = y[0, 0]  # a zero residual: derivative 0
        w = torch.rand(4, 3, generator=gen)
        for target in (y, y.real):
            for options in ({}, {"reduction": "none"}, {"weight": w}):
                outs, grads = [], []
                for fn in (f_l1_loss, torch.nn.functional.l1_loss):
                    leaf = x.clone().requires_grad_(True)
                    out = fn(leaf, target, **options)
                    (g,) = torch.autograd.grad(out.sum(), leaf)
                    outs.append(out)
                    grads.append(g)
                assert outs[0].dtype == outs[1].dtype
                torch.testing.assert_close(outs[0], outs[1])
                torch.testing.assert_close(grads[0], grads[1])


class TestPoissonGaussian:
    def test_poisson_full_gradients_finite_at_zero_targets(self, make: Any, grad: Any) -> None:
        # pitfall 33: Stirling's log(t) at t = 0 must not leak NaN into either gradient
        x, y = make([0.5, 0.5, 0.5]), make([0.0, 1.0, 4.0])
        _, (gx, gy) = grad(
            poisson_nll_loss,
            (x, y),
            {"log_input": False, "full": True, "reduction": "sum"},
            argnums=(0, 1),
        )
        assert np.all(np.isfinite(gx))
        assert np.all(np.isfinite(gy))
        np.testing.assert_allclose(gy[:2], [-math.log(0.5 + 1e-8)] * 2, rtol=1e-6)

    @pytest.mark.parametrize(
        ("var_shape", "out_shape"),
        [((3, 2), (3, 2)), ((3,), (3, 2)), ((3, 1), (3, 2)), ((1, 2), (3, 2))],
    )
    def test_var_shapes(
        self, make: Any, run: Any, close: Any, var_shape: Any, out_shape: Any
    ) -> None:
        # pitfall 22: same shape, one fewer trailing dim, or one dimension of size 1
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
        var = rng.uniform(0.5, 2.0, size=var_shape)
        out = run(gaussian_nll_loss, make(x), make(y), make(var), reduction="none")
        v = var[..., None] if var_shape == (3,) else var
        close(out, 0.5 * (np.log(v) + (x - y) ** 2 / v), check_dtype=False)
        assert tuple(out.shape) == out_shape

    def test_float_var(self, make: Any, close: Any) -> None:
        out = gaussian_nll_loss(make([1.0, 3.0]), make([0.0, 1.0]), 2.0, full=True)
        expected = np.mean(0.5 * (math.log(2.0) + np.asarray([1.0, 4.0]) / 2.0))
        close(out, np.asarray(expected + 0.5 * math.log(2 * math.pi)), check_dtype=False)

    def test_eps_clamp_value_and_gradients(self, make: Any, grad: Any) -> None:
        x, y, var = make([1.0, 1.0]), make([0.0, 0.0]), make([0.0, 1.0])
        value, (gx, gv) = grad(
            gaussian_nll_loss, (x, y, var), {"reduction": "none"}, argnums=(0, 2)
        )
        eps = 1e-6
        np.testing.assert_allclose(value, [0.5 * (math.log(eps) + 1 / eps), 0.5], rtol=1e-6)
        np.testing.assert_allclose(gx, [1 / eps, 1.0], rtol=1e-6)
        # straight-through clamp, as torch: below eps, d/dv of the loss evaluated at v = eps
        np.testing.assert_allclose(gv, [0.5 * (1 / eps - 1 / eps**2), 0.0], rtol=1e-6, atol=1e-12)

    def test_eps_clamp_gradients_match_torch(self) -> None:
        torch = pytest.importorskip("torch")
        x = torch.tensor([1.0, 1.0, 2.0], dtype=torch.float64)
        y = torch.zeros(3, dtype=torch.float64)
        ours = torch.tensor([0.0, 1e-8, 0.5], dtype=torch.float64, requires_grad=True)
        theirs = ours.detach().clone().requires_grad_(True)
        gaussian_nll_loss(x, y, ours).backward()
        torch.nn.functional.gaussian_nll_loss(x, y, theirs).backward()
        torch.testing.assert_close(ours.grad, theirs.grad)

    def test_bad_var_shape_raises(self, make: Any) -> None:
        with pytest.raises(ValueError, match=r"`var` must have the shape of `input` \(3, 2\)"):
            gaussian_nll_loss(make(np.zeros((3, 2))), make(np.zeros((3, 2))), make([1.0, 1.0]))

    def test_negative_var_raises_eagerly(self, backend: Any, make: Any) -> None:
        x, y = make([0.0, 1.0]), make([0.0, 0.0])
        with pytest.raises(ValueError, match=r"`var` must be non-negative, got -1.0"):
            gaussian_nll_loss(x, y, -1.0)
        if backend.lazy:
            # lazy arrays cannot be checked: the negative variance is clamped to eps
            out = gaussian_nll_loss(x, y, make([-1.0, 1.0]))
            assert np.isfinite(to_numpy(out))
            return
        with pytest.raises(ValueError, match=r"`var` must be non-negative; got a minimum of -1"):
            gaussian_nll_loss(x, y, make([-1.0, 1.0]))

    def test_class_forward_and_options(self, make: Any, close: Any) -> None:
        x, y, v = make([1.0, 3.0]), make([0.0, 1.0]), make([2.0, 2.0])
        close(
            GaussianNLLLoss(full=True, reduction="sum")(x, y, v),
            gaussian_nll_loss(x, y, v, full=True, reduction="sum"),
        )
        close(
            PoissonNLLLoss(log_input=False)(log_input=x, target=y),
            poisson_nll_loss(x, y, log_input=False),
        )


class TestShapesAndScalars:
    def test_none_keeps_shape(self, make: Any) -> None:
        # pitfall 30
        x, y = make(np.ones((2, 3, 4))), make(np.zeros((2, 3, 4)))
        for fn in (mse_loss, f_l1_loss, f_smooth_l1_loss, f_huber_loss, poisson_nll_loss):
            assert tuple(fn(x, y, reduction="none").shape) == (2, 3, 4), fn.__name__
        for fn in (squared_error, l2_loss, huber_loss, log_cosh):
            assert tuple(fn(x, y).shape) == (2, 3, 4), fn.__name__
        assert tuple(absolute_error(x, y, reduction="none").shape) == (2, 3, 4)
        assert tuple(l1_loss(x, y, reduction="none").shape) == (2,)
        assert tuple(mean_absolute_percentage_error(x, x).shape) == (2, 3)
        assert tuple(squared_error(x, y, axis=(0, 2), reduction="sum").shape) == (3,)

    def test_zero_d_inputs(self, make: Any, close: Any) -> None:
        # pitfall 31
        x, y = make(2.0), make(0.5)
        close(mse_loss(x, y), np.asarray(2.25), check_dtype=False)
        close(squared_error(x, y), np.asarray(2.25), check_dtype=False)
        close(l1_loss(x, y, reduction="none"), np.asarray([1.5]), check_dtype=False)
        close(gaussian_nll_loss(x, y, 1.0), np.asarray(0.5 * 2.25), check_dtype=False)

    def test_python_scalar_targets_at_top_level(self, make: Any, close: Any) -> None:
        close(squared_error(make([1.0, 3.0]), 1.0), np.asarray([0.0, 4.0]), check_dtype=False)

    def test_python_list_raises(self, make: Any) -> None:
        with pytest.raises(TypeError, match=r"`target` must be an array, got a Python list"):
            mse_loss(make([0.1]), [1.0])
        out = squared_error([0.1], make([1.0]))  # converted on the optax-style surface
        assert type(out) is type(make([1.0]))
        with pytest.raises(TypeError, match=r"`predictions` must be an array, got a Python float"):
            squared_error(0.1, make([1.0]))

    def test_numpy_companions_convert(self, backend: Any, make: Any) -> None:
        # pitfall 32
        if backend.library == "numpy":
            pytest.skip("needs a second library")
        # NumPy companions are converted to the input's library
        x = make([0.1])
        assert type(mse_loss(x, np.asarray([1.0]))) is type(x)
        assert type(gaussian_nll_loss(x, make([1.0]), np.asarray([1.0]))) is type(x)


class TestErrors:
    def test_shape_mismatch_raises(self, make: Any) -> None:
        # torch broadcasts (N, 1) against (N,) to (N, N) with a warning; we refuse
        x, y = make([0.1, 0.2]), make([[1.0], [0.0]])
        for fn in (mse_loss, f_l1_loss, f_smooth_l1_loss, f_huber_loss, poisson_nll_loss):
            with pytest.raises(ValueError, match=r"`input` and `target` must have the same shape"):
                fn(x, y)
        for fn in (squared_error, huber_loss, absolute_error, log_cosh):
            with pytest.raises(ValueError, match=r"`predictions` and `targets` must have the same"):
                fn(x, y)

    def test_weight_shape_mismatch_raises(self, make: Any) -> None:
        with pytest.raises(ValueError, match=r"`input` and `weight` must have the same shape"):
            mse_loss(make([0.1, 0.2]), make([0.0, 0.0]), weight=make([1.0]))

    def test_invalid_reduction_raises(self, make: Any) -> None:
        x = make([0.1])
        for fn in (mse_loss, f_huber_loss, gaussian_nll_loss):
            args = (x, x, x) if fn is gaussian_nll_loss else (x, x)
            with pytest.raises(ValueError, match=r"`reduction` must be one of 'none', 'mean'"):
                fn(*args, reduction="avg")
        with pytest.raises(ValueError, match=r"`reduction` must be one of"):
            absolute_error(x, x, reduction="batchmean")
        with pytest.raises(ValueError, match=r"`reduction` must be one of"):
            MSELoss(reduction="avg")

    def test_integer_input_raises(self, make: Any) -> None:
        xi = make([1, 2], dtype="int64")
        with pytest.raises(TypeError, match=r"`input` must have a real floating dtype"):
            mse_loss(xi, make([1.0, 2.0]))
        with pytest.raises(TypeError, match=r"`predictions` must have a real floating dtype"):
            squared_error(xi)

    def test_integer_targets_are_cast(self, make: Any, close: Any) -> None:
        out = poisson_nll_loss(make([0.0, 1.0]), make([1, 2], dtype="int64"))
        close(out, np.asarray((1.0 + math.e - 2.0) / 2), check_dtype=False)

    def test_bad_delta_beta(self, make: Any) -> None:
        x = make([0.1])
        with pytest.raises(
            ValueError, match=r"`delta` must be a real number in \(0, inf\], got 0.0"
        ):
            f_huber_loss(x, x, delta=0.0)
        with pytest.raises(ValueError, match=r"`delta` must be positive, got -1"):
            huber_loss(x, x, delta=-1)
        with pytest.raises(
            ValueError, match=r"`beta` must be a real number in \[0, inf\], got -0.5"
        ):
            f_smooth_l1_loss(x, x, beta=-0.5)

    def test_axis_out_of_range(self, make: Any) -> None:
        with pytest.raises(AxisError, match=r"`axis`=2 is out of range"):
            squared_error(make([[1.0]]), axis=2, reduction="mean")

    def test_msle_domain(self, backend: Any, make: Any) -> None:
        if backend.lazy:
            pytest.skip("value checks run only on eager arrays (lazy ones give NaN)")
        with pytest.raises(ValueError, match=r"`predicts` must be greater than -1"):
            mean_squared_log_error(make([-1.0, 0.0]), make([0.0, 0.0]))

    def test_mape_needs_an_axis(self, make: Any) -> None:
        with pytest.raises(ValueError, match=r"`predictions` must have at least one dimension"):
            mean_absolute_percentage_error(make(1.0), make(1.0))


class TestClasses:
    def test_classes_match_functions(self, make: Any, close: Any) -> None:
        x, y = make([0.3, -2.0, 1.5]), make([1.0, 0.0, 1.0])
        close(MSELoss(reduction="sum")(x, y), mse_loss(x, y, reduction="sum"))
        close(L1Loss()(x, y), f_l1_loss(x, y))
        close(HuberLoss(delta=0.5)(x, y), f_huber_loss(x, y, delta=0.5))
        close(SmoothL1Loss(beta=0.5)(x, y), f_smooth_l1_loss(x, y, beta=0.5))

    def test_legacy_flags(self, make: Any, close: Any) -> None:
        x, y = make([1.0, 2.0]), make([0.0, 0.0])
        close(mse_loss(x, y, size_average=False), np.asarray(5.0), check_dtype=False)
        close(MSELoss(reduce=False)(x, y), np.asarray([1.0, 4.0]), check_dtype=False)
        close(SmoothL1Loss(size_average=False)(x, y), np.asarray(2.0), check_dtype=False)
        assert repr(HuberLoss(delta=2.0)) == "HuberLoss(reduction='mean', delta=2.0)"


class TestProperties:
    @settings(max_examples=20, deadline=None, derandomize=True)
    @given(seed=st.integers(0, 2**32 - 1), delta=st.floats(0.05, 5.0))
    def test_huber_delta_smooth_l1(self, seed: int, delta: float) -> None:
        rng = np.random.default_rng(seed)
        x, y = 3 * rng.normal(size=10), 3 * rng.normal(size=10)
        np.testing.assert_allclose(
            f_huber_loss(x, y, reduction="none", delta=delta),
            delta * f_smooth_l1_loss(x, y, reduction="none", beta=delta),
            rtol=1e-12,
            atol=1e-14,
        )

    @settings(max_examples=15, deadline=None, derandomize=True)
    @given(seed=st.integers(0, 2**32 - 1))
    def test_symmetric_in_arguments(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
        for fn in (squared_error, l2_loss, huber_loss, log_cosh, absolute_error, l1_loss):
            np.testing.assert_allclose(fn(a, b), fn(b, a), rtol=1e-12, err_msg=fn.__name__)
        for fn in (mse_loss, f_l1_loss, f_smooth_l1_loss, f_huber_loss):
            np.testing.assert_allclose(fn(a, b), fn(b, a), rtol=1e-12, err_msg=fn.__name__)

    @settings(max_examples=15, deadline=None, derandomize=True)
    @given(seed=st.integers(0, 2**32 - 1), axis=st.integers(0, 2))
    def test_axis_equals_moveaxis(self, seed: int, axis: int) -> None:
        rng = np.random.default_rng(seed)
        a, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
        am, bm = np.moveaxis(a, axis, -1), np.moveaxis(b, axis, -1)
        for fn in (squared_error, absolute_error, log_cosh):
            np.testing.assert_allclose(
                fn(a, b, axis=axis, reduction="mean"),
                fn(am, bm, axis=-1, reduction="mean"),
                rtol=1e-12,
            )

    @settings(max_examples=15, deadline=None, derandomize=True)
    @given(seed=st.integers(0, 2**32 - 1))
    def test_zero_and_nonnegative(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        a, b = 5 * rng.normal(size=6), 5 * rng.normal(size=6)
        for fn in (mse_loss, f_l1_loss, f_smooth_l1_loss, f_huber_loss):
            assert fn(a, a) == 0.0
            assert fn(a, b) >= 0.0
        assert np.all(log_cosh(a, a) == 0.0)
        assert np.all(log_cosh(a, b) >= 0.0)
