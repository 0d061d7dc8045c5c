"""Ranking family: optax literals, masking pitfalls, errors and properties."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from array_api_extra.testing import lazy_xp_function
from hypothesis import given, settings
from hypothesis import strategies as st

from agnostic_losses import ranking_softmax_loss

lazy_xp_function(ranking_softmax_loss)


def test_optax_doc_values(make: Any, close: Any, grad: Any) -> None:
    scores, labels = make([2.0, 1.0, 3.0]), make([1.0, 0.0, 0.0])
    close(ranking_softmax_loss(scores, labels), np.asarray(1.4076059), atol=1e-6, check_dtype=False)
    _, (g,) = grad(ranking_softmax_loss, (scores, labels))
    np.testing.assert_allclose(g, [-0.755, 0.09, 0.665], atol=1e-3)
    scores = make([[2.0, 1.0, 0.0], [1.0, 0.5, 1.5]])
    labels = make([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    where = make([[True, True, False], [True, True, True]], dtype="bool")
    out = ranking_softmax_loss(scores, labels, where=where)
    close(out, np.asarray(0.4969), atol=1e-3, check_dtype=False)


def test_fully_masked_list(make: Any, grad: Any) -> None:
    # pitfall 2/4: a list with no valid item -> loss 0, excluded from the mean, zero gradient
    scores = make([[2.0, 1.0, 0.0], [1.0, -np.inf, 1.5]])
    labels = make([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    where = make([[True, True, True], [False, False, False]], dtype="bool")
    value, (g,) = grad(ranking_softmax_loss, (scores, labels), {"where": where})
    expected = np.log(np.exp(2.0) + np.exp(1.0) + 1.0) - 2.0
    np.testing.assert_allclose(value, expected, rtol=1e-6 if value.dtype == np.float32 else 1e-7)
    assert np.all(np.isfinite(g))
    np.testing.assert_array_equal(g[1], 0.0)
    value, _ = grad(ranking_softmax_loss, (scores, labels), {"where": where, "reduce_fn": None})
    np.testing.assert_allclose(
        value, [expected, 0.0], rtol=1e-6 if value.dtype == np.float32 else 1e-7
    )
    all_masked = make([[False] * 3] * 2, dtype="bool")
    value, (g,) = grad(ranking_softmax_loss, (scores, labels), {"where": all_masked})
    np.testing.assert_array_equal(value, 0.0)
    np.testing.assert_array_equal(g, 0.0)


def test_empty_batch_of_lists(make: Any, grad: Any) -> None:
    # optax's _safe_reduce: the mean over no list is 0, not NaN (the last, empty batch of a
    # loader); the unreduced loss is empty
    scores, labels = make(np.zeros((0, 3))), make(np.zeros((0, 3)))
    value, (g,) = grad(ranking_softmax_loss, (scores, labels))
    np.testing.assert_array_equal(value, 0.0)
    assert g.shape == (0, 3)
    assert ranking_softmax_loss(scores, labels, reduce_fn=None).shape == (0,)


def test_empty_batch_matches_optax() -> None:
    optax = pytest.importorskip("optax")
    jnp = pytest.importorskip("jax.numpy")
    scores, labels = jnp.zeros((0, 3)), jnp.zeros((0, 3))
    want = optax.losses.ranking_softmax_loss(scores, labels)
    np.testing.assert_array_equal(ranking_softmax_loss(scores, labels), want)


def test_masked_item_gets_no_gradient(make: Any, grad: Any) -> None:
    scores, labels = make([[2.0, 1.0, 0.0]]), make([[1.0, 0.0, 1.0]])
    where = make([[True, True, False]], dtype="bool")
    _, (g,) = grad(ranking_softmax_loss, (scores, labels), {"where": where})
    assert g[0, 2] == 0.0


def test_sum_reduce_fn(xp: Any, make: Any, close: Any) -> None:
    scores, labels = make([[2.0, 1.0], [0.0, 0.5]]), make([[1.0, 0.0], [1.0, 1.0]])
    per_list = ranking_softmax_loss(scores, labels, reduce_fn=None)
    close(ranking_softmax_loss(scores, labels, reduce_fn=xp.sum), xp.sum(per_list))


def test_braintools_reduction_string(make: Any, close: Any) -> None:
    # braintools' superset: `reduction` takes precedence over `reduce_fn`; masked lists excluded.
    # Literals from braintools 0.3.0's docstring (per list 0.31326163, 0.68026966).
    scores = make([[2.0, 1.0, 0.0], [1.0, 0.5, 1.5]])
    labels = make([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    where = make([[True, True, False], [True, True, True]], dtype="bool")
    per_list = np.asarray([0.31326163, 0.68026966])
    out = ranking_softmax_loss(scores, labels, where=where, reduction="none", reduce_fn=None)
    close(out, per_list, check_dtype=False, atol=1e-6)
    out = ranking_softmax_loss(scores, labels, where=where, reduction="sum")
    close(out, np.asarray(per_list.sum()), check_dtype=False, atol=1e-6)
    out = ranking_softmax_loss(scores, labels, where=where, reduction="mean", reduce_fn=None)
    close(out, np.asarray(per_list.mean()), check_dtype=False, atol=1e-6)
    with pytest.raises(ValueError, match=r"`reduction` must be one of 'none', 'mean', 'sum'"):
        ranking_softmax_loss(scores, labels, reduction="avg")


def test_errors(make: Any) -> None:
    with pytest.raises(ValueError, match=r"`logits` and `labels` must have the same shape"):
        ranking_softmax_loss(make([[0.1, 0.2]]), make([1.0, 0.0]))
    with pytest.raises(TypeError, match=r"`where` must be a boolean array"):
        ranking_softmax_loss(make([0.1, 0.2]), make([1.0, 0.0]), where=make([1.0, 0.0]))
    with pytest.raises(TypeError, match=r"`logits` must have a real floating dtype"):
        ranking_softmax_loss(make([1, 2], dtype="int64"), make([1.0, 0.0]))
    with pytest.raises(TypeError, match=r"`reduce_fn` must be callable or None"):
        ranking_softmax_loss(make([0.1, 0.2]), make([1.0, 0.0]), reduce_fn="mean")


def test_mixed_libraries(backend: Any, make: Any) -> None:
    if backend.library == "numpy":
        pytest.skip("needs a second library")
    scores = make([0.1, 0.2])
    out = ranking_softmax_loss(scores, make([1.0, 0.0]), where=np.asarray([True, False]))
    assert type(out) is type(scores)  # the NumPy mask is converted


@settings(max_examples=20, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1))
def test_mask_equals_subset(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores, labels = rng.normal(size=(6,)), rng.uniform(size=(6,))
    where = rng.uniform(size=(6,)) < 0.6
    where[0] = True
    masked = ranking_softmax_loss(scores, labels, where=where)
    subset = ranking_softmax_loss(scores[where], labels[where])
    np.testing.assert_allclose(masked, subset, rtol=1e-12)
    assert masked >= 0
    np.testing.assert_allclose(
        ranking_softmax_loss(scores + 3.0, labels), ranking_softmax_loss(scores, labels)
    )
