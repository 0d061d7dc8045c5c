"""Segmentation family: seed literals, pitfall 25 (empty masks), saturated logits, errors,
properties. Reference values, gradients and optax peers run in ``test_registry.py``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from array_api_extra.testing import lazy_xp_function
from hypothesis import given, settings
from hypothesis import strategies as st

from agnostic_losses import (
    binary_dice_loss,
    dice_loss,
    multiclass_generalized_dice_loss,
    tversky_loss,
)
from agnostic_losses._dispatch import AxisError
from agnostic_losses._testing.backends import Backend

lazy_xp_function(dice_loss)
lazy_xp_function(binary_dice_loss)
lazy_xp_function(multiclass_generalized_dice_loss)
lazy_xp_function(tversky_loss)


class TestLiterals:
    def test_dice_seed(self, make: Any, run: Any, close: Any) -> None:
        probs = make(np.asarray([[[0.9, 0.1], [0.2, 0.8]]]))
        targets = make(np.asarray([[[1.0, 0.0], [0.0, 1.0]]]))
        # class 0: I=.9, P=1.1, T=1 -> 1 - 1.9/(.9+.5*.2+.5*.1+1); class 1: 1 - 1.8/1.95
        out = run(dice_loss, probs, targets, apply_softmax=False, reduction="none")
        close(out, np.asarray([[1 - 1.9 / 2.05, 1 - 1.8 / 1.95]]), check_dtype=False)

    def test_binary_seed(self, make: Any, run: Any, close: Any) -> None:
        probs = make(np.asarray([[1.0, 0.0, 1.0, 0.0]]))
        targets = make(np.asarray([[1.0, 0.0, 0.0, 0.0]]))
        out = run(binary_dice_loss, probs, targets, apply_sigmoid=False)
        close(out, np.asarray([0.2]), check_dtype=False)

    def test_tversky_seed_follows_keras_code(self, make: Any, run: Any, close: Any) -> None:
        y_true = make(np.asarray([1.0, 1.0, 1.0, 0.0]))
        y_pred = make(np.asarray([1.0, 0.0, 0.0, 1.0]))
        # I=1, FN=2, FP=1: alpha weights FN (keras's code), so 1 - 1/(1 + .2*2 + .8*1)
        out = run(tversky_loss, y_true, y_pred, alpha=0.2, beta=0.8)
        close(out, np.asarray(1 - 1 / 2.2), atol=1e-6, check_dtype=False)

    def test_generalized_weights_favor_rare_classes(self, make: Any, run: Any, close: Any) -> None:
        targets = np.asarray([[[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]])
        probs = np.asarray([[[0.5, 0.5]] * 4])
        per_class = 1 - np.asarray(
            [
                (1.5 + 1) / (1.5 + 0.5 * 0.5 + 0.5 * 1.5 + 1),
                (0.5 + 1) / (0.5 + 0.5 * 1.5 + 0.5 * 0.5 + 1),
            ]
        )
        w = 1 / (np.asarray([9.0, 1.0]) + 1e-7)
        w = w / w.sum() * 2
        out = run(multiclass_generalized_dice_loss, make(probs), make(targets), apply_softmax=False)
        close(out, np.asarray(np.mean(per_class * w)), check_dtype=False)


class TestEmptyMasks:
    """Pitfall 25: empty target and empty prediction -> loss 0, finite gradient."""

    @pytest.mark.parametrize("smooth", [1.0, 0.0])
    def test_dice(self, make: Any, grad: Any, smooth: float) -> None:
        zeros = np.zeros((2, 3, 1))
        value, (g,) = grad(
            dice_loss,
            (make(zeros), make(zeros)),
            {"apply_softmax": False, "smooth": smooth},
        )
        np.testing.assert_array_equal(value, [0.0, 0.0])
        assert np.all(np.isfinite(g))

    def test_binary_and_tversky(self, make: Any, grad: Any) -> None:
        zeros = make(np.zeros((2, 4)))
        value, (g,) = grad(binary_dice_loss, (zeros, zeros), {"apply_sigmoid": False})
        np.testing.assert_array_equal(value, [0.0, 0.0])
        assert np.all(np.isfinite(g))
        value, (g,) = grad(tversky_loss, (zeros, zeros), argnums=(1,))
        assert value == 0.0  # keras: 1 (no smoothing term)
        assert np.all(np.isfinite(g))

    def test_generalized_absent_class(self, make: Any, run: Any) -> None:
        targets = np.zeros((1, 3, 2))
        targets[..., 0] = 1.0
        out = run(
            multiclass_generalized_dice_loss, make(targets), make(targets), apply_softmax=False
        )
        np.testing.assert_allclose(np.asarray(_np(out)), 0.0, atol=1e-6)


class TestSaturation:
    def test_extreme_and_masked_logits(self, make: Any, grad: Any) -> None:
        logits = np.asarray([[[1e4, -1e4, -np.inf], [-1e4, 1e4, -np.inf], [0.0, 0.0, -np.inf]]])
        targets = np.asarray([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]])
        value, (g,) = grad(dice_loss, (make(logits), make(targets)))
        assert np.all(np.isfinite(value))
        assert np.all(np.isfinite(g))
        value, (g,) = grad(
            binary_dice_loss,
            (make(1e4 * np.asarray([[1.0, -1.0]])), make(np.asarray([[1.0, 0.0]]))),
        )
        np.testing.assert_allclose(value, [0.0], atol=1e-6)
        assert np.all(np.isfinite(g))


def _np(x: Any) -> np.ndarray:
    from agnostic_losses._testing.backends import to_numpy

    return np.asarray(to_numpy(x), dtype=np.float64)


class TestErrors:
    def test_options_and_shapes(self, make: Any) -> None:
        x, t = make(np.zeros((2, 3, 2))), make(np.zeros((2, 3, 2)))
        with pytest.raises(ValueError, match=r"`reduction` must be one of 'mean', 'sum', 'none'"):
            dice_loss(x, t, reduction="batchmean")
        with pytest.raises(
            ValueError, match=r"`predictions` and `targets` must have the same shape"
        ):
            dice_loss(x, make(np.zeros((2, 4, 2))))
        with pytest.raises(ValueError, match=r"`class_weights` must be 1-D"):
            dice_loss(x, t, class_weights=make(np.ones((2, 2))))
        with pytest.raises(AxisError, match=r"`axis`=3 is out of range"):
            dice_loss(x, t, axis=3)
        with pytest.raises(ValueError, match=r"`y_true` and `y_pred` must have the same shape"):
            tversky_loss(make(np.zeros((3,))), make(np.zeros((3, 1))))
        with pytest.raises(ValueError, match=r"`predictions` and `targets` must have the same"):
            multiclass_generalized_dice_loss(x, make(np.zeros((2, 3, 3))))
        with pytest.raises(TypeError, match=r"`predictions` must have a real floating dtype"):
            dice_loss(make(np.zeros((2, 2)), dtype="int64"), t)
        targets = np.zeros(tuple(x.shape)).tolist()
        assert type(binary_dice_loss(x, targets)) is type(x)  # lists convert at top level

    def test_numpy_companions_convert(self, backend: Backend, make: Any) -> None:
        if backend.library == "numpy":
            pytest.skip("needs a second library")
        x = make(np.zeros((1, 2, 2)))
        assert type(dice_loss(x, np.zeros((1, 2, 2)))) is type(x)  # NumPy targets convert

    def test_probabilities_must_sum_to_one(self, backend: Backend, make: Any) -> None:
        if backend.lazy:
            pytest.skip("value checks need concrete arrays (jit tracers and Dask graphs have none)")
        with pytest.raises(ValueError, match=r"`predictions` must be valid probability"):
            dice_loss(make(np.full((1, 2, 2), 0.7)), make(np.zeros((1, 2, 2))), apply_softmax=False)
        # one channel is a probability map, not a distribution: no check (optax raises)
        dice_loss(make(np.full((1, 2, 1), 0.7)), make(np.zeros((1, 2, 1))), apply_softmax=False)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1))
def test_class_permutation_and_moveaxis(seed: int) -> None:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(2, 3, 4, 3))
    targets = np.eye(3)[rng.integers(0, 3, size=(2, 3, 4))]
    perm = rng.permutation(3)
    base = dice_loss(logits, targets)
    np.testing.assert_allclose(dice_loss(logits[..., perm], targets[..., perm]), base, rtol=1e-12)
    swapped = dice_loss(np.swapaxes(logits, 1, 2), np.swapaxes(targets, 1, 2))
    np.testing.assert_allclose(swapped, base, rtol=1e-12)
    y_true, y_pred = targets[..., 0], rng.uniform(size=(2, 3, 4))
    moved = tversky_loss(np.moveaxis(y_true, 0, -1), np.moveaxis(y_pred, 0, -1), axis=(0, 1))
    np.testing.assert_allclose(moved, tversky_loss(y_true, y_pred, axis=(1, 2)), rtol=1e-12)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1))
def test_tversky_half_half_is_keras_dice(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y_true = (rng.uniform(size=(6,)) > 0.5).astype(np.float64)
    y_pred = rng.uniform(size=(6,))
    dice = 1 - 2 * np.sum(y_true * y_pred) / (np.sum(y_true) + np.sum(y_pred) + 2e-7)
    np.testing.assert_allclose(tversky_loss(y_true, y_pred), dice, rtol=1e-9)
