"""The native torch fast path (``agnostic_losses._native``) against the generic path.

Both paths must give the same values (to the rounding of two implementations), the same
gradients and the same errors, on every registry case of a loss that has a native kernel and on
the adversarial inputs where torch's own answer differs from ours (there the fast path must fall
back to the generic one).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import agnostic_losses as al
from agnostic_losses import _native
from agnostic_losses import functional as F
from agnostic_losses._registry import CASES, LossCase
from agnostic_losses._testing import backends as B
from agnostic_losses._testing.backends import Backend

torch = pytest.importorskip("torch", reason="the native fast path is torch's")

NATIVE = {name for name in F.__all__ if getattr(getattr(F, name), "native_name", None) is not None}
CLASSES = {
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "NLLLoss",
    "MSELoss",
    "L1Loss",
    "HuberLoss",
    "SmoothL1Loss",
    "GaussianNLLLoss",
    "KLDivLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "PoissonNLLLoss",
    "SoftMarginLoss",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
}
ROUTED = {name for name in al.__all__ if getattr(getattr(al, name), "native_route", None)}
NATIVE_CASES = [
    c
    for c in CASES
    if (c.surface == "functional" and c.name in NATIVE)
    or (c.surface == "class" and c.name in CLASSES)
    or (c.surface == "top" and c.name in ROUTED | {"safe_softmax_cross_entropy"})
]


def test_native_set() -> None:
    assert {
        "binary_cross_entropy",
        "binary_cross_entropy_with_logits",
        "cross_entropy",
        "gaussian_nll_loss",
        "huber_loss",
        "kl_div",
        "l1_loss",
        "mse_loss",
        "multi_margin_loss",
        "multilabel_margin_loss",
        "multilabel_soft_margin_loss",
        "nll_loss",
        "pairwise_distance",
        "poisson_nll_loss",
        "smooth_l1_loss",
        "soft_margin_loss",
        "triplet_margin_loss",
        "triplet_margin_with_distance_loss",
    } == NATIVE
    assert {
        "adaptive_log_softmax_with_loss",
        "cross_entropy_loss",
        "huber_loss",
        "kl_divergence",
        "kl_divergence_with_log_targets",
        "multiclass_perceptron_loss",
        "poly_loss_cross_entropy",
        "sigmoid_binary_cross_entropy",
        "sigmoid_focal_loss",
        "softmax_cross_entropy",
        "softmax_cross_entropy_with_integer_labels",
        "squared_error",
    } == ROUTED
    assert {c.name for c in NATIVE_CASES} >= NATIVE | CLASSES | ROUTED


class _Spy:
    """Counts calls of ``torch.nn.functional.<name>`` (the fast path looks it up per call)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        self.calls = 0
        real = getattr(torch.nn.functional, name)

        def spy(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(torch.nn.functional, name, spy)


def _outcome(fn: Any, args: Any, kwargs: Any, argnums: Any) -> Any:
    """(value, grads) as NumPy, or the exception's type and message."""
    try:
        if not argnums:
            return B.to_numpy(fn(*args, **kwargs)), []
        return B.value_and_grad(Backend.TORCH, fn, args, kwargs, argnums=argnums)
    except Exception as exc:  # both paths must fail the same way
        return type(exc), str(exc)


def _both(fn: Any, args: Any, kwargs: Any = None, argnums: Any = (0,)) -> tuple[Any, Any]:
    kwargs = kwargs or {}
    fast = _outcome(fn, args, kwargs, argnums)
    with _native.disabled():
        slow = _outcome(fn, args, kwargs, argnums)
    return fast, slow


def _assert_same(fast: Any, slow: Any, rtol: float, label: str = "") -> None:
    if isinstance(slow[0], type):
        assert fast == slow, label
        return
    assert not isinstance(fast[0], type), (label, fast)
    np.testing.assert_allclose(fast[0], slow[0], rtol=rtol, atol=rtol, err_msg=label)
    assert len(fast[1]) == len(slow[1])
    for g_fast, g_slow in zip(fast[1], slow[1]):
        np.testing.assert_allclose(g_fast, g_slow, rtol=rtol, atol=rtol, err_msg=f"{label} grad")


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16"])
@pytest.mark.parametrize("case", NATIVE_CASES, ids=[c.id for c in NATIVE_CASES])
def test_registry_case_native_equals_generic(
    case: LossCase, dtype: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = case.inputs(11)
    args = [B.from_numpy(Backend.TORCH, a, dtype) for a in inputs.args]
    kwargs = {k: B.from_numpy(Backend.TORCH, v, dtype) for k, v in inputs.kwargs.items()}
    fast, slow = _both(case.func, args, kwargs, case.grad_argnums)
    rtol = {"float64": 1e-12, "float32": 2e-5, "float16": 2e-3, "bfloat16": 1.6e-2}[dtype]
    _assert_same(fast, slow, rtol, case.id)


@pytest.mark.parametrize("name", sorted(NATIVE))
def test_every_native_kernel_answers_a_registry_case(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A training call (float32, ``input`` recording a gradient) of some registry case of each
    decorated loss returns torch's own result: a guard that never held would leave the fast path
    dead and the test above vacuous."""
    returned: list[Any] = []
    real = getattr(torch.nn.functional, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        returned.append(real(*args, **kwargs))
        return returned[-1]

    monkeypatch.setattr(torch.nn.functional, name, spy)
    kept = []
    for case in NATIVE_CASES:
        if case.surface != "functional" or case.name != name:
            continue
        inputs = case.inputs(11)
        args = [B.from_numpy(Backend.TORCH, a, "float32") for a in inputs.args]
        kwargs = {k: B.from_numpy(Backend.TORCH, v, "float32") for k, v in inputs.kwargs.items()}
        args[0].requires_grad_(True)
        out = case.func(*args, **kwargs)
        if any(out is r for r in returned):
            kept.append(case.id)
    assert kept, name


def _t(values: Any, dtype: Any = torch.float64) -> Any:
    return torch.tensor(values, dtype=dtype)


_IGNORE_1_SMOOTH = {"ignore_index": 1, "label_smoothing": 0.2}
NEG = -math.inf
SCE = al.softmax_cross_entropy_with_integer_labels
SBCE = al.sigmoid_binary_cross_entropy
SFL = al.sigmoid_focal_loss
TZ = {"margin": 1.0, "eps": 0.0}  # distances exactly 0 (or at the margin): the kinks
LOGITS = [[2.0, NEG, 0.5], [NEG, NEG, NEG], [1e4, -1e4, 0.0]]


@pytest.mark.parametrize(
    ("fn", "args", "kwargs"),
    [
        # a row of -inf: torch NaN, ours +inf with a zero gradient
        (F.cross_entropy, (_t(LOGITS), _t([0, 1, 2], torch.int64)), {"reduction": "none"}),
        (F.cross_entropy, (_t(LOGITS), _t([0, 1, 2], torch.int64)), {}),
        # a row that does not count may be all -inf: torch's gradient there is NaN, ours 0
        (F.cross_entropy, (_t(LOGITS), _t([0, -100, 2], torch.int64)), {"reduction": "sum"}),
        (
            F.cross_entropy,
            (_t(LOGITS), _t([0, 1, 2], torch.int64)),
            {"weight": _t([1.0, 0.0, 1.0])},
        ),
        (F.nll_loss, (_t(LOGITS), _t([0, -100, 2], torch.int64)), {"reduction": "sum"}),
        # label smoothing over a -inf class
        (F.cross_entropy, (_t(LOGITS[:1]), _t([0], torch.int64)), {"label_smoothing": 0.1}),
        # every target ignored: NaN value, zero gradient (torch: NaN gradient)
        (F.cross_entropy, (_t([[1.0, 2.0]]), _t([-100], torch.int64)), {}),
        (F.nll_loss, (_t([[-1.0, -2.0]]), _t([-100], torch.int64)), {}),
        # zero class weights
        (F.cross_entropy, (_t([[1.0, 2.0]]), _t([1], torch.int64)), {"weight": _t([1.0, 0.0])}),
        # soft targets with zeros on -inf classes: 0 * log 0 = 0
        (F.cross_entropy, (_t(LOGITS[:1]), _t([[1.0, 0.0, 0.0]])), {"reduction": "none"}),
        # out-of-range labels: our ValueError (torch: IndexError)
        (F.cross_entropy, (_t([[1.0, 2.0]]), _t([2], torch.int64)), {}),
        (F.nll_loss, (_t([[1.0, 2.0]]), _t([-3], torch.int64)), {}),
        # int32 labels: torch refuses, ours accepts
        (F.cross_entropy, (_t([[1.0, 2.0]]), _t([1], torch.int32)), {}),
        # shape mismatch: ours raises where torch broadcasts with a warning
        (F.mse_loss, (_t([[1.0], [2.0]]), _t([1.0, 2.0])), {}),
        (F.l1_loss, (_t([[1.0], [2.0]]), _t([1.0, 2.0])), {}),
        (F.binary_cross_entropy_with_logits, (_t([1.0, 2.0]), _t([[1.0, 0.0]])), {}),
        # bad reduction: our message
        (F.mse_loss, (_t([1.0]), _t([2.0])), {"reduction": "avg"}),
        # extreme logits, NaN inputs
        (F.binary_cross_entropy_with_logits, (_t([1e4, -1e4, 0.0]), _t([0.0, 1.0, 0.5])), {}),
        (F.mse_loss, (_t([math.nan, 1.0]), _t([0.0, 0.0])), {"reduction": "none"}),
        # a weighted mean whose weights are all zero: NaN value, zero gradient
        (F.mse_loss, (_t([1.0, 2.0]), _t([0.0, 0.0])), {"weight": _t([0.0, 0.0])}),
        (F.huber_loss, (_t([1.0, 2.0]), _t([1.0, 2.0])), {"delta": 0.5}),
        (F.smooth_l1_loss, (_t([1.0, 2.0]), _t([1.0, 3.0])), {"beta": 0.0}),
        # the optax names' routes: -inf rows, labels torch would ignore or refuse, bad values
        (SCE, (_t(LOGITS), _t([0, 1, 2], torch.int64)), {}),
        (SCE, (_t(LOGITS), _t([0, 0, 2], torch.int32)), {}),
        (SCE, (_t(LOGITS), _t([0, -100, 2])), {}),
        (SCE, (_t(LOGITS), _t([0, 3, 2])), {}),
        (SCE, (_t(LOGITS[0]), _t(2, torch.int64)), {}),
        (SCE, (_t(LOGITS), _t([0, 1], torch.int64)), {}),
        (SCE, (_t([[1.0, 2.0]]), _t([1.0])), {}),
        (
            SCE,
            (_t([[1.0, 2.0], [3.0, 0.0]]), _t([1, 0], torch.int64)),
            {"axis": 0},
        ),
        (
            SCE,
            (_t([[1.0, 2.0]]), _t([1], torch.int64)),
            {"where": _t([[True, False]], torch.bool), "z_loss": 1e-4},
        ),
        (al.softmax_cross_entropy, (_t(LOGITS), _t([[1.0, 0, 0], [0, 1, 0], [0, 0, 1]])), {}),
        (al.softmax_cross_entropy, (_t(LOGITS[:1]), _t([[0.5, 0.0, 0.5]])), {}),
        (al.softmax_cross_entropy, (_t([[1.0, 2.0]]), _t([[0.5, 0.5]], torch.float32)), {}),
        (al.softmax_cross_entropy, (_t([[1.0, 2.0]]), _t([1], torch.int64)), {}),
        (al.multiclass_perceptron_loss, (_t(LOGITS), _t([0, 1, 2], torch.int64)), {}),
        (al.multiclass_perceptron_loss, (_t([[1.0, 3.0, 3.0]]), _t([2], torch.int32)), {}),
        (al.multiclass_perceptron_loss, (_t([[1.0, 2.0]]), _t([2], torch.int64)), {}),
        (al.multiclass_perceptron_loss, (_t([[1.0, 2.0]]), _t([-1], torch.int64)), {}),
        (al.multiclass_perceptron_loss, (_t([1.0, 2.0]), _t(0, torch.int64)), {}),
        (al.multiclass_perceptron_loss, (_t([[1.0, 2.0]]), _t([1.0])), {}),
        (al.poly_loss_cross_entropy, (_t(LOGITS), _t([[1.0, 0, 0], [0, 1, 0], [0, 0, 1]])), {}),
        (al.poly_loss_cross_entropy, (_t(LOGITS[:1]), _t([[0.5, 0.0, 0.5]])), {"epsilon": -1.5}),
        (al.poly_loss_cross_entropy, (_t([[1e4, -1e4]]), _t([[0.25, 0.75]])), {"epsilon": 0}),
        (al.poly_loss_cross_entropy, (_t([[1.0, 2.0]]), _t([[0.5, 0.5]])), {"epsilon": math.inf}),
        (al.poly_loss_cross_entropy, (_t([[1.0, 2.0]]), _t([[0.5, 0.5]])), {"axis": 0}),
        (al.huber_loss, (_t([1.0, 2.0, -3.0, 0.5]), _t([1.5, 2.0, 1.0, 0.5])), {"delta": 0.5}),
        (al.huber_loss, (_t([1.0, 2.0]), _t([1.5, 2.0])), {"delta": 0.0}),
        (al.huber_loss, (_t([1.0, math.inf]), _t([1.5, 2.0])), {}),
        (al.huber_loss, (_t([1.0, 2.0]), _t([1.5, 2.0])), {"reduction": "mean"}),
        (al.squared_error, (_t([1.0, math.nan]), _t([1.5, 2.0])), {}),
        (al.squared_error, (_t([math.inf, -math.inf]), _t([1.5, -math.inf])), {}),
        (al.huber_loss, (_t([math.inf, -math.inf, math.nan]), _t([1.5, 2.0, 0.0])), {}),
        (al.huber_loss, (_t([math.inf, 1.0]), _t([math.inf, -math.inf])), {"delta": 2.0}),
        (al.squared_error, (_t([1.0, 2.0]), _t([[1.5, 2.0]])), {}),
        (al.squared_error, (_t([1.0, 2.0]), _t([1.5, 2.0])), {"reduction": "sum", "axis": 0}),
        # options torch takes where our validators raise: validated before torch's kernel
        (F.cross_entropy, (_t([[1.0, 2.0]]), _t([1], torch.int64)), {"label_smoothing": -1.0}),
        (F.cross_entropy, (_t([[1.0, 2.0]]), _t([1], torch.int64)), {"label_smoothing": True}),
        (F.smooth_l1_loss, (_t([1.0, 2.0]), _t([1.0, 3.0])), {"beta": True}),
        (F.multi_margin_loss, (_t([[0.0, 1.0]]), _t([1], torch.int64)), {"margin": math.nan}),
        (F.poisson_nll_loss, (_t([0.5, 2.0]), _t([1.0, 3.0])), {"eps": math.nan}),
        (F.gaussian_nll_loss, (_t([1.0, 2.0]), _t([1.5, 2.0]), _t([1.0, 1.0])), {"full": 0.0}),
        (
            F.triplet_margin_with_distance_loss,
            (_t([[0.5, 1]]), _t([[1, 0.5]]), _t([[3, 2]])),
            {"swap": 0.0},
        ),
        (SFL, (_t([0.5, -2.0]), _t([1.0, 0.0])), {"gamma": math.nan}),
        # binary_cross_entropy: probabilities 0 and 1 (clamped logs, torch's 1e12 slope), the
        # target outside [0, 1] (torch does not check it), the input outside (torch raises), NaN,
        # a broadcast weight, another target dtype or shape
        (F.binary_cross_entropy, (_t([0.0, 1.0, 0.3, 1.0, 0.0]), _t([1.0, 0.0, 1, 1, 0])), {}),
        (F.binary_cross_entropy, (_t([0.2, 0.7]), _t([0.5, 0.25])), {"reduction": "none"}),
        (F.binary_cross_entropy, (_t([0.2, 0.7]), _t([1.5, 0.0])), {}),
        (F.binary_cross_entropy, (_t([0.2, 0.7]), _t([math.nan, 0.0])), {}),
        (F.binary_cross_entropy, (_t([1.2, 0.7]), _t([1.0, 0.0])), {}),
        (F.binary_cross_entropy, (_t([math.nan, 0.7]), _t([1.0, 0.0])), {}),
        (F.binary_cross_entropy, (_t([[0.2, 0.7]]), _t([[1.0, 0.0]])), {"weight": _t([2.0, 0])}),
        (F.binary_cross_entropy, (_t([0.2, 0.7]), _t([1.0, 0.0], torch.float32)), {}),
        (F.binary_cross_entropy, (_t([[0.2], [0.7]]), _t([1.0, 0.0])), {}),
        (F.binary_cross_entropy, (_t([0.2, 0.7]), _t([1.0, 0.0])), {"reduction": "avg"}),
        # triplets: a zero distance (eps 0), the margin itself, swap, other norms, non-finite
        # entries, a broadcast negative (ours raises), another dtype, a custom distance
        (F.triplet_margin_loss, (_t([[0.0, 0.0]]), _t([[0.0, 0.0]]), _t([[0.0, 2.0]])), TZ),
        (F.triplet_margin_loss, (_t([[0.0, 0.0]]), _t([[1.0, 0.0]]), _t([[0.0, 2.0]])), TZ),
        (
            F.triplet_margin_loss,
            (_t([[0.0, 1.0], [2.0, -1.0]]), _t([[1.0, 0.5], [0.0, 0.0]]), _t([[3.0, 2.0], [2, 0]])),
            {"swap": True, "p": 1, "reduction": "none"},
        ),
        (F.triplet_margin_loss, (_t([0.5, 1.0]), _t([1.0, 0.5]), _t([3.0, 2.0])), {"p": math.inf}),
        (F.triplet_margin_loss, (_t([[NEG, 1.0]]), _t([[1.0, 0.5]]), _t([[3.0, 2.0]])), {}),
        (F.triplet_margin_loss, (_t([[0.5, 1.0]]), _t([[1.0, 0.5]]), _t([3.0, 2.0])), {}),
        (
            F.triplet_margin_loss,
            (_t([[0.5, 1.0]]), _t([[1.0, 0.5]], torch.float32), _t([[3.0, 2.0]])),
            {},
        ),
        (F.triplet_margin_loss, (_t([[0.5, 1]]), _t([[1.0, 0.5]]), _t([[3.0, 2]])), {"margin": 0}),
        (F.triplet_margin_loss, (_t([[0.5, 1]]), _t([[1.0, 0.5]]), _t([[3.0, 2]])), {"p": 0}),
        (F.triplet_margin_loss, (_t([[0.5, 1]]), _t([[1.0, 0.5]]), _t([[3.0, 2]])), {"swap": 1}),
        (F.triplet_margin_loss, (_t([[0.5, 1]]), _t([[1, 0.5]]), _t([[3, 2]])), {"margin": True}),
        (F.triplet_margin_loss, (_t([[0.5, 1]]), _t([[1, 0.5]]), _t([[3, 2]])), {"eps": True}),
        (
            F.triplet_margin_with_distance_loss,
            (_t([[0.0, 0.0]]), _t([[1.0, 0.0]]), _t([[0.0, 2.0]])),
            {"margin": 1.0 + 1e-6 * math.sqrt(2.0), "swap": True},
        ),
        (
            F.triplet_margin_with_distance_loss,
            (_t([[0.0, 0.0]]), _t([[1.0, 0.0]]), _t([[0.0, 2.0]])),
            {"distance_function": lambda u, v: ((u - v) ** 2).sum(-1), "swap": True},
        ),
        (
            F.triplet_margin_with_distance_loss,
            (_t([[0.0, 0.0]]), _t([[1.0, 0.0]]), _t([[0.0, 2.0]])),
            {"distance_function": lambda u, v: ((u - v) ** 2).sum(-1), "margin": 3.0},
        ),
        # the sigmoid routes: infinite logits (0 * inf), labels outside [0, 1] or NaN, zeros,
        # saturated and tiny losses, soft labels, integer labels, gamma below 1, array alpha
        (SBCE, (_t([NEG, math.inf, 1.0, -1.0]), _t([0.0, 1.0, 1.0, 0.0])), {}),
        (SBCE, (_t([NEG, math.inf]), _t([0.5, 0.5])), {}),
        (SBCE, (_t([1e4, -1e4, 0.0, -100.0, 40.0]), _t([0.0, 1.0, 0.5, 0.0, 1.0])), {}),
        (SBCE, (_t([0.0, 0.0, 3.0]), _t([0.0, 1.0, 0.25])), {}),
        (SBCE, (_t([1.0, 2.0]), _t([1.5, 0.0])), {}),
        (SBCE, (_t([1.0, 2.0]), _t([-0.5, 0.0])), {}),
        (SBCE, (_t([1.0, 2.0]), _t([math.nan, 0.0])), {}),
        (SBCE, (_t([math.nan, 2.0]), _t([1.0, 0.0])), {}),
        (SBCE, (_t([1.0, 2.0]), _t([1, 0], torch.int64)), {}),
        (SBCE, (_t([1.0, 2.0]), _t([[1.0, 0.0]])), {}),
        (SBCE, (_t([[]]), _t([[]])), {}),
        (SFL, (_t([NEG, math.inf, 1.0, -1.0]), _t([0.0, 1.0, 1.0, 0.0])), {}),
        (SFL, (_t([NEG, math.inf]), _t([1.0, 0.0])), {"alpha": 0.25}),
        (SFL, (_t([1e4, -1e4, 0.0, -120.0]), _t([1.0, 0.0, 0.5, 0.0])), {"gamma": 0}),
        (SFL, (_t([1e4, -1e4, 0.0, -120.0]), _t([1.0, 0.0, 0.5, 0.0])), {"gamma": 1}),
        (SFL, (_t([1e4, -1e4, 0.0, 750.0]), _t([1.0, 0.0, 0.5, 1.0])), {"gamma": 0.5}),
        (SFL, (_t([0.5, -2.0, 3.0]), _t([1.0, 0.0, 0.3])), {"alpha": 0.75, "gamma": 3.0}),
        (SFL, (_t([0.5, -2.0]), _t([1.0, 0.0])), {"alpha": 1.5}),
        (SFL, (_t([0.5, -2.0]), _t([1.0, 0.0])), {"gamma": -1.0}),
        (SFL, (_t([0.5, -2.0]), _t([1.0, 0.0])), {"alpha": _t(0.25), "gamma": _t(2.0)}),
        (SFL, (_t([0.5, -2.0]), _t([1.0, 2.0])), {}),
        # the routes of kl_divergence (probability and log targets) and cross_entropy_loss
        (al.kl_divergence, (_t([[NEG, 0.0]]), _t([[0.0, 1.0]])), {}),
        (al.kl_divergence, (_t([[-1.0, -0.5]]), _t([[-0.5, 1.5]])), {}),
        (al.kl_divergence, (_t([[-1.0, -0.5]]), _t([[0.5, 0.5]])), {"axis": 0}),
        (al.kl_divergence_with_log_targets, (_t([[NEG, 0.0]]), _t([[NEG, 0.0]])), {}),
        (al.kl_divergence_with_log_targets, (_t([[-1.0, 0.0]]), _t([[NEG, 0.0]])), {}),
        (al.cross_entropy_loss, (_t(LOGITS), _t([0, 1, 2], torch.int64)), {}),
        (al.cross_entropy_loss, (_t(LOGITS), _t([0, 0, 2], torch.int64)), {"reduction": "sum"}),
        (al.cross_entropy_loss, (_t(LOGITS), _t([0, 3, 2], torch.int64)), {}),
        (al.cross_entropy_loss, (_t(LOGITS), _t([0, -100, 2], torch.int64)), {}),
        (
            al.cross_entropy_loss,
            (_t(LOGITS), _t([0, 0, 2], torch.int64)),
            {"weight": _t([1.0, 0.0, 2.0]), "reduction": "none"},
        ),
        (
            al.cross_entropy_loss,
            (_t([[1.0, 2.0], [NEG, NEG]]), _t([0, 1], torch.int64)),
            {"weight": _t([1.0, 0.0])},
        ),
        (
            al.cross_entropy_loss,
            (_t([[1.0, 2.0]]), _t([1], torch.int64)),
            {"weight": _t([0.0, 0.0])},
        ),
        (
            al.cross_entropy_loss,
            (_t(LOGITS[:1]), _t([[1.0, 0.0, 0.0]])),
            {"weight": _t([1, 2, 3.0])},
        ),
        (al.cross_entropy_loss, (_t([1.0, 2.0]), _t(1, torch.int64)), {}),
        (al.cross_entropy_loss, (_t(LOGITS), _t([0, 1, 2], torch.int64)), _IGNORE_1_SMOOTH),
        (
            al.cross_entropy_loss,
            (_t([[1.0, NEG], [NEG, NEG]]), _t([0, 1], torch.int64)),
            _IGNORE_1_SMOOTH,
        ),
        (al.cross_entropy_loss, (_t(LOGITS), _t([-100] * 3, torch.int64)), {}),  # torch NaN
        (al.cross_entropy_loss, (_t([[1.0, 2.0]]), _t([1], torch.int32)), {"reduction": "avg"}),
        # kl_div: 0 * log q with q = 0 (torch NaN, ours 0); negative targets
        (F.kl_div, (_t([[NEG, 0.0]]), _t([[0.0, 1.0]])), {"reduction": "batchmean"}),
        (F.kl_div, (_t([[NEG, 0.0]]), _t([[NEG, 0.0]])), {"log_target": True}),
        (F.kl_div, (_t([[-1.0, -0.5]]), _t([[-0.5, 1.5]])), {"reduction": "sum"}),
        # margin kernels: labels out of range or of another dtype, hinges at their kink
        (F.multilabel_margin_loss, (_t([[0.0, 1.0, 3.0]]), _t([[1, -1, 0]], torch.int64)), {}),
        (F.multilabel_margin_loss, (_t([[0.0, 1.0]]), _t([[2, -1]], torch.int64)), {}),
        (F.multilabel_margin_loss, (_t([[0.0, 1.0]]), _t([[1, -2]], torch.int64)), {}),
        (F.multilabel_margin_loss, (_t([[0.0, 1.0]]), _t([[1, 1]], torch.int32)), {}),
        (F.multilabel_margin_loss, (_t([[0.0, 1.0]]), _t([[-1, 1]], torch.int64)), {}),
        (F.multi_margin_loss, (_t([[0.0, 1.0, 2.0]]), _t([1], torch.int64)), {"p": 2}),
        (F.multi_margin_loss, (_t([[0.0, 1.0, 2.0]]), _t([1], torch.int64)), {}),
        (F.multi_margin_loss, (_t([[0.0, 1.0]]), _t([2], torch.int64)), {}),
        (F.multi_margin_loss, (_t([[0.0, 1.0]]), _t([1], torch.int64)), {"p": 3}),
        (F.soft_margin_loss, (_t([-1e4, 1e4, 0.0]), _t([1.0, 1.0, -1.0])), {"reduction": "none"}),
        (F.multilabel_soft_margin_loss, (_t([[-1e4, 1e4]]), _t([[1.0, 0.0]])), {}),
        # gaussian_nll_loss: a zero variance (clamped to eps), a negative one, a float one
        (F.gaussian_nll_loss, (_t([1.0, 2.0]), _t([1.5, 2.0]), _t([0.0, 1.0])), {}),
        (F.gaussian_nll_loss, (_t([1.0, 2.0]), _t([1.5, 2.0]), _t([-1.0, 1.0])), {}),
        (F.gaussian_nll_loss, (_t([[1.0], [2.0]]), _t([[1.5], [2.0]]), 0.5), {"full": True}),
        # poisson_nll_loss: a zero rate without logs, Stirling's term around target 1
        (F.poisson_nll_loss, (_t([0.0, 2.0]), _t([1.0, 3.0])), {"log_input": False}),
        (F.poisson_nll_loss, (_t([0.5, 2.0, 1.0]), _t([0.0, 1.0, 4.0])), {"full": True}),
    ],
)
def test_adversarial_native_equals_generic(fn: Any, args: Any, kwargs: Any) -> None:
    fast, slow = _both(fn, args, kwargs)
    _assert_same(fast, slow, 1e-12, fn.__name__)


@pytest.mark.parametrize(
    ("fn", "args", "kwargs"),
    [
        # torch's target gradient of xlogy(t, t) is -inf at t = 0; ours is finite
        (F.kl_div, (_t([[-1.0, -0.5]]), _t([[0.0, 1.0]])), {"reduction": "sum"}),
        (F.poisson_nll_loss, (_t([0.5, 2.0]), _t([0.0, 3.0])), {"full": True}),
        (F.soft_margin_loss, (_t([0.5, -2.0]), _t([1.0, -1.0])), {}),
        (F.multilabel_soft_margin_loss, (_t([[0.5, -2.0]]), _t([[1.0, 0.0]])), {}),
        (F.gaussian_nll_loss, (_t([1.0, 2.0]), _t([1.5, 2.0]), _t([0.0, 1.0])), {}),
        (F.binary_cross_entropy, (_t([0.0, 0.5, 1.0]), _t([0.5, 1.0, 0.0]), _t([1.0, 2, 3])), {}),
        (F.triplet_margin_loss, (_t([[0.0, 0.0]]), _t([[0.0, 0.0]]), _t([[0.0, 2.0]])), TZ),
        (F.triplet_margin_loss, (_t([[0.0, 0.0]]), _t([[1.0, 0.0]]), _t([[0.0, 2.0]])), TZ),
        (
            F.triplet_margin_with_distance_loss,
            (_t([[0.0, 1.0], [2.0, -1.0]]), _t([[1.0, 0.5], [0.0, 0.0]]), _t([[3.0, 2.0], [2, 0]])),
            {"swap": True, "reduction": "sum"},
        ),
    ],
)
def test_gradients_beyond_input_native_equals_generic(fn: Any, args: Any, kwargs: Any) -> None:
    """Where a gradient is recorded for the targets (or the variance) too."""
    fast, slow = _both(fn, args, kwargs, argnums=tuple(range(len(args))))
    _assert_same(fast, slow, 1e-12, fn.__name__)


def test_fast_path_is_taken_and_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = _Spy(monkeypatch, "cross_entropy")
    x, y = torch.randn(4, 3), torch.tensor([0, 1, 2, 1])
    F.cross_entropy(x, y)
    al.CrossEntropyLoss(weight=torch.ones(3))(x, y)
    assert spy.calls == 2
    F.cross_entropy(x, y, size_average=False)  # legacy arguments: torch would warn
    F.cross_entropy(x, y, None, False)  # legacy arguments by position too
    F.cross_entropy(x.numpy(), y.numpy())  # not torch
    with _native.disabled():
        F.cross_entropy(x, y)
    assert spy.calls == 2


def test_options_by_position_take_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """An option passed by position (torch's order) reaches the kernel as one passed by name:
    the call's form does not decide the path (``multi_margin_loss(x, y, 2)`` once took the
    generic path, with a second derivative where torch's raises)."""
    ce, mm = _Spy(monkeypatch, "cross_entropy"), _Spy(monkeypatch, "multi_margin_loss")
    x, y, w = torch.randn(4, 3), torch.tensor([0, 1, 2, 1]), torch.rand(3)
    by_position = F.cross_entropy(x, y, w)
    torch.testing.assert_close(by_position, F.cross_entropy(x, y, weight=w))
    F.cross_entropy(x, y, w, ignore_index=1)
    assert ce.calls == 3
    with pytest.raises(TypeError, match="weight"):
        F.cross_entropy(x, y, w, weight=w)  # given twice: Python's error, as torch's
    assert ce.calls == 3
    x.requires_grad_(True)
    (g,) = torch.autograd.grad(F.multi_margin_loss(x, y, 2), x, create_graph=True)
    assert mm.calls == 1
    with pytest.raises(RuntimeError, match="not implemented"):
        g.sum().backward()  # torch's kernel has no double backward, by position as by name


def test_options_reach_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """torch's own keyword-only options go to its kernel; only our extensions (z_loss,
    return_lse) make a call generic. (Inferring the extensions from keyword-only parameters
    kept every non-default TripletMarginWithDistanceLoss on the generic path.)"""
    spy = _Spy(monkeypatch, "triplet_margin_with_distance_loss")
    ce = _Spy(monkeypatch, "cross_entropy")
    a, p, n = torch.randn(4, 3), torch.randn(4, 3), torch.randn(4, 3)
    F.triplet_margin_with_distance_loss(a, p, n, margin=3.0, swap=True, reduction="sum")
    al.TripletMarginWithDistanceLoss(distance_function=lambda u, v: (u - v).abs().sum(-1))(a, p, n)
    assert spy.calls == 2
    x, y = torch.randn(4, 3), torch.tensor([0, 1, 2, 1])
    F.cross_entropy(x, y, label_smoothing=0.1, reduction="none")
    F.cross_entropy(x, y, z_loss=0.0, return_lse=False)  # extensions at their defaults
    assert ce.calls == 2
    F.cross_entropy(x, y, z_loss=1e-4)
    F.cross_entropy(x, y, return_lse=True)
    assert ce.calls == 2


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_runs_the_native_kernel(dtype: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = _Spy(monkeypatch, "cross_entropy")
    x = torch.randn(4, 3, dtype=dtype, requires_grad=True)
    y = torch.tensor([0, 1, 2, 1])
    out = F.cross_entropy(x, y)
    assert spy.calls == 1
    assert out.dtype == dtype
    out.backward()
    assert x.grad.dtype == dtype


def test_ignored_rows_with_a_gradient_take_the_kernel_when_finite(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Padding labels (-100) in a training step: torch's kernel answers unless a left-out row
    is not finite (then its NaN gradient would differ from our 0)."""
    spy = _Spy(monkeypatch, "cross_entropy")
    x = torch.randn(6, 5, 3, requires_grad=True)
    y = torch.tensor([[0, -100, 2], [1, 1, -100], [4, 0, 0], [2, 2, 2], [-100] * 3, [3, 1, 0]])
    w = torch.tensor([1.0, 0.0, 2.0, 1.0, 0.5])
    for kwargs in ({}, {"weight": w}, {"label_smoothing": 0.1, "weight": w}):
        fast, slow = _both(F.cross_entropy, (x, y), kwargs)
        _assert_same(fast, slow, 2e-6, str(kwargs))
    calls = spy.calls
    F.cross_entropy(x[:, :, 0], y[:, 0]).backward()
    assert spy.calls == calls + 1
    padded = x.detach().clone()
    padded[4] = NEG  # the all-ignored sample is all -inf: the generic path answers
    padded.requires_grad_(True)
    F.cross_entropy(padded, y).backward()
    assert spy.calls == calls + 1
    assert torch.isfinite(padded.grad).all()


def test_routes_are_taken_and_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    ce = _Spy(monkeypatch, "cross_entropy")
    bce = _Spy(monkeypatch, "binary_cross_entropy_with_logits")
    x, y = torch.randn(2, 4, 3), torch.tensor([[0, 1, 2, 1], [2, 2, 0, 1]])
    p = torch.softmax(torch.randn(2, 4, 3), -1)
    al.softmax_cross_entropy_with_integer_labels(x, y)
    al.softmax_cross_entropy_with_integer_labels(x, y.int())
    al.softmax_cross_entropy(x, p)
    al.safe_softmax_cross_entropy(x, p)
    al.sigmoid_binary_cross_entropy(x, p)  # routed to softplus: torch's kernel cancels
    assert (ce.calls, bce.calls) == (4, 0)
    al.softmax_cross_entropy_with_integer_labels(x, y, where=torch.ones(2, 4, 3, dtype=bool))
    al.softmax_cross_entropy_with_integer_labels(x, y, z_loss=1e-4)
    al.softmax_cross_entropy_with_integer_labels(x, y, return_lse=True)
    al.softmax_cross_entropy(x.transpose(1, 2), p.transpose(1, 2), axis=1)
    al.softmax_cross_entropy(x, p.double())  # mixed dtypes: the generic path promotes
    with pytest.raises(ValueError, match="class indices"):  # a label torch would ignore
        al.softmax_cross_entropy_with_integer_labels(x, torch.full_like(y, -(2**63)))
    assert ce.calls == 4
    with al.checks("never"):  # out-of-range labels: torch raises, the generic path gives NaN
        out = al.softmax_cross_entropy_with_integer_labels(x, y + 3)
    assert ce.calls == 5
    assert torch.isnan(out).all()


def test_new_routes_are_taken_and_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    kl = _Spy(monkeypatch, "kl_div")
    ce = _Spy(monkeypatch, "cross_entropy")
    lp = torch.log_softmax(torch.randn(2, 4, 3), -1)
    p = torch.softmax(torch.randn(2, 4, 3), -1)
    y = torch.tensor([[0, 1, 2, 1], [2, 2, 0, 1]])
    al.kl_divergence(lp, p)
    al.kl_divergence_with_log_targets(lp, p.log())
    al.cross_entropy_loss(lp, y, weight=torch.tensor([1.0, 2.0, 0.5]))
    al.cross_entropy_loss(lp, y, ignore_index=1, label_smoothing=0.1)
    assert (kl.calls, ce.calls) == (2, 2)
    # brainpy's lse - <t, x> is not torch's -<t, log p> (rows not summing to 1, the target
    # derivative), and its class weight scales the smoothing term too
    al.cross_entropy_loss(lp, p, reduction="none")
    al.cross_entropy_loss(lp, y, weight=torch.ones(3), label_smoothing=0.1)
    al.kl_divergence(lp, p.requires_grad_(True))  # torch's target derivative is -inf at 0
    al.kl_divergence(lp, p, axis=1)
    al.kl_divergence(lp, p, where=torch.ones(2, 4, 3, dtype=torch.bool))
    al.cross_entropy_loss(lp, y, weight=torch.ones(3, requires_grad=True))  # torch: no derivative
    al.cross_entropy_loss(lp, y.int())
    al.cross_entropy_loss(lp[0, 0], y[0, 0])  # one sample
    assert (kl.calls, ce.calls) == (2, 2)
    al.poly_loss_cross_entropy(lp, p)
    al.poly_loss_cross_entropy(lp, p, epsilon=-1)
    assert ce.calls == 4
    al.poly_loss_cross_entropy(lp, p, epsilon=torch.tensor(2.0))  # an array epsilon
    al.poly_loss_cross_entropy(lp, p, where=torch.ones(2, 4, 3, dtype=torch.bool))
    al.poly_loss_cross_entropy(lp, p, axis=0)
    al.poly_loss_cross_entropy(lp, p.double())
    assert ce.calls == 4


def test_perceptron_route_is_taken_and_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    from agnostic_losses._kernels import margin

    generic = {"calls": 0}
    kernel = margin.multiclass_perceptron

    def counted(*args: Any) -> Any:
        generic["calls"] += 1
        return kernel(*args)

    monkeypatch.setattr(margin, "multiclass_perceptron", counted)
    x, y = torch.randn(2, 4, 3), torch.tensor([[0, 1, 2, 1], [2, 2, 0, 1]])
    al.multiclass_perceptron_loss(x, y)
    al.multiclass_perceptron_loss(x, y.int())
    assert generic["calls"] == 0
    al.multiclass_perceptron_loss(x.transpose(0, 1).contiguous().transpose(0, 1), y)
    assert generic["calls"] == 0
    with pytest.raises(ValueError, match="class indices"):  # torch raises, ours explains
        al.multiclass_perceptron_loss(x, y + 3)
    with pytest.raises(TypeError, match="labels"):
        al.multiclass_perceptron_loss(x, y.float())
    with pytest.raises(ValueError, match="shape"):
        al.multiclass_perceptron_loss(x, y[0])
    with al.checks("never"):
        assert torch.isnan(al.multiclass_perceptron_loss(x, y - 1)).any()
    assert generic["calls"] == 1  # torch raised on the out-of-range labels: the NaN is ours


@pytest.mark.parametrize(
    ("fn", "args", "kwargs"),
    [
        (al.kl_divergence, (_t([[-1.0, -0.5]]), _t([[0.0, 1.0]])), {}),
        (al.kl_divergence_with_log_targets, (_t([[-1.0, -0.5]]), _t([[NEG, 0.0]])), {}),
        (al.cross_entropy_loss, (_t([[1.0, 2.0]]), _t([1], torch.int64), _t([1.0, 0.5])), {}),
        (al.cross_entropy_loss, (_t([[1.0, 2.0]]), _t([[0.0, 1.0]]), _t([1.0, 0.5])), {}),
        (al.poly_loss_cross_entropy, (_t([[1.0, 2.0, -3.0]]), _t([[0.2, 0.5, 0.3]])), {}),
        (SBCE, (_t([0.0, 2.0, -30.0, 1e4]), _t([0.5, 1.0, 0.0, 0.25])), {}),
        (SFL, (_t([0.0, 2.0, -30.0, 1e4]), _t([0.5, 1.0, 0.0, 0.25])), {"alpha": 0.25}),
        (SFL, (_t([0.0, 2.0, -30.0, 150.0]), _t([0.5, 1.0, 0.0, 1.0])), {"gamma": 1}),
    ],
)
def test_route_gradients_beyond_input(fn: Any, args: Any, kwargs: Any) -> None:
    """Every argument records a gradient: the routes decline where torch's differ."""
    fast, slow = _both(fn, args, kwargs, argnums=tuple(range(len(args))))
    _assert_same(fast, slow, 1e-12, fn.__name__)


def test_sigmoid_cross_entropy_keeps_tiny_losses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Why the optax name's route is softplus, not torch's BCE kernel: that kernel cancels a
    loss below eps |x| to 0, optax (and ours, on both paths) keep ``log1p(exp(-|x|))``."""
    x, y = _t([-100.0, 100.0, -40.0]), _t([0.0, 1.0, 0.0])
    expected = np.log1p(np.exp(-np.abs([100.0, 100.0, 40.0])))
    softplus = _Spy(monkeypatch, "softplus")
    np.testing.assert_allclose(al.sigmoid_binary_cross_entropy(x, y).numpy(), expected, rtol=1e-12)
    assert softplus.calls == 2  # the route answered
    torch_value = torch.nn.functional.binary_cross_entropy_with_logits(x, y, reduction="none")
    assert torch_value[0].item() == 0.0  # the kernel we did not route to


def test_sigmoid_routes_are_taken_and_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    from agnostic_losses._kernels import classification

    generic = {"calls": 0}
    kernel = classification.sigmoid_binary_cross_entropy

    def counted(*args: Any, **kwargs: Any) -> Any:
        generic["calls"] += 1
        return kernel(*args, **kwargs)

    monkeypatch.setattr(classification, "sigmoid_binary_cross_entropy", counted)
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    al.sigmoid_binary_cross_entropy(x, y)
    al.sigmoid_binary_cross_entropy(x, y.requires_grad_(True)).sum().backward()
    al.sigmoid_focal_loss(x, y, alpha=0.25)
    al.sigmoid_focal_loss(x, y, gamma=0)
    al.sigmoid_focal_loss(x, y, gamma=3)
    assert generic["calls"] == 0
    al.sigmoid_binary_cross_entropy(x, y.bool())  # optax casts; the route takes like tensors
    al.sigmoid_focal_loss(x, y, gamma=0.5)  # (1 - p_t) ** 0.5: infinite slope at 0
    al.sigmoid_focal_loss(x, y, gamma=torch.tensor(2.0))
    al.sigmoid_binary_cross_entropy(x, y.double())
    out = al.sigmoid_binary_cross_entropy(_t([NEG]), _t([1.0]))  # route NaN, generic +inf
    assert generic["calls"] == 5
    assert out.item() == math.inf
    with pytest.raises(ValueError, match="labels"):
        al.sigmoid_binary_cross_entropy(x, y + 1)
    with al.checks("never"):  # nothing read: the route answers out-of-range labels as written
        out = al.sigmoid_binary_cross_entropy(x, y + 1)
    assert generic["calls"] == 5
    with _native.disabled(), al.checks("never"):
        torch.testing.assert_close(out, al.sigmoid_binary_cross_entropy(x, y + 1))


@pytest.mark.parametrize(
    ("fn", "target", "shape"),
    [
        (F.multi_margin_loss, torch.zeros(0, dtype=torch.int64), (0,)),
        (F.multilabel_margin_loss, torch.zeros(0, 3, dtype=torch.int64), (0,)),
        (F.cross_entropy, torch.zeros(0, dtype=torch.int64), (0,)),
        (F.mse_loss, torch.zeros(0, 3, dtype=torch.float64), (0, 3)),
    ],
)
def test_an_empty_batch_is_nan_for_the_mean_and_0_for_the_sum(
    fn: Any, target: Any, shape: tuple[int, ...]
) -> None:
    """torch's multi_margin_loss and multilabel_margin_loss return uninitialised memory for an
    empty mean (a finite denormal the finiteness read would keep): empty inputs stay generic."""
    x = torch.zeros(0, 3, dtype=torch.float64)
    assert math.isnan(fn(x, target).item())
    assert fn(x, target, reduction="sum").item() == 0.0
    assert tuple(fn(x, target, reduction="none").shape) == shape


def test_fast_path_falls_back_when_torch_is_not_finite(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = _Spy(monkeypatch, "cross_entropy")
    x = _t([[NEG, NEG]])
    out = F.cross_entropy(x, _t([0], torch.int64))
    assert spy.calls == 1  # tried, torch gave NaN, the generic path answered
    assert out.item() == math.inf


def test_fast_path_is_not_traced_by_torch_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    x, y = torch.randn(4, 3), torch.tensor([0, 1, 2, 1])
    expected = torch.nn.functional.cross_entropy(x, y)
    spy = _Spy(monkeypatch, "cross_entropy")
    torch._dynamo.reset()
    compiled = torch.compile(F.cross_entropy, backend="eager")
    torch.testing.assert_close(compiled(x, y), expected)
    assert spy.calls == 0
    torch._dynamo.reset()


def test_accelerator_and_lazy_tensors_take_the_generic_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Eligibility is static: meta tensors (and so any non-CPU device) and tensors inside
    torch.func transforms never reach torch's kernel, whose result would need a host read."""
    spy = _Spy(monkeypatch, "cross_entropy")
    x = torch.randn(4, 3, device="meta")
    out = F.cross_entropy(x, torch.zeros(4, dtype=torch.long, device="meta"))
    assert out.device.type == "meta"
    assert spy.calls == 0
    batched = torch.func.vmap(F.cross_entropy)(torch.randn(2, 4, 3), torch.zeros(2, 4).long())
    assert batched.shape == (2,)
    assert spy.calls == 0
