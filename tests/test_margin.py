"""Margin family: seed literals, pitfalls, errors and properties on every backend.

Reference values, gradients against finite differences and peers, half precision and invariants
of every registered case run in ``test_registry.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from array_api_extra.testing import lazy_xp_function
from hypothesis import given, settings
from hypothesis import strategies as st

from agnostic_losses import (
    HingeEmbeddingLoss,
    MarginRankingLoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    SoftMarginLoss,
    hinge_loss,
    multiclass_hinge_loss,
    multiclass_perceptron_loss,
    perceptron_loss,
    squared_hinge_loss,
)
from agnostic_losses._testing.backends import to_numpy
from agnostic_losses.functional import (
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    soft_margin_loss,
    triplet_margin_loss,
)

for _f in (
    hinge_loss,
    perceptron_loss,
    squared_hinge_loss,
    multiclass_hinge_loss,
    multiclass_perceptron_loss,
    margin_ranking_loss,
    hinge_embedding_loss,
    soft_margin_loss,
    multilabel_soft_margin_loss,
    multilabel_margin_loss,
    multi_margin_loss,
):
    lazy_xp_function(_f)


class TestSeedValues:
    def test_hinge_and_perceptron(self, make: Any, close: Any) -> None:
        x, y = make([2.0, 0.5, -1.0, 1.0]), make([1.0, 1.0, 1.0, -1.0])
        close(hinge_loss(x, y), np.asarray([0.0, 0.5, 2.0, 2.0]), check_dtype=False)
        close(perceptron_loss(x, y), np.asarray([0.0, 0.0, 1.0, 1.0]), check_dtype=False)

    def test_multiclass(self, make: Any, close: Any) -> None:
        scores = make([[2.0, 0.5, 1.5], [0.0, 3.0, 1.0]])
        labels = make([0, 2], dtype="int64")
        close(multiclass_hinge_loss(scores, labels), np.asarray([0.5, 3.0]), check_dtype=False)
        close(multiclass_perceptron_loss(scores, labels), np.asarray([0.0, 2.0]), check_dtype=False)

    def test_torch_doc_examples(self, make: Any, close: Any) -> None:
        x = make([[0.1, 0.2, 0.4, 0.8]])
        close(
            multilabel_margin_loss(x, make([[3, 0, -1, 1]], dtype="int64")),
            np.asarray(0.85),
            check_dtype=False,
        )
        close(multi_margin_loss(x, make([3], dtype="int64")), np.asarray(0.325), check_dtype=False)
        close(
            multi_margin_loss(x, make([3], dtype="int64"), p=2),
            np.asarray((0.09 + 0.16 + 0.36) / 4),
            check_dtype=False,
        )

    def test_hinge_embedding_and_ranking(self, make: Any, close: Any) -> None:
        out = hinge_embedding_loss(make([0.3, 0.4, 2.0]), make([1.0, -1.0, -1.0]), reduction="none")
        close(out, np.asarray([0.3, 0.6, 0.0]), check_dtype=False)
        out = margin_ranking_loss(
            make([1.0, 0.2]), make([0.5, 0.4]), make([1.0, 1.0]), margin=0.1, reduction="sum"
        )
        close(out, np.asarray(0.3), check_dtype=False)


class TestLabelConvention:
    def test_hinge_does_not_remap_zero_targets(self, make: Any, close: Any) -> None:
        # pitfall 26: optax's hinge takes -1/1; a 0 target gives the constant 1 (documented)
        out = hinge_loss(make([3.0, -3.0]), make([0.0, 0.0]))
        close(out, np.asarray([1.0, 1.0]), check_dtype=False)

    def test_squared_hinge_maps_zero_one_targets_like_keras(self, make: Any, close: Any) -> None:
        x = make([[0.5, -2.0], [1.0, 0.0]])
        from_01 = squared_hinge_loss(x, make([[1, 0], [1, 1]], dtype="int64"))
        from_pm = squared_hinge_loss(x, make([[1.0, -1.0], [1.0, 1.0]]))
        close(from_01, np.asarray([0.125, 0.5]), check_dtype=False)
        close(from_pm, np.asarray([0.125, 0.5]), check_dtype=False)


class TestPitfalls:
    def test_gradient_at_the_kink_is_finite(self, make: Any, grad: Any) -> None:
        # y x = 1 exactly: relu's subgradient, 0, on every backend (torch.relu's, jax.nn.relu's);
        # just inside the margin the slope is -y
        _, (g,) = grad(hinge_loss, (make([1.0, -1.0, 0.5]), make([1.0, -1.0, 1.0])))
        np.testing.assert_allclose(g, [0.0, 0.0, -1.0])
        _, (g,) = grad(
            multi_margin_loss, (make([[1.0, 0.0]]), make([0], dtype="int64")), {"reduction": "sum"}
        )
        assert np.all(np.isfinite(g))

    def test_torch_margin_losses_pass_the_whole_slope_at_the_margin(
        self, make: Any, grad: Any
    ) -> None:
        # torch writes margin_ranking_loss and hinge_embedding_loss with clamp_min, whose
        # derivative at 0 is 1 (xp.maximum would split it, relu would drop it)
        args = (make([2.0, 0.0]), make([1.0, 0.0]), make([1.0, -1.0]))
        value, grads = grad(margin_ranking_loss, args, {"margin": 1.0}, argnums=(0, 1))
        np.testing.assert_allclose(value, 0.5)
        np.testing.assert_allclose(np.asarray(grads), [[-0.5, 0.5], [0.5, -0.5]])
        x, y = make([1.0, 0.5, 3.0]), make([-1.0, -1.0, 1.0])
        value, (g,) = grad(hinge_embedding_loss, (x, y), {"margin": 1.0, "reduction": "sum"})
        np.testing.assert_allclose(value, 3.5)
        np.testing.assert_allclose(g, [-1.0, -1.0, 1.0])

    def test_saturated_soft_margin(self, make: Any, grad: Any) -> None:
        x = make([1e4, -1e4, np.inf, -1e4])
        y = make([1.0, -1.0, 1.0, 1.0])
        value, (g,) = grad(soft_margin_loss, (x, y), {"reduction": "none"})
        np.testing.assert_array_equal(value, [0.0, 0.0, 0.0, 1e4])
        np.testing.assert_array_equal(g, [0.0, 0.0, 0.0, -1.0])

    def test_saturated_multilabel_soft_margin(self, make: Any, grad: Any) -> None:
        x = make([[np.inf, -np.inf, 1e4, -1e4]])
        y = make([[1.0, 0.0, 1.0, 0.0]])
        value, (g,) = grad(multilabel_soft_margin_loss, (x, y))
        np.testing.assert_array_equal(value, 0.0)
        np.testing.assert_array_equal(g, np.zeros((1, 4)))

    def test_multiclass_hinge_splits_a_tie_evenly(self, make: Any, grad: Any) -> None:
        # optax's one max over every class's term: a k-way tie gives each tied term 1/k of
        # the gradient (label 0's own term is 0; classes 1 and 2 reach it exactly)
        labels = make([0, 0], dtype="int64")
        scores = make([[2.0, 1.0, 1.0, 0.0], [2.0, 1.0, 0.5, 0.0]])
        value, (g,) = grad(multiclass_hinge_loss, (scores, labels))
        np.testing.assert_array_equal(value, [0.0, 0.0])
        third, half = 1.0 / 3.0, 0.5
        expected = [[-2 * third, third, third, 0.0], [-half, half, 0.0, 0.0]]
        np.testing.assert_allclose(g, expected, rtol=1e-6)

    def test_multiclass_hinge_with_infinite_scores(
        self, backend: Any, make: Any, run: Any, request: pytest.FixtureRequest
    ) -> None:
        # label 0 (1 in the last row): a masked label (-inf) costs inf and passes the whole
        # gradient to the best other class, as optax; a +inf label costs its limit, 0 (optax:
        # NaN), NaN beside another +inf; a masked other class costs nothing (optax: NaN, its
        # one-hot product -inf * 0)
        inf = np.inf
        x = np.asarray(
            [
                [-inf, 0.3, 0.7, 0.1],
                [inf, 0.3, 0.7, 0.1],
                [inf, inf, 0.7, 0.1],
                [0.5, -inf, 0.2, 0.1],
                [1.0, 2.0, 3.0, 4.0],
            ]
        )
        y = make([0, 0, 0, 0, 1], dtype="int64")
        value = to_numpy(run(multiclass_hinge_loss, make(x), y))
        np.testing.assert_allclose(value, [inf, 0.0, np.nan, 0.7, 3.0], rtol=1e-6)
        if not backend.differentiable:
            return
        grad = request.getfixturevalue("grad")
        keep = [0, 1, 3, 4]
        _, (g,) = grad(multiclass_hinge_loss, (make(x[keep]), make([0, 0, 0, 1], dtype="int64")))
        expected = [
            [-1.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 0.0],
            [-1.0, 0.0, 1.0, 0.0],
            [0.0, -1.0, 0.0, 1.0],
        ]
        np.testing.assert_allclose(g, expected, rtol=1e-6)

    def test_multi_margin_with_infinite_scores(
        self, backend: Any, make: Any, run: Any, request: pytest.FixtureRequest
    ) -> None:
        # torch's values and gradients (label 1): an infinite label score gave NaN (the
        # label's own term, x_y - x_y, was masked by a product after the hinge)
        inf = np.inf
        x = np.asarray([[0.1, 0.2, 0.4, 0.8]] * 4)
        x[0, 1], x[1, 0], x[2, 2], x[3, 1] = inf, -inf, -inf, -inf
        y = make([1, 1, 1, 1], dtype="int64")
        value = to_numpy(run(multi_margin_loss, make(x), y, reduction="none"))
        np.testing.assert_allclose(value, [0.0, 0.7, 0.625, inf], rtol=1e-6)
        if not backend.differentiable:
            return
        grad = request.getfixturevalue("grad")
        _, (g,) = grad(multi_margin_loss, (make(x), y), {"reduction": "sum"})
        expected = [
            [0.0, 0.0, 0.0, 0.0],
            [0.0, -0.5, 0.25, 0.25],
            [0.25, -0.5, 0.0, 0.25],
            [0.25, -0.75, 0.25, 0.25],
        ]
        np.testing.assert_allclose(g, expected, rtol=1e-6)
        # p = 2: the gradient of an infinite hinge is infinite, never NaN (0 * inf)
        _, (g,) = grad(multi_margin_loss, (make(x[3:]), y[3:]), {"p": 2, "reduction": "sum"})
        np.testing.assert_array_equal(g, [[inf, -inf, inf, inf]])

    def test_multilabel_margin_with_infinite_scores(
        self, backend: Any, make: Any, run: Any, request: pytest.FixtureRequest
    ) -> None:
        # torch's values and gradients (targets 3 and 0, then padding): an infinite score of a
        # target class, of a class that is no target, or of class 0 (which a padded slot reads)
        # gave NaN, a product of the pair mask with inf - inf
        inf = np.inf
        x = np.asarray([[0.1, 0.2, 0.4, 0.8]] * 5)
        x[0, 0], x[1, 1], x[2, 3], x[3, 0], x[4, 1] = inf, inf, inf, -inf, -inf
        y = make([[3, 0, -1, 1]] * 5, dtype="int64")
        value = to_numpy(run(multilabel_margin_loss, make(x), y, reduction="none"))
        np.testing.assert_allclose(value, [0.25, inf, 0.6, inf, 0.475], rtol=1e-6)
        if not backend.differentiable:
            return
        grad = request.getfixturevalue("grad")
        _, (g,) = grad(multilabel_margin_loss, (make(x), y), {"reduction": "sum"})
        expected = [
            [0.0, 0.25, 0.25, -0.5],
            [-0.5, 0.5, 0.5, -0.5],
            [-0.5, 0.25, 0.25, 0.0],
            [-0.5, 0.5, 0.5, -0.5],
            [-0.25, 0.0, 0.5, -0.25],
        ]
        np.testing.assert_allclose(g, expected, rtol=1e-6)

    def test_masked_class_in_multiclass_hinge(self, make: Any, grad: Any) -> None:
        scores = make([[2.0, -np.inf, 0.5]])
        value, (g,) = grad(multiclass_hinge_loss, (scores, make([0], dtype="int64")))
        np.testing.assert_allclose(value, [0.0])
        np.testing.assert_array_equal(g, np.zeros((1, 3)))

    def test_out_of_range_labels(self, backend: Any, make: Any, run: Any) -> None:
        # pitfall 3: eager -> ValueError naming the value; jit/lazy -> NaN for that sample only
        scores, labels = make([[1.0, 2.0], [0.0, 1.0]]), make([0, 5], dtype="int64")
        if backend.lazy:
            out = to_numpy(run(multiclass_hinge_loss, scores, labels))
            assert np.isfinite(out[0])
            assert np.isnan(out[1])
            out = to_numpy(run(multi_margin_loss, scores, labels, reduction="none"))
            assert np.isfinite(out[0])
            assert np.isnan(out[1])
        else:
            with pytest.raises(ValueError, match=r"`labels` must hold class indices.*got 5"):
                multiclass_hinge_loss(scores, labels)
            with pytest.raises(ValueError, match=r"`target` must hold class indices.*got 5"):
                multi_margin_loss(scores, labels)
            with pytest.raises(
                ValueError, match=r"`target` must hold class indices.*or -1; got -3"
            ):
                multilabel_margin_loss(scores, make([[0, -3], [1, -1]], dtype="int64"))

    def test_shapes_of_unreduced_output(self, make: Any) -> None:
        # pitfall 30 and 31: documented shapes, unbatched and 0-d inputs
        x = make([[0.1, 0.2, 0.4]])
        assert multi_margin_loss(x, make([1], dtype="int64"), reduction="none").shape == (1,)
        assert multi_margin_loss(x[0, ...], make(1, dtype="int64"), reduction="none").shape == ()
        t = make([[2, -1, 0]], dtype="int64")
        assert multilabel_margin_loss(x, t, reduction="none").shape == (1,)
        assert multilabel_margin_loss(x[0, ...], t[0, ...], reduction="none").shape == ()
        assert multilabel_soft_margin_loss(x, x, reduction="none").shape == (1,)
        assert hinge_loss(make(0.5), make(1.0)).shape == ()

    def test_legacy_flags(self, make: Any, close: Any) -> None:
        x, y = make([0.0, 0.0]), make([1.0, -1.0])
        close(
            soft_margin_loss(x, y, size_average=False),
            np.asarray(2 * np.log(2.0)),
            check_dtype=False,
        )
        close(SoftMarginLoss(reduce=False)(x, y), np.full(2, np.log(2.0)), check_dtype=False)


class TestClasses:
    def test_classes_match_functions(self, make: Any, close: Any) -> None:
        x = make([[0.3, -1.0, 2.0], [0.5, 0.1, -0.2]])
        idx = make([2, 0], dtype="int64")
        w = make([1.0, 2.0, 0.5])
        close(MultiMarginLoss(p=2, weight=w)(x, idx), multi_margin_loss(x, idx, p=2, weight=w))
        t = make([[2, 0, -1], [1, -1, 0]], dtype="int64")
        close(
            MultiLabelMarginLoss(reduction="sum")(x, t),
            multilabel_margin_loss(x, t, reduction="sum"),
        )
        y = make([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
        close(MultiLabelSoftMarginLoss(w)(x, y), multilabel_soft_margin_loss(x, y, w))
        close(HingeEmbeddingLoss(margin=2.0)(x, y), hinge_embedding_loss(x, y, margin=2.0))
        close(
            MarginRankingLoss(0.5)(x[0, ...], x[1, ...], y[0, ...]),
            margin_ranking_loss(x[0, ...], x[1, ...], y[0, ...], 0.5),
        )


class TestErrors:
    def test_invalid_reduction(self, make: Any) -> None:
        with pytest.raises(ValueError, match=r"`reduction` must be one of"):
            soft_margin_loss(make([0.1]), make([1.0]), reduction="avg")
        with pytest.raises(ValueError, match=r"`reduction` must be one of"):
            MultiMarginLoss(reduction="mean_all")

    def test_shape_mismatch(self, make: Any) -> None:
        with pytest.raises(
            ValueError, match=r"`predictor_outputs` and `targets` must have the same"
        ):
            hinge_loss(make([0.1, 0.2]), make([[1.0], [-1.0]]))
        with pytest.raises(ValueError, match=r"`input1` and `target` must have the same shape"):
            margin_ranking_loss(make([0.1, 0.2]), make([0.1, 0.2]), make([1.0]))
        with pytest.raises(ValueError, match=r"`labels` must have the shape of `scores` without"):
            multiclass_hinge_loss(make([[0.1, 0.2]]), make([[0, 1]], dtype="int64"))
        with pytest.raises(ValueError, match=r"`target` must have shape \(2,\)"):
            multi_margin_loss(make([[0.1, 0.2], [0.3, 0.4]]), make([0], dtype="int64"))

    def test_float_labels_to_index_functions(self, make: Any) -> None:
        with pytest.raises(TypeError, match=r"`labels` must have an integer dtype.*`hinge_loss`"):
            multiclass_hinge_loss(make([[0.1, 0.2]]), make([1.0]))
        with pytest.raises(TypeError, match=r"`target`.*`multilabel_soft_margin_loss`"):
            multilabel_margin_loss(make([[0.1, 0.2]]), make([[1.0, 0.0]]))
        with pytest.raises(TypeError, match=r"`target` must have an integer dtype.*soft_margin"):
            multi_margin_loss(make([[0.1, 0.2]]), make([1.0]))

    def test_integer_scores(self, make: Any) -> None:
        with pytest.raises(TypeError, match=r"`input` must have a real floating dtype"):
            soft_margin_loss(make([1], dtype="int64"), make([1.0]))

    def test_p_not_one_or_two(self, make: Any) -> None:
        with pytest.raises(ValueError, match=r"`p` must be 1 or 2; got 3"):
            multi_margin_loss(make([[0.1, 0.2]]), make([1], dtype="int64"), p=3)
        with pytest.raises(ValueError, match=r"`p` must be 1 or 2; got 0"):
            MultiMarginLoss(p=0)

    def test_python_list(self, make: Any) -> None:
        # converted on the optax-style surface
        out = hinge_loss(make([0.1]), [1.0])
        assert type(out) is type(make([0.1]))

    def test_mixed_libraries(self, backend: Any, make: Any) -> None:
        if backend.library == "numpy":
            pytest.skip("needs a second library")
        scores = make([[0.1, 0.3]])
        out = multiclass_hinge_loss(scores, np.asarray([1]))  # NumPy labels are converted
        assert type(out) is type(scores)


# --- properties (NumPy; the registry runs the values on every backend) -----------------------

_SCORES = st.integers(0, 2**32 - 1).map(np.random.default_rng)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(rng=_SCORES, shift=st.floats(-50.0, 50.0))
def test_multiclass_hinge_invariant_to_constant_shift(rng: Any, shift: float) -> None:
    scores, labels = rng.normal(size=(4, 5)), rng.integers(0, 5, size=(4,))
    for f in (multiclass_hinge_loss, multiclass_perceptron_loss):
        np.testing.assert_allclose(f(scores + shift, labels), f(scores, labels), atol=1e-12)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(rng=_SCORES)
def test_multilabel_margin_ignores_everything_after_the_first_pad(rng: Any) -> None:
    x = rng.normal(size=(3, 6))
    target = rng.integers(0, 6, size=(3, 6))
    k = int(rng.integers(0, 6))
    padded = target.copy()
    padded[:, k] = -1
    junk = padded.copy()
    junk[:, k + 1 :] = -1
    np.testing.assert_allclose(
        multilabel_margin_loss(x, padded, reduction="none"),
        multilabel_margin_loss(x, junk, reduction="none"),
    )


@settings(max_examples=20, deadline=None, derandomize=True)
@given(rng=_SCORES)
def test_large_margin_predictions_cost_nothing(rng: Any) -> None:
    labels = rng.integers(0, 4, size=(5,))
    scores = rng.normal(size=(5, 4)) + 10.0 * (labels[:, None] == np.arange(4))
    np.testing.assert_array_equal(multiclass_hinge_loss(scores, labels), 0.0)
    np.testing.assert_array_equal(multi_margin_loss(scores, labels, reduction="none"), 0.0)
    y = rng.choice([-1.0, 1.0], size=(6,))
    np.testing.assert_array_equal(hinge_loss(3.0 * y, y), 0.0)


def test_integer_scores_and_embeddings_compute_in_floating_point(
    xp: Any, make: Any, run: Any, close: Any
) -> None:
    """torch takes integer scores and embeddings in its ranking, triplet, cosine (also boolean)
    and Poisson losses and returns its default floating dtype; ours do the same on every
    backend, with the values of the same call on float64 NumPy arrays (torch's own answer is
    compared in ``test_torch_conformance.py``)."""
    default = xp.__array_namespace_info__().default_dtypes()["real floating"]
    x1, x2 = [[1, 5, 3], [0, -2, 4]], [[2, 2, 2], [1, 1, -1]]
    calls = [
        (margin_ranking_loss, ([1, 5, 3], [2, 2, 2], [1, -1, 1]), {"margin": 0.5}),
        (triplet_margin_loss, (x1, x2, [[0, 1, 0], [3, 3, 3]]), {"swap": True}),
        (cosine_embedding_loss, (x1, x2, [1, -1]), {"reduction": "none"}),
        (cosine_embedding_loss, ([[True, False], [True, True]], [[True, True]] * 2, [1, 1]), {}),
        (poisson_nll_loss, (x1, x2), {"reduction": "sum"}),
        (poisson_nll_loss, (x1, x2), {"log_input": False, "full": True}),
    ]
    for fn, arrays, options in calls:
        kinds = ["bool" if isinstance(np.asarray(a).flat[0], np.bool_) else "int64" for a in arrays]
        out = run(fn, *(make(a, k) for a, k in zip(arrays, kinds)), **options)
        want = fn(*(np.asarray(a, dtype=np.float64) for a in arrays), **options)
        assert out.dtype == default, (fn.__name__, out.dtype)
        close(out, want, check_dtype=False)
