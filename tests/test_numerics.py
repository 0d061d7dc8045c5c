"""Shared numerics: values against SciPy/NumPy float64, gradients at the edges, on every backend."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import special

from agnostic_losses import _numerics as N
from agnostic_losses._testing.backends import to_numpy

EXTREMES = [-np.inf, -1e4, -100.0, -1.0, 0.0, 1.0, 100.0, 1e4, np.inf]


def test_softplus_and_log_sigmoid(xp: Any, make: Any, run: Any, close: Any) -> None:
    x = np.asarray(EXTREMES)
    close(run(N.softplus, xp, make(x)), np.logaddexp(0.0, x), check_dtype=False)
    close(run(N.log_sigmoid, xp, make(x)), -np.logaddexp(0.0, -x), check_dtype=False)
    pos, neg = run(N.log_sigmoid_pair, xp, make(x))
    close(pos, -np.logaddexp(0.0, -x), check_dtype=False)
    close(neg, -np.logaddexp(0.0, x), check_dtype=False)


def test_softplus_gradient_is_sigmoid_everywhere(xp: Any, make: Any, grad: Any) -> None:
    x = np.asarray(EXTREMES)
    _, (g,) = grad(lambda v: N.softplus(xp, v), (make(x),))
    # atol: sigmoid(-100) = 3.7e-44 is below float32's normal range (flushed to 0 on jax32)
    np.testing.assert_allclose(g, special.expit(x), rtol=1e-6, atol=1e-37)
    _, (g_pair,) = grad(lambda v: N.log_sigmoid_pair(xp, v)[0], (make(x),))
    np.testing.assert_allclose(g_pair, special.expit(-x), rtol=1e-6, atol=1e-37)


def test_clamp_min_zero_is_torch_clamp_min(xp: Any, make: Any, run: Any, grad: Any) -> None:
    """Value ``max(z, 0)``, NaN kept; derivative 1 where ``z >= 0`` (the margin included) and 0
    elsewhere, a NaN included, as ``torch.clamp_min``'s backward (torch's margin ranking
    reference inputs hold NaN scores)."""
    z = np.asarray([np.nan, -np.inf, -1.0, 0.0, 2.0, np.inf])
    value = to_numpy(run(N.clamp_min_zero, xp, make(z)))
    np.testing.assert_array_equal(value, [np.nan, 0.0, 0.0, 0.0, 2.0, np.inf])
    _, (g,) = grad(lambda v: N.clamp_min_zero(xp, v), (make(z),))
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0, 1.0, 1.0, 1.0])


def test_second_derivatives_exact_at_zero(xp: Any, make: Any, hvp: Any) -> None:
    """softplus'' = sigmoid (1 - sigmoid) everywhere, 1/4 at 0: the point a zero-initialised
    head starts from, where Newton steps and influence functions take their Hessian. (The
    textbook ``max(x, 0) + log1p(exp(-|x|))`` gives 0 there: ``|x|`` has a kink at 0.)"""
    x = np.asarray(EXTREMES)
    s = special.expit(x)
    curvature = s * (1 - s)
    ones = [np.ones_like(x)]
    for fn, sign in [
        (lambda v: N.softplus(xp, v), 1.0),
        (lambda v: N.log_sigmoid(xp, v), -1.0),
        (lambda v: N.log_sigmoid_pair(xp, v)[0], -1.0),
        (lambda v: N.log_sigmoid_pair(xp, v)[1], -1.0),
    ]:
        _, (h,) = hvp(fn, (make(x),), ones)
        np.testing.assert_allclose(h, sign * curvature, rtol=1e-5, atol=1e-37)


def test_logaddexp_second_derivatives(xp: Any, make: Any, hvp: Any) -> None:
    """The Hessian of ``logaddexp(a, b)`` is ``p (1 - p) [[1, -1], [-1, 1]]``, ``p =
    sigmoid(a - b)``: 1/4 at a tie (0 with a ``|a - b|`` kink), finite and 0 at a ``-inf``
    operand or operands 2e4 apart (NaN from ``torch.logaddexp``'s double backward)."""
    a = np.asarray([0.0, 3.0, -1e4, 5.0, -np.inf, 1.0, 1e4, -1e4])
    b = np.asarray([0.0, 3.0, -1e4, -2.0, 1.0, -np.inf, -1e4, 1e4])
    with np.errstate(invalid="ignore"):
        p = special.expit(a - b)
    curvature = p * (1 - p)
    (ga, gb), (ha, hb) = hvp(
        lambda u, v: N.logaddexp(xp, u, v),
        (make(a), make(b)),
        [np.ones_like(a), -np.ones_like(b)],
        argnums=(0, 1),
    )
    np.testing.assert_allclose(ga, p, rtol=1e-6)
    np.testing.assert_allclose(gb, 1 - p, rtol=1e-6)
    np.testing.assert_allclose(ha, 2 * curvature, rtol=1e-5, atol=1e-37)
    np.testing.assert_allclose(hb, -2 * curvature, rtol=1e-5, atol=1e-37)


def test_logsumexp_matches_scipy(xp: Any, make: Any, run: Any, close: Any) -> None:
    x = np.random.default_rng(0).normal(size=(3, 5)) * 50
    close(run(N.logsumexp, xp, make(x), axis=-1), special.logsumexp(x, axis=-1), check_dtype=False)
    close(
        run(N.logsumexp, xp, make(x), axis=0, keepdims=True),
        special.logsumexp(x, axis=0, keepdims=True),
        check_dtype=False,
    )
    close(
        run(N.log_softmax, xp, make(x), axis=0), special.log_softmax(x, axis=0), check_dtype=False
    )


def test_logsumexp_all_masked_row(xp: Any, make: Any, run: Any) -> None:
    # pitfall 2: a row of -inf is -inf, not NaN; a single +inf gives +inf
    x = np.asarray([[-np.inf, -np.inf], [0.0, -np.inf], [np.inf, 0.0]])
    from agnostic_losses._testing.backends import to_numpy

    out = to_numpy(run(N.logsumexp, xp, make(x), axis=-1))
    np.testing.assert_array_equal(out, [-np.inf, 0.0, np.inf])


@pytest.mark.parametrize("dtype", ["float32"])
def test_log_probabilities_at_large_logits(xp: Any, make: Any, run: Any, dtype: str) -> None:
    """At logits of +-50 the log-probabilities that matter (p > 1e-3) are as accurate as
    ``jax.nn.log_softmax``'s and torch's (within 8 ulps of 1), and so is the integer-label
    cross entropy of a confident prediction, a few 1e-4: ``x - (max + log sum)`` alone rounds
    to half an ulp of the max, 2e-6 here, a percent of such a loss."""
    from agnostic_losses import softmax_cross_entropy_with_integer_labels as sce_int

    rng = np.random.default_rng(7)
    # the float32 values themselves, as float64
    x = (rng.standard_normal((64, 100)) * 50.0).astype(np.float32).astype(np.float64)
    truth = special.log_softmax(x, axis=-1)
    got = to_numpy(run(N.log_softmax, xp, make(x))).astype(np.float64)
    matters = truth > np.log(1e-3)
    eps = float(np.finfo(np.float32).eps)
    assert np.max(np.abs(got - truth)[matters]) <= 8 * eps
    labels = np.argmax(x, axis=-1)
    loss = to_numpy(run(sce_int, make(x), make(labels, "int64"))).astype(np.float64)
    want = -np.take_along_axis(truth, labels[:, None], axis=-1)[:, 0]
    assert np.max(np.abs(loss - want)) <= 8 * eps


def test_softmax_primitives_trace_without_select() -> None:
    # XLA:CPU fuses a reduction with its elementwise neighbours only without compare/select ops
    # (one kernel instead of 3-6 under jax.jit); the all -inf guards are arithmetic for that.
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    x = jnp.zeros((4, 3), dtype=jnp.float32)
    for name, fn in [
        ("logsumexp", lambda v: N.logsumexp(jnp, v)),
        ("log_softmax", lambda v: N.log_softmax(jnp, v)),
        ("log_softmax_and_lse", lambda v: N.log_softmax_and_lse(jnp, v)),
    ]:
        gradient = jax.grad(lambda v, f=fn: jnp.sum(f(v)[0]))
        for mode, traced in [("value", fn), ("gradient", gradient)]:
            jaxpr = str(jax.make_jaxpr(traced)(x))
            assert "select_n" not in jaxpr, (name, mode, jaxpr)
            assert "clamp" not in jaxpr, (name, mode, jaxpr)


def test_logsumexp_gradient_ignores_masked_entries(xp: Any, make: Any, grad: Any) -> None:
    x = np.asarray([[1.0, -np.inf, 2.0], [1e4, -1e4, -np.inf]])
    _, (g,) = grad(lambda v: N.logsumexp(xp, v, axis=-1), (make(x),))
    expected = special.softmax(np.where(np.isinf(x), -np.inf, x), axis=-1)
    np.testing.assert_allclose(g, expected, atol=1e-12)
    assert np.all(np.isfinite(g))


def test_logaddexp(xp: Any, make: Any, run: Any, close: Any) -> None:
    a = np.asarray([0.0, -np.inf, 1e4, -np.inf, 3.0])
    b = np.asarray([0.0, 1.0, -1e4, -np.inf, 3.0])
    close(run(N.logaddexp, xp, make(a), make(b)), np.logaddexp(a, b), check_dtype=False)


def test_logaddexp_gradient_with_infinite_operand(xp: Any, make: Any, grad: Any) -> None:
    a, b = make([0.0, -np.inf, 1e4]), make([0.0, 1.0, -1e4])
    _, (ga, gb) = grad(lambda u, v: N.logaddexp(xp, u, v), (a, b), argnums=(0, 1))
    np.testing.assert_allclose(ga, [0.5, 0.0, 1.0])
    np.testing.assert_allclose(gb, [0.5, 1.0, 0.0])


def test_xlogy_and_xmul_zero_conventions(xp: Any, make: Any, grad: Any) -> None:
    x = make([0.0, 0.5, 1.0])
    y = make([0.0, 0.25, 1.0])
    value, (gx, gy) = grad(lambda a, b: N.xlogy(xp, a, b), (x, y), argnums=(0, 1))
    np.testing.assert_allclose(value, special.xlogy([0.0, 0.5, 1.0], [0.0, 0.25, 1.0]))
    assert np.all(np.isfinite(gx))
    assert np.all(np.isfinite(gy))
    log_y = make([-np.inf, np.log(0.25), 0.0])
    value, (gx, gl) = grad(lambda a, b: N.xmul(xp, a, b), (x, log_y), argnums=(0, 1))
    np.testing.assert_allclose(value, [0.0, 0.5 * np.log(0.25), 0.0])
    np.testing.assert_array_equal(gl, [0.0, 0.5, 1.0])
    assert np.all(np.isfinite(gx))


def test_safe_divide_fill_and_zero_gradient(xp: Any, make: Any, grad: Any) -> None:
    num, den = make([0.0, 3.0]), make([0.0, 2.0])
    value, (gn, gd) = grad(
        lambda a, b: N.safe_divide(xp, a, b, fill=float("nan")), (num, den), argnums=(0, 1)
    )
    np.testing.assert_array_equal(value, [np.nan, 1.5])
    np.testing.assert_array_equal(gn, [0.0, 0.5])
    np.testing.assert_array_equal(gd, [0.0, -0.75])


@pytest.mark.parametrize("use_take", [True, False], ids=["take_along_axis", "one-hot"])
def test_gather_labels_paths_agree(
    xp: Any, make: Any, run: Any, close: Any, use_take: bool
) -> None:
    if use_take and not hasattr(xp, "take_along_axis"):
        pytest.skip("namespace has no take_along_axis (standard 2024.12)")
    x = np.asarray([[0.5, -np.inf, 2.0], [1.0, 3.0, -1.0]])
    labels = np.asarray([2, 0])
    out = run(N.gather_labels, xp, make(x), make(labels), use_take=use_take)
    close(out, np.asarray([2.0, 1.0]), check_dtype=False)


def test_gather_labels_gradient_is_one_hot(xp: Any, make: Any, grad: Any) -> None:
    x = make([[0.5, 1.0, 2.0], [1.0, 3.0, -1.0]])
    labels = make([1, 2], dtype="int64")
    for use_take in (True, False):
        _, (g,) = grad(
            lambda v, lab, t=use_take: N.gather_labels(xp, v, lab, use_take=t), (x, labels)
        )
        np.testing.assert_array_equal(g, [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


def test_primitives_under_jax_strict_rank_promotion() -> None:
    """The one-hot gather, one_hot, xlogy and xmul broadcast only between equal ranks: they run
    under ``jax_numpy_rank_promotion="raise"`` (the registry test reaches the rest)."""
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    x = jnp.asarray([[0.5, -jnp.inf, 2.0], [1.0, 3.0, -1.0]])
    labels = jnp.asarray([2, 0])
    with jax.numpy_rank_promotion("raise"):
        gathered = N.gather_labels(jnp, x, labels, use_take=False)
        hot = N.one_hot(jnp, labels, 3, jnp.float32)
        products = N.xlogy(jnp, hot, jnp.asarray([0.5, 0.0, 1.0])), N.xmul(jnp, 0.0, x)
    np.testing.assert_array_equal(gathered, [2.0, 1.0])
    np.testing.assert_array_equal(hot, [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_allclose(products[0], [[0.0, 0.0, 0.0], [np.log(0.5), 0.0, 0.0]])
    np.testing.assert_array_equal(products[1], np.zeros((2, 3)))


def test_one_hot(xp: Any, make: Any, run: Any, close: Any, dtype: str) -> None:
    out = run(N.one_hot, xp, make([0, 2, 5], dtype="int64"), 3, getattr(xp, dtype))
    close(out, np.asarray([[1.0, 0, 0], [0, 0, 1], [0, 0, 0]]), check_dtype=False)


def test_safe_log_floor_has_zero_gradient(xp: Any, make: Any, grad: Any) -> None:
    value, (g,) = grad(lambda v: N.safe_log(xp, v, floor=-100.0), (make([0.0, 0.5]),))
    np.testing.assert_allclose(value, [-100.0, np.log(0.5)])
    np.testing.assert_allclose(g, [0.0, 2.0])


def test_logs_of_probabilities_keep_nan(xp: Any, make: Any, run: Any) -> None:
    # `p > 0` guards read a NaN as 0 (the floor, or -inf); `~(p <= 0)` lets it through
    p = make([np.nan, 0.0, 0.5])
    out = to_numpy(run(lambda v: N.safe_log(xp, v, floor=-100.0), p))
    np.testing.assert_allclose(out, [np.nan, -100.0, np.log(0.5)])
    out = to_numpy(run(lambda v: N.log_or_neg_inf(xp, v), p))
    np.testing.assert_allclose(out, [np.nan, -np.inf, np.log(0.5)])


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    hnp.arrays(np.float64, (4, 6), elements=st.floats(-700, 700)),
    st.floats(-1000, 1000),
)
def test_logsumexp_shift_invariance(x: np.ndarray, shift: float) -> None:
    import array_api_compat.numpy as xp

    np.testing.assert_allclose(
        N.logsumexp(xp, x + shift), N.logsumexp(xp, x) + shift, rtol=1e-12, atol=1e-9
    )
    np.testing.assert_allclose(
        N.logsumexp(xp, x), special.logsumexp(x, axis=-1), rtol=1e-12, atol=1e-12
    )
