"""Delegated (fused) primitives against the generic compositions they replace.

:mod:`agnostic_losses._delegation` hands a primitive of :mod:`agnostic_losses._numerics` to the
library's own fused function where that keeps the generic contract. Here, on torch and JAX
(eager and ``jax.jit``), every primitive is computed both ways (``delegate=True`` / ``False``)
and the values and gradients must agree -- on random inputs and at the edges (``+-1e4``,
``+-inf`` entries, all ``-inf`` rows), in float16, bfloat16, float32 and float64 -- with the
same NaN/inf pattern. On torch also under ``torch.compile(fullgraph=True)`` (no graph break),
``torch.func`` and meta tensors. No timings here: see ``benchmarks/primitives.py``.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from agnostic_losses import _delegation
from agnostic_losses import _numerics as N

INF = math.inf
DTYPES = ["float16", "bfloat16", "float32", "float64"]
PRIMITIVES = [
    "absolute",
    "softplus",
    "log_sigmoid",
    "log_sigmoid_pair",
    "logaddexp",
    "logsumexp",
    "log_softmax",
    "log_softmax_and_lse",
    "relu",
    "xmul",
]
PAIRS = {"logaddexp", "xmul"}
ROWWISE = {"logsumexp", "log_softmax", "log_softmax_and_lse"}
# What _delegation decides per library (its module docstring has the measured reasons).
DELEGATED = {
    "torch": {"absolute", "softplus", "log_sigmoid", "log_sigmoid_pair", "relu"},
    "jax": {"absolute", "xmul"},
}

ELEMENTWISE_EDGES = [-INF, -1e4, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 1e4, INF]
# logaddexp operand pairs: ties, one or both infinite, +-1e4 apart
PAIR_EDGES = [
    (0.0, 0.0),
    (3.0, 3.0),
    (-INF, 1.0),
    (1.0, -INF),
    (-INF, -INF),
    (1e4, -1e4),
    (-1e4, 1e4),
    (INF, INF),
    (INF, -INF),
    (-INF, INF),
    (INF, 2.0),
    (-1e4, -1e4),
]
# xmul operand pairs: 0 (either sign) times +-inf, 0, finite and large; no nonzero times an
# infinity (an infinite value with an infinite d/dx: XMUL_ALL below adds those)
XMUL_EDGES = [
    (0.0, -INF),
    (0.0, INF),
    (-0.0, -INF),
    (0.0, 0.0),
    (0.0, -3.0),
    (-0.0, 1e4),
    (0.5, -1e4),
    (2.0, 0.0),
    (-1.5, 3.0),
    (1.0, -100.0),
]
ROW_EDGES = [
    [1e4, -1e4, 0.0, 5.0],
    [-INF, -INF, -INF, -INF],
    [0.0, -INF, 2.0, -INF],
    [-1e4, -1e4, -1e4, -1e4],
    [-INF, -1e4, -INF, -INF],
    [0.5, 0.5, 0.5, 0.5],
]


def _tolerance(dtype: str) -> dict[str, float]:
    """Delegated vs generic: a few units in the last place (the fused kernels round once)."""
    return {
        "float16": {"rtol": 4e-3, "atol": 4e-3},
        "bfloat16": {"rtol": 3e-2, "atol": 3e-2},
        "float32": {"rtol": 2e-6, "atol": 1e-37},
        "float64": {"rtol": 1e-13, "atol": 0.0},
    }[dtype]


def _inputs(name: str, case: str) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(zlib.crc32(f"{name}/{case}".encode()))
    if case == "random":
        shape = (5, 7)
        if name in PAIRS:
            return rng.normal(size=shape) * 5, rng.normal(size=shape) * 5
        return (rng.normal(size=shape) * 5,)
    if name in PAIRS:
        a, b = np.asarray(XMUL_EDGES if name == "xmul" else PAIR_EDGES).T
        return a, b
    if name in ROWWISE:
        return (np.asarray(ROW_EDGES),)
    return (np.asarray(ELEMENTWISE_EDGES),)


def _call(name: str, xp: Any, args: tuple[Any, ...], delegate: bool) -> Any:
    fn = getattr(N, name)
    if name == "logsumexp":
        return fn(xp, *args, axis=-1, delegate=delegate)
    return fn(xp, *args, delegate=delegate)


def _assert_same(
    delegated: np.ndarray,
    generic: np.ndarray,
    dtype: str,
    what: str,
    *,
    relative_to_max: bool = False,
) -> None:
    delegated, generic = np.asarray(delegated, np.float64), np.asarray(generic, np.float64)
    assert delegated.shape == generic.shape, what
    np.testing.assert_array_equal(np.isnan(delegated), np.isnan(generic), err_msg=what)
    np.testing.assert_array_equal(
        np.isinf(delegated) * np.sign(delegated),
        np.isinf(generic) * np.sign(generic),
        err_msg=what,
    )
    finite = np.isfinite(generic)
    tolerance = _tolerance(dtype)
    if relative_to_max:
        scale = np.max(np.abs(generic[finite]), initial=0.0)
        tolerance["atol"] = max(tolerance["atol"], tolerance["rtol"] * scale)
    np.testing.assert_allclose(delegated[finite], generic[finite], err_msg=what, **tolerance)


# --------------------------------------------------------------------------------------------
# torch


@pytest.fixture
def torch_ns() -> Any:
    torch = pytest.importorskip("torch")
    from agnostic_losses._dispatch import namespace

    return namespace(x=torch.zeros(1))


def _torch_value_and_grad(
    name: str, xp: Any, arrays: tuple[np.ndarray, ...], dtype: str, delegate: bool
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Values, gradients and a Hessian-vector product (double backward: what Newton-type
    optimisers, influence functions and MAML's inner step differentiate)."""
    import torch

    leaves = [torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=True) for a in arrays]
    out = _call(name, xp, tuple(leaves), delegate)
    outs = list(out) if isinstance(out, tuple) else [out]
    # a fixed cotangent per output (not all ones: a wrong sign or swap would cancel less)
    rng = np.random.default_rng(1)
    total = sum(
        (o * torch.tensor(rng.uniform(0.5, 1.5, tuple(o.shape)), dtype=o.dtype)).sum() for o in outs
    )
    grads = torch.autograd.grad(total, leaves, create_graph=True)
    tangent = sum(
        (g * torch.tensor(rng.uniform(0.5, 1.5, tuple(g.shape)), dtype=g.dtype)).sum()
        for g in grads
    )
    hvp = torch.autograd.grad(tangent, leaves, allow_unused=True) if tangent.requires_grad else ()
    hvp = [torch.zeros_like(x) if h is None else h for x, h in zip(leaves, hvp)] or [
        torch.zeros_like(x) for x in leaves
    ]
    return (
        [o.detach().to(torch.float64).numpy() for o in outs],
        [g.detach().to(torch.float64).numpy() for g in grads],
        [(h + 0).to(torch.float64).numpy() for h in hvp],
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ["random", "edges"])
@pytest.mark.parametrize("name", PRIMITIVES)
def test_torch_delegated_matches_generic(torch_ns: Any, name: str, case: str, dtype: str) -> None:
    arrays = _inputs(name, case)
    fast_out, fast_grad, fast_hvp = _torch_value_and_grad(name, torch_ns, arrays, dtype, True)
    slow_out, slow_grad, slow_hvp = _torch_value_and_grad(name, torch_ns, arrays, dtype, False)
    for i, (f, s) in enumerate(zip(fast_out, slow_out, strict=True)):
        _assert_same(f, s, dtype, f"{name} value {i}")
    for i, (f, s) in enumerate(zip(fast_grad, slow_grad, strict=True)):
        _assert_same(f, s, dtype, f"{name} gradient {i}")
        if case == "edges":
            # the contract: finite gradients everywhere at these edges (zero where masked)
            assert np.all(np.isfinite(f)), (name, f)
    for i, (f, s) in enumerate(zip(fast_hvp, slow_hvp, strict=True)):
        # Second derivatives agree relative to their largest entry: where they are tiny
        # (softplus at 30: 1e-13) torch's fused backward differentiates z / (z + 1) and
        # cancels digits the generic one keeps.
        _assert_same(f, s, dtype, f"{name} Hessian-vector product {i}", relative_to_max=True)
        if case == "edges" and dtype != "float16":
            # (float16: the all -inf slice's log(s + eps/4) has second derivative
            # -(4/eps)**2, beyond float16's range; see _numerics.logsumexp)
            assert np.all(np.isfinite(f)), (name, f)
            assert np.all(np.isfinite(s)), (name, s)


def test_torch_decision_table(torch_ns: Any) -> None:
    import torch

    x = torch.zeros(2, 3)
    hooks = {
        "softplus": lambda: _delegation.softplus(x),
        "log_sigmoid": lambda: _delegation.log_sigmoid(x),
        "log_sigmoid_pair": lambda: _delegation.log_sigmoid_pair(x),
        "logaddexp": lambda: _delegation.logaddexp(x, x),
        "logsumexp": lambda: _delegation.logsumexp(x, -1, False),
        "log_softmax": lambda: _delegation.log_softmax(x, -1),
        "log_softmax_and_lse": lambda: _delegation.log_softmax_and_lse(x, -1),
        "relu": lambda: _delegation.relu(x),
        "absolute": lambda: _delegation.absolute(x),
        "xmul": lambda: _delegation.xmul(x, x),
        "take_last": lambda: _delegation.take_last(x, torch.zeros(2, 1, dtype=torch.int64)),
    }
    # take_last (an index primitive) has its own tests below
    assert {k for k, hook in hooks.items() if hook() is not None} == DELEGATED["torch"] | {
        "take_last"
    }
    with _delegation.enabled(False):
        assert all(hook() is None for hook in hooks.values())
    assert _delegation.ENABLED
    # integer tensors and mixed dtypes stay generic
    assert _delegation.softplus(torch.zeros(3, dtype=torch.int64)) is None
    assert _delegation.logaddexp(x, x.double()) is None
    assert _delegation.logaddexp(x, 0.0) is None


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("shape", "slots"), [((5, 7), 1), ((2, 3, 6), 4), ((4, 3), 3)])
def test_torch_take_last_matches_generic(
    torch_ns: Any, shape: tuple[int, ...], slots: int, dtype: str
) -> None:
    # torch.gather against array-api-compat's take_along_axis and the one-hot selection:
    # values and gradients (duplicate indices accumulate), -inf entries included
    import torch

    rng = np.random.default_rng(zlib.crc32(repr((shape, slots)).encode()))
    values = rng.normal(size=shape) * 10
    values[..., 0] = -INF
    index = torch.tensor(rng.integers(0, shape[-1], size=(*shape[:-1], slots)))
    cotangent = rng.uniform(0.5, 1.5, tuple(index.shape))
    results = []
    for delegate, use_take in ((True, True), (False, True), (False, False)):
        x = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)
        out = N.take_last(torch_ns, x, index, use_take=use_take, delegate=delegate)
        (g,) = torch.autograd.grad((out * torch.tensor(cotangent, dtype=out.dtype)).sum(), x)
        results.append((out.detach().double().numpy(), g.double().numpy()))
    for out, g in results[1:]:
        np.testing.assert_array_equal(results[0][0], out)
        np.testing.assert_array_equal(results[0][1], g)


def test_torch_take_last_delegation_only_without_broadcasting(torch_ns: Any) -> None:
    import torch

    x = torch.arange(12.0).reshape(3, 4)
    assert _delegation.take_last(x, torch.zeros(3, 2, dtype=torch.int64)) is not None
    # an index that broadcasts over the rows: gather would read the first row only
    assert _delegation.take_last(x, torch.zeros(1, 2, dtype=torch.int64)) is None
    out = N.take_last(torch_ns, x, torch.tensor([[1, 3]]))
    np.testing.assert_array_equal(out.numpy(), [[1.0, 3.0], [5.0, 7.0], [9.0, 11.0]])
    meta = N.take_last(
        torch_ns,
        torch.empty(3, 4, device="meta"),
        torch.empty(3, 2, dtype=torch.int64, device="meta"),
    )
    assert (meta.device.type, tuple(meta.shape)) == ("meta", (3, 2))
    torch._dynamo.reset()
    index = torch.tensor([[2], [0], [3]])
    compiled = _compiled(lambda v: N.take_last(torch_ns, v, index))(x)
    np.testing.assert_array_equal(compiled.numpy(), [[2.0], [4.0], [11.0]])
    from torch.func import vmap

    rows = vmap(lambda v, i: N.gather_labels(torch_ns, v, i))(x[:, None, :], index)
    np.testing.assert_array_equal(rows.numpy(), [[2.0], [4.0], [11.0]])


def test_torch_all_masked_row_of_delegated_logaddexp(torch_ns: Any) -> None:
    # generic contract: both operands -inf -> -inf with zero gradients, no NaN
    import torch

    a = torch.full((3,), -INF, requires_grad=True)
    b = torch.tensor([-INF, 0.0, -INF], requires_grad=True)
    out = N.logaddexp(torch_ns, a, b)
    ga, gb = torch.autograd.grad(out.sum(), (a, b))
    np.testing.assert_array_equal(out.detach().numpy(), [-INF, 0.0, -INF])
    np.testing.assert_array_equal(ga.numpy(), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(gb.numpy(), [0.0, 1.0, 0.0])


def test_torch_softplus_float64_is_exact_beyond_torch_default_threshold(torch_ns: Any) -> None:
    # torch's default threshold (20) returns x itself above it: 1e-10 off in float64
    import torch

    x = torch.linspace(15.0, 45.0, 301, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(N.softplus(torch_ns, x).sum(), x)
    ref = np.logaddexp(0.0, x.detach().numpy())
    np.testing.assert_allclose(N.softplus(torch_ns, x).detach().numpy(), ref, rtol=1e-15)
    expit = 1.0 / (1.0 + np.exp(-x.detach().numpy()))
    np.testing.assert_allclose(g.numpy(), expit, rtol=1e-15)


def _compiled(fn: Callable[..., Any]) -> Callable[..., Any]:
    import torch

    return torch.compile(fn, fullgraph=True, backend="eager")


@pytest.mark.parametrize("name", PRIMITIVES)
def test_torch_compile_fullgraph(torch_ns: Any, name: str) -> None:
    import torch

    torch._dynamo.reset()
    arrays = _inputs(name, "edges")
    xp = torch_ns

    def fn(*args: Any) -> Any:
        return _call(name, xp, args, True)

    eager_args = [torch.tensor(a, dtype=torch.float32, requires_grad=True) for a in arrays]
    compiled_args = [a.detach().clone().requires_grad_(True) for a in eager_args]
    eager = fn(*eager_args)
    compiled = _compiled(fn)(*compiled_args)  # fullgraph=True: a graph break raises
    eager_outs = eager if isinstance(eager, tuple) else (eager,)
    compiled_outs = compiled if isinstance(compiled, tuple) else (compiled,)
    for e, c in zip(eager_outs, compiled_outs, strict=True):
        np.testing.assert_array_equal(c.detach().numpy(), e.detach().numpy())
    eager_grads = torch.autograd.grad(sum(o.sum() for o in eager_outs), eager_args)
    compiled_grads = torch.autograd.grad(sum(o.sum() for o in compiled_outs), compiled_args)
    for e, c in zip(eager_grads, compiled_grads, strict=True):
        np.testing.assert_array_equal(c.numpy(), e.numpy())
        assert np.all(np.isfinite(c.numpy()))


def test_torch_compile_traces_the_fused_op(torch_ns: Any) -> None:
    import torch

    torch._dynamo.reset()
    seen: list[str] = []

    def record(gm: Any, example_inputs: Any) -> Any:
        seen.extend(str(node.target) for node in gm.graph.nodes)
        return gm.forward

    x = torch.randn(4, 5)
    torch.compile(lambda v: N.softplus(torch_ns, v), fullgraph=True, backend=record)(x)
    torch.compile(lambda v: N.log_sigmoid(torch_ns, v), fullgraph=True, backend=record)(x)
    assert any("softplus" in s for s in seen), seen
    assert any("log_sigmoid" in s for s in seen), seen


@pytest.mark.parametrize("name", sorted(DELEGATED["torch"]))
def test_torch_func_grad_and_vmap(torch_ns: Any, name: str) -> None:
    import torch
    from torch.func import grad, vmap

    arrays = [torch.tensor(a, dtype=torch.float64) for a in _inputs(name, "edges")]

    def scalar(*args: Any, delegate: bool) -> Any:
        out = _call(name, torch_ns, args, delegate)
        outs = out if isinstance(out, tuple) else (out,)
        return sum(o.sum() for o in outs)

    argnums = tuple(range(len(arrays)))
    for delegate in (True, False):
        g = grad(lambda *a, d=delegate: scalar(*a, delegate=d), argnums=argnums)(*arrays)
        g_rows = vmap(grad(lambda *a, d=delegate: scalar(*a, delegate=d), argnums=argnums))(
            *[a[:, None] for a in arrays]
        )
        if delegate:
            fast, fast_rows = g, g_rows
        else:
            slow, slow_rows = g, g_rows
    for f, s, fr, sr in zip(fast, slow, fast_rows, slow_rows, strict=True):
        _assert_same(f.numpy(), s.numpy(), "float64", f"{name} torch.func.grad")
        _assert_same(fr[:, 0].numpy(), s.numpy(), "float64", f"{name} vmap(grad)")
        _assert_same(sr[:, 0].numpy(), s.numpy(), "float64", f"{name} vmap(grad) generic")


@pytest.mark.parametrize("name", PRIMITIVES)
def test_torch_meta_tensors(torch_ns: Any, name: str) -> None:
    # no host reads: the delegated path runs on meta tensors (shapes and dtypes only)
    import torch

    shape = (3, 4)
    for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        args = tuple(
            torch.empty(shape, dtype=dtype, device="meta") for _ in range(2 if name in PAIRS else 1)
        )
        fast = _call(name, torch_ns, args, True)
        slow = _call(name, torch_ns, args, False)
        fast = fast if isinstance(fast, tuple) else (fast,)
        slow = slow if isinstance(slow, tuple) else (slow,)
        for f, s in zip(fast, slow, strict=True):
            assert f.device.type == "meta"
            assert (tuple(f.shape), f.dtype) == (tuple(s.shape), s.dtype)


def test_torch_losses_before_and_after(torch_ns: Any) -> None:
    # the switch reaches the losses (what benchmarks/primitives.py times), values and gradients
    import torch

    import agnostic_losses as al

    rng = np.random.default_rng(3)
    logits = rng.normal(size=(6, 5)) * 4
    logits[0, :] = [1e4, -1e4, 30.0, -30.0, 0.0]
    logits[1, :2] = -INF
    labels = (rng.uniform(size=(6, 5)) > 0.5).astype(np.float64)
    labels[1, :2] = 0.0
    results = []
    for flag in (True, False):
        x = torch.tensor(logits, requires_grad=True)
        with _delegation.enabled(flag):
            loss = al.sigmoid_binary_cross_entropy(x, torch.tensor(labels))
        (g,) = torch.autograd.grad(loss.sum(), x)
        results.append((loss.detach().numpy(), g.numpy()))
    (fast, fast_g), (slow, slow_g) = results
    _assert_same(fast, slow, "float64", "sigmoid_binary_cross_entropy")
    _assert_same(fast_g, slow_g, "float64", "sigmoid_binary_cross_entropy gradient")


# --------------------------------------------------------------------------------------------
# JAX


@pytest.fixture
def jax_ns() -> Any:
    jax = pytest.importorskip("jax")
    # conftest's autouse x64 switch runs before this import in a fresh worker: the first JAX
    # test there would otherwise see float64 truncated to float32
    jax.config.update("jax_enable_x64", True)
    from agnostic_losses._dispatch import namespace

    return namespace(x=jax.numpy.zeros(1))


def _jax_value_and_grad(
    name: str,
    xp: Any,
    arrays: tuple[np.ndarray, ...],
    dtype: str,
    delegate: bool,
    jit: bool,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    import jax
    import jax.numpy as jnp

    args = tuple(jnp.asarray(a, dtype=getattr(jnp, dtype)) for a in arrays)

    def outputs(*a: Any) -> tuple[Any, ...]:
        out = _call(name, xp, a, delegate)
        return tuple(out) if isinstance(out, tuple) else (out,)

    rng = np.random.default_rng(1)
    shapes = [o.shape for o in jax.eval_shape(outputs, *args)]
    weights = [jnp.asarray(rng.uniform(0.5, 1.5, s), dtype=getattr(jnp, dtype)) for s in shapes]

    def total(*a: Any) -> Any:
        return sum(jnp.sum(o * w) for o, w in zip(outputs(*a), weights, strict=True))

    value_fn = jax.jit(outputs) if jit else outputs
    grad_fn = jax.grad(total, argnums=tuple(range(len(args))))
    grad_fn = jax.jit(grad_fn) if jit else grad_fn
    return (
        [np.asarray(o, np.float64) for o in value_fn(*args)],
        [np.asarray(g, np.float64) for g in grad_fn(*args)],
    )


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ["random", "edges"])
@pytest.mark.parametrize("name", PRIMITIVES)
def test_jax_delegated_matches_generic(
    jax_ns: Any, name: str, case: str, dtype: str, jit: bool
) -> None:
    arrays = _inputs(name, case)
    fast_out, fast_grad = _jax_value_and_grad(name, jax_ns, arrays, dtype, True, jit)
    slow_out, slow_grad = _jax_value_and_grad(name, jax_ns, arrays, dtype, False, jit)
    for i, (f, s) in enumerate(zip(fast_out, slow_out, strict=True)):
        _assert_same(f, s, dtype, f"{name} value {i}")
    for i, (f, s) in enumerate(zip(fast_grad, slow_grad, strict=True)):
        _assert_same(f, s, dtype, f"{name} gradient {i}")
        if case == "edges" and name in DELEGATED["jax"]:
            assert np.all(np.isfinite(f)), (name, f)


def test_jax_decision_table(jax_ns: Any) -> None:
    import jax.numpy as jnp

    x = jnp.zeros((2, 3))
    delegated = {
        "softplus": _delegation.softplus(x) is not None,
        "log_sigmoid": _delegation.log_sigmoid(x) is not None,
        "log_sigmoid_pair": _delegation.log_sigmoid_pair(x) is not None,
        "logaddexp": _delegation.logaddexp(x, x) is not None,
        "logsumexp": _delegation.logsumexp(x, -1, False) is not None,
        "log_softmax": _delegation.log_softmax(x, -1) is not None,
        "log_softmax_and_lse": _delegation.log_softmax_and_lse(x, -1) is not None,
        "take_last": _delegation.take_last(x, jnp.zeros((2, 1), dtype=jnp.int32)) is not None,
        "relu": _delegation.relu(x) is not None,
        "absolute": _delegation.absolute(x) is not None,
        "xmul": _delegation.xmul(x, x) is not None,
    }
    assert {k for k, v in delegated.items() if v} == DELEGATED["jax"]
    # integer arrays stay generic (no derivative to define)
    assert _delegation.absolute(jnp.zeros(3, dtype=jnp.int32)) is None
    # so do Python scalars, mixed dtypes and integer products
    assert _delegation.xmul(0.5, x) is None
    assert _delegation.xmul(x, x.astype(jnp.float32)) is None
    assert _delegation.xmul(x.astype(jnp.int32), x.astype(jnp.int32)) is None
    with _delegation.enabled(False):
        assert _delegation.xmul(x, x) is None


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_jax_logaddexp_gradient_at_large_ties(jax_ns: Any, dtype: str) -> None:
    # Why JAX keeps the generic logaddexp: jnp.logaddexp differentiates as exp(a - out) with
    # out rounded, 1 (not 1/2) per operand at a float16 tie at -1e4 and 2e-4 off in float32.
    # The generic one takes the derivative from a - b and splits a tie exactly.
    import jax
    import jax.numpy as jnp

    a = jnp.asarray([-1e4, 1e4, -3.0], dtype=getattr(jnp, dtype))
    ga, gb = jax.jit(jax.grad(lambda u, v: jnp.sum(N.logaddexp(jax_ns, u, v)), argnums=(0, 1)))(
        a, a
    )
    np.testing.assert_array_equal(np.asarray(ga), [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(np.asarray(gb), [0.5, 0.5, 0.5])


def test_absolute_without_autodiff_is_the_library_abs(backend: Any, make: Any) -> None:
    """NumPy, Dask, array-api-strict (and CuPy) have no derivative to keep: ``absolute`` is
    their one-pass ``abs``, equal to ``maximum(x, -x)`` (NaN and infinities included); JAX's
    is ``jnp.abs`` with the derivative ``sign(x)`` (its own has 1 at 0), torch's ``torch.abs``.
    """
    from agnostic_losses._testing.backends import to_numpy

    x = make([-INF, -1e4, -1.5, -0.0, 0.0, 2.0, INF, math.nan])
    fused = _delegation.absolute(x)
    if backend.differentiable:
        assert fused is not None
        return
    assert fused is not None
    want = np.abs([-INF, -1e4, -1.5, -0.0, 0.0, 2.0, INF, math.nan])
    np.testing.assert_array_equal(np.asarray(to_numpy(fused), dtype=np.float64), want)
    np.testing.assert_array_equal(np.signbit(to_numpy(fused)), np.signbit(want))
    with _delegation.enabled(False):
        assert _delegation.absolute(x) is None


def test_jax_absolute_forward_mode_second_derivative_and_vmap(jax_ns: Any) -> None:
    # the custom derivative is a JVP rule: forward mode, reverse mode, second derivatives
    # and vmap all see sign(x) (0 at 0, as the generic maximum(x, -x)), under jit too
    import jax
    import jax.numpy as jnp

    x = jnp.asarray([-2.0, -0.0, 0.0, 3.0, INF, -INF])
    sign = [-1.0, 0.0, 0.0, 1.0, 1.0, -1.0]
    for delegate in (True, False):

        def f(v: Any, d: bool = delegate) -> Any:
            return N.absolute(jax_ns, v, delegate=d)

        _, tangent = jax.jvp(f, (x,), (jnp.ones_like(x),))
        np.testing.assert_array_equal(np.asarray(tangent), sign)
        g = jax.jit(jax.vmap(jax.grad(f)))(x)
        np.testing.assert_array_equal(np.asarray(g), sign)
        h = jax.jit(jax.vmap(jax.grad(jax.grad(f))))(x[:4])
        np.testing.assert_array_equal(np.asarray(h), 0.0)


# every XMUL_EDGES pair and the products of a nonzero with an infinity (value and d/dx
# infinite, d/dy finite)
XMUL_ALL = [*XMUL_EDGES, (0.5, -INF), (-2.0, INF), (1.0, INF), (-0.25, -INF), (3.0, math.nan)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_jax_xmul_derivatives_of_every_order_match_generic(jax_ns: Any, dtype: str) -> None:
    """JAX's ``xmul`` is ``x * where(0 * inf pair, 0, y)`` with a JVP rule whose ``d/dy`` is
    ``x`` itself (no select in the first-order pass). Forward and reverse mode, full
    Hessians (both orders of the mixed partials: 0 at the replaced pairs), vmap and jit must
    give what the generic composition gives, NaN and infinity pattern included."""
    import jax
    import jax.numpy as jnp

    x, y = (jnp.asarray(v, dtype=getattr(jnp, dtype)) for v in np.asarray(XMUL_ALL).T)
    weights = jnp.linspace(0.5, 1.5, x.shape[0], dtype=x.dtype)
    results = []
    for delegate in (True, False):

        def f(u: Any, v: Any, d: bool = delegate) -> Any:
            return N.xmul(jax_ns, u, v, delegate=d)

        def total(u: Any, v: Any, d: bool = delegate) -> Any:
            return jnp.sum(f(u, v, d) * weights)

        value = f(x, y)
        _, tangent = jax.jvp(f, (x, y), (jnp.ones_like(x), jnp.full_like(y, 0.5)))
        grads = jax.jit(jax.grad(total, argnums=(0, 1)))(x, y)
        forward_grads = jax.jacfwd(total, argnums=(0, 1))(x, y)
        rows = jax.vmap(jax.grad(lambda u, v: total(u, v) / weights[0], argnums=(0, 1)))(
            x[:, None], y[:, None]
        )
        hessian = jax.jit(jax.hessian(total, argnums=(0, 1)))(x, y)
        reverse_hessian = jax.jacrev(jax.grad(total, argnums=(0, 1)), argnums=(0, 1))(x, y)
        results.append(
            [value, tangent, *grads, *forward_grads, *rows]
            + [hessian[i][j] for i in range(2) for j in range(2)]
            + [reverse_hessian[i][j] for i in range(2) for j in range(2)]
        )
    for i, (fast, slow) in enumerate(zip(*results, strict=True)):
        _assert_same(np.asarray(fast), np.asarray(slow), dtype, f"xmul output {i}")
    # the replaced pairs (0 * inf) have value 0 and zero first and second derivatives
    replaced = np.asarray([a == 0 and math.isinf(b) for a, b in XMUL_ALL])
    (value, _, gx, gy, *_), hessian = results[0][:4], results[0][-8:-4]
    assert np.all(np.asarray(value)[replaced] == 0)
    assert np.all(np.asarray(gx)[replaced] == 0)
    assert np.all(np.asarray(gy)[replaced] == 0)
    for block in hessian:
        assert np.all(np.diag(np.asarray(block))[replaced] == 0)


def test_jax_xmul_first_order_pass_has_no_select(jax_ns: Any) -> None:
    """What the JVP rule is for: the gradient w.r.t. ``y`` of a ``sum(x * log q)``-shaped loss
    compiles without a compare or select (XLA:CPU fuses it into one reduction), where the
    generic ``where`` leaves one in the backward pass."""
    import jax
    import jax.numpy as jnp

    x = jnp.zeros((8, 16), dtype=jnp.float32)
    ops = {}
    for delegate in (True, False):
        grad = jax.jit(
            jax.grad(lambda u, v, d=delegate: jnp.sum(N.xmul(jax_ns, u, v, delegate=d)), 1)
        )
        text = grad.lower(x, x).compile().as_text()
        # the instructions' opcodes only: the text also lists the Python stack's function names
        ops[delegate] = set(re.findall(r"= \S+ ([a-z-]+)\(", text))
    assert "select" not in ops[True], ops[True]
    assert "compare" not in ops[True], ops[True]
    assert "select" in ops[False], ops[False]


def test_jax_xmul_losses_match_generic_at_zeros_and_infinities(jax_ns: Any) -> None:
    """Every registry case whose JAX evaluation reaches the delegated ``xmul``: with entries of
    its floating arguments set to ``+inf``, ``-inf`` and 0 in turn, the value and the gradients
    w.r.t. every floating argument are the same with delegation on and off (NaN and infinity
    pattern included). The JVP rule's ``d/dy = x`` equals the generic ``x * [not replaced]``
    unless a cotangent reaching a replaced pair is itself NaN or infinite; none does here."""
    from agnostic_losses._registry import CASES
    from agnostic_losses._testing.backends import (
        Backend,
        from_numpy,
        to_numpy,
        value_and_grad_arrays,
    )

    backend = Backend.JAX
    reached: list[bool] = []
    original = _delegation.xmul

    def spy(x: Any, y: Any) -> Any:
        out = original(x, y)
        reached.append(out is not None)
        return out

    checked = 0
    for case in CASES:
        inputs = case.inputs(0)
        args = list(inputs.args)
        floats, names = case.differentiable(inputs)
        kwargs = {k: from_numpy(backend, v, "float64") for k, v in inputs.kwargs.items()}
        reached.clear()
        _delegation.xmul = spy
        try:
            case.func(*[from_numpy(backend, a, "float64") for a in args], **kwargs)
        finally:
            _delegation.xmul = original
        if not floats or not any(reached):
            continue
        checked += 1
        for i in floats:
            for position in range(min(args[i].size, 2)):
                for v in (INF, -INF, 0.0):
                    edited = args[i].copy()
                    edited.flat[position] = v
                    full = [*args[:i], edited, *args[i + 1 :]]
                    results = []
                    for flag in (True, False):
                        call = [from_numpy(backend, a, "float64") for a in full]
                        with _delegation.enabled(flag):
                            value, grads = value_and_grad_arrays(
                                backend, case.func, call, kwargs, argnums=floats, argnames=names
                            )
                        results.append([to_numpy(value), *(to_numpy(g) for g in grads)])
                    for j, (fast, slow) in enumerate(zip(*results, strict=True)):
                        what = f"{case.id} arg {i}[{position}] = {v}: output {j}"
                        _assert_same(fast, slow, "float64", what)
    assert checked >= 10, checked
