"""Conformance with torch on torch's own OpInfo / ModuleInfo test inputs.

For every loss in ``agnostic_losses.functional.__all__`` the matching OpInfo
``nn.functional.<name>`` of ``torch.testing._internal.common_methods_invocations.op_db`` supplies
its samples (``sample_inputs(device="cpu", dtype=torch.float64, requires_grad=True)``, generated
once under a fixed seed). One test per (loss, sample index, path) compares our result with the
OpInfo's own op, ``torch.nn.functional.<name>``:

``native``
    our public function with the native torch fast path enabled (only for the losses that have
    one, ``_native.native_torch``; for the others the public function *is* the generic path);
``generic``
    the same call inside ``agnostic_losses._native.disabled()``;
``numpy``
    every tensor of the sample as a float64 / int64 NumPy array (``.detach().numpy()``), value
    only, against torch's float64 value. Samples whose arguments hold something that has no NumPy
    form (``distance_function=nn.PairwiseDistance()``) are skipped.
``jax``
    the NumPy form of the sample as JAX float64 / int64 arrays (x64 is on in this suite), value
    only, against torch's float64 value; left out when JAX is not installed.

On the torch paths the values are compared with ``torch.testing.assert_close`` at its default
float64 tolerances (NaN equal to NaN), and so are the gradients of ``sum(output)`` with respect to
every floating tensor of the sample that requires grad (a gradient torch leaves undefined counts as
zeros), the double backward where the OpInfo has it (a Hessian-vector product along ones),
and, where the OpInfo says torch has forward mode (18 of the 22), the ``torch.func.jvp``
along a random direction for those tensors. Every ``error_inputs`` sample of the OpInfo (where the
OpInfo defines them) must raise on our side too (any exception; the default path, which falls back
to the generic one whenever torch raises). The loss classes of ``common_modules.module_db`` that we
mirror at top level are constructed with the same constructor arguments and their forward values
compared (default path), and each of their ModuleInfo error inputs must raise on our class too.
The 48 entries of ``common_nn.criterion_tests`` (16 loss modules without a batch axis, three
reductions) compare our class with torch's module, values and gradients, and with the entry's
reference function; the 50 loss entries of ``common_nn.get_new_module_tests()`` run torch's own
calls of its functional losses with ours in their place (values, first and second
derivatives, reference functions). Every OpInfo sample is also drawn at each other dtype
torch's op takes on the CPU (float32, float16, bfloat16, integers, complex): our result has
torch's dtype and shape, torch's value at float32 and for integer inputs, and in half
precision is at least as close to the float64 answer as torch's.

A mismatch is allowed only where README.md, section "Deliberate differences from the peers",
covers it: ``DOCUMENTED`` maps a predicate over (loss, sample, path) to a distinctive substring of
the README line it relies on; ``test_documented_differences_are_in_readme`` fails when the line
disappears, and the matching tests are ``xfail(strict=True)`` naming the line. Real bugs found
by this suite are listed in ``BUGS`` (``xfail(strict=True, reason="BUG: ...")``), so that fixing
one turns its entry into an XPASS failure to remove.

Subsampling: at most ``MAX_SAMPLES`` samples per OpInfo / ModuleInfo (evenly spaced indices,
deterministic); only ``gaussian_nll_loss`` (324 samples) and ``CrossEntropyLoss`` (105 module
inputs) exceed it. ``LinearCrossEntropyLoss`` and ``AdaptiveLogSoftmaxWithLoss`` have no
counterpart here (``tests/test_adaptive.py`` compares the latter with torch's layer).

Importing ``torch.testing._internal`` needs ``expecttest`` (a torch test dependency); without it
the module is skipped. That import freezes ``torch.backends`` flags for the whole process
(``torch.backends.disable_global_flags``); it is undone right after.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest

import agnostic_losses as al
from agnostic_losses import _native
from agnostic_losses import functional as F

torch = pytest.importorskip("torch")
try:
    import jax
except ImportError:  # the JAX path is then left out
    jax = None
_FROZEN_BEFORE = torch.backends.flags_frozen()
cmi = pytest.importorskip(
    "torch.testing._internal.common_methods_invocations",
    reason="torch's OpInfo database (needs the expecttest package)",
)
common_modules = pytest.importorskip("torch.testing._internal.common_modules")
if not _FROZEN_BEFORE:  # undo common_utils' disable_global_flags() for the rest of the session
    setattr(torch.backends, "__allow_nonbracketed_mutation_flag", True)

SEED = 0
MAX_SAMPLES = 40
README = Path(__file__).resolve().parent.parent / "README.md"


def _opinfos() -> dict[str, Any]:
    """Every OpInfo of a loss of ours by ``name`` or ``name.variant`` (``linear_cross_entropy``
    has the variants ``chunked`` and ``chunked_none``)."""
    ops = {}
    for op in cmi.op_db:
        name = op.name.removeprefix("nn.functional.")
        if op.name.startswith("nn.functional.") and name in F.__all__:
            ops[f"{name}.{op.variant_test_name}" if op.variant_test_name else name] = op
    return ops


OPS = _opinfos()
NAMES = sorted(OPS)


def _ours(name: str) -> Any:
    """Our function for an OpInfo key (a variant is the same function on other samples)."""
    return getattr(F, name.split(".")[0])


NATIVE = {n for n in NAMES if getattr(_ours(n), "native_name", None) is not None}


def test_every_loss_has_an_opinfo() -> None:
    # torch's own linear_cross_entropy (and its OpInfo) came with torch 2.13; the minimum
    # matrix (nox -s minimum) runs an older torch.
    newer = (
        set() if hasattr(torch.nn.functional, "linear_cross_entropy") else {"linear_cross_entropy"}
    )
    assert set(F.__all__) - newer <= set(NAMES)


def _subsample(n: int) -> list[int]:
    if n <= MAX_SAMPLES:
        return list(range(n))
    return sorted({round(i * (n - 1) / (MAX_SAMPLES - 1)) for i in range(MAX_SAMPLES)})


def _seeded(make: Any, *args: Any, **kwargs: Any) -> list[Any]:
    """``list(make(*args, **kwargs))`` under torch's RNG seeded with ``SEED`` (and restored):
    the same inputs in every process, whatever ran before."""
    with torch.random.fork_rng():
        torch.manual_seed(SEED)
        return list(make(*args, **kwargs))


def _op_samples(name: str, dtype: Any, requires_grad: bool) -> list[Any]:
    op = OPS[name]
    # reference_inputs (where defined) are the samples plus torch's harder cases
    # (broadcasting, NaN and inf entries): margin ranking, multi margin, multilabel
    # margin and hinge embedding
    inputs = op.reference_inputs if op.reference_inputs_func is not None else op.sample_inputs
    return _seeded(inputs, "cpu", dtype, requires_grad=requires_grad)


@functools.cache
def _samples(name: str) -> list[Any]:
    return _op_samples(name, torch.float64, requires_grad=True)


@functools.cache
def _error_inputs(name: str) -> list[Any]:
    op = OPS[name]
    if op.error_inputs_func is None:
        return []
    return _seeded(op.error_inputs, "cpu")


# --------------------------------------------------------------------------------------------
# Helpers


def _leaves(x: Any) -> list[Any]:
    if isinstance(x, (list, tuple)):
        return [y for item in x for y in _leaves(item)]
    if isinstance(x, dict):
        return [y for item in x.values() for y in _leaves(item)]
    return [x]


def _arguments(sample: Any) -> list[Any]:
    return _leaves([sample.input, list(sample.args), dict(sample.kwargs)])


def _grad_tensors(sample: Any) -> list[Any]:
    return [
        t
        for t in _arguments(sample)
        if isinstance(t, torch.Tensor) and t.is_floating_point() and t.requires_grad
    ]


def _describe(x: Any) -> str:
    if isinstance(x, torch.Tensor):
        return f"{str(x.dtype).removeprefix('torch.')}{list(x.shape)}"
    if isinstance(x, (list, tuple)):
        return f"{type(x).__name__}[{len(x)}]"
    return repr(x)


def _sample_repr(sample: Any) -> str:
    args = ", ".join(_describe(a) for a in [sample.input, *sample.args])
    kwargs = ", ".join(f"{k}={_describe(v)}" for k, v in sample.kwargs.items())
    return f"({args}{', ' if kwargs else ''}{kwargs})"


def _to_numpy(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    if isinstance(x, (list, tuple)):
        return type(x)(_to_numpy(y) for y in x)
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    raise TypeError(f"no NumPy form for {type(x).__name__}")


def _to_jax(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return jax.numpy.asarray(x)
    if isinstance(x, (list, tuple)):
        return type(x)(_to_jax(y) for y in x)
    return x


def _numpy_convertible(sample: Any) -> bool:
    try:
        _to_numpy(_arguments(sample))
    except TypeError:
        return False
    return True


def _torch_value(name: str, sample: Any) -> Any:
    """torch's own answer (the OpInfo's op); its warnings (broadcasts) are recorded, not raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = OPS[name].op(sample.input, *sample.args, **sample.kwargs)
    return value, [str(w.message) for w in caught]


def _grads(out: Any, tensors: list[Any]) -> tuple[Any, ...]:
    return torch.autograd.grad(
        out.sum(), tensors, allow_unused=True, materialize_grads=True, retain_graph=True
    )


def _without_options(sample: Any) -> Any:
    """The sample without ``options``: torch's ``linear_cross_entropy`` then materialises the
    logits. Its chunked path (the ``chunked`` OpInfo variants) returns second derivatives of
    exactly 0 (no error), where its materialised path, and ours, give the Hessian."""
    if "options" not in sample.kwargs:
        return sample
    kwargs = {k: v for k, v in sample.kwargs.items() if k != "options"}
    return cmi.SampleInput(sample.input, args=sample.args, kwargs=kwargs)


def _second_derivatives(fn: Callable[..., Any], sample: Any, tensors: list[Any]) -> Any:
    """The gradient of the sum of every gradient of ``sum(fn(sample))`` (double backward: a
    Hessian-vector product along ones), with respect to the same tensors."""
    out = fn(sample.input, *sample.args, **sample.kwargs)
    grads = torch.autograd.grad(
        out.sum(), tensors, create_graph=True, allow_unused=True, materialize_grads=True
    )
    total = sum(g.sum() for g in grads if g.requires_grad)
    if not isinstance(total, torch.Tensor):  # no gradient depends on the tensors: zeros
        return tuple(torch.zeros_like(t) for t in tensors)
    return torch.autograd.grad(total, tensors, allow_unused=True, materialize_grads=True)


def _jvp(fn: Callable[..., Any], sample: Any, tensors: list[Any], tangents: tuple[Any, ...]) -> Any:
    """``torch.func.jvp`` of ``fn`` on the sample, along ``tangents`` for ``tensors``."""
    index = {id(t): i for i, t in enumerate(tensors)}

    def call(*primals: Any) -> Any:
        def put(x: Any) -> Any:
            if isinstance(x, torch.Tensor) and id(x) in index:
                return primals[index[id(x)]]
            if isinstance(x, (list, tuple)):
                return type(x)(put(y) for y in x)
            return x

        args = [put(a) for a in sample.args]
        return fn(put(sample.input), *args, **{k: put(v) for k, v in sample.kwargs.items()})

    return torch.func.jvp(call, tuple(t.detach() for t in tensors), tangents)[1]


def _assert_close(actual: Any, expected: Any, what: str) -> None:
    torch.testing.assert_close(actual, expected, equal_nan=True, msg=lambda m: f"{what}: {m}")


# --------------------------------------------------------------------------------------------
# Deliberate differences (README.md, "Deliberate differences from the peers") and known bugs


class NotZeroD(AssertionError):
    """A reduced NumPy result that is a NumPy scalar, not a 0-d array."""


class Difference(NamedTuple):
    """A mismatch the README documents: ``applies(loss, index, sample, path)`` selects the tests,
    which must fail with ``raises``."""

    readme: str  # a distinctive substring of the README line (whitespace-normalised)
    applies: Callable[[str, int, Any, str], bool]
    raises: type[BaseException] = AssertionError


class Bug(NamedTuple):
    """A genuine failure found by this suite, to fix (then delete the entry: strict XPASS)."""

    reason: str
    applies: Callable[[str, int, Any, str], bool]
    raises: type[BaseException] = AssertionError


_ELEMENTWISE = {
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "gaussian_nll_loss",
    "hinge_embedding_loss",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "margin_ranking_loss",  # input2 (its first argument) and target against input1
    "mse_loss",
    "poisson_nll_loss",
    "smooth_l1_loss",
    "soft_margin_loss",
}


def _broadcasts(name: str, index: int, sample: Any, path: str) -> bool:
    """torch broadcasts ``input`` against ``target`` in an elementwise loss (margin ranking:
    ``input1`` against ``input2`` and ``target``)."""
    if path in ("error", "module") or name not in _ELEMENTWISE:
        return False
    others = [a for a in sample.args if isinstance(a, torch.Tensor)][
        : 2 if name == "margin_ranking_loss" else 1
    ]
    if not others or all(a.shape == sample.input.shape for a in others):
        return False
    target = others[0]
    if name == "gaussian_nll_loss":  # one dimension of size 1 is torch's documented broadcast
        shape, other = sample.input.shape, target.shape
        differ = [a != b for a, b in zip(shape, other)]
        return not (
            len(shape) == len(other) and sum(differ) == 1 and other[differ.index(True)] == 1
        )
    return True


def _list_lengths(name: str, index: int, sample: Any, path: str) -> bool:
    """CTC lengths given as Python lists / tuples (torch's ``int[]`` overload)."""
    if name not in ("ctc_loss", "CTCLoss") or path == "error":
        return False
    args = sample.forward_input.args if path == "module" else sample.args
    return any(isinstance(a, (list, tuple)) for a in args)


DOCUMENTED: list[Difference] = [
    Difference("we raise a `ValueError` naming both shapes", _broadcasts, ValueError),
]

# Not a mismatch to skip but one to route around: torch's ctc_loss backward returns the gradient
# with respect to the logits of a log_softmax, ours the exact one with respect to ``log_probs``.
# OpInfo's log_probs are normalised, so every ctc_loss sample is fed through ``log_softmax`` of a
# fresh leaf holding the same values, where the two agree; ``test_ctc_log_probs_gradient``
# checks that the raw gradients do differ as documented.
CTC_GRADIENT = "the gradient is exact with respect to `log_probs`"

BUGS: list[Bug] = []  # none open; a bug found here is listed until fixed


def test_documented_differences_are_in_readme() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())
    start = text.index("<!-- differences:start -->")
    section = text[start : text.index("<!-- differences:end -->", start)]
    for readme in [d.readme for d in DOCUMENTED] + [CTC_GRADIENT]:
        assert readme in section, readme


def _marks(name: str, index: int, sample: Any, path: str) -> list[Any]:
    for difference in DOCUMENTED:
        if difference.applies(name, index, sample, path):
            reason = f"README: ...{difference.readme}..."
            return [pytest.mark.xfail(strict=True, raises=difference.raises, reason=reason)]
    for bug in BUGS:
        if bug.applies(name, index, sample, path):
            reason = f"BUG: {bug.reason}"
            return [pytest.mark.xfail(strict=True, raises=bug.raises, reason=reason)]
    return []


# --------------------------------------------------------------------------------------------
# Sample tests


def _sample_params() -> list[Any]:
    params = []
    for name in NAMES:
        samples = _samples(name)
        for index in _subsample(len(samples)):
            sample = samples[index]
            paths = (["native"] if name in NATIVE else []) + ["generic", "numpy"]
            paths += ["jax"] if jax is not None else []
            for path in paths:
                marks = _marks(name, index, sample, path)
                if path in ("numpy", "jax") and not _numpy_convertible(sample):
                    marks = [pytest.mark.skip(reason="an argument has no NumPy form")]
                params.append(
                    pytest.param(name, index, path, marks=marks, id=f"{name}-{index}-{path}")
                )
    return params


def _through_log_softmax(sample: Any) -> tuple[Any, Any]:
    """The sample with ``input`` replaced by ``log_softmax`` of a new leaf of the same values."""
    leaf = sample.input.detach().clone().requires_grad_(True)
    return cmi.SampleInput(leaf.log_softmax(-1), args=sample.args, kwargs=sample.kwargs), leaf


@pytest.mark.parametrize(("name", "index", "path"), _sample_params())
def test_sample(name: str, index: int, path: str) -> None:
    sample = _samples(name)[index]
    where = f"{name} sample {index} {_sample_repr(sample)} [{path}]"
    expected, _ = _torch_value(name, sample)
    ours_fn = _ours(name)

    if path == "numpy":
        args = _to_numpy([sample.input, *sample.args])
        kwargs = {k: _to_numpy(v) for k, v in sample.kwargs.items()}
        ours = ours_fn(*args, **kwargs)
        _assert_close(torch.as_tensor(ours), expected.detach(), f"{where} value")
        if not isinstance(ours, np.ndarray):
            raise NotZeroD(f"{where}: returned {type(ours).__name__}, not an ndarray")
        return
    if path == "jax":  # JAX float64 (x64 is on in this suite), value against torch float64
        args = _to_jax(_to_numpy([sample.input, *sample.args]))
        kwargs = {k: _to_jax(_to_numpy(v)) for k, v in sample.kwargs.items()}
        ours = np.array(ours_fn(*args, **kwargs))  # a writable copy for torch.as_tensor
        _assert_close(torch.as_tensor(ours), expected.detach(), f"{where} value")
        return

    tensors = _grad_tensors(sample)
    if name == "ctc_loss":  # see CTC_GRADIENT
        sample, leaf = _through_log_softmax(sample)
        expected, _ = _torch_value(name, sample)
        tensors = [leaf]
    expected_grads = _grads(expected, tensors) if expected.requires_grad else None
    with _native.disabled() if path == "generic" else contextlib.nullcontext():
        ours = ours_fn(sample.input, *sample.args, **sample.kwargs)
        _assert_close(ours, expected, f"{where} value")
        if expected_grads is not None:
            our_grads = _grads(ours, tensors)
            for i, (g, e) in enumerate(zip(our_grads, expected_grads, strict=True)):
                _assert_close(g, e, f"{where} gradient of tensor {i} {_describe(tensors[i])}")
            # Double backward where torch's op has it (torch's test_ops gradgrad check)
            if name != "ctc_loss" and OPS[name].supports_gradgrad:
                want2 = _second_derivatives(OPS[name].op, _without_options(sample), tensors)
                got2 = _second_derivatives(ours_fn, sample, tensors)
                for i, (g, e) in enumerate(zip(got2, want2, strict=True)):
                    _assert_close(g, e, f"{where} second derivative, tensor {i}")
        # Forward mode (torch.func.jvp, under jacfwd and torch.func.hessian) where torch's op
        # has it, along one random direction for every tensor torch differentiates.
        if tensors and name != "ctc_loss" and OPS[name].supports_forward_ad:
            gen = torch.Generator().manual_seed(index)
            tangents = tuple(torch.randn(t.shape, dtype=t.dtype, generator=gen) for t in tensors)
            with warnings.catch_warnings():  # kl_div's 'mean' warning, checked with the value
                warnings.filterwarnings("ignore", message="reduction: 'mean' divides")
                want = _jvp(OPS[name].op, sample, tensors, tangents)
                got = _jvp(ours_fn, sample, tensors, tangents)
            _assert_close(got, want, f"{where} jvp")


def _deprecated_mean(fn: Callable[..., Any], sample: Any) -> tuple[Any, list[Any]]:
    """``fn`` on ``sample`` with ``reduction='elementwise_mean'``: (value or the exception
    type, the warnings naming it)."""
    kwargs = {**sample.kwargs, "reduction": "elementwise_mean"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = fn(sample.input, *sample.args, **kwargs)
        except ValueError:
            out = ValueError
    return out, [w for w in caught if "elementwise_mean" in str(w.message)]


_REDUCED = sorted(
    {
        n.split(".")[0]
        for n in NAMES
        if "reduction" in inspect.signature(getattr(F, n.split(".")[0])).parameters
    }
)


@pytest.mark.parametrize("name", _REDUCED)
@pytest.mark.parametrize("path", ["native", "generic"])
def test_deprecated_elementwise_mean_as_torch(name: str, path: str) -> None:
    """torch's deprecated ``reduction='elementwise_mean'``: where torch takes it (its
    ``_Reduction.get_enum``) ours gives torch's value and torch's warning, attributed to the
    caller's line; where torch refuses it (four losses check the string themselves), ours
    raises too. Both paths: legacy flags, accelerator tensors and other libraries take the
    generic one."""
    sample = _samples(name)[0]
    want, want_warnings = _deprecated_mean(OPS[name].op, sample)
    with _native.disabled() if path == "generic" else contextlib.nullcontext():
        got, got_warnings = _deprecated_mean(_ours(name), sample)
    if want is ValueError:
        assert got is ValueError, f"{name}: torch refuses 'elementwise_mean', ours returned"
        return
    assert got is not ValueError, f"{name}: torch takes 'elementwise_mean', ours raised"
    _assert_close(got, want, f"{name} value")
    assert [str(w.message) for w in got_warnings] == [str(w.message) for w in want_warnings]
    assert got_warnings[0].filename == __file__


def test_triplet_distance_function_default_as_torch() -> None:
    """``TripletMarginWithDistanceLoss().distance_function`` is callable, as torch's
    ``nn.PairwiseDistance()`` there, with its values; the loss keeps torch's value."""
    ours, theirs = al.TripletMarginWithDistanceLoss(), torch.nn.TripletMarginWithDistanceLoss()
    a, p, n = torch.randn(3, 5, 4, generator=torch.Generator().manual_seed(SEED))
    _assert_close(ours.distance_function(a, p), theirs.distance_function(a, p), "distance")
    _assert_close(ours(a, p, n), theirs(a, p, n), "loss")


class DocumentedMismatch(AssertionError):
    """The documented difference itself (the xfail of a test that first checks its shape)."""


@pytest.mark.xfail(strict=True, raises=DocumentedMismatch, reason=f"README: ...{CTC_GRADIENT}...")
def test_ctc_log_probs_gradient() -> None:
    """The values agree and torch's raw gradient with respect to ``log_probs`` is ours plus
    ``exp(log_probs)`` (reduction 'sum', every input length full), so the gradients differ."""
    index = next(
        i
        for i, s in enumerate(_samples("ctc_loss"))
        if s.kwargs["reduction"] == "sum" and not _list_lengths("ctc_loss", i, s, "generic")
    )
    sample = _samples("ctc_loss")[index]
    assert bool((sample.args[1] == sample.input.shape[0]).all())
    expected, _ = _torch_value("ctc_loss", sample)
    ours = F.ctc_loss(sample.input, *sample.args, **sample.kwargs)
    _assert_close(ours, expected, "ctc_loss value")
    (theirs,) = _grads(expected, [sample.input])
    (g,) = _grads(ours, [sample.input])
    _assert_close(theirs - g, sample.input.detach().exp(), "torch's minus ours")
    try:
        _assert_close(g, theirs, "ctc_loss gradient with respect to log_probs")
    except AssertionError as exc:
        raise DocumentedMismatch(str(exc)) from None


# --------------------------------------------------------------------------------------------
# Every other dtype torch's op supports on the CPU (float32, half precision, integer, complex)

DTYPE_SAMPLES = 6
_HALF = ("float16", "bfloat16")


def _other_dtypes(name: str) -> list[str]:
    supported = OPS[name].supported_dtypes("cpu")
    return sorted(str(d).removeprefix("torch.") for d in supported if d != torch.float64)


@functools.cache
def _dtype_samples(name: str, dtype: str) -> list[Any]:
    return _op_samples(name, getattr(torch, dtype), requires_grad=False)


def _cast_tensors(x: Any, keep: Callable[[Any], bool], dtype: Any) -> Any:
    """``x`` with every tensor that ``keep`` selects cast to ``dtype`` (lists followed)."""
    if isinstance(x, torch.Tensor):
        return x.to(dtype) if keep(x) else x
    if isinstance(x, (list, tuple)):
        return type(x)(_cast_tensors(y, keep, dtype) for y in x)
    return x


def _sample_as(sample: Any, keep: Callable[[Any], bool], dtype: Any) -> Any:
    """The sample with the tensors ``keep`` selects cast to ``dtype``."""
    return cmi.SampleInput(
        _cast_tensors(sample.input, keep, dtype),
        args=tuple(_cast_tensors(a, keep, dtype) for a in sample.args),
        kwargs={k: _cast_tensors(v, keep, dtype) for k, v in sample.kwargs.items()},
    )


def _unsigned_wraps(name: str, index: int, sample: Any, path: str) -> bool:
    """torch subtracts uint8 inputs in uint8 before promoting (``2 - 5`` is 253): the sample's
    answer changes (beyond float32's tolerance) when its uint8 tensors are widened first.
    (``pairwise_distance(p=-1)`` can hide it: a zero difference decides the norm either way.)"""
    if not path.startswith("dtype") or sample.input.dtype != torch.uint8:
        return False
    wide = _sample_as(sample, lambda t: t.dtype == torch.uint8, torch.int16)
    first, _ = _torch_value(name, sample)
    second, _ = _torch_value(name, wide)
    return not torch.allclose(first.double(), second.double(), rtol=1.3e-6, atol=1e-5)


def _complex_embeddings(name: str, index: int, sample: Any, path: str) -> bool:
    return path.startswith("dtype") and name.startswith("triplet") and sample.input.is_complex()


def _complex_distance(name: str, index: int, sample: Any, path: str) -> bool:
    return path.startswith("dtype") and name == "pairwise_distance" and sample.input.is_complex()


DOCUMENTED += [
    Difference("torch subtracts unsigned integer inputs before it promotes", _unsigned_wraps),
    Difference(
        "complex embeddings (torch's triplet losses take them)", _complex_embeddings, TypeError
    ),
    Difference(
        "complex inputs (torch's `pairwise_distance` takes them)", _complex_distance, TypeError
    ),
]


def _dtype_params() -> list[Any]:
    params = []
    for name in NAMES:
        for dtype in _other_dtypes(name):
            samples = _dtype_samples(name, dtype)
            step = max(1, len(samples) // DTYPE_SAMPLES)
            for index in range(0, len(samples), step)[:DTYPE_SAMPLES]:
                for path in (["dtype-native"] if name in NATIVE else []) + ["dtype-generic"]:
                    sample = samples[index]
                    marks = _marks(name, index, sample, path)
                    param_id = f"{name}-{dtype}-{index}-{path.removeprefix('dtype-')}"
                    params.append(pytest.param(name, dtype, index, path, marks=marks, id=param_id))
    return params


def _error(x: Any, ref: Any) -> Any:
    """|x - ref| in float64, infinite where ``x`` is NaN or infinite and ``ref`` is not (and 0
    where both are the same non-finite value)."""
    x, ref = x.double(), ref.double()
    same = (x == ref) | (x.isnan() & ref.isnan())
    err = (x - ref).abs().nan_to_num(nan=math.inf)
    return torch.where(same, 0.0, err)


def _materialised(sample: Any) -> Any:
    """torch's ``cross_entropy`` of the logits ``input @ linear_weight.T + linear_bias``
    computed in the input dtype (``input``: ``(N, D)`` or ``(D,)``; ``linear_weight``: ``(C,
    *extra, D)``; logits ``(N, C, *extra)`` or ``(C, *extra)``), with the sample's options."""
    x, w, target = sample.input, *sample.args
    kwargs = dict(sample.kwargs)
    bias, _ = kwargs.pop("linear_bias", None), kwargs.pop("options", None)
    logits = (x @ w.reshape(-1, w.shape[-1]).T).reshape(*x.shape[:-1], *w.shape[:-1])
    if bias is not None:
        logits = logits + bias
    if kwargs.get("ignore_index") is None:
        kwargs.pop("ignore_index", None)
    return torch.nn.functional.cross_entropy(logits, target, **kwargs)


@pytest.mark.parametrize(("name", "dtype", "index", "path"), _dtype_params())
def test_sample_at_every_dtype(name: str, dtype: str, index: int, path: str) -> None:
    """torch's samples of the loss at every other dtype its op takes on the CPU: our result has
    torch's dtype and shape; at float32 and with integer inputs torch's value (float32
    tolerances); in half precision it is at least as close to the float64 answer on the same
    inputs as torch's own, or within the half dtype's tolerance of it (torch rounds each step
    of some losses to half precision: ``soft_margin_loss`` overflows to inf at float16 where
    the float64 answer is 30.6)."""
    sample = _dtype_samples(name, dtype)[index]
    where = f"{name} {dtype} sample {index} {_sample_repr(sample)} [{path}]"
    expected, _ = _torch_value(name, sample)
    native = _native.disabled() if path == "dtype-generic" else contextlib.nullcontext()
    with native, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="reduction: 'mean' divides")
        ours = _ours(name)(sample.input, *sample.args, **sample.kwargs)
    assert (ours.dtype, ours.shape) == (expected.dtype, expected.shape), where
    if dtype not in _HALF:
        _assert_close(ours, expected, f"{where} value")
        return
    exact, _ = _torch_value(name, _sample_as(sample, torch.is_floating_point, torch.float64))
    rtol, atol = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5)}[dtype]
    allowed = torch.maximum(_error(expected, exact), atol + rtol * exact.double().abs())
    if name.startswith("linear_cross_entropy") and path == "dtype-generic":
        # README: the generic path is the materialised loss, its logits in the input dtype
        allowed = torch.maximum(allowed, _error(_materialised(sample), exact))
    excess = _error(ours, exact) - allowed
    assert bool((excess <= 0).all()), (
        f"{where}: ours {ours.flatten()[:6].tolist()}, torch {expected.flatten()[:6].tolist()}, "
        f"float64 {exact.flatten()[:6].tolist()}"
    )


# --------------------------------------------------------------------------------------------
# Error inputs


def _error_params() -> list[Any]:
    params = []
    for name in NAMES:
        for index, error in enumerate(_error_inputs(name)):
            marks = _marks(name, index, error, "error")
            params.append(pytest.param(name, index, marks=marks, id=f"{name}-error{index}"))
    return params


@pytest.mark.parametrize(("name", "index"), _error_params())
def test_error_input(name: str, index: int) -> None:
    error = _error_inputs(name)[index]
    sample = error.sample_input
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a warning must not count as the expected exception
        with pytest.raises(Exception):  # noqa: B017 - torch's type/message need not match
            _ours(name)(sample.input, *sample.args, **sample.kwargs)


# --------------------------------------------------------------------------------------------
# ModuleInfo inputs of the loss classes


MODULES = {
    m.module_cls.__name__: m
    for m in common_modules.module_db
    if m.module_cls.__name__.endswith("Loss") and hasattr(al, m.module_cls.__name__)
}


@functools.cache
def _module_inputs(cls_name: str) -> list[Any]:
    info = MODULES[cls_name]
    return _seeded(
        info.module_inputs_func,
        info,
        device="cpu",
        dtype=torch.float64,
        requires_grad=True,
        training=True,
    )


def _module_params() -> list[Any]:
    params = []
    for cls_name in sorted(MODULES):
        inputs = _module_inputs(cls_name)
        for index in _subsample(len(inputs)):
            marks = _marks(cls_name, index, inputs[index], "module")
            params.append(pytest.param(cls_name, index, marks=marks, id=f"{cls_name}-{index}"))
    return params


@pytest.mark.parametrize(("cls_name", "index"), _module_params())
def test_module_input(cls_name: str, index: int) -> None:
    module_input = _module_inputs(cls_name)[index]
    ctor = module_input.constructor_input
    forward = module_input.forward_input
    theirs = MODULES[cls_name].module_cls(*ctor.args, **ctor.kwargs)
    ours = getattr(al, cls_name)(*ctor.args, **ctor.kwargs)
    if any(True for _ in theirs.parameters()):
        # a module with its own (randomly initialised) parameters: compare at torch's values
        ours.load_state_dict(theirs.state_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = theirs(*forward.args, **forward.kwargs)
    value = ours(*forward.args, **forward.kwargs)
    _assert_close(value, expected, f"{cls_name} input {index} ({module_input.desc})")


@functools.cache
def _module_error_inputs(cls_name: str) -> list[Any]:
    info = MODULES[cls_name]
    if info.module_error_inputs_func is None:
        return []
    make = info.module_error_inputs_func
    return _seeded(make, info, "cpu", torch.float64, requires_grad=False, training=True)


MODULE_ERRORS = [
    pytest.param(cls_name, index, id=f"{cls_name}-error{index}")
    for cls_name in sorted(MODULES)
    for index in range(len(_module_error_inputs(cls_name)))
]


@pytest.mark.parametrize(("cls_name", "index"), MODULE_ERRORS)
def test_module_error_input(cls_name: str, index: int) -> None:
    """Every ModuleInfo error input (a target of the wrong shape or dtype, a weight of the
    wrong size or dtype, an out-of-range option) raises on our class too, at construction or
    at the call, as on torch's (any exception: ours name the argument, torch's type may
    differ)."""
    error = _module_error_inputs(cls_name)[index].module_error_input
    ctor, forward = error.constructor_input, error.forward_input
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception):  # noqa: B017 - torch's type/message need not match
            getattr(al, cls_name)(*ctor.args, **ctor.kwargs)(*forward.args, **forward.kwargs)


# --------------------------------------------------------------------------------------------
# common_nn.criterion_tests: torch's loss tests without a batch dimension


common_nn = pytest.importorskip("torch.testing._internal.common_nn")
CRITERIA = {t["fullname"]: t for t in common_nn.criterion_tests}


@contextlib.contextmanager
def _default_dtype(dtype: Any) -> Any:
    before = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(before)


def _criterion_inputs(test: dict[str, Any]) -> list[Any]:
    """The entry's input(s) and target, made as torch's harness makes them: seeded, under the
    entry's default dtype (``torch.rand(3)`` is float64 there)."""
    with _default_dtype(test.get("default_dtype", torch.float64)), torch.random.fork_rng():
        torch.manual_seed(SEED)
        made = []
        for kind in ("input", "target"):
            fn = test.get(f"{kind}_fn")
            made.append(fn() if fn is not None else torch.randn(test[f"{kind}_size"]))
    inputs, target = made
    return [*(inputs if isinstance(inputs, (list, tuple)) else [inputs]), target]


@pytest.mark.parametrize("fullname", sorted(CRITERIA))
def test_criterion_without_batch_dimension(fullname: str) -> None:
    """Each ``common_nn.criterion_tests`` entry (16 loss modules on inputs without a batch
    axis, each reduction): our class gives torch's module's value and gradients with respect to
    every floating argument, and the entry's reference value. The entries' constructors bind
    ``reduction`` late (each builds ``'sum'``); the module is rebuilt with the reduction its
    name ends with."""
    test = CRITERIA[fullname]
    cls = type(test["constructor"]())
    reduction = fullname.rsplit("_", 1)[1]
    theirs, ours = cls(reduction=reduction), getattr(al, cls.__name__)(reduction=reduction)
    args = _criterion_inputs(test)

    def call(loss: Any) -> tuple[Any, list[Any]]:
        leaves = [a.detach().requires_grad_(a.is_floating_point()) for a in args]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's KLDivLoss warns at 'mean'
            out = loss(*leaves)
        wrt = [x for x in leaves if x.requires_grad]
        grads = torch.autograd.grad(out.sum(), wrt, allow_unused=True)
        # a gradient torch leaves undefined counts as zeros
        return out, [torch.zeros_like(x) if g is None else g for x, g in zip(wrt, grads)]

    value, grads = call(ours)
    expected, expected_grads = call(theirs)
    _assert_close(value, expected, fullname)
    assert len(grads) == len(expected_grads) > 0
    for i, (g, e) in enumerate(zip(grads, expected_grads)):
        _assert_close(g, e, f"{fullname} d/d(floating argument {i})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = test["reference_fn"](*[a.detach() for a in args], theirs)
    _assert_close(value.detach(), torch.as_tensor(reference, dtype=value.dtype), fullname)


# --------------------------------------------------------------------------------------------
# common_nn.get_new_module_tests(): torch's functional loss tests (reduction='none', weights,
# ignore_index, 0-d and N-d inputs, a complex l1_loss)


class _OursFirst(types.ModuleType):
    """``torch.nn.functional`` with every loss we mirror replaced by ours."""

    def __getattr__(self, name: str) -> Any:
        return getattr(F if name in F.__all__ else torch.nn.functional, name)


@functools.cache
def _functional_tests() -> dict[str, dict[str, Any]]:
    """The loss entries, made once under a fixed seed: each binds its target (and weight) when
    it is made, and calls ``F.<loss>`` through common_nn's global ``F`` when it runs."""
    made = _seeded(common_nn.get_new_module_tests)
    return {t["fullname"]: t for t in made if "loss" in t.get("fullname", "").lower()}


def _functional_input(test: dict[str, Any]) -> Any:
    with _default_dtype(test.get("default_dtype", torch.float64)), torch.random.fork_rng():
        torch.manual_seed(SEED)
        if "input" in test:
            return test["input"].clone()
        if "input_fn" in test:
            return test["input_fn"]()
        return torch.randn(test["input_size"])


def _real_sum(t: Any) -> Any:
    """The sum of every real number ``t`` holds (a complex entry counts its two parts)."""
    return torch.view_as_real(t).sum() if t.is_complex() else t.sum()


@pytest.mark.parametrize("fullname", sorted(_functional_tests()))
def test_functional_loss_entry(fullname: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each loss entry of ``common_nn.get_new_module_tests()`` (50, each a call of a
    ``torch.nn.functional`` loss on a fixed target), with ``F`` resolving to ours: the value
    torch's own call gives and the entry's ``reference_fn`` gives, the gradient with respect
    to the input and, where torch's harness checks it (``check_gradgrad``), the second
    derivative (the gradient of the gradient's sum)."""
    test = _functional_tests()[fullname]
    module = test["constructor"]()
    x = _functional_input(test)

    def call(functional: Any) -> tuple[Any, list[Any]]:
        monkeypatch.setattr(common_nn, "F", functional)
        leaf = x.detach().requires_grad_(True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's kl_div warns at 'mean'
            out = module(leaf)
        (g,) = torch.autograd.grad(_real_sum(out), leaf, create_graph=True)
        derivatives = [g]
        if test.get("check_gradgrad", True) and g.requires_grad:
            (gg,) = torch.autograd.grad(_real_sum(g), leaf, allow_unused=True)
            derivatives.append(torch.zeros_like(leaf) if gg is None else gg)
        return out, derivatives

    value, ours = call(_OursFirst("agnostic_losses_first"))
    expected, theirs = call(torch.nn.functional)
    _assert_close(value, expected, fullname)
    assert len(ours) == len(theirs)
    for order, (g, e) in enumerate(zip(ours, theirs), start=1):
        _assert_close(g, e, f"{fullname}: derivative of order {order}")
    reference = test["reference_fn"](x, [], module)
    precision = test.get("precision", 1e-7)
    torch.testing.assert_close(
        value.detach(), reference.to(value.dtype), atol=precision, rtol=0, equal_nan=True
    )
