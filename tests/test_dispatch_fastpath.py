"""The dispatch fast path (``agnostic_losses._fastpath``) against the generic compat path.

The lean torch namespace must give exactly what ``array_api_compat.torch`` gives: values, dtypes,
signs of zero, NaN, gradients, on every registry case. On every other backend ``lean`` must be
the identity, so those run the generic path unchanged (Dask's only adds ``take_along_axis``,
checked in ``tests/test_dask_dispatch.py``).
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat
import numpy as np
import pytest

from agnostic_losses import _dispatch as D
from agnostic_losses._fastpath import lean
from agnostic_losses._registry import CASES, LossCase
from agnostic_losses._testing import backends as B
from agnostic_losses._testing.backends import Backend

torch = pytest.importorskip("torch", reason="the only fast path is torch's")
import array_api_compat.torch as compat  # noqa: E402

LEAN = lean(compat)
DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.int64, torch.int32]
SCALARS = [0.0, -0.0, 2.5, -3.0, math.inf, -math.inf, math.nan, 0, 3, -7, 2**30, True]


def test_lean_is_identity_except_torch(backend: Backend, make: Any) -> None:
    x = make([1.0, 2.0])
    generic = array_api_compat.array_namespace(x)
    got = D.namespace(x=x)
    if backend is Backend.TORCH:
        assert got is LEAN
        assert got.__name__.endswith("torch")
    elif backend is Backend.DASK:
        assert got.__name__ == generic.__name__
        assert all(getattr(got, name) is getattr(generic, name) for name in generic.__all__)
        assert not hasattr(generic, "take_along_axis")
        assert callable(got.take_along_axis)
    else:
        assert got is generic


def test_lean_keeps_every_compat_name() -> None:
    for name in compat.__all__:
        assert hasattr(LEAN, name), name
    assert LEAN.__array_api_version__ == compat.__array_api_version__


def _same(a: Any, b: Any) -> None:
    assert type(a) is type(b)
    assert a.dtype == b.dtype
    assert a.shape == b.shape
    assert a.device == b.device
    fa, fb = a.double(), b.double()
    assert torch.equal(torch.isnan(fa), torch.isnan(fb))
    assert torch.equal(torch.nan_to_num(fa), torch.nan_to_num(fb))
    assert torch.equal(torch.signbit(fa), torch.signbit(fb))  # -0.0 stays -0.0


def _outcome(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception as exc:  # both paths must fail the same way
        return type(exc)


def _compare(fast: Any, slow: Any, *args: Any) -> None:
    got, want = _outcome(fast, *args), _outcome(slow, *args)
    if isinstance(want, type):
        assert got is want
    else:
        _same(got, want)


def _tensor(dtype: Any, shape: tuple[int, ...] = (5,)) -> Any:
    values = torch.tensor([0.0, -0.0, 1.5, -2.0, 3.0]).reshape(-1)[: math.prod(shape) or 1]
    return values.reshape(shape).to(dtype)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_binary_matches_compat(name: str, dtype: Any) -> None:
    fast, slow = getattr(LEAN, name), getattr(compat, name)
    x = _tensor(dtype)
    for other in [*SCALARS, _tensor(dtype), *(_tensor(d) for d in DTYPES), _tensor(dtype, ())]:
        _compare(fast, slow, x, other)
        _compare(fast, slow, other, x)
    _compare(fast, slow, _tensor(dtype, ()), 1.0)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_where_matches_compat(dtype: Any) -> None:
    cond = torch.tensor([True, False, True, False, True])
    x = _tensor(dtype)
    for other in [*SCALARS, _tensor(dtype), *(_tensor(d) for d in DTYPES), _tensor(dtype, ())]:
        _compare(LEAN.where, compat.where, cond, x, other)
        _compare(LEAN.where, compat.where, cond, other, x)
    _compare(LEAN.where, compat.where, cond, 1.0, 0.0)


def test_squeeze_matches_compat() -> None:
    for shape in [(1,), (3, 1), (1, 3), (2, 1, 3), (1, 1)]:
        x = torch.arange(math.prod(shape), dtype=torch.float32).reshape(shape)
        for axis in [*range(-len(shape) - 1, len(shape) + 1), (0,), (-1,), (0, -1), True]:
            _compare(LEAN.squeeze, compat.squeeze, x, axis)
    scalar = torch.tensor(2.0)
    _compare(LEAN.squeeze, compat.squeeze, scalar, 0)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_binary_gradient_at_ties_matches_compat(name: str) -> None:
    """``maximum`` splits the gradient at a tie; the cached scalar must not change that."""
    grads = []
    for ns in (LEAN, compat):
        x = torch.tensor([0.0, -1.0, 1.0, 0.0], dtype=torch.float64, requires_grad=True)
        out = getattr(ns, name)(x, 0.0) + getattr(ns, name)(x, -x)
        (g,) = torch.autograd.grad(out.sum(), [x])
        grads.append(g)
    assert torch.equal(grads[0], grads[1])
    assert grads[0][0] == 0.5  # the tie with 0.0 splits; max(x, -x) has slope 0 at 0


def test_cached_scalar_made_in_inference_mode_allows_backward() -> None:
    y = torch.tensor([1.0, -1.0], dtype=torch.float64)
    with torch.inference_mode():
        LEAN.maximum(y, 0.125)  # first use caches the constant 0.125
    x = torch.tensor([1.0, -1.0], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(LEAN.maximum(x, 0.125).sum(), [x])
    assert g.tolist() == [1.0, 0.0]


def _value_and_grads(case: LossCase, dtype: str) -> Any:
    inputs = case.inputs(7)
    args = [B.from_numpy(Backend.TORCH, a, dtype) for a in inputs.args]
    kwargs = {k: B.from_numpy(Backend.TORCH, v, dtype) for k, v in inputs.kwargs.items()}
    if not case.grad_argnums:
        return B.to_numpy(case.func(*args, **kwargs)), []
    return B.value_and_grad(Backend.TORCH, case.func, args, kwargs, argnums=case.grad_argnums)


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_registry_case_lean_equals_compat(
    case: LossCase, dtype: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every registry case on torch: identical values and gradients on both paths."""
    results = []
    for ns in (LEAN, compat):
        monkeypatch.setitem(D._NAMESPACE_CACHE, torch.Tensor, ns)
        results.append(_outcome(_value_and_grads, case, dtype))
    fast, slow = results
    if isinstance(slow, type):
        assert fast is slow
        return
    np.testing.assert_array_equal(fast[0], slow[0], err_msg=case.id)
    for g_fast, g_slow in zip(fast[1], slow[1]):
        np.testing.assert_array_equal(g_fast, g_slow, err_msg=f"{case.id} gradient")


def test_namespace_cache_hit_still_rejects_mixed_libraries() -> None:
    x = torch.ones(2)
    D.namespace(x=x)  # populate the cache for torch.Tensor
    D.namespace(y=np.ones(2))
    with pytest.raises(TypeError, match=r"`logits` is a torch array but `labels` is a numpy"):
        D.namespace(logits=x, labels=np.ones(2))
    with pytest.raises(TypeError, match=r"`labels` must be an array, got a Python list"):
        D.namespace(logits=x, labels=[1.0])
    assert D.namespace(p=torch.nn.Parameter(torch.ones(1)), x=x) is LEAN


@pytest.mark.parametrize("name", ["binary_cross_entropy_with_logits", "cross_entropy"])
def test_compiled_loss_has_no_graph_breaks(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Value checks are skipped while dynamo traces (``is_lazy``), and a cold namespace cache
    resolves without dynamo warnings (pytest turns warnings into errors)."""
    import agnostic_losses.functional as F

    fn = getattr(F, name, None)
    if fn is None:
        pytest.skip(f"functional.{name} is not implemented yet")
    monkeypatch.delitem(D._NAMESPACE_CACHE, torch.Tensor, raising=False)
    torch._dynamo.reset()
    x = torch.randn(4, 3)
    y = torch.rand(4, 3) if "binary" in name else torch.tensor([0, 2, 1, 2])
    explained = torch._dynamo.explain(fn)(x, y)
    assert explained.graph_break_count == 0, explained.break_reasons
    torch._dynamo.reset()


def test_is_lazy_while_compiling() -> None:
    seen: list[bool] = []

    def probe(x: Any) -> Any:
        seen.append(D.is_lazy(x))
        return x + 1

    torch._dynamo.reset()
    torch.compile(probe, backend="eager")(torch.ones(2))
    probe(torch.ones(2))
    assert seen == [True, False]
    torch._dynamo.reset()
