"""Conformance with optax on optax's own loss tests.

optax's wheel ships its test modules (``optax/losses/_classification_test.py`` ...). Each test
here runs one of them with every loss of that optax module that we mirror at top level
(``optax.losses._classification.softmax_cross_entropy`` ...) replaced by ours, on JAX arrays in
JAX's default 32-bit mode, as optax's own CI runs them: literals, ``jit``/``vmap``/``grad``,
Hessians, error messages. The replacement is a ``monkeypatch`` of the optax module's attribute,
so the test's calls (and optax's calls between its own functions) reach ours, and it is undone
after each test (the registry's optax peers in the same process stay optax's). Parameterised
tests that received an optax function itself as a parameter at import time
(``loss_fn=ranking_softmax_loss``) get ours in its place, also for the one test only.

A test that fails with ours is allowed only through ``DIFFERENCES`` (test id -> the README line
it relies on, ``xfail(strict=True)``); there are none at present. Skipped without optax, or with
an optax whose wheel has no test modules.
"""

from __future__ import annotations

import doctest
import importlib
import io
import unittest
from typing import Any

import pytest

import agnostic_losses as al
from agnostic_losses._testing.backends import Backend

FAMILIES = (
    "_classification",
    "_fenchel_young",
    "_ranking",
    "_regression",
    "_segmentation",
    "_self_supervised",
    "_smoothing",
)

# test id -> a distinctive substring of the README line that allows the difference
DIFFERENCES: dict[str, str] = {}


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _short(test: unittest.TestCase) -> str:
    """``Class.method``: absl's parameterised ids also print their parameters, some of them
    function reprs with addresses, which differ between pytest-xdist workers."""
    return f"{type(test).__name__}.{test._testMethodName}"


def _swap_parameters(test: unittest.TestCase, swaps: list[tuple[Any, Any]]) -> list[Any]:
    """Replace optax functions bound as parameters of ``test`` (in the closure of absl's
    generated method) by ours; returns what to put back."""
    method = getattr(type(test), test._testMethodName)
    undo = []
    for cell in getattr(method, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue

        def swap(x: Any) -> Any:
            return next((ours for theirs, ours in swaps if x is theirs), x)

        if isinstance(value, dict):
            new: Any = {k: swap(v) for k, v in value.items()}
        elif isinstance(value, tuple):
            new = tuple(swap(v) for v in value)
        elif swap(value) is not value:  # a single bare parameter
            undo.append((cell, value))
            cell.cell_contents = swap(value)
            continue
        else:
            continue
        if any(
            a is not b
            for a, b in zip(
                new.values() if isinstance(new, dict) else new,
                value.values() if isinstance(value, dict) else value,
            )
        ):
            undo.append((cell, value))
            cell.cell_contents = new
    return undo


def _collect() -> list[tuple[str, str]]:
    """(family, unittest id) of every optax loss test; empty without optax or its tests."""
    if Backend.JAX.unavailable_reason() or _import("optax") is None:
        return []
    from absl import flags

    if not flags.FLAGS.is_parsed():
        flags.FLAGS.mark_as_parsed()
    found = []
    for family in FAMILIES:
        module = _import(f"optax.losses.{family}_test")
        if module is None:
            continue
        suite = unittest.defaultTestLoader.loadTestsFromModule(module)
        # (the doctests _ranking_test adds run optax's own docstrings, not a loss call of ours)
        tests = [t for t in _flatten(suite) if not isinstance(t, doctest.DocTestCase)]
        found += [(family, _short(test)) for test in tests]
    return found


def _flatten(suite: unittest.TestSuite) -> list[unittest.TestCase]:
    out: list[unittest.TestCase] = []
    for item in suite:
        out += _flatten(item) if isinstance(item, unittest.TestSuite) else [item]
    return out


def _ours(family: str) -> dict[str, Any]:
    """The losses of ``optax.losses.<family>`` that we mirror, by name."""
    module = importlib.import_module(f"optax.losses.{family}")
    return {
        name: getattr(al, name)
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and callable(obj)
        and getattr(obj, "__module__", "").startswith("optax")
        and hasattr(al, name)
    }


TESTS = _collect()


def _params() -> list[Any]:
    out = []
    for family, test_id in TESTS:
        marks = []
        if test_id in DIFFERENCES:
            marks.append(pytest.mark.xfail(strict=True, reason=f"README: {DIFFERENCES[test_id]}"))
        out.append(pytest.param(family, test_id, id=test_id, marks=marks))
    return out


def test_optax_tests_were_found() -> None:
    if not TESTS:
        pytest.skip("optax (with its shipped test modules) is not installed")
    families = {family for family, _ in TESTS}
    assert families == set(FAMILIES), families
    assert len(TESTS) >= 150, len(TESTS)
    # every family patches something: a renamed optax module would silently test optax itself
    assert all(_ours(family) for family in FAMILIES)


@pytest.mark.parametrize(("family", "test_id"), _params())
def test_optax_own_test_passes_with_ours(
    family: str, test_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Backend.JAX32.namespace()  # optax's tests assume JAX's default 32-bit mode
    module = importlib.import_module(f"optax.losses.{family}")
    swaps = []
    for name, ours in _ours(family).items():
        swaps.append((getattr(module, name), ours))
        monkeypatch.setattr(module, name, ours)
    test_module = importlib.import_module(f"optax.losses.{family}_test")
    (test,) = _flatten(unittest.defaultTestLoader.loadTestsFromName(test_id, test_module))
    undo = _swap_parameters(test, swaps)
    try:
        result = unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(test)
    finally:
        for cell, value in undo:
            cell.cell_contents = value
    problems = result.failures + result.errors
    assert result.testsRun == 1, test_id
    assert not problems, "\n".join(trace for _, trace in problems)


def test_documented_differences_are_in_readme() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for test_id, line in DIFFERENCES.items():
        assert line in readme, (test_id, line)
