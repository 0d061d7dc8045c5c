"""Conformance with optax, braintools, brainpy and keras on their own loss tests.

optax's, braintools', brainpy's and keras's wheels ship their test modules
(``optax/losses/_classification_test.py``, ``braintools/metric/_regression_test.py``,
``brainpy/losses/comparison_coverage_test.py``, ``keras/src/losses/losses_test.py`` ...). Each
test here runs one of their test cases with every loss of the peer that we mirror replaced by
ours (at top level; keras's by ``agnostic_losses.keras``'s), on JAX arrays in JAX's default
32-bit mode, as their own CI runs them: literals, ``jit``/``vmap``/``grad``, Hessians, error
messages, brainpy's ``bm.Array`` inputs, keras's NumPy inputs on its JAX backend, configs and
serialization. unittest cases and pytest-style ``Test*`` classes (brainpy's) are both run.

The replacement is a ``monkeypatch`` of every attribute of the peer's package and loss modules
that holds the peer's function (``optax.losses._classification.softmax_cross_entropy``,
``braintools.metric.squared_error`` ...), so the test's calls and the peer's calls between its
own functions reach ours; it is undone after each test (the registry's peers in the same process
stay the peer's). Parameterised tests that received the peer's function itself as a parameter at
import time (``loss_fn=ranking_softmax_loss``) get ours in its place, for that test only. Ours are
counted as they are called: a test that calls none of them (it tests a loss of the peer we do
not mirror, or its own utilities) is skipped, not passed.

A test that fails with ours is allowed only through ``DIFFERENCES`` (test id -> a distinctive
substring of the README line it relies on, ``xfail(strict=True)``). A peer that is not installed,
or whose wheel has no test modules, is skipped.
"""

from __future__ import annotations

import doctest
import functools
import importlib
import inspect
import io
import os
import unittest
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from agnostic_losses._testing.backends import Backend


class Suite(NamedTuple):
    package: str  # where the peer's losses are exported
    families: tuple[str, ...]  # its loss modules, each with a ``<family><suffix>`` test module
    minimum: int  # test cases we expect to find (a renamed module must not go unnoticed)
    not_ours: frozenset[str] = frozenset()  # same name, another thing
    suffixes: tuple[str, ...] = ("_test",)
    ours: str = "agnostic_losses"  # where our mirrors of its losses are


SUITES = {
    "optax": Suite(
        "optax.losses",
        (
            "_classification",
            "_fenchel_young",
            "_ranking",
            "_regression",
            "_segmentation",
            "_self_supervised",
            "_smoothing",
        ),
        150,
    ),
    "braintools": Suite(
        "braintools.metric",
        ("_classification", "_fenchel_young", "_pairwise", "_ranking", "_regression", "_smoothing"),
        150,
        # braintools' L1Loss is a metric object (update/compute); ours is torch's module
        frozenset({"L1Loss"}),
    ),
    "brainpy": Suite(
        "brainpy.losses",
        ("comparison", "regularization"),
        30,
        # brainpy's Loss objects (update/__call__), and its nll_loss(input, target, reduction):
        # ours is braintools' nll_loss(log_probs, target)
        frozenset({"CrossEntropyLoss", "L1Loss", "Loss", "MSELoss", "NLLLoss", "WeightedLoss"})
        | frozenset({"nll_loss"}),
        ("_test", "_coverage_test"),
    ),
    # keras's wheel ships its tests from 3.15.1 on (its losses are 3.15.0's); its Loss base
    # classes are not replaced (keras's own losses and layers derive from them)
    "keras": Suite(
        "keras.src.losses",
        ("losses",),
        150,
        frozenset({"Loss", "LossFunctionWrapper"}),
        ours="agnostic_losses.keras",
    ),
}

_SHAPES = "Shapes are checked, not broadcast"
_PYTREES = "sum the loss over the leaves"
_BFLOAT16 = "NumPy has no bfloat16"
_CONFIG = "`get_config()` returns every constructor argument"
_AXIS = "keras's JAX backend raises for it"
# test id -> a distinctive substring of the README line that allows the difference
DIFFERENCES: dict[str, str] = {
    # braintools asserts (AssertionError) on a (4,) / (4, 1) pair; we raise a ValueError
    "braintools:SquaredErrorTest.test_shape_mismatch": _SHAPES,
    "braintools:L2LossTest.test_shape_mismatch": _SHAPES,
    "braintools:AbsoluteErrorTest.test_shape_mismatch": _SHAPES,
    "braintools:CosineDistanceTest.test_default_epsilon_is_nonzero": "(braintools: 1e-8)",
    "braintools:HuberReductionTest.test_quantity_delta": "brainunit `Quantity`",
    "braintools:SigmoidFocalLossTest.test_large_logit_fl_less_than_ce": "whose 1e-5 rounding",
    # brainpy sums a loss over the leaves of a dict of arrays; ours take arrays
    "brainpy:TestPytreeAndArrayEnvelope.test_pytree_l2_loss": _PYTREES,
    "brainpy:TestPytreeAndArrayEnvelope.test_pytree_huber": _PYTREES,
    "brainpy:TestPytreeEnvelope.test_smooth_labels_pytree": _PYTREES,
    # keras's config has no `dtype` (and 3.15 drops Huber's `delta`)
    "keras:CosineSimilarityTest.test_config": _CONFIG,
    "keras:HuberLossTest.test_config": _CONFIG,
    "keras:LogCoshTest.test_config": _CONFIG,
    # keras's JAX backend raises for axis=0 with these shapes; keras's torch backend and ours run
    "keras:SparseCategoricalCrossentropyTest.test_binary_segmentation_different_axis": _AXIS,
    "keras:SparseCategoricalCrossentropyTest.test_multi_class_segmentation_different_axis": _AXIS,
}
# keras's test_dtype_arg passes NumPy arrays with dtype="bfloat16" (keras converts them to its
# backend's tensors; ours keep NumPy, which has no bfloat16, and raise a TypeError naming it)
_KERAS_DTYPE_TESTS = (
    "BinaryCrossentropy BinaryFocalCrossentropy CTC CategoricalCrossentropy "
    "CategoricalFocalCrossentropy CategoricalGeneralizedCrossEntropy CategoricalHinge Circle "
    "CosineSimilarity Dice Hinge HuberLoss KLDivergence LogCosh MeanAbsoluteError "
    "MeanAbsolutePercentageError MeanSquaredError MeanSquaredLogarithmicError Poisson "
    "SparseCategoricalCrossentropy SquaredHinge Tversky"
)
DIFFERENCES.update({f"keras:{t}Test.test_dtype_arg": _BFLOAT16 for t in _KERAS_DTYPE_TESTS.split()})


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _short(test: unittest.TestCase) -> str:
    """``Class.method``: absl's parameterised ids also print their parameters, some of them
    function reprs with addresses, which differ between pytest-xdist workers."""
    return f"{type(test).__name__}.{test._testMethodName}"


def _flatten(suite: unittest.TestSuite) -> list[unittest.TestCase]:
    out: list[unittest.TestCase] = []
    for item in suite:
        out += _flatten(item) if isinstance(item, unittest.TestSuite) else [item]
    return out


def _on_jax(peer: str) -> bool:
    """keras runs on the JAX backend in this process (the other peers are JAX libraries)."""
    return peer != "keras" or importlib.import_module("keras").backend.backend() == "jax"


def _plain_tests(module: Any) -> list[str]:
    """``Class.method`` of the pytest-style tests of ``module``: ``Test*`` classes that are
    not unittest cases, ``test*`` methods taking no fixture."""
    out = []
    for name, cls in vars(module).items():
        if not (name.startswith("Test") and inspect.isclass(cls)):
            continue
        if issubclass(cls, unittest.TestCase) or cls.__module__ != module.__name__:
            continue
        for method in sorted(vars(cls)):
            if method.startswith("test") and callable(getattr(cls, method)):
                params = list(inspect.signature(getattr(cls, method)).parameters)
                assert params == ["self"], (module.__name__, name, method, params)
                out.append(f"{name}.{method}")
    return out


def _collect() -> list[tuple[str, str, str]]:
    """(peer, test module, test id) of every loss test the installed peers ship."""
    if Backend.JAX.unavailable_reason():
        return []
    found = []
    for peer, suite in SUITES.items():
        if peer == "keras":
            # keras picks its backend at import; its tests and our differences are for JAX
            os.environ.setdefault("KERAS_BACKEND", "jax")
        if _import(suite.package) is None or not _on_jax(peer):
            continue
        from absl import flags

        if not flags.FLAGS.is_parsed():
            flags.FLAGS.mark_as_parsed()
        for family in suite.families:
            for suffix in suite.suffixes:
                module = _import(f"{suite.package}.{family}{suffix}")
                if module is None:
                    continue
                tests = _flatten(unittest.defaultTestLoader.loadTestsFromModule(module))
                # (doctests that a test module adds run the peer's own docstrings, not ours)
                ids = [_short(t) for t in tests if not isinstance(t, doctest.DocTestCase)]
                found += [(peer, f"{family}{suffix}", t) for t in ids + _plain_tests(module)]
    return found


def _spy(ours: Any, calls: list[str]) -> Any:
    """``ours``, recording its name in ``calls`` on every call."""

    @functools.wraps(ours)
    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(ours.__name__)
        return ours(*args, **kwargs)

    return spy


def _patches(peer: str) -> list[tuple[Any, str, Any, Any]]:
    """(module, name, theirs, ours): every attribute of the peer's package and loss modules
    holding one of its losses that we mirror at top level."""
    suite = SUITES[peer]
    modules = [importlib.import_module(suite.package)]
    modules += [importlib.import_module(f"{suite.package}.{f}") for f in suite.families]
    ours = importlib.import_module(suite.ours)
    theirs: dict[str, Any] = {}
    for module in modules[1:]:
        for name, obj in vars(module).items():
            if (
                not name.startswith("_")
                and name not in suite.not_ours
                and callable(obj)
                and getattr(obj, "__module__", "").startswith(suite.package.split(".")[0])
                and hasattr(ours, name)
            ):
                theirs.setdefault(name, obj)
    return [
        (module, name, obj, getattr(ours, name))
        for module in modules
        for name, obj in theirs.items()
        if getattr(module, name, None) is obj
    ]


def _swap_parameters(test: unittest.TestCase, swaps: list[tuple[Any, Any]]) -> list[Any]:
    """Replace the peer's functions bound as parameters of ``test`` (in the closure of absl's
    generated method) by ours; returns what to put back."""

    def swap(x: Any) -> Any:
        return next((ours for theirs, ours in swaps if x is theirs), x)

    method = getattr(type(test), test._testMethodName)
    undo = []
    for cell in getattr(method, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if isinstance(value, dict):
            new: Any = {k: swap(v) for k, v in value.items()}
            changed = any(new[k] is not v for k, v in value.items())
        elif isinstance(value, tuple):
            new = tuple(swap(v) for v in value)
            changed = any(a is not b for a, b in zip(new, value))
        else:  # a single bare parameter
            new = swap(value)
            changed = new is not value
        if changed:
            undo.append((cell, value))
            cell.cell_contents = new
    return undo


TESTS = _collect()


def _params() -> list[Any]:
    out = []
    for peer, module, test_id in TESTS:
        key = f"{peer}:{test_id}"
        marks = []
        if key in DIFFERENCES:
            marks.append(pytest.mark.xfail(strict=True, reason=f"README: {DIFFERENCES[key]}"))
        out.append(pytest.param(peer, module, test_id, id=f"{peer}-{test_id}", marks=marks))
    return out


@pytest.mark.parametrize("peer", sorted(SUITES))
def test_peer_tests_were_found(peer: str) -> None:
    suite = SUITES[peer]
    if Backend.JAX.unavailable_reason() or _import(suite.package) is None:
        pytest.skip(f"{peer} is not installed")
    if not _on_jax(peer):
        pytest.skip(f"{peer} runs on another backend in this process")
    found = [(module, test_id) for p, module, test_id in TESTS if p == peer]
    if not found:
        pytest.skip(f"{peer}'s wheel ships no test modules")
    families = {f for f in suite.families for m, _ in found if m.startswith(f"{f}_")}
    assert families == set(suite.families)
    assert len(found) >= suite.minimum, len(found)
    ids = [test_id for _, test_id in found]
    assert len(set(ids)) == len(ids), "two test modules share a test id"
    # every loss module patches something: a renamed module would silently test the peer
    patched = {module.__name__ for module, *_ in _patches(peer)}
    assert {f"{suite.package}.{f}" for f in suite.families} <= patched


def _run(test: Any, method: str) -> None:
    """Run one test of the peer (a unittest case, or an instance of a pytest-style class);
    its failure or error is raised."""
    if not isinstance(test, unittest.TestCase):
        if hasattr(test, "setup_method"):
            test.setup_method(getattr(test, method))
        getattr(test, method)()
        return
    result = unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(test)
    assert result.testsRun == 1, method
    problems = result.failures + result.errors
    assert not problems, "\n".join(trace for _, trace in problems)


@pytest.mark.parametrize(("peer", "module", "test_id"), _params())
def test_peer_own_test_passes_with_ours(
    peer: str, module: str, test_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Backend.JAX32.namespace()  # the peers' tests assume JAX's default 32-bit mode
    calls: list[str] = []
    patches = [(m, name, theirs, _spy(ours, calls)) for m, name, theirs, ours in _patches(peer)]
    for m, name, _, ours in patches:
        monkeypatch.setattr(m, name, ours)
    test_module = importlib.import_module(f"{SUITES[peer].package}.{module}")
    cls_name, method = test_id.split(".")
    undo = []
    if issubclass(getattr(test_module, cls_name), unittest.TestCase):
        (test,) = _flatten(unittest.defaultTestLoader.loadTestsFromName(test_id, test_module))
        undo = _swap_parameters(test, [(theirs, ours) for _, _, theirs, ours in patches])
    else:  # a pytest-style class
        test = getattr(test_module, cls_name)()
    try:
        _run(test, method)
    finally:
        for cell, value in undo:
            cell.cell_contents = value
    if not calls:
        pytest.skip(f"{peer}'s test calls none of the losses we mirror")


def test_documented_differences_are_in_readme() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for test_id, line in DIFFERENCES.items():
        assert line in readme, (test_id, line)
