"""Adaptive softmax: ``AdaptiveLogSoftmaxWithLoss`` against torch's own layer (construction,
initialisation, ``state_dict``, ``forward`` / ``log_prob`` / ``predict``, gradients w.r.t. every
parameter, extreme inputs), the functions' errors, and the out-of-range target rule on every
backend. Values and gradients of the registered cases against the NumPy reference and torch run
in ``test_registry.py`` (torch 2.13 ships no ModuleInfo or OpInfo for this layer)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from array_api_extra.testing import lazy_xp_function

import agnostic_losses as al
from agnostic_losses import adaptive_log_softmax, adaptive_log_softmax_with_loss
from agnostic_losses._testing import backends as B

lazy_xp_function(adaptive_log_softmax_with_loss)
lazy_xp_function(adaptive_log_softmax)

# (in_features, n_classes, cutoffs, div_value, head_bias)
CONFIGS = [
    (8, 10, [4], 4.0, False),
    (16, 20, [3, 9], 2.0, True),
    (12, 30, [5, 10, 20], 1.5, False),
    (4, 6, [1, 2, 5], 4.0, True),  # h_k = 1, 0, 0: empty projections, as torch builds them
]


def _weights(rng: np.random.Generator, d: int = 6, shortlist: int = 2, sizes=((3, 4),)):
    head = rng.normal(size=(shortlist + len(sizes), d))
    tails = [(rng.normal(size=(h, d)), rng.normal(size=(o, h))) for h, o in sizes]
    return head, tails


class TestAgainstTorchLayer:
    @pytest.fixture(autouse=True)
    def _torch(self) -> None:
        self.torch = pytest.importorskip("torch")

    def _pair(self, config: tuple, dtype: Any = None) -> tuple[Any, Any]:
        torch = self.torch
        d, c, cutoffs, div, bias = config
        dtype = dtype or torch.float64
        with warnings.catch_warnings():
            # torch's "Initializing zero-element tensors is a no-op" for an empty projection
            warnings.simplefilter("ignore", UserWarning)
            torch.manual_seed(0)
            theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(d, c, cutoffs, div, bias, dtype=dtype)
            torch.manual_seed(0)
            ours = al.AdaptiveLogSoftmaxWithLoss(d, c, cutoffs, div, bias, dtype=dtype)
        return theirs, ours

    @pytest.mark.parametrize("config", CONFIGS)
    def test_construction_and_initialisation_are_torchs(self, config: tuple) -> None:
        theirs, ours = self._pair(config)
        for name in ("in_features", "n_classes", "cutoffs", "div_value", "head_bias"):
            assert getattr(ours, name) == getattr(theirs, name), name
        for name in ("shortlist_size", "n_clusters", "head_size"):
            assert getattr(ours, name) == getattr(theirs, name), name
        mine, want = ours.state_dict(), theirs.state_dict()
        assert list(mine) == list(want)
        for key in want:  # the same draws in the same order: a seed gives torch's weights
            assert mine[key].shape == want[key].shape, key
            assert self.torch.equal(mine[key], want[key]), key
        assert repr(ours).replace(type(ours).__name__, "") == repr(theirs).replace(
            type(theirs).__name__, ""
        )

    @pytest.mark.parametrize("config", CONFIGS)
    def test_forward_log_prob_predict_and_gradients(self, config: tuple) -> None:
        torch = self.torch
        theirs, ours = self._pair(config)
        d, c = config[:2]
        gen = torch.Generator().manual_seed(1)
        x = torch.randn(9, d, dtype=torch.float64, generator=gen, requires_grad=True)
        y = torch.randint(0, c, (9,), generator=gen)
        y[:2] = torch.tensor([0, c - 1])
        want, got = theirs(x, y), ours(x, y)
        assert type(got).__name__ == "ASMOutput"
        assert got._fields == ("output", "loss")
        torch.testing.assert_close(got.output, want.output)
        torch.testing.assert_close(got.loss, want.loss)
        params = [*theirs.parameters()]
        g_want = torch.autograd.grad(want.loss, [x, *params])
        g_got = torch.autograd.grad(got.loss, [x, *ours.parameters()])
        for a, b in zip(g_got, g_want):
            torch.testing.assert_close(a, b)
        torch.testing.assert_close(ours.log_prob(x), theirs.log_prob(x))
        assert torch.equal(ours.predict(x), theirs.predict(x))

    def test_eager_cpu_calls_run_torchs_forward(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """On eager CPU float32/float64 tensors the loss is torch's own layer's ``forward`` on
        our weights (each tail on its cluster's rows only: _native.adaptive_softmax), with the
        generic path's values and gradients w.r.t. the input and every weight."""
        torch = self.torch
        from agnostic_losses import _native

        calls = []
        real = torch.nn.AdaptiveLogSoftmaxWithLoss.forward

        def spy(layer: Any, *args: Any) -> Any:
            calls.append(type(layer).__name__)
            return real(layer, *args)

        monkeypatch.setattr(torch.nn.AdaptiveLogSoftmaxWithLoss, "forward", spy)
        _, ours = self._pair(CONFIGS[1])
        x = torch.randn(9, 16, dtype=torch.float64, requires_grad=True)
        y = torch.tensor([0, 2, 3, 8, 9, 19, 5, 1, 12])

        def run() -> tuple[Any, ...]:
            out = ours(x, y)
            grads = torch.autograd.grad(out.loss, [x, *ours.parameters()])
            return (out.output, out.loss, *grads)

        fast = run()
        assert calls == ["_AdaptiveLayer"]
        with _native.disabled():
            slow = run()
        assert calls == ["_AdaptiveLayer"]
        for a, b in zip(fast, slow):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
        ours(x, y.to(torch.int32))  # torch's forward gathers with int64 only: generic
        assert calls == ["_AdaptiveLayer"]
        bad = torch.where(y == 19, 20, y)
        with pytest.raises(ValueError, match=r"class indices in \[0, 20\); got 20"):
            ours(x, bad)  # our check runs first: torch's forward never sees the bad target
        assert calls == ["_AdaptiveLayer"]
        with al.checks("never"):  # torch's forward raises: the generic path's NaN
            output = ours(x, bad).output.detach()
        assert calls == ["_AdaptiveLayer", "_AdaptiveLayer"]
        assert torch.isnan(output[y == 19]).all()
        assert torch.isfinite(output[y != 19]).all()

    def test_one_sample_and_a_torch_checkpoint(self) -> None:
        torch = self.torch
        theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(16, 20, [3, 9], div_value=2.0)
        ours = al.AdaptiveLogSoftmaxWithLoss(16, 20, [3, 9], div_value=2.0)
        ours.load_state_dict(theirs.state_dict())
        x = torch.randn(16)
        for target in (1, 5, 15):
            y = torch.tensor(target)
            want, got = theirs(x, y), ours(x, y)
            assert got.output.shape == want.output.shape == ()
            torch.testing.assert_close(got.output, want.output)
            torch.testing.assert_close(got.loss, want.loss)

    def test_extreme_inputs_stay_finite_as_torchs(self) -> None:
        torch = self.torch
        theirs, ours = self._pair(CONFIGS[1], torch.float32)
        x = (1e4 * torch.randn(5, 16)).requires_grad_()
        y = torch.tensor([0, 4, 10, 19, 2])
        want, got = theirs(x, y), ours(x, y)
        assert torch.isfinite(got.loss)
        assert torch.isfinite(want.loss)
        torch.testing.assert_close(got.output, want.output, rtol=1e-5, atol=1e-2)
        (g,) = torch.autograd.grad(got.loss, [x])
        (g_want,) = torch.autograd.grad(want.loss, [x])
        assert torch.isfinite(g).all()
        torch.testing.assert_close(g, g_want, rtol=1e-4, atol=1e-6)

    def test_reset_parameters_draws_again(self) -> None:
        _, ours = self._pair(CONFIGS[1])
        before = {k: v.clone() for k, v in ours.state_dict().items()}
        ours.reset_parameters()
        after = ours.state_dict()
        assert all(after[k].shape == before[k].shape for k in before)
        assert not any(self.torch.equal(after[k], before[k]) for k in before)

    def test_methods_take_torchs_argument_names(self) -> None:
        import inspect

        theirs, ours = self.torch.nn.AdaptiveLogSoftmaxWithLoss, al.AdaptiveLogSoftmaxWithLoss
        for method in ("forward", "log_prob", "predict", "reset_parameters"):
            mine = inspect.signature(getattr(ours, method)).parameters
            assert list(mine) == list(inspect.signature(getattr(theirs, method)).parameters)
        x, y = self.torch.randn(3, 8), self.torch.tensor([0, 5, 9])
        layer = al.AdaptiveLogSoftmaxWithLoss(8, 10, [4])
        self.torch.testing.assert_close(layer(input_=x, target_=y).loss, layer(x, y).loss)

    @pytest.mark.parametrize(
        "cutoffs",
        [[], [5, 3], [3, 3], [0, 4], [4, 10], [4, 12], [2.5]],
        ids=["empty", "unsorted", "repeated", "zero", "n_classes", "beyond", "fractional"],
    )
    def test_bad_cutoffs_raise_as_torch(self, cutoffs: list) -> None:
        with pytest.raises(ValueError):
            self.torch.nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs)
        with pytest.raises(ValueError, match="`cutoffs`"):
            al.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs)


def test_without_torch_the_layers_are_numpy_arrays(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where torch is not installed the layer holds NumPy weights initialised as torch's
    ``nn.Linear`` (uniform in +-1/sqrt(fan_in)) and computes with them."""
    from agnostic_losses._classes import classification

    monkeypatch.setattr(classification, "_torch_module", lambda: False)
    asm = classification.AdaptiveLogSoftmaxWithLoss(16, 20, [3, 9], div_value=2.0, head_bias=True)
    assert isinstance(asm.head.weight, np.ndarray)
    assert asm.head.weight.dtype == np.float32
    assert asm.head.weight.shape == (5, 16)
    assert asm.head.bias.shape == (5,)
    assert [tuple(layer.weight.shape) for tail in asm.tail for layer in tail] == [
        (8, 16),
        (6, 8),
        (4, 16),
        (11, 4),
    ]
    assert np.abs(asm.head.weight).max() <= 0.25  # 1 / sqrt(16)
    x = np.random.default_rng(0).normal(size=(4, 16)).astype(np.float32)
    out = asm.forward(x, np.asarray([0, 4, 12, 19]))
    logp = asm.log_prob(x)
    np.testing.assert_allclose(np.exp(logp).sum(axis=-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(out.output, logp[np.arange(4), [0, 4, 12, 19]], rtol=1e-5)
    np.testing.assert_array_equal(asm.predict(x), logp.argmax(axis=-1))
    before = asm.head.weight.copy()
    asm.reset_parameters()
    assert not np.array_equal(asm.head.weight, before)


class TestFunctions:
    def test_probabilities_sum_to_one_and_output_is_their_entry(
        self, make: Any, run: Any, close: Any, xp: Any
    ) -> None:
        rng = np.random.default_rng(0)
        head, tails = _weights(rng, sizes=((3, 4), (2, 3)))
        x = rng.normal(size=(5, 6))
        y = np.asarray([0, 1, 2, 6, 8])
        args = (make(x), make(head), [(make(p), make(o)) for p, o in tails])
        logp = B.to_numpy(run(adaptive_log_softmax, *args))
        assert logp.shape == (5, 2 + 4 + 3)
        close(np.exp(logp).sum(axis=-1), np.ones(5, dtype=logp.dtype))
        out = run(adaptive_log_softmax_with_loss, args[0], make(y), *args[1:])
        close(B.to_numpy(out.output), logp[np.arange(5), y])
        close(B.to_numpy(out.loss), -logp[np.arange(5), y].mean())

    def test_out_of_range_target_raises_eagerly_or_gives_nan(
        self, make: Any, run: Any, backend: Any
    ) -> None:
        rng = np.random.default_rng(0)
        head, tails = _weights(rng)
        x, y = make(rng.normal(size=(3, 6))), make(np.asarray([0, 6, 1]), "int32")
        weights = (make(head), [(make(p), make(o)) for p, o in tails])
        if not backend.lazy:
            with pytest.raises(ValueError, match=r"`target` must hold class indices in \[0, 6\)"):
                adaptive_log_softmax_with_loss(x, y, *weights)
            return
        out = run(adaptive_log_softmax_with_loss, x, y, *weights)
        output = B.to_numpy(out.output)
        assert np.isnan(output[1])
        assert np.isfinite(output[[0, 2]]).all()
        assert np.isnan(B.to_numpy(out.loss))

    def test_mixed_libraries_name_the_arguments(self, make: Any, foreign: Any) -> None:
        rng = np.random.default_rng(0)
        head, tails = _weights(rng)
        x, y = make(rng.normal(size=(3, 6))), make(np.asarray([0, 5, 1]), "int32")
        with pytest.raises(TypeError, match=r"tail_weights\[0\]\[1\]"):
            adaptive_log_softmax_with_loss(
                x, y, make(head), [(make(tails[0][0]), foreign(tails[0][1]))]
            )


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda a: {**a, "tail_weights": a["tail_weights"][0]}, TypeError, "projection, output"),
        (lambda a: {**a, "tail_weights": "w"}, TypeError, "must be a sequence"),
        (lambda a: {**a, "head_weight": a["head_weight"][:, :5]}, ValueError, r"\(S \+ K, 6\)"),
        (lambda a: {**a, "head_weight": a["head_weight"][:0]}, ValueError, "K = 1 tails"),
        (lambda a: {**a, "head_bias": np.zeros(4)}, ValueError, r"`head_bias` must have shape"),
        (
            lambda a: {**a, "tail_weights": [(a["tail_weights"][0][0][:, :5], np.ones((4, 3)))]},
            ValueError,
            r"`tail_weights\[0\]\[0\]` must have shape \(h_k, 6\)",
        ),
        (
            lambda a: {**a, "tail_weights": [(a["tail_weights"][0][0], np.ones((4, 2)))]},
            ValueError,
            r"`tail_weights\[0\]\[1\]` must have shape \(o_k, 3\)",
        ),
        (
            lambda a: {**a, "target": a["target"][:2]},
            ValueError,
            r"`target` must have shape \(3,\)",
        ),
        (lambda a: {**a, "target": a["target"] * 1.0}, TypeError, "`target`"),
        (lambda a: {**a, "input": a["input"][None]}, ValueError, r"\(N, D\) or \(D,\)"),
        (
            lambda a: {**a, "head_weight": a["head_weight"].astype(np.float32)},
            TypeError,
            "`head_weight` must have the input's dtype",
        ),
    ],
    ids=[
        "pair-not-list",
        "string",
        "head-features",
        "head-rows",
        "head-bias",
        "projection",
        "output",
        "target-shape",
        "float-target",
        "3d-input",
        "dtype",
    ],
)
def test_errors_name_the_argument(change: Any, error: type, match: str) -> None:
    rng = np.random.default_rng(0)
    head, tails = _weights(rng)
    good = {
        "input": rng.normal(size=(3, 6)),
        "target": np.asarray([0, 5, 1]),
        "head_weight": head,
        "tail_weights": tails,
    }
    with pytest.raises(error, match=match):
        adaptive_log_softmax_with_loss(**change(good))
