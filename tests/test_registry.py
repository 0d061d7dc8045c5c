"""Generic tests over every registry case: reference values, gradients, peers, half precision,
invariants. Family test modules add the hand literals, pitfalls and errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agnostic_losses._registry import CASES, Inputs, LossCase
from agnostic_losses._testing import backends as B
from agnostic_losses._testing.assertions import assert_close, default_tolerance, dtype_name
from agnostic_losses._testing.backends import Backend

SEED = 20261123


def _convert(backend: Backend, inputs: Inputs, dtype: str) -> tuple[list[Any], dict[str, Any]]:
    args = [B.from_numpy(backend, a, dtype) for a in inputs.args]
    kwargs = {k: B.from_numpy(backend, v, dtype) for k, v in inputs.kwargs.items()}
    return args, kwargs


def _rounded(inputs: Inputs, backend: Backend, dtype: str) -> Inputs:
    """The float64 inputs after a round trip through ``dtype`` (the reference sees what we see)."""

    def r(a: Any) -> Any:
        if isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.floating):
            return np.asarray(B.to_numpy(B.from_numpy(backend, a, dtype)), dtype=np.float64)
        return a

    return Inputs(tuple(r(a) for a in inputs.args), {k: r(v) for k, v in inputs.kwargs.items()})


def _reference(case: LossCase, inputs: Inputs) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(case.reference(*inputs.args, **inputs.kwargs), dtype=np.float64)


@pytest.fixture(params=CASES, ids=[c.id for c in CASES])
def case(request: pytest.FixtureRequest) -> LossCase:
    return request.param


def test_value_matches_reference(case: LossCase, backend: Backend, xp: Any, dtype: str) -> None:
    if case.reference is None:
        pytest.skip(f"{case.id} has no NumPy reference (checked against its peer)")
    inputs = case.inputs(SEED)
    args, kwargs = _convert(backend, inputs, dtype)
    out = B.call(backend, case.func, *args, **kwargs)
    assert type(out).__module__.split(".")[0] in (backend.library, "jaxlib")
    assert dtype_name(out) == dtype
    if backend is Backend.TORCH:
        assert out.device == args[0].device
    expected = _reference(case, _rounded(inputs, backend, dtype))
    rtol, atol = default_tolerance(dtype)
    assert_close(
        out,
        expected,
        rtol=rtol * case.rtol,
        atol=atol * case.rtol,
        err_msg=case.id,
        check_dtype=False,
    )


def _finite_differences(case: LossCase, inputs: Inputs, cotangent: np.ndarray) -> list[np.ndarray]:
    grads = []
    for i in case.grad_argnums:
        x = inputs.args[i]
        g = np.zeros_like(x)
        for j in np.ndindex(x.shape):
            h = 1e-6 * max(1.0, abs(x[j]))
            plus, minus = x.copy(), x.copy()
            plus[j] += h
            minus[j] -= h
            f = []
            for point in (plus, minus):
                args = list(inputs.args)
                args[i] = point
                f.append(np.sum(cotangent * _reference(case, Inputs(tuple(args), inputs.kwargs))))
            g[j] = (f[0] - f[1]) / (2 * h)
        grads.append(g)
    return grads


@pytest.mark.autodiff
def test_gradient_matches_finite_differences(case: LossCase, backend: Backend, xp: Any) -> None:
    if not case.grad_argnums or case.reference is None:
        pytest.skip(f"{case.id} declares no differentiable argument or no reference")
    inputs = case.inputs(SEED)
    args, kwargs = _convert(backend, inputs, "float64")
    value = _reference(case, inputs)
    cotangent = np.random.default_rng(1).uniform(0.5, 1.5, size=value.shape)
    _, grads = B.value_and_grad(
        backend, case.func, args, kwargs, argnums=case.grad_argnums, cotangent=cotangent
    )
    expected = _finite_differences(case, inputs, cotangent)
    for i, got, want in zip(case.grad_argnums, grads, expected):
        assert_close(
            np.asarray(got),
            want,
            rtol=1e-5 * case.rtol,
            atol=1e-6 * case.rtol,
            err_msg=f"{case.id} d/d(arg {i})",
            check_dtype=False,
        )


PEER_CASES = [c for c in CASES if c.peer is not None and c.peer.runnable]


@pytest.mark.parametrize("case", PEER_CASES, ids=[c.id for c in PEER_CASES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_peer(case: LossCase, dtype: str) -> None:
    """Values and gradients equal to the peer's own, on the peer's library."""
    peer = case.peer
    assert peer is not None
    backend = Backend.TORCH if peer.library == "torch" else Backend.JAX
    if backend.unavailable_reason() or not peer.available():
        pytest.skip(f"peer {peer.label} is not installed")
    backend.namespace()  # enables x64 on jax
    inputs = case.inputs(SEED)
    args, kwargs = _convert(backend, inputs, dtype)
    peer_fn = peer.load()
    argnums = case.grad_argnums
    if argnums:
        value, grads = B.value_and_grad(backend, case.func, args, kwargs, argnums=argnums)
        peer_value, peer_grads = B.value_and_grad(backend, peer_fn, args, kwargs, argnums=argnums)
    else:
        value, grads = B.to_numpy(case.func(*args, **kwargs)), []
        peer_value, peer_grads = B.to_numpy(peer_fn(*args, **kwargs)), []
    rtol, atol = default_tolerance(dtype)
    assert_close(
        np.asarray(value),
        np.asarray(peer_value, dtype=value.dtype),
        rtol=rtol * case.rtol,
        atol=atol * case.rtol,
        err_msg=f"{case.id} vs {peer.label}",
    )
    for got, want in zip(grads, peer_grads):
        assert_close(
            np.asarray(got),
            np.asarray(want, dtype=got.dtype),
            rtol=rtol * case.rtol,
            atol=atol * case.rtol,
            err_msg=f"{case.id} gradient vs {peer.label}",
        )


def test_half_precision(case: LossCase, backend: Backend, xp: Any, half_dtype: str) -> None:
    """float16/bfloat16 in, same dtype out, finite where the reference is, loosely close."""
    if case.reference is None:
        pytest.skip(f"{case.id} has no NumPy reference")
    inputs = case.inputs(SEED)
    args, kwargs = _convert(backend, inputs, half_dtype)
    out = B.call(backend, case.func, *args, **kwargs)
    assert dtype_name(out) == half_dtype
    expected = _reference(case, _rounded(inputs, backend, half_dtype))
    got = np.asarray(B.to_numpy(out), dtype=np.float64)
    assert np.array_equal(np.isfinite(got), np.isfinite(expected)), case.id
    rtol, atol = default_tolerance(half_dtype)
    scale = max(1.0, float(np.max(np.abs(expected[np.isfinite(expected)]), initial=0.0)))
    assert_close(
        got,
        expected,
        rtol=rtol * case.rtol,
        atol=atol * scale * case.rtol,
        err_msg=case.id,
        check_dtype=False,
    )


PROPERTY_CASES = [c for c in CASES if c.properties]


@pytest.mark.parametrize("case", PROPERTY_CASES, ids=[c.id for c in PROPERTY_CASES])
@settings(max_examples=15, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1))
def test_invariants(case: LossCase, seed: int) -> None:
    inputs = case.inputs(seed)
    if "nonnegative" in case.properties:
        out = B.to_numpy(case.func(*inputs.args, **inputs.kwargs))
        assert np.all(out >= 0), f"{case.id}: negative loss {np.min(out)}"
    if "zero_at_target" in case.properties:
        assert case.perfect is not None, f"{case.id} declares zero_at_target without `perfect`"
        perfect = case.perfect(inputs)
        out = B.to_numpy(case.func(*perfect.args, **perfect.kwargs))
        np.testing.assert_allclose(out, 0.0, atol=1e-7, err_msg=case.id)


def test_every_case_has_an_oracle() -> None:
    """Each case is checked against a NumPy reference, a runnable peer, or both."""
    missing = [
        c.id for c in CASES if c.reference is None and (c.peer is None or not c.peer.runnable)
    ]
    assert not missing, f"cases with neither a reference nor a runnable peer: {missing}"
