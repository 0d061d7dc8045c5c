"""CTC family: seed literals, pitfalls 27-33, errors, the scan primitive and properties.

Reference values, gradients against finite differences and peers (optax, torch) of every
registered case run in ``test_registry.py``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from array_api_extra.testing import lazy_xp_function
from hypothesis import given, settings
from hypothesis import strategies as st

from agnostic_losses import CTCLoss, ctc_loss, ctc_loss_with_forward_probs
from agnostic_losses._kernels import ctc as K
from agnostic_losses._loops import scan
from agnostic_losses._registry.ctc import ref_ctc_sequence
from agnostic_losses._testing.backends import Backend
from agnostic_losses.functional import ctc_loss as f_ctc_loss

lazy_xp_function(ctc_loss)
lazy_xp_function(ctc_loss_with_forward_probs)
lazy_xp_function(f_ctc_loss)

LOG_3_4 = -math.log(3 / 4)  # T=2, K=2 uniform, label [1]: three alignments of 1/4
LOG_5_27 = -math.log(5 / 27)  # T=3, K=3 uniform, labels [1, 2]: five alignments of 1/27


def _uniform(frames: int, classes: int, batch: int = 1) -> np.ndarray:
    return np.log(np.full((frames, batch, classes), 1.0 / classes))


class TestTopLevel:
    def test_seed_values(self, make: Any, run: Any, close: Any) -> None:
        logits = make(np.zeros((2, 3, 3)))
        labels = make(np.asarray([[1, 2], [2, 0]]), dtype="int64")
        label_paddings = make(np.asarray([[0.0, 0.0], [0.0, 1.0]]))
        out = run(ctc_loss, logits, make(np.zeros((2, 3))), labels, label_paddings)
        # second row: label [2] in three frames of 1/3: six alignments of 1/27
        close(out, np.asarray([LOG_5_27, -math.log(6 / 27)]), check_dtype=False)

    def test_forward_probs_end_in_the_loss(self, make: Any, run: Any, close: Any) -> None:
        logits = make(np.random.default_rng(0).normal(size=(2, 4, 3)))
        labels = make(np.asarray([[1, 2], [2, 2]]), dtype="int64")
        paddings = make(np.asarray([[0.0, 0.0], [0.0, 1.0]]))
        loss, phi, emit = run(
            ctc_loss_with_forward_probs, logits, make(np.zeros((2, 4))), labels, paddings
        )
        assert tuple(phi.shape) == (4, 2, 3)
        assert tuple(emit.shape) == (4, 2, 2)
        phi_np = np.asarray(Backend.NUMPY.namespace().asarray(_np(phi)))
        close(loss, -np.asarray([phi_np[-1, 0, 2], phi_np[-1, 1, 1]]), check_dtype=False)

    def test_impossible_alignment_is_large_but_finite(self, make: Any, grad: Any) -> None:
        # pitfall 27, optax flavour: log_epsilon stands for log 0, so the loss is ~ -log_epsilon.
        logits = make(np.zeros((1, 2, 3)))
        args = (logits, make(np.zeros((1, 2))), make(np.asarray([[1, 1]]), dtype="int64"))
        value, (g,) = grad(ctc_loss, (*args, make(np.zeros((1, 2)))))
        assert 1e4 < value[0] < 1e6
        assert np.all(np.isfinite(g))

    def test_impossible_alignment_with_exact_log_zero(self, make: Any, grad: Any) -> None:
        logits = make(np.zeros((1, 2, 3)))
        args = (logits, make(np.zeros((1, 2))), make(np.asarray([[1, 1]]), dtype="int64"))
        value, (g,) = grad(ctc_loss, (*args, make(np.zeros((1, 2)))), {"log_epsilon": -np.inf})
        assert np.isposinf(value[0])
        np.testing.assert_array_equal(g, np.zeros_like(g))

    def test_saturated_logits_finite(self, make: Any, grad: Any) -> None:
        # pitfall 12/33 analogue: +-1e4 logits keep values and gradients finite.
        logits = 1e4 * np.sign(np.random.default_rng(1).normal(size=(2, 5, 4)))
        labels = np.asarray([[1, 2, 3], [3, 3, 1]])
        value, (g,) = grad(
            ctc_loss,
            (make(logits), make(np.zeros((2, 5))), make(labels, dtype="int64")),
            {"label_paddings": make(np.zeros((2, 3))), "log_epsilon": -np.inf},
        )
        assert np.all(~np.isnan(value))
        assert np.all(np.isfinite(g))

    def test_padded_frames_do_not_count(self, make: Any, run: Any, close: Any) -> None:
        rng = np.random.default_rng(2)
        logits = rng.normal(size=(1, 6, 4))
        pads = np.asarray([[0.0, 0.0, 0.0, 0.0, 1.0, 1.0]])
        labels, label_paddings = np.asarray([[1, 3]]), np.zeros((1, 2))
        full = run(
            ctc_loss, make(logits), make(pads), make(labels, dtype="int64"), make(label_paddings)
        )
        cut = run(
            ctc_loss,
            make(logits[:, :4]),
            make(np.zeros((1, 4))),
            make(labels, dtype="int64"),
            make(label_paddings),
        )
        close(full, _np(cut))

    def test_errors(self, make: Any) -> None:
        logits, pads = make(np.zeros((1, 3, 3))), make(np.zeros((1, 3)))
        labels, lpads = make(np.asarray([[1]]), dtype="int64"), make(np.zeros((1, 1)))
        with pytest.raises(ValueError, match=r"`logits` must have 3 dimensions"):
            ctc_loss(make(np.zeros((3, 3))), pads, labels, lpads)
        with pytest.raises(TypeError, match=r"`labels` must have an integer dtype"):
            ctc_loss(logits, pads, make(np.asarray([[1.0]])), lpads)
        with pytest.raises(ValueError, match=r"`logit_paddings` must have shape \(1, 3\)"):
            ctc_loss(logits, make(np.zeros((1, 2))), labels, lpads)
        with pytest.raises(ValueError, match=r"`label_paddings` must have shape \(1, 1\)"):
            ctc_loss(logits, pads, labels, make(np.zeros((1, 2))))
        with pytest.raises(ValueError, match=r"`labels` must have the batch size of `logits`"):
            ctc_loss(
                logits, pads, make(np.asarray([[1], [2]]), dtype="int64"), make(np.zeros((2, 1)))
            )
        with pytest.raises(ValueError, match=r"`blank_id` must be an int in \[0, 3\), got 3"):
            ctc_loss(logits, pads, labels, lpads, blank_id=3)
        # a Python list of labels is converted on the optax-style surface
        assert ctc_loss(logits, pads, [[1]], lpads).shape == (1,)

    def test_label_out_of_range_raises_eagerly(self, backend: Backend, make: Any) -> None:
        if backend.lazy:
            pytest.skip("value checks need concrete arrays (jit tracers and Dask graphs have none)")
        with pytest.raises(ValueError, match=r"`labels` must be class indices in \[0, 3\)"):
            ctc_loss(
                make(np.zeros((1, 3, 3))),
                make(np.zeros((1, 3))),
                make(np.asarray([[5]]), dtype="int64"),
                make(np.zeros((1, 1))),
            )


def _np(x: Any) -> np.ndarray:
    from agnostic_losses._testing.backends import to_numpy

    return np.asarray(to_numpy(x), dtype=np.float64)


class TestFunctional:
    def test_seed_values_and_mean_divides_by_target_length(
        self, make: Any, run: Any, close: Any
    ) -> None:
        # pitfall 28: 'mean' divides each loss by its target length, then averages.
        log_probs = make(np.log(np.full((3, 2, 3), 1 / 3)))
        targets = make(np.asarray([[1, 2], [2, 0]]), dtype="int64")
        in_len = make(np.asarray([3, 3]), dtype="int64")
        tgt_len = make(np.asarray([2, 1]), dtype="int64")
        none = run(f_ctc_loss, log_probs, targets, in_len, tgt_len, reduction="none")
        close(none, np.asarray([LOG_5_27, -math.log(6 / 27)]), check_dtype=False)
        mean = run(f_ctc_loss, log_probs, targets, in_len, tgt_len)
        close(mean, np.asarray((LOG_5_27 / 2 + -math.log(6 / 27)) / 2), check_dtype=False)
        total = run(f_ctc_loss, log_probs, targets, in_len, tgt_len, reduction="sum")
        close(total, np.asarray(LOG_5_27 - math.log(6 / 27)), check_dtype=False)

    def test_concatenated_targets_equal_padded(self, make: Any, run: Any, close: Any) -> None:
        log_probs = make(np.log(np.random.default_rng(3).dirichlet(np.ones(4), size=(5, 2))))
        in_len, tgt_len = (
            make(np.asarray([5, 4]), dtype="int64"),
            make(np.asarray([2, 3]), dtype="int64"),
        )
        padded = make(np.asarray([[1, 2, 0], [3, 3, 1]]), dtype="int64")
        flat = make(np.asarray([1, 2, 3, 3, 1]), dtype="int64")
        a = run(f_ctc_loss, log_probs, padded, in_len, tgt_len, reduction="none")
        b = run(f_ctc_loss, log_probs, flat, in_len, tgt_len, reduction="none")
        close(a, _np(b))

    def test_impossible_alignment(self, make: Any, grad: Any) -> None:
        # pitfall 27: inf without zero_infinity, 0 with it; the gradient is 0 in both (torch: NaN).
        args = (
            make(np.log(np.full((2, 1, 3), 1 / 3))),
            make(np.asarray([[1, 1]]), dtype="int64"),
            make(np.asarray([2]), dtype="int64"),
            make(np.asarray([2]), dtype="int64"),
        )
        value, (g,) = grad(f_ctc_loss, args, {"reduction": "none"})
        assert np.isposinf(value[0])
        np.testing.assert_array_equal(g, np.zeros_like(g))
        value, (g,) = grad(f_ctc_loss, args, {"zero_infinity": True})
        assert value == 0.0
        np.testing.assert_array_equal(g, np.zeros_like(g))

    def test_neg_inf_log_probs_of_unused_class(self, make: Any, grad: Any) -> None:
        # pitfall 33: a class with probability 0 (-inf) gives no NaN in values or gradients.
        lp = np.log(np.asarray([[0.5, 0.5, 0.0]] * 3))[:, None, :]
        args = (
            make(lp),
            make(np.asarray([[1]]), dtype="int64"),
            make(np.asarray([3]), dtype="int64"),
            make(np.asarray([1]), dtype="int64"),
        )
        value, (g,) = grad(f_ctc_loss, args)
        np.testing.assert_allclose(value, ref_ctc_sequence(lp[:, 0], [1], 0), rtol=1e-6)
        assert not np.any(np.isnan(g))
        assert np.all(g[:, :, 2] == 0.0)

    def test_unbatched_and_empty_target(self, make: Any, run: Any, close: Any) -> None:
        lp = np.log(np.full((3, 3), 1 / 3))
        out = run(
            f_ctc_loss,
            make(lp),
            make(np.asarray([1, 2]), dtype="int64"),
            make(np.asarray(3), dtype="int64"),
            make(np.asarray(2), dtype="int64"),
            reduction="none",
        )
        assert tuple(out.shape) == ()  # pitfall 30
        close(out, np.asarray(LOG_5_27), check_dtype=False)
        empty = run(
            f_ctc_loss,
            make(lp),
            make(np.asarray([1, 2]), dtype="int64"),
            make(np.asarray(3), dtype="int64"),
            make(np.asarray(0), dtype="int64"),
        )
        close(empty, np.asarray(3 * math.log(3)), check_dtype=False)  # all blanks, / max(0, 1)

    def test_class_matches_function(self, make: Any, close: Any) -> None:
        args = (
            make(np.log(np.full((3, 1, 3), 1 / 3))),
            make(np.asarray([[1, 2]]), dtype="int64"),
            make(np.asarray([3]), dtype="int64"),
            make(np.asarray([2]), dtype="int64"),
        )
        close(CTCLoss(reduction="sum")(*args), f_ctc_loss(*args, reduction="sum"))
        assert repr(CTCLoss()) == "CTCLoss(blank=0, reduction='mean', zero_infinity=False)"

    def test_errors(self, make: Any) -> None:
        lp = make(np.zeros((3, 1, 3)))
        tg = make(np.asarray([[1, 2]]), dtype="int64")
        il, tl = make(np.asarray([3]), dtype="int64"), make(np.asarray([2]), dtype="int64")
        with pytest.raises(ValueError, match=r"`reduction` must be one of 'none', 'mean', 'sum'"):
            f_ctc_loss(lp, tg, il, tl, reduction="batchmean")
        with pytest.raises(ValueError, match=r"`reduction` must be one of"):
            CTCLoss(reduction="avg")
        with pytest.raises(TypeError, match=r"`targets` must have an integer dtype"):
            f_ctc_loss(lp, make(np.asarray([[1.0, 2.0]])), il, tl)
        with pytest.raises(TypeError, match=r"`input_lengths` must have an integer dtype"):
            f_ctc_loss(lp, tg, make(np.asarray([3.0])), tl)
        with pytest.raises(TypeError, match=r"`target_lengths` must be an integer array"):
            f_ctc_loss(lp, tg, il, 2.0)
        with pytest.raises(ValueError, match=r"`log_probs` must have shape \(T, N, C\)"):
            f_ctc_loss(make(np.zeros((3,))), tg, il, tl)
        with pytest.raises(ValueError, match=r"`targets` must have shape \(1, S\)"):
            f_ctc_loss(lp, make(np.asarray([[1], [2]]), dtype="int64"), il, tl)
        with pytest.raises(ValueError, match=r"`input_lengths` must have shape \(1,\)"):
            f_ctc_loss(lp, tg, make(np.asarray([3, 3]), dtype="int64"), tl)
        with pytest.raises(ValueError, match=r"`blank` must be an int in \[0, inf\], got -1"):
            f_ctc_loss(lp, tg, il, tl, blank=-1)
        with pytest.raises(ValueError, match=r"`blank` must be an int in \[0, 3\), got 3"):
            f_ctc_loss(lp, tg, il, tl, blank=3)
        with pytest.raises(TypeError, match=r"`targets` must be an array, got a Python list"):
            f_ctc_loss(lp, [[1, 2]], il, tl)

    def test_numpy_targets_are_converted(self, make: Any, run: Any, close: Any) -> None:
        """NumPy targets and lengths beside the backend's log-probabilities (a data loader's
        labels) give the all-backend answer."""
        lp = make(np.log(np.full((3, 1, 3), 1 / 3)))
        targets, il, tl = np.asarray([[1]]), np.asarray([3]), np.asarray([1])
        mixed = run(f_ctc_loss, lp, targets, il, tl)
        same = run(
            f_ctc_loss,
            lp,
            make(targets, dtype="int64"),
            make(il, dtype="int64"),
            make(tl, dtype="int64"),
        )
        close(mixed, same)

    def test_lengths_longer_than_arrays_raise(self, backend: Backend, make: Any) -> None:
        if backend.lazy:
            pytest.skip("value checks need concrete arrays (jit tracers and Dask graphs have none)")
        lp = make(np.zeros((3, 1, 3)))
        tg = make(np.asarray([[1, 2]]), dtype="int64")
        il, tl = make(np.asarray([3]), dtype="int64"), make(np.asarray([2]), dtype="int64")
        with pytest.raises(ValueError, match=r"`input_lengths` must be in \[0, 3\]"):
            f_ctc_loss(lp, tg, make(np.asarray([4]), dtype="int64"), tl)
        with pytest.raises(ValueError, match=r"`target_lengths` must be in \[0, 2\]"):
            f_ctc_loss(lp, tg, il, make(np.asarray([3]), dtype="int64"))
        with pytest.raises(
            ValueError, match=r"its length \(3\) must equal sum\(`target_lengths`\)"
        ):
            f_ctc_loss(lp, make(np.asarray([1, 2, 1]), dtype="int64"), il, tl)
        with pytest.raises(ValueError, match=r"`targets` must be class indices in \[0, 3\)"):
            f_ctc_loss(lp, make(np.asarray([[1, 7]]), dtype="int64"), il, tl)


class TestScan:
    def test_lax_scan_matches_python_loop(self) -> None:
        jax = pytest.importorskip("jax")
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        rng = np.random.default_rng(4)
        lp = jnp.asarray(rng.normal(size=(6, 2, 4)))
        labels = jnp.asarray([[1, 2, 2], [3, 1, 0]])
        valid = jnp.asarray([[True, True, True], [True, True, False]])
        pad = jnp.asarray(np.arange(6)[:, None] >= np.asarray([6, 4])[None, :])

        def loss(x: Any, use_lax: bool) -> Any:
            logp = jax.nn.log_softmax(x)
            out = K.ctc_forward(
                jnp, logp, pad, labels, valid, blank=0, log_zero=-np.inf, use_lax=use_lax
            )
            return jnp.sum(out[0]), out

        (v1, o1), g1 = jax.value_and_grad(lambda x: loss(x, True), has_aux=True)(lp)
        (v2, o2), g2 = jax.value_and_grad(lambda x: loss(x, False), has_aux=True)(lp)
        np.testing.assert_allclose(v1, v2, rtol=1e-12)
        for a, b in zip(o1, o2):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(np.asarray(g1), np.asarray(g2), rtol=1e-12, atol=1e-14)

    def test_generic_loop_stacks_outputs(self, xp: Any, make: Any, backend: Backend) -> None:
        if backend in (Backend.JAX, Backend.JAX_JIT):
            pytest.skip("the JAX path is lax.scan, compared with the loop above")
        xs = make(np.arange(4.0))

        def step(carry: Any, x: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
            total = carry + x[0]
            return total, (total,)

        carry, (ys,) = scan(xp, step, make(np.asarray(0.0)), (xs,))
        np.testing.assert_allclose(_np(ys), [0.0, 1.0, 3.0, 6.0])
        np.testing.assert_allclose(_np(carry), 6.0)

    def test_forward_probs_match_optax(self) -> None:
        optax = pytest.importorskip("optax")
        import jax

        jax.config.update("jax_enable_x64", True)
        rng = np.random.default_rng(5)
        logits = rng.normal(size=(2, 5, 4))
        pads = np.zeros((2, 5))
        pads[1, 3:] = 1.0
        labels = np.asarray([[1, 1, 2], [3, 2, 1]])
        lpads = np.asarray([[0.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
        ours = ctc_loss_with_forward_probs(logits, pads, labels, lpads)
        theirs = optax.losses.ctc_loss_with_forward_probs(logits, pads, labels, lpads)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, np.asarray(b), rtol=1e-12, atol=1e-9)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**31 - 1),
    frames=st.integers(1, 6),
    length=st.integers(0, 3),
)
def test_surfaces_agree_with_the_textbook_recursion(seed: int, frames: int, length: int) -> None:
    """optax surface == torch surface == the extended-label reference, feasible or not."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(1, frames, 4))
    labels = rng.integers(1, 4, size=(1, max(length, 1)))
    lpads = (np.arange(labels.shape[1]) >= length).astype(np.float64)[None, :]
    top = ctc_loss(logits, np.zeros((1, frames)), labels, lpads, log_epsilon=-np.inf)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    functional = f_ctc_loss(
        np.transpose(logp, (1, 0, 2)),
        labels,
        np.asarray([frames]),
        np.asarray([length]),
        reduction="none",
    )
    expected = ref_ctc_sequence(logp[0], list(labels[0, :length]), 0)
    np.testing.assert_allclose(top[0], expected, rtol=1e-10)
    np.testing.assert_allclose(functional[0], expected, rtol=1e-10)


def test_strided_concatenated_targets_on_torch() -> None:
    """Concatenated 1-D targets that are a strided view (``t[::2]``, a column of a padded
    batch) give the contiguous targets' losses and gradients, and the textbook values. torch
    2.13's CPU ``ctc_loss`` reads such a view as if it were contiguous (39.45 becomes 38.34 on
    the registry's concatenated case), so this is ours alone, compared with the reference."""
    if Backend.TORCH.unavailable_reason() is not None:
        pytest.skip(Backend.TORCH.unavailable_reason())
    import torch

    rng = np.random.default_rng(5)
    logp = np.log(rng.dirichlet(np.ones(5), size=(8, 3)))
    flat = np.asarray([4, 4, 1, 3, 4, 2, 2])
    in_len, tgt_len = np.asarray([8, 7, 8]), np.asarray([4, 3, 0])
    strided = torch.repeat_interleave(torch.asarray(flat), 2)[::2]
    assert not strided.is_contiguous()
    results = []
    for targets in (torch.asarray(flat), strided):
        x = torch.asarray(logp).requires_grad_()
        loss = f_ctc_loss(
            x, targets, torch.asarray(in_len), torch.asarray(tgt_len), reduction="none"
        )
        (g,) = torch.autograd.grad(loss.sum(), x)
        results.append((loss.detach().numpy(), g.numpy()))
    np.testing.assert_array_equal(results[1][0], results[0][0])
    np.testing.assert_array_equal(results[1][1], results[0][1])
    starts = np.concatenate([[0], np.cumsum(tgt_len)])
    expected = [
        ref_ctc_sequence(logp[: in_len[b], b], list(flat[starts[b] : starts[b + 1]]), 0)
        for b in range(3)
    ]
    np.testing.assert_allclose(results[1][0], expected, rtol=1e-10)
