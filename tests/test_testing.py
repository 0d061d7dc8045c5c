"""Tests of ``agnostic_losses.testing``: assert_close, compare_backends and its report."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from array_api_compat import array_namespace

from agnostic_losses._testing.assertions import error_stats, ulp
from agnostic_losses._testing.backends import Backend
from agnostic_losses._testing.compare import finite_difference_grads, round_to_dtype
from agnostic_losses.testing import assert_close, compare_backends

EAGER = ["numpy", "array_api_strict"]


def _installed(name: str) -> bool:
    return Backend.parse(name).unavailable_reason() is None


needs_torch = pytest.mark.skipif(not _installed("torch"), reason="torch is not installed")
needs_jax = pytest.mark.skipif(not _installed("jax"), reason="jax is not installed")


def squared_error(x, y):
    xp = array_namespace(x, y)
    return xp.sum((x - y) ** 2, axis=-1)


X = [[1.0, 2.0, -0.5], [3.0, 4.0, 0.25]]
Y = [[0.5, 2.5, 0.0], [3.0, 3.0, 1.0]]


# --- assert_close ----------------------------------------------------------------------------


def test_assert_close_passes_within_dtype_tolerance() -> None:
    assert_close(np.float32([1.0, 2.0]), np.float32([1.0, 2.0 + 1e-6]))
    assert_close(np.float64([1.0]), [1.0])
    assert_close(np.float64(0.5), 0.5)


def test_assert_close_reports_worst_element() -> None:
    with pytest.raises(AssertionError) as info:
        assert_close(np.float64([1.0, 2.0, 3.0]), np.float64([1.0, 2.5, 3.0]))
    message = str(info.value)
    assert "1 of 3 values differ" in message
    assert "max abs error 0.5" in message
    assert "max rel error 0.2" in message
    assert "worst at index (1,)" in message
    assert "ulp of float64" in message


def test_assert_close_nan_against_number_is_an_assertion() -> None:
    # Used to raise ValueError('All-NaN slice') from inside the message formatting.
    with pytest.raises(AssertionError, match="max abs error inf"):
        assert_close(np.float64([np.nan]), np.float64([1.0]))
    assert_close(np.float64([np.nan, np.inf]), np.float64([np.nan, np.inf]))
    with pytest.raises(AssertionError):
        assert_close(np.float64([np.inf]), np.float64([-np.inf]))


def test_assert_close_checks_dtype_shape_namespace() -> None:
    with pytest.raises(AssertionError, match="dtype differs"):
        assert_close(np.float32([1.0]), np.float64([1.0]))
    with pytest.raises(AssertionError, match="shape differs"):
        assert_close(np.float64([1.0, 2.0]), np.float64([[1.0, 2.0]]))
    import array_api_strict as xps

    with pytest.raises(AssertionError, match="namespace differs"):
        assert_close(np.float64([1.0]), xps.asarray([1.0]))


def test_assert_close_explicit_tolerance() -> None:
    assert_close(np.float64([1.0]), np.float64([1.1]), rtol=0.2)
    with pytest.raises(AssertionError, match=r"rtol=0\.01"):
        assert_close(np.float64([1.0]), np.float64([1.1]), rtol=0.01, atol=0.0)


@needs_torch
def test_assert_close_torch_device_and_dtype() -> None:
    import torch

    assert_close(torch.ones(3), torch.ones(3))
    with pytest.raises(AssertionError, match="dtype differs"):
        assert_close(torch.ones(3), torch.ones(3, dtype=torch.float64))
    # NumPy float64 reference for a torch result: values only
    assert_close(torch.ones(3), np.ones(3))


def test_assert_close_refuses_negative_tolerances() -> None:
    with pytest.raises(ValueError, match="rtol and atol must be non-negative, got rtol=-1"):
        assert_close(np.float64([1.0]), np.float64([3.0]), rtol=-1)


@pytest.mark.parametrize("library", ["numpy", "torch"])
def test_assert_close_compares_both_parts_of_complex_values(library: str) -> None:
    """The imaginary parts count (a float64 cast dropped them, so ``1+1j`` equalled ``1+5j``),
    at the tolerances of the parts' dtype (complex64: float32's)."""
    lib = pytest.importorskip(library)
    make = lib.asarray if library == "numpy" else lib.tensor
    assert_close(make([1 + 1j, 2 - 1j]), make([1 + 1j, 2 - 1j]))
    with pytest.raises(AssertionError, match=r"imaginary part: 1 of 2 values differ"):
        assert_close(make([1 + 1j, 2 - 1j]), make([1 + 5j, 2 - 1j]))
    with pytest.raises(AssertionError, match=r"real part: 1 of 1 values differ"):
        assert_close(make([1 + 1j]), make([3 + 1j]))
    single = make([1 + 1j]).astype(np.complex64) if library == "numpy" else make([1 + 1j])
    # NumPy against its own dtype; torch against a complex128 NumPy reference
    reference = np.complex64 if library == "numpy" else np.complex128
    assert_close(single, np.asarray([1 + 1.00001j], dtype=reference))  # within float32's rtol
    with pytest.raises(AssertionError, match="ulp of float32"):
        assert_close(single, np.asarray([1 + 1.001j], dtype=reference))


@needs_torch
def test_assert_close_meta_tensors_compare_shapes() -> None:
    import torch

    assert_close(torch.ones(3, 4, device="meta"), torch.zeros(3, 4, device="meta"))
    with pytest.raises(AssertionError, match=r"shape differs: actual \(3, 4\), desired \(3,\)"):
        assert_close(torch.ones(3, 4, device="meta"), torch.ones(3, device="meta"))


# --- helpers ---------------------------------------------------------------------------------


def test_round_to_dtype() -> None:
    x = np.array([1.0 + 2.0**-30, 1.0 / 3.0, np.nan, np.inf])
    assert round_to_dtype(x, "float64") is not x
    np.testing.assert_array_equal(round_to_dtype(x, "float32"), x.astype(np.float32))
    np.testing.assert_array_equal(round_to_dtype(x, "float16"), x.astype(np.float16))
    bf = round_to_dtype(np.array([1.0 + 2.0**-8, 1.0 + 3 * 2.0**-8, 1 / 3, np.nan]), "bfloat16")
    # ties round to even: 1 + 2^-8 -> 1, 1 + 3*2^-8 -> 1 + 2^-6
    np.testing.assert_array_equal(bf[:3], [1.0, 1.0 + 2.0**-6, 0.333984375])
    assert np.isnan(bf[3])
    ints = np.array([1, 2])
    assert round_to_dtype(ints, "float32") is ints
    with pytest.raises(ValueError, match="`dtype` must be one of"):
        round_to_dtype(x, "float8")


@needs_torch
def test_bfloat16_rounding_matches_torch() -> None:
    import torch

    x = np.random.default_rng(0).normal(size=200) * 10.0
    expected = torch.asarray(x.astype(np.float32)).to(torch.bfloat16).double().numpy()
    np.testing.assert_array_equal(round_to_dtype(x, "bfloat16"), expected)


def test_ulp_and_error_stats() -> None:
    assert ulp(1.0, "float32") == 2.0**-23
    assert ulp(3.0, "float64") == 2.0**-51
    assert ulp(0.0, "float16") == 2.0**-10 * 2.0**-14
    stats = error_stats([1.0 + 2.0**-22], [1.0], "float32")
    assert stats.max_ulp == pytest.approx(2.0)
    assert stats.max_abs == pytest.approx(2.0**-22)
    # tiny desired values are measured on the atol scale, not as infinite relative errors
    stats = error_stats([0.0], [1e-17], "float64")
    assert math.isfinite(stats.max_rel)
    stats = error_stats([np.nan, 1.0], [1.0, 1.0], "float64")
    assert stats.max_abs == math.inf
    assert stats.worst_flat == 0


def test_finite_differences_of_quadratic() -> None:
    x = np.array([1.0, -2.0])
    c = np.array([1.0, 2.0])
    (g,) = finite_difference_grads(lambda a: a**2, (x,), {}, (0,), c)
    np.testing.assert_allclose(g, 2 * x * c, rtol=1e-7)


# --- compare_backends ------------------------------------------------------------------------


def test_compare_backends_correct_loss_passes() -> None:
    report = compare_backends(squared_error, X, Y)
    assert report.passed, str(report)
    backends = {row.backend for row in report}
    assert {"numpy", "array_api_strict"} <= backends
    for row in report:
        assert row.status == "PASS"
        assert row.max_rel_error is not None
        assert row.max_rel_error < 1e-6
        assert row.ulp_error is not None
        if Backend.parse(row.backend).differentiable:
            assert row.grad_error is not None
            assert row.grad_error < 1e-4
        else:
            assert row.grad_error is None
    text = str(report)
    assert "PASS" in text
    assert "max rel err" in text
    data = json.loads(report.to_json())
    assert data["passed"] is True
    assert len(data["rows"]) == len(report)
    assert {"backend", "dtype", "max_rel_error", "ulp_error", "grad_error", "status"} <= set(
        data["rows"][0]
    )


def _wrong_on_float32(x, y):
    xp = array_namespace(x, y)
    out = xp.sum((x - y) ** 2, axis=-1)
    return out * 1.001 if x.dtype == xp.float32 else out


def test_compare_backends_wrong_on_float32_fails() -> None:
    report = compare_backends(_wrong_on_float32, X, Y, backends=EAGER, grad=False)
    assert not report.passed
    statuses = {(r.backend, r.dtype): r.status for r in report}
    assert statuses == {
        ("numpy", "float32"): "FAIL",
        ("numpy", "float64"): "PASS",
        ("array_api_strict", "float32"): "FAIL",
        ("array_api_strict", "float64"): "PASS",
    }
    failure = report.failures[0]
    assert "value: 2 of 2 elements beyond rtol=2e-05" in failure.message
    assert "got" in failure.message
    assert "expected" in failure.message
    assert failure.max_rel_error == pytest.approx(1e-3, rel=1e-2)
    assert failure.ulp_error > 1000
    text = str(report)
    assert "FAIL _wrong_on_float32 on numpy float32" in text
    markdown = report.to_markdown()
    assert "| FAIL |" in markdown
    assert "### Failures" in markdown


def _detached_on_torch(x, y):
    xp = array_namespace(x, y)
    if type(x).__module__.startswith("torch"):
        x = x.detach()
    return xp.sum((x - y) ** 2, axis=-1)


@needs_torch
def test_compare_backends_wrong_gradient_fails() -> None:
    report = compare_backends(_detached_on_torch, X, Y, backends=["numpy", "torch"])
    torch_rows = [r for r in report if r.backend == "torch"]
    assert torch_rows
    assert all(r.status == "FAIL" for r in torch_rows)
    assert all(r.max_rel_error < 1e-6 for r in torch_rows)  # the value is right
    assert all(r.grad_error == pytest.approx(1.0) for r in torch_rows)
    assert "d/d(arg 0)" in torch_rows[0].message
    assert "of finite differences" in torch_rows[0].message
    assert all(r.status == "PASS" for r in report if r.backend == "numpy")


@needs_jax
def test_compare_backends_jax_jit_and_half() -> None:
    report = compare_backends(
        squared_error, X, Y, backends=["jax-jit"], dtypes=["float64", "bfloat16"]
    )
    assert report.passed, str(report)
    assert [r.dtype for r in report] == ["float64", "bfloat16"]


def test_compare_backends_wrong_dtype_is_reported() -> None:
    def upcasts(x):
        xp = array_namespace(x)
        return xp.astype(x, xp.float64) * 2.0

    report = compare_backends(upcasts, [1.0, 2.0], backends=EAGER, grad=False)
    rows = {(r.backend, r.dtype): r for r in report}
    assert rows[("numpy", "float32")].status == "FAIL"
    assert "returned dtype float64 for float32 inputs" in rows[("numpy", "float32")].message
    assert rows[("numpy", "float64")].status == "PASS"


def test_compare_backends_exception_is_reported() -> None:
    def needs_boolean_indexing(x):
        return x[x > 0]

    report = compare_backends(
        needs_boolean_indexing, [1.0, -2.0], backends=["array_api_strict"], grad=False
    )
    assert not report.passed
    assert all(r.status == "ERROR" for r in report)
    assert report.rows[0].exception is not None
    assert "ERROR" in str(report)


@pytest.mark.skipif(not _installed("dask"), reason="dask is not installed")
def test_compare_backends_dask_must_not_compute() -> None:
    def materialises(x):
        xp = array_namespace(x)
        return x * float(xp.sum(x))

    report = compare_backends(materialises, [1.0, 2.0], backends=["dask"], grad=False)
    assert all(r.status == "ERROR" for r in report)
    assert "materialised the Dask graph" in report.rows[0].exception


def test_compare_backends_with_independent_reference_and_kwargs() -> None:
    def scaled(x, *, scale):
        return x * scale

    def reference(x, *, scale):
        return x * scale

    report = compare_backends(
        scaled, np.arange(3.0), backends=EAGER, reference=reference, kwargs={"scale": 3.0}
    )
    assert report.passed, str(report)
    assert {r.against for r in report} == {"reference"}


def test_compare_backends_skips_missing_backend() -> None:
    if _installed("cupy"):
        pytest.skip("cupy is installed here; the skip path needs a missing backend")
    report = compare_backends(squared_error, X, Y, backends=["numpy", "cupy"])
    skipped = [r for r in report if r.status == "SKIP"]
    assert skipped
    assert "cupy" in skipped[0].skipped
    assert report.passed


def test_compare_backends_function_returning_a_tuple_is_an_error() -> None:
    def two(x: Any) -> Any:
        xp = array_namespace(x)
        return xp.sum(x), xp.mean(x)

    report = compare_backends(two, np.ones((2, 3)), backends=["numpy", "array_api_strict"])
    assert not report.passed
    assert {r.backend for r in report.rows} == {"numpy", "array_api_strict"}
    for row in report.rows:
        assert "returned a tuple; it must return one array" in row.exception


def test_compare_backends_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"`backends` contains unknown backend 'tensorflow'"):
        compare_backends(squared_error, X, Y, backends=["tensorflow"])
    with pytest.raises(ValueError, match=r"`dtypes` contains unknown dtype 'float8'"):
        compare_backends(squared_error, X, Y, dtypes=["float8"])
    with pytest.raises(ValueError, match="`reference` must be 'numpy-float64'"):
        compare_backends(squared_error, X, Y, reference="torch")
    with pytest.raises(ValueError, match="`grad` position 5"):
        compare_backends(squared_error, X, Y, grad=[5])
    with pytest.raises(TypeError, match=r"`inputs\[0\]` must hold floats"):
        compare_backends(squared_error, np.array(["a"]), Y)
