"""Divergence family: seed literals, pitfalls 18/19/29-33, errors and properties on every backend.

Reference values, gradients against finite differences and peers, half precision and invariants
of every registered case run in ``test_registry.py``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from array_api_extra.testing import lazy_xp_function
from hypothesis import given, settings
from hypothesis import strategies as st

from agnostic_losses import (
    KLDivLoss,
    convex_kl_divergence,
    generalized_kl_divergence,
    kl_divergence,
    kl_divergence_with_log_targets,
)
from agnostic_losses._dispatch import AxisError
from agnostic_losses.functional import kl_div

for _f in (
    kl_divergence,
    kl_divergence_with_log_targets,
    generalized_kl_divergence,
    convex_kl_divergence,
    kl_div,
):
    lazy_xp_function(_f)

Q = np.asarray([[0.5, 0.25, 0.25], [0.2, 0.3, 0.5]])
T = np.asarray([[0.25, 0.25, 0.5], [0.2, 0.3, 0.5]])


class TestTopLevel:
    def test_seed_values(self, make: Any, run: Any, close: Any) -> None:
        out = run(kl_divergence, make(np.log(Q)), make(T))
        close(out, np.asarray([0.1732868, 0.0]), atol=1e-7, check_dtype=False)
        out = run(kl_divergence_with_log_targets, make(np.log(Q)), make(np.log(T)))
        close(out, np.asarray([0.1732868, 0.0]), atol=1e-6, check_dtype=False)

    def test_generalized_equals_kl_for_distributions(self, make: Any, run: Any, close: Any) -> None:
        lq, t = make(np.log(Q)), make(T)
        close(run(generalized_kl_divergence, lq, t), run(kl_divergence, lq, t), factor=10)
        close(run(convex_kl_divergence, lq, t), run(generalized_kl_divergence, lq, t))

    def test_convex_alias_warns_at_the_callers_line(self) -> None:
        # optax 0.2.8 deprecates the name and warns on every call; so do we.
        lq, t = np.log(Q), T
        with pytest.warns(DeprecationWarning, match="generalized_kl_divergence") as record:
            convex_kl_divergence(lq, t)
        assert record[0].filename == __file__

    def test_zero_targets_value_and_gradients(self, make: Any, grad: Any) -> None:
        # pitfall 18: t = 0 terms are 0 (even with log q = -inf), gradients finite for both
        lq = make([[-1.0, -np.inf, -0.5]])
        t = make([[0.6, 0.0, 0.4]])
        value, (g_q, g_t) = grad(kl_divergence, (lq, t), argnums=(0, 1))
        expected = 0.6 * (np.log(0.6) + 1.0) + 0.4 * (np.log(0.4) + 0.5)
        np.testing.assert_allclose(value, [expected], rtol=1e-6)
        assert np.all(np.isfinite(g_q))
        assert np.all(np.isfinite(g_t))
        np.testing.assert_allclose(g_q, [[-0.6, 0.0, -0.4]], rtol=1e-6)

    def test_zero_log_target_is_finite(self, make: Any, grad: Any) -> None:
        lq, lt = make([[-1.0, -2.0]]), make([[0.0, -np.inf]])
        value, grads = grad(kl_divergence_with_log_targets, (lq, lt), argnums=(0, 1))
        np.testing.assert_allclose(value, [1.0], rtol=1e-6)
        assert all(np.all(np.isfinite(g)) for g in grads)

    def test_where_excludes_and_blocks_gradient(self, make: Any, grad: Any) -> None:
        lq = make([[-1.0, np.nan, -0.5]])
        t = make([[0.6, 0.3, 0.4]])
        where = make([[True, False, True]], dtype="bool")
        value, (g,) = grad(kl_divergence, (lq, t), {"where": where})
        assert np.all(np.isfinite(value))
        assert np.all(np.isfinite(g))
        assert g[0, 1] == 0.0

    def test_errors(self, backend: Any, make: Any) -> None:
        lq, t = make(np.log(Q)), make(T)
        with pytest.raises(ValueError, match=r"`log_predictions` and `targets` must have the same"):
            kl_divergence(lq, make(T[:, :2]))
        with pytest.raises(AxisError, match=r"`axis`=2 is out of range"):
            kl_divergence(lq, t, axis=2)
        with pytest.raises(TypeError, match=r"`targets` must have a real floating dtype"):
            kl_divergence(lq, make([[1, 0, 0], [0, 1, 0]], dtype="int64"))
        with pytest.raises(TypeError, match=r"`where` must be a boolean array"):
            kl_divergence(lq, t, where=t)
        # Python lists and NumPy companions are converted to the logits' library
        expected = np.asarray(kl_divergence(np.log(Q), T))
        for targets in (T.tolist(), T):
            out = kl_divergence(lq, targets)
            assert type(out) is type(lq)
            if not backend.lazy:
                np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-5)
        if not backend.lazy:
            with pytest.raises(ValueError, match=r"`targets` must be non-negative"):
                kl_divergence(lq, make(-T))


class TestKlDiv:
    def test_reductions(self, make: Any, run: Any, close: Any) -> None:
        # pitfall 19: 'mean' divides by numel (6), 'batchmean' by the batch size (2)
        x, t = make(np.log(Q)), make(T)
        total = 0.1732868
        close(run(kl_div, x, t, reduction="sum"), np.asarray(total), atol=1e-6, check_dtype=False)
        close(run(kl_div, x, t), np.asarray(total / 6), atol=1e-6, check_dtype=False)
        close(
            run(kl_div, x, t, reduction="batchmean"),
            np.asarray(total / 2),
            atol=1e-6,
            check_dtype=False,
        )
        assert tuple(run(kl_div, x, t, reduction="none").shape) == (2, 3)
        close(
            run(kl_div, x, t, size_average=False), np.asarray(total), atol=1e-6, check_dtype=False
        )

    def test_batchmean_with_legacy_flags_divides_their_reduction(
        self, make: Any, run: Any, close: Any
    ) -> None:
        # torch reduces by the legacy flags, then still divides by the batch size (2)
        x, t = make(np.log(Q)), make(T)
        total = 0.1732868
        for legacy, want in (
            ({"size_average": False}, total / 2),
            ({"size_average": True}, total / 6 / 2),
            ({"reduce": True}, total / 6 / 2),
        ):
            got = run(kl_div, x, t, reduction="batchmean", **legacy)
            close(got, np.asarray(want), atol=1e-6, check_dtype=False)
        unreduced = run(kl_div, x, t, reduction="batchmean", reduce=False)
        close(unreduced, run(kl_div, x, t, reduction="none") / 2, check_dtype=False)

    def test_mean_warns_as_torch(self, make: Any, run: Any) -> None:
        # torch's kl_div warns at every reduction='mean' (its default); ours on every backend
        x, t = make(np.log(Q)), make(T)
        calls = [
            lambda: run(kl_div, x, t),
            lambda: run(kl_div, x, t, reduction="mean"),
            lambda: run(KLDivLoss(), x, t),
        ]
        for call in calls:
            with pytest.warns(UserWarning, match=r"^reduction: 'mean' divides the total loss"):
                call()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for reduction in ("batchmean", "sum", "none"):
                run(kl_div, x, t, reduction=reduction)
            run(kl_div, x, t, size_average=True)  # the legacy arguments decide: no warning

    def test_mean_warns_at_the_callers_line(self) -> None:
        with pytest.warns(UserWarning, match="'batchmean'") as record:
            kl_div(np.log(Q), T)
        assert record[0].filename == __file__

    def test_log_target_matches(self, make: Any, run: Any, close: Any) -> None:
        x = make(np.log(Q))
        close(
            run(kl_div, x, make(np.log(T)), reduction="sum", log_target=True),
            run(kl_div, x, make(T), reduction="sum"),
            factor=10,
        )

    def test_zero_targets_finite_gradients(self, make: Any, grad: Any) -> None:
        # pitfall 18: torch gives a NaN target gradient (and NaN with x = -inf); we stay finite
        x, t = make([[-1.0, -2.0, -np.inf]]), make([[1.0, 0.0, 0.0]])
        value, (g_x, g_t) = grad(kl_div, (x, t), {"reduction": "sum"}, argnums=(0, 1))
        np.testing.assert_allclose(value, 1.0, rtol=1e-6)
        np.testing.assert_allclose(g_x, [[-1.0, 0.0, 0.0]])
        assert np.all(np.isfinite(g_t))

    def test_errors(self, make: Any) -> None:
        x, t = make(np.log(Q)), make(T)
        with pytest.raises(ValueError, match=r"`reduction` must be one of .*'batchmean'"):
            kl_div(x, t, reduction="avg")
        with pytest.raises(ValueError, match=r"`input` and `target` must have the same shape"):
            kl_div(x, make(T[0]))
        with pytest.raises(ValueError, match=r"`reduction` must be one of"):
            KLDivLoss(reduction="batch")

    def test_class(self, make: Any, close: Any) -> None:
        x, t = make(np.log(Q)), make(T)
        loss = KLDivLoss(reduction="batchmean", log_target=False)
        close(loss(x, t), kl_div(x, t, reduction="batchmean"))
        assert "batchmean" in repr(loss)


_distribution = st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3).filter(lambda v: sum(v) > 0.1)


@settings(max_examples=20, deadline=None)
@given(p=_distribution, q=_distribution)
def test_kl_nonnegative_and_zero_at_equality(p: list[float], q: list[float]) -> None:
    t = np.asarray(p) / sum(p)
    pred = (np.asarray(q) + 1e-3) / (sum(q) + 3e-3)
    assert float(kl_divergence(np.log(pred), t)) >= -1e-12
    np.testing.assert_allclose(kl_divergence(np.log(np.where(t > 0, t, 1.0)), t), 0.0, atol=1e-12)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_axis_is_moveaxis_and_mask_is_subset(seed: int) -> None:
    rng = np.random.default_rng(seed)
    lq = np.log(rng.dirichlet(np.ones(4), size=3))
    t = rng.dirichlet(np.ones(4), size=3)
    np.testing.assert_allclose(kl_divergence(lq.T, t.T, axis=0), kl_divergence(lq, t))
    keep = rng.uniform(size=4) > 0.4
    masked = kl_divergence(lq, t, where=np.broadcast_to(keep, lq.shape))
    np.testing.assert_allclose(masked, kl_divergence(lq[:, keep], t[:, keep]), atol=1e-12)
