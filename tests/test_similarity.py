"""Similarity / metric-learning family: literals, pitfalls 23/24/29-33, errors and properties.

Reference values, gradients against finite differences and peers, half precision and invariants
of every registered case run in ``test_registry.py``.
"""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np
import pytest
from array_api_extra.testing import lazy_xp_function
from hypothesis import given, settings
from hypothesis import strategies as st

from agnostic_losses import (
    CosineEmbeddingLoss,
    CosineSimilarity,
    PairwiseDistance,
    TripletMarginLoss,
    TripletMarginWithDistanceLoss,
    circle_loss,
    cosine_distance,
    cosine_similarity,
    ntxent,
    pairwise_cosine_distance,
    pairwise_cosine_similarity,
    triplet_margin_loss,
)
from agnostic_losses import functional as F
from agnostic_losses._dispatch import AxisError

for _f in (
    circle_loss,
    cosine_distance,
    cosine_similarity,
    ntxent,
    pairwise_cosine_distance,
    pairwise_cosine_similarity,
    triplet_margin_loss,
    F.cosine_embedding_loss,
    F.cosine_similarity,
    F.pairwise_distance,
    F.triplet_margin_loss,
    F.triplet_margin_with_distance_loss,
):
    lazy_xp_function(_f)


def _finite(*arrays: Any) -> None:
    for a in arrays:
        assert np.all(np.isfinite(a)), a


class TestCosine:
    def test_seed_values(self, make: Any, run: Any, close: Any) -> None:
        a = make([[1.0, 0.0], [1.0, 1.0], [3.0, 4.0]])
        b = make([[2.0, 0.0], [-1.0, 0.0], [4.0, 3.0]])
        expected = np.asarray([1.0, -np.sqrt(0.5), 0.96])
        close(run(cosine_similarity, a, b), expected, check_dtype=False)
        close(run(cosine_distance, a, b), 1.0 - expected, check_dtype=False)

    def test_zero_vector_is_zero_with_finite_gradient(self, make: Any, grad: Any) -> None:
        # pitfall 23: optax gives NaN (epsilon=0); we give similarity 0 and a finite gradient
        a, b = make([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]]), make([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
        value, grads = grad(cosine_similarity, (a, b), argnums=(0, 1))
        np.testing.assert_array_equal(value, [0.0, 0.0])
        _finite(*grads)
        value, grads = grad(cosine_distance, (a, b), argnums=(0, 1))
        np.testing.assert_array_equal(value, [1.0, 1.0])
        _finite(*grads)

    def test_epsilon_floors_squared_norm(self, make: Any, run: Any, close: Any) -> None:
        out = run(cosine_similarity, make([0.1, 0.0]), make([1.0, 0.0]), epsilon=1.0)
        close(out, np.asarray(0.1), check_dtype=False)

    def test_pairwise_literals_and_zero_row(self, make: Any, grad: Any) -> None:
        x = make([[1.0, 0.0], [0.0, 0.0]])
        y = make([[1.0, 1.0], [0.0, 3.0], [-2.0, 0.0]])
        value, grads = grad(pairwise_cosine_similarity, (x, y), argnums=(0, 1))
        h = np.sqrt(0.5)
        np.testing.assert_allclose(value, [[h, 0.0, -1.0], [0.0, 0.0, 0.0]], atol=1e-6)
        _finite(*grads)
        value, _ = grad(pairwise_cosine_distance, (x,))
        np.testing.assert_allclose(value, [[0.0, 1.0], [1.0, 1.0]], atol=1e-6)

    def test_pairwise_tiny_rows_keep_their_direction(self, make: Any, run: Any, close: Any) -> None:
        # eps floors each norm: |x| |y| = 9e-10 < eps must not shrink the similarity (was 0.09)
        out = run(pairwise_cosine_similarity, make([[3e-5, 0.0], [3e-5, 0.0]]))
        close(out, np.ones((2, 2)), check_dtype=False)

    def test_cosine_embedding_literals_and_zero_vector(self, make: Any, grad: Any) -> None:
        x1 = make([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
        x2 = make([[0.0, 1.0], [1.0, 1.0], [1.0, 2.0]])
        target = make([1, -1, 1], dtype="int64")
        value, grads = grad(
            F.cosine_embedding_loss,
            (x1, x2, target),
            {"margin": 0.5, "reduction": "none"},
            argnums=(0, 1),
        )
        np.testing.assert_allclose(value, [1.0, 0.5, 1.0], atol=1e-6)
        _finite(*grads)

    def test_cosine_embedding_unbatched_and_class(self, make: Any, run: Any, close: Any) -> None:
        x = make([1.0, 0.0])
        close(
            run(F.cosine_embedding_loss, x, x, make(1, dtype="int64")),
            np.asarray(0.0),
            atol=1e-6,
            check_dtype=False,
        )
        loss = CosineEmbeddingLoss(margin=0.2, reduction="sum")
        xs, ys = make([[1.0, 2.0], [3.0, -1.0]]), make([[2.0, 1.0], [1.0, 1.0]])
        target = make([-1, 1], dtype="int64")
        close(loss(xs, ys, target), F.cosine_embedding_loss(xs, ys, target, 0.2, reduction="sum"))

    def test_errors(self, backend: Any, make: Any) -> None:
        a, b = make([[1.0, 0.0]]), make([[0.0, 1.0, 0.0]])
        with pytest.raises(ValueError, match=r"`predictions` and `targets` must have the same"):
            cosine_similarity(a, b)
        with pytest.raises(AxisError, match=r"`axis`=3 is out of range"):
            cosine_similarity(a, a, axis=3)
        assert type(cosine_distance(a, [[1.0, 0.0]])) is type(a)  # lists convert at top level
        with pytest.raises(ValueError, match=r"`Y` must be a 2-d array with 2 features"):
            pairwise_cosine_similarity(a, b)
        with pytest.raises(ValueError, match=r"`target` must have shape \(1,\)"):
            F.cosine_embedding_loss(a, a, make([1, 1], dtype="int64"))
        with pytest.raises(ValueError, match=r"`reduction` must be one of"):
            F.cosine_embedding_loss(a, a, make([1], dtype="int64"), reduction="batchmean")
        assert type(cosine_similarity(a, np.asarray([[1.0, 0.0]]))) is type(a)


class TestTorchDistances:
    """torch's ``pairwise_distance`` and ``cosine_similarity`` (the distances of
    ``triplet_margin_with_distance_loss``); values and gradients against torch itself in
    ``test_registry.py`` and on torch's OpInfo samples in ``test_torch_conformance.py``."""

    # |x1 - x2| = (3, 0, 4) with eps=0: every p of torch's vector norm, by hand
    NORMS = (
        (0.0, 2.0),
        (0.5, (3**0.5 + 4**0.5) ** 2),
        (1.0, 7.0),
        (2.0, 5.0),
        (3.0, 91 ** (1 / 3)),
        (float("inf"), 4.0),
        (float("-inf"), 0.0),
        (-1.0, 0.0),
    )

    @pytest.mark.parametrize(("p", "expected"), NORMS)
    def test_every_p_with_a_zero_difference(
        self, make: Any, grad: Any, p: float, expected: float
    ) -> None:
        # torch's norm has derivative 0 at a zero entry for every p (|0|^(p-1) is inf for p < 1:
        # the powered form alone gives nan there)
        x1, x2 = make([[1.0, 2.0, -1.0]]), make([[-2.0, 2.0, -5.0]])
        value, grads = grad(F.pairwise_distance, (x1, x2), {"p": p, "eps": 0.0}, argnums=(0, 1))
        np.testing.assert_allclose(value, [expected], rtol=1e-6)
        _finite(*grads)
        assert grads[0][0, 1] == 0.0
        np.testing.assert_array_equal(grads[0], -grads[1])

    def test_shapes_as_torch(self, make: Any, run: Any, close: Any) -> None:
        x = make([[0.0, 0.0], [1.0, 1.0]])
        close(run(F.pairwise_distance, x, make([3.0, 4.0]), eps=0.0), np.asarray([5.0, 13**0.5]))
        out = run(F.pairwise_distance, x, x, keepdim=True, eps=0.0)
        assert tuple(out.shape) == (2, 1)
        out = run(F.pairwise_distance, make(1.0), make(3.0), keepdim=True, eps=0.0)
        assert tuple(out.shape) == ()  # torch: a 0-d pair stays 0-d, keepdim or not
        close(out, np.asarray(2.0))
        close(run(F.cosine_similarity, make(2.0), make(-3.0), dim=0), np.asarray(-1.0))
        out = run(F.cosine_similarity, make(np.ones((1, 2, 3))), make(np.ones((2, 1, 3))), dim=-2)
        assert tuple(out.shape) == (2, 3)
        close(PairwiseDistance(p=1.0, eps=0.0)(x, make([[1.0, 0.0]])), np.asarray([1.0, 1.0]))
        close(CosineSimilarity(dim=0)(x, x), np.asarray([1.0, 1.0]))

    def test_cosine_floors_each_norm(self, make: Any, grad: Any) -> None:
        # torch floors each norm, not their product (its docs' formula): |x| |y| = 1e-10 < eps
        # must not shrink the similarity of two tiny vectors (it would give 0.01)
        tiny = make([[1e-5, 0.0]])
        value, _ = grad(F.cosine_similarity, (tiny, tiny))
        np.testing.assert_allclose(value, [1.0], rtol=1e-6)
        zero = make([[0.0, 0.0]])
        value, grads = grad(F.cosine_similarity, (zero, make([[3.0, 4.0]])), argnums=(0, 1))
        np.testing.assert_array_equal(value, [0.0])
        _finite(*grads)

    def test_cosine_gradient_below_eps_is_the_derivative(self, make: Any, grad: Any) -> None:
        # |x1| < eps: s = <x1, x2> / (eps |x2|), linear in x1 (README: torch's gradient also
        # differentiates the replaced norm and gives 6.12e7 and 5.17e7 here)
        value, (g,) = grad(F.cosine_similarity, (make([[1e-9, 2e-9]]), make([[1.0, 1.0]])))
        slope = 1.0 / (1e-8 * 2**0.5)
        np.testing.assert_allclose(value, [3e-9 * slope], rtol=1e-5)
        np.testing.assert_allclose(g, [[slope, slope]], rtol=1e-5)

    def test_integer_inputs(self, make: Any, run: Any, close: Any) -> None:
        ints = make([[1, 2]], dtype="int64"), make([[4, 6]], dtype="int64")
        close(run(F.pairwise_distance, *ints, eps=0.0), np.asarray([5.0]), check_dtype=False)
        close(
            run(F.cosine_similarity, ints[0], make([[2.0, 4.0]])),
            np.asarray([1.0]),
            check_dtype=False,
        )
        with pytest.raises(TypeError, match=r"`x1` and `x2` must not both be integral"):
            F.cosine_similarity(*ints)

    def test_errors(self, make: Any) -> None:
        a = make([[1.0, 0.0]])
        with pytest.raises(ValueError, match=r"must broadcast to one shape, got \(1, 2\) and"):
            F.pairwise_distance(a, make([1.0, 0.0, 2.0]))
        with pytest.raises(AxisError, match=r"`dim`=2 is out of range"):
            F.cosine_similarity(a, a, dim=2)
        with pytest.raises(ValueError, match=r"`eps` must be a real number in \[0, inf\]"):
            CosineSimilarity(eps=-1.0)
        with pytest.raises(TypeError, match=r"`keepdim` must be a bool"):
            PairwiseDistance(keepdim="yes")


class TestTriplet:
    def test_optax_literal(self, make: Any, run: Any, close: Any) -> None:
        a = make([[0.0, 0.0], [1.0, 1.0]])
        p = make([[0.1, 0.1], [1.1, 1.1]])
        n = make([[1.0, 0.0], [0.0, 1.0]])
        close(
            run(triplet_margin_loss, a, p, n),
            np.asarray([0.1414241, 0.1414241]),
            atol=1e-6,
            check_dtype=False,
        )

    def test_torch_literal(self, make: Any, run: Any, close: Any) -> None:
        a, p, n = make([[0.0, 0.0]]), make([[3.0, 4.0]]), make([[0.0, 1.0]])
        close(run(F.triplet_margin_loss, a, p, n, eps=0.0), np.asarray(5.0), check_dtype=False)
        close(run(F.triplet_margin_loss, a, p, n, eps=0.0, p=1), np.asarray(7.0), check_dtype=False)
        swapped = run(F.triplet_margin_loss, a, p, n, eps=0.0, swap=True, reduction="none")
        # d(p, n) = sqrt(9 + 9) > d(a, n) = 1: no swap effect
        close(swapped, np.asarray([5.0]), check_dtype=False)

    def test_anchor_equals_positive_gradient_finite(self, make: Any, grad: Any) -> None:
        # pitfall 24: eps inside the root (optax) / added to the difference (torch)
        a = make([[0.5, -1.0, 2.0]])
        n = make([[0.0, 0.0, 0.0]])
        for fn in (triplet_margin_loss, F.triplet_margin_loss):
            _, grads = grad(fn, (a, a, n), {"margin": 10.0}, argnums=(0, 1, 2))
            _finite(*grads)
        # torch with eps=0 and a == p: the norm of the zero vector has gradient 0, not NaN
        _, grads = grad(
            F.triplet_margin_loss, (a, a, n), {"eps": 0.0, "margin": 10.0}, argnums=(0, 1)
        )
        _finite(*grads)
        _, grads = grad(
            F.triplet_margin_with_distance_loss, (a, a, n), {"margin": 10.0}, argnums=(0, 1)
        )
        _finite(*grads)

    def test_custom_distance_receives_backend_arrays(self, backend: Any, make: Any) -> None:
        seen = []

        def l1(x: Any, y: Any) -> Any:
            seen.append(type(x).__module__.split(".")[0])
            xp = array_api_compat.array_namespace(x, y)
            return xp.sum(xp.abs(x - y), axis=-1)

        a, p, n = make([[0.0, 0.0]]), make([[1.0, 1.0]]), make([[0.0, 1.0]])
        out = F.triplet_margin_with_distance_loss(a, p, n, distance_function=l1)
        np.testing.assert_allclose(np.asarray(_to_numpy(out)), 2.0)
        assert set(seen) <= {backend.library, "jaxlib", "dask"}

    def test_classes(self, make: Any, close: Any) -> None:
        a, p, n = make([[0.0, 0.0]]), make([[1.0, 1.0]]), make([[0.0, 1.0]])
        close(TripletMarginLoss(p=1.0, eps=0.0)(a, p, n), np.asarray(2.0), check_dtype=False)
        loss = TripletMarginWithDistanceLoss(margin=2.0, swap=True)
        close(loss(a, p, n), F.triplet_margin_with_distance_loss(a, p, n, margin=2.0, swap=True))

    def test_errors(self, make: Any) -> None:
        a = make([[0.0, 0.0]])
        with pytest.raises(ValueError, match=r"same number of dimensions"):
            F.triplet_margin_loss(a, a, make([0.0, 0.0]))
        with pytest.raises(ValueError, match=r"`anchors` and `negatives` must have the same shape"):
            triplet_margin_loss(a, a, make([[0.0, 0.0, 1.0]]))
        with pytest.raises(AxisError, match=r"`axis`=2 is out of range"):
            triplet_margin_loss(a, a, a, axis=2)
        positive = r"`margin` must be a real number in \(0, inf\]"  # torch raises too
        with pytest.raises(ValueError, match=positive):
            F.triplet_margin_with_distance_loss(a, a, a, margin=0.0)
        with pytest.raises(ValueError, match=positive):
            TripletMarginWithDistanceLoss(margin=-1.0)
        with pytest.raises(ValueError, match=positive):
            F.triplet_margin_loss(a, a, a, margin=-1.0)
        with pytest.raises(ValueError, match=positive):
            TripletMarginLoss(margin=0.0)
        with pytest.raises(ValueError, match=r"`p` must be a real number in \(0, inf\], got 0"):
            F.triplet_margin_loss(a, a, a, p=0)
        with pytest.raises(ValueError, match=r"`reduction` must be one of"):
            TripletMarginLoss(reduction="batchmean")


def _to_numpy(x: Any) -> Any:
    from agnostic_losses._testing.backends import to_numpy

    return to_numpy(x)


def test_triplet_subgradient_at_the_margin_is_each_peers(make: Any, grad: Any) -> None:
    """At ``d_pos - d_neg + margin = 0`` torch's losses (``clamp_min``) pass the whole slope,
    optax's (``jnp.maximum``) half of it; each surface takes its peer's, on every backend.
    Here ``d_pos = 1`` (along x), ``d_neg = 2`` (along y), ``margin = 1``."""
    a, p, n = make([[0.0, 0.0]]), make([[1.0, 0.0]]), make([[0.0, 2.0]])
    whole = [[[-1.0, 1.0]], [[1.0, 0.0]], [[0.0, -1.0]]]

    def euclidean(u: Any, v: Any) -> Any:
        xp = array_api_compat.array_namespace(u, v)
        return xp.sqrt(xp.sum((u - v) ** 2, axis=-1))

    for fn, kwargs in (
        (F.triplet_margin_loss, {"margin": 1.0, "eps": 0.0}),
        (F.triplet_margin_with_distance_loss, {"margin": 1.0, "distance_function": euclidean}),
    ):
        value, grads = grad(fn, (a, p, n), kwargs, argnums=(0, 1, 2))
        np.testing.assert_allclose(value, 0.0)
        np.testing.assert_allclose(np.asarray(grads), whole, atol=1e-6, err_msg=fn.__name__)
    value, grads = grad(triplet_margin_loss, (a, p, n), {"margin": 1.0, "eps": 0.0})
    np.testing.assert_allclose(grads[0], [[-0.5, 0.5]], atol=1e-6)


class TestContrastive:
    def test_ntxent_literal(self, make: Any, run: Any, close: Any) -> None:
        e = make([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.1, 1.0]])
        out = run(ntxent, e, make([0, 0, 1, 1], dtype="int64"), temperature=1.0)
        close(out, np.asarray(0.5978082), atol=1e-6, check_dtype=False)

    def test_ntxent_without_positive_pairs_is_zero(self, make: Any, grad: Any) -> None:
        # optax: 0/0 = NaN; we return 0 with a zero gradient
        e = make([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
        value, (g,) = grad(ntxent, (e, make([0, 1, 2], dtype="int64")))
        np.testing.assert_array_equal(value, 0.0)
        np.testing.assert_array_equal(g, np.zeros((3, 2)))

    def test_ntxent_zero_embedding_finite_gradient(self, make: Any, grad: Any) -> None:
        e = make([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
        value, (g,) = grad(ntxent, (e, make([0, 0, 1], dtype="int64")))
        _finite(value, g)

    def test_circle_literal_and_empty_rows(self, make: Any, grad: Any) -> None:
        e = make([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
        value, (g,) = grad(circle_loss, (e, make([0, 0, 1], dtype="int64")), {"gamma": 2.0})
        np.testing.assert_allclose(value, [0.545893, 1.284178, 0.0], atol=1e-5)
        # row 2 has no positive: loss 0; its own row contributes no gradient, others finite
        _finite(g)
        value, (g,) = grad(circle_loss, (e, make([0, 1, 2], dtype="int64")))
        np.testing.assert_array_equal(value, [0.0, 0.0, 0.0])
        np.testing.assert_array_equal(g, np.zeros((3, 2)))

    def test_errors(self, make: Any) -> None:
        e = make([[1.0, 0.0], [0.0, 1.0]])
        with pytest.raises(ValueError, match=r"`labels` must have shape \(2,\)"):
            ntxent(e, make([0, 1, 1], dtype="int64"))
        with pytest.raises(TypeError, match=r"`labels` must have an integer dtype"):
            ntxent(e, make([0.0, 1.0]))
        with pytest.raises(ValueError, match=r"`embeddings` must be 2-d"):
            circle_loss(make([1.0, 0.0]), make([0, 1], dtype="int64"))
        with pytest.raises(ValueError, match=r"`ref_labels` must have shape \(2,\)"):
            circle_loss(e, make([0, 1], dtype="int64"), e, make([0], dtype="int64"))


_vec = st.lists(st.floats(-10, 10), min_size=3, max_size=3)


@settings(max_examples=20, deadline=None)
@given(a=_vec, b=_vec, scale=st.floats(0.01, 100.0))
def test_cosine_bounded_and_scale_invariant(a: list[float], b: list[float], scale: float) -> None:
    x, y = np.asarray(a), np.asarray(b)
    s = float(cosine_similarity(x, y))
    assert -1.0 - 1e-12 <= s <= 1.0 + 1e-12
    np.testing.assert_allclose(cosine_similarity(scale * x, y), s, atol=1e-9)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_axis_is_moveaxis_and_mask_is_subset(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    np.testing.assert_allclose(cosine_similarity(a.T, b.T, axis=0), cosine_similarity(a, b))
    keep = rng.uniform(size=5) > 0.4
    keep[0] = True
    mask = np.broadcast_to(keep, a.shape)
    np.testing.assert_allclose(
        cosine_similarity(a, b, where=mask), cosine_similarity(a[:, keep], b[:, keep])
    )
    np.testing.assert_allclose(
        triplet_margin_loss(a.T, b.T, (a + b).T, axis=0), triplet_margin_loss(a, b, a + b)
    )
