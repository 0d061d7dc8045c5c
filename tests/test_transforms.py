"""Every registry case the way accelerator and transform users run it (issue 9).

- torch ``meta`` tensors: no values exist, so a call that reads one back to the host fails; a
  spy also counts every host read (``item``, ``__bool__``, ``tolist``, ``__float__``...). The
  result has torch's own shape and dtype where torch has the loss.
- array-api-strict's non-default device: results (and every constant made on the way, which
  strict refuses to mix) stay on the input's device.
- ``torch.func.vmap``, ``torch.func.grad`` and ``torch.compile(fullgraph=True)`` (dynamo with the
  eager backend: the graph must have no break; inductor runs in the benchmarks).
- ``torch.autograd.functional.jacobian``: reverse mode, batched cotangents and forward mode.
- ``torch.export`` with a dynamic batch (the exported program at two batch sizes), and
  TorchScript's refusal of our classes with a message that says what to use instead.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from agnostic_losses._registry import CASES, Inputs, LossCase
from agnostic_losses._testing import backends as B
from agnostic_losses._testing.assertions import assert_close, default_tolerance
from agnostic_losses._testing.backends import Backend

SEED = 20261123
_HOST_READS = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__array__")


def _torch() -> Any:
    if Backend.TORCH.unavailable_reason() is not None:
        pytest.skip(Backend.TORCH.unavailable_reason())
    import torch

    return torch


def _to_torch(torch: Any, inputs: Inputs, device: str) -> tuple[list[Any], dict[str, Any]]:
    def convert(a: Any) -> Any:
        if not isinstance(a, np.ndarray):
            return a
        dtype = torch.float32 if np.issubdtype(a.dtype, np.floating) else None
        return torch.asarray(a, dtype=dtype, device=device)

    return [convert(a) for a in inputs.args], {k: convert(v) for k, v in inputs.kwargs.items()}


def _close_to_eager(case: LossCase, got: Any, want: Any, what: str) -> None:
    """A transformed or compiled torch result against eager's, at float32's tolerances scaled
    by the case's."""
    rtol, atol = default_tolerance("float32")
    assert_close(
        B.to_numpy(got),
        B.to_numpy(want),
        rtol=rtol * case.rtol,
        atol=atol * case.rtol,
        err_msg=f"{case.id} {what}",
    )


@contextlib.contextmanager
def _count_host_reads(torch: Any) -> Iterator[list[str]]:
    """Every host read of a tensor inside the block, by method name."""
    seen: list[str] = []
    originals = {name: getattr(torch.Tensor, name) for name in _HOST_READS}

    def spy(name: str, original: Any) -> Any:
        def read(self: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append(name)
            return original(self, *args, **kwargs)

        return read

    try:
        for name, original in originals.items():
            setattr(torch.Tensor, name, spy(name, original))
        yield seen
    finally:
        for name, original in originals.items():
            setattr(torch.Tensor, name, original)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_meta_tensors_no_host_read(case: LossCase) -> None:
    torch = _torch()
    args, kwargs = _to_torch(torch, case.inputs(SEED), "meta")
    with _count_host_reads(torch) as reads:
        out = case.func(*args, **kwargs)
    assert reads == [], f"{case.id} read values back to the host: {reads}"
    assert out.device.type == "meta", case.id
    peer = case.peer
    if peer is not None and peer.library == "torch" and peer.available():
        try:
            theirs = peer.load()(*args, **kwargs)
        except (NotImplementedError, RuntimeError):  # torch: no meta kernel, or it reads values
            return
        assert tuple(out.shape) == tuple(theirs.shape), case.id
        assert out.dtype == theirs.dtype, case.id


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_array_api_strict_other_device(case: LossCase) -> None:
    import array_api_strict as xp

    B.Backend.ARRAY_API_STRICT.namespace()
    device = xp.Device("device1")
    inputs = case.inputs(SEED)

    def convert(a: Any) -> Any:
        if not isinstance(a, np.ndarray):
            return a
        return xp.asarray(a.astype(np.float64) if a.dtype.kind == "f" else a, device=device)

    out = case.func(
        *[convert(a) for a in inputs.args], **{k: convert(v) for k, v in inputs.kwargs.items()}
    )
    assert out.device == device, case.id
    expected = case.func(*inputs.args, **inputs.kwargs)
    assert_close(
        np.from_dlpack(xp.asarray(out, device=xp.Device("CPU_DEVICE"))),
        np.asarray(expected),
        rtol=1e-9 * case.rtol,
        atol=1e-12 * case.rtol,
        err_msg=case.id,
    )


def _torch_case(torch: Any, case: LossCase) -> tuple[list[Any], dict[str, Any], int]:
    """The case's CPU tensors and the position of its first floating one (skip without)."""
    args, kwargs = _to_torch(torch, case.inputs(SEED), "cpu")
    first = next(
        (i for i, a in enumerate(args) if torch.is_tensor(a) and a.is_floating_point()), None
    )
    if first is None:
        pytest.skip("no floating positional argument")
    return args, kwargs, first


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_torch_func_transforms(case: LossCase) -> None:
    """``vmap`` over a new leading axis equals the stacked calls; ``grad`` of the summed loss
    w.r.t. the first floating argument equals autograd's."""
    torch = _torch()
    args, kwargs, first = _torch_case(torch, case)
    tensors = [i for i, a in enumerate(args) if torch.is_tensor(a)]

    def call(*batched: Any) -> Any:
        full = list(args)
        for i, a in zip(tensors, batched):
            full[i] = a
        return case.func(*full, **kwargs)

    expected = call(*[args[i] for i in tensors])
    stacked = [torch.stack([args[i], args[i]]) for i in tensors]
    got = torch.func.vmap(call)(*stacked)
    _close_to_eager(case, got, np.stack([B.to_numpy(expected)] * 2), "vmap")

    def summed(x: Any) -> Any:
        full = list(args)
        full[first] = x
        return case.func(*full, **kwargs).sum()

    g = torch.func.grad(summed)(args[first])
    leaf = args[first].detach().clone().requires_grad_(True)
    (want,) = torch.autograd.grad(summed(leaf), leaf, allow_unused=True)
    want = torch.zeros_like(leaf) if want is None else want
    _close_to_eager(case, g, want, "grad")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_torch_autograd_jacobians(case: LossCase) -> None:
    """``torch.autograd.functional.jacobian`` w.r.t. every differentiable argument, the three
    ways torch computes it, agree: reverse mode one output at a time, reverse mode with batched
    cotangents (``vectorize=True``: ``is_grads_batched``, also behind ``gradcheck``'s batched
    check) and forward mode (``strategy='forward-mode'``: tangents on dual tensors, where
    torch's own kernels would drop a class weight's)."""
    torch = _torch()
    inputs = case.inputs(SEED)
    positions, names = case.differentiable(inputs)
    if not positions and not names:
        pytest.skip(f"{case.id} differentiates no argument")
    args, kwargs = _to_torch(torch, inputs, "cpu")
    args = [a.double() if torch.is_tensor(a) and a.is_floating_point() else a for a in args]
    kwargs = {
        k: v.double() if torch.is_tensor(v) and v.is_floating_point() else v
        for k, v in kwargs.items()
    }
    primals = tuple([args[i] for i in positions] + [kwargs[k] for k in names])

    def loss(*diff: Any) -> Any:
        full, options = list(args), dict(kwargs)
        for i, a in zip(positions, diff):
            full[i] = a
        for k, a in zip(names, diff[len(positions) :]):
            options[k] = a
        out = case.func(*full, **options)
        return out[0] if isinstance(out, tuple) else out

    jacobian = torch.autograd.functional.jacobian
    want = jacobian(loss, primals)
    for how, options in (
        ("batched cotangents", {"vectorize": True}),
        ("forward mode", {"vectorize": True, "strategy": "forward-mode"}),
    ):
        got = jacobian(loss, primals, **options)
        for j, (g, w) in enumerate(zip(got, want)):
            assert_close(
                B.to_numpy(g),
                B.to_numpy(w),
                rtol=1e-10 * case.rtol,
                atol=1e-12,
                err_msg=f"{case.id} {how}, argument {j}",
            )


def _smaller_batches(inputs: Inputs) -> list[Inputs]:
    """``inputs`` with the leading axis of every array that shares the first array's batch
    size cut by one and by two (what a ``DataLoader`` without ``drop_last`` hands over at the
    end of an epoch); none where the first array has no batch of at least 4."""
    first = next((a for a in inputs.args if isinstance(a, np.ndarray) and a.ndim), None)
    if first is None or first.shape[0] < 4:
        return []
    n = first.shape[0]

    def cut(a: Any, m: int) -> Any:
        return a[:m] if isinstance(a, np.ndarray) and a.ndim and a.shape[0] == n else a

    return [
        Inputs(
            tuple(cut(a, m) for a in inputs.args), {k: cut(v, m) for k, v in inputs.kwargs.items()}
        )
        for m in (n - 1, n - 2)
    ]


@contextlib.contextmanager
def _dynamo_graphs(
    torch: Any, kwargs: dict[str, Any]
) -> Iterator[tuple[Callable[[Any], Any], list[Any]]]:
    """``(compile, graphs)``: ``compile(fn)`` is ``torch.compile(fn, fullgraph=True)`` with a
    backend that records every graph dynamo hands it (and runs it as traced), between two
    dynamo resets. A user's distance function among ``kwargs`` that resolves its namespace
    with array-api-compat (as the registry's do) makes dynamo warn about compat's lru_cache;
    that warning is ignored then only (ours do not cause it)."""
    graphs: list[Any] = []

    def backend(gm: Any, example_inputs: Any) -> Any:
        graphs.append(gm)
        return gm.forward

    torch._dynamo.reset()
    with warnings.catch_warnings():
        if any(callable(v) for v in kwargs.values()):
            warnings.filterwarnings("ignore", message="Dynamo detected a call to a `functools")
        try:
            yield (lambda fn: torch.compile(fn, backend=backend, fullgraph=True)), graphs
        finally:
            torch._dynamo.reset()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_torch_compile_fullgraph(case: LossCase) -> None:
    """``torch.compile(fullgraph=True)`` without a graph break; then batches of two other sizes
    through the same compiled function: dynamo's automatic dynamic shapes recompile once with a
    symbolic batch size (which must trace too), and the third size reuses that graph."""
    torch = _torch()

    inputs = case.inputs(SEED)
    calls = [_to_torch(torch, inputs, "cpu")]
    for smaller in _smaller_batches(inputs):
        args, kwargs = _to_torch(torch, smaller, "cpu")
        try:
            case.func(*args, **kwargs)
        except (ValueError, TypeError):
            break  # the case's shapes do not allow another batch size (pairs, lengths)
        calls.append((args, kwargs))
    expected = [case.func(*args, **kwargs) for args, kwargs in calls]
    with _dynamo_graphs(torch, calls[0][1]) as (compile_, graphs):
        compiled = compile_(lambda a, k: case.func(*a, **k))
        got = [compiled(args, kwargs) for args, kwargs in calls]
    for size, (g, e) in enumerate(zip(got, expected)):
        _close_to_eager(case, g, e, f"(batch size {size})")
    assert len(graphs) <= min(len(calls), 2), f"{case.id}: {len(graphs)} compilations"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_torch_export_with_a_dynamic_batch(case: LossCase) -> None:
    """``torch.export.export``, the way a torch graph is deployed or handed to AOTInductor (and
    what the TorchScript refusal recommends): the case as a Module of its tensors, the batch
    axis of each (the sharding tests' layout: axis 1 of torch's CTC log-probabilities, the
    length of CTC's concatenated targets) dynamic. The exported program gives eager's value at
    the traced batch and at twice it (another power-of-two bucket of sizes)."""
    torch = _torch()
    from torch.export import Dim, export

    from agnostic_losses._testing.sharding import batch_layout, combined

    inputs = case.inputs(0)
    layout = batch_layout(case, inputs)
    batched = [inputs]
    dynamic: dict[int | str, int] = {}
    if not isinstance(layout, str):
        batched.append(combined(case, layout, 2))
        dynamic = {**layout.axes, **dict.fromkeys(layout.concatenated, 0)}
    args, kwargs = _to_torch(torch, inputs, "cpu")
    # every tensor, positional or keyword, is an input of the exported program
    keys = [k for k, v in [*enumerate(args), *kwargs.items()] if isinstance(v, torch.Tensor)]

    def tensors_of(a: list[Any], k: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(a[key] if isinstance(key, int) else k[key] for key in keys)

    class Case(torch.nn.Module):
        def forward(self, *tensors: Any) -> Any:
            a, k = list(args), dict(kwargs)
            for key, t in zip(keys, tensors):
                if isinstance(key, int):
                    a[key] = t
                else:
                    k[key] = t
            return case.func(*a, **k)

    spec = tuple({dynamic[key]: Dim.AUTO} if key in dynamic else None for key in keys)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's notes on specialised dimensions
        program = export(Case(), tensors_of(args, kwargs), dynamic_shapes=(spec,))
    for size, batch in enumerate(batched):
        call_args, call_kwargs = _to_torch(torch, batch, "cpu")
        got = program.module()(*tensors_of(call_args, call_kwargs))
        expected = case.func(*call_args, **call_kwargs)
        for g, e in zip(
            got if isinstance(got, tuple) else (got,),
            expected if isinstance(expected, tuple) else (expected,),
        ):
            _close_to_eager(case, g, e, f"({'twice the' if size else 'the traced'} batch)")


def test_torchscript_is_refused_with_a_clear_error() -> None:
    """TorchScript compiles a subset of Python that ours is not written in: scripting a model
    that holds one of our classes raises a TypeError naming the class and what to use
    instead, not TorchScript's "Unknown type annotation" at a line of ours."""
    torch = _torch()
    import agnostic_losses as al

    class Model(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(3, 4)
            self.criterion = al.CrossEntropyLoss(label_smoothing=0.1)

        def forward(self, x: Any, y: Any) -> Any:
            return self.criterion(self.linear(x), y)

    expected = r"CrossEntropyLoss cannot be compiled by TorchScript .* torch.compile or "
    with pytest.raises(TypeError, match=expected + r"torch.export or torch.nn.CrossEntropyLoss"):
        torch.jit.script(Model())

    class Cube(al.Loss):
        def forward(self, input: Any, target: Any) -> Any:
            return self.reduce(abs(input - target) ** 3)

    with pytest.raises(TypeError, match=r"Cube cannot be compiled by TorchScript .*export\.$"):
        torch.jit.script(Cube())


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_torch_compile_training_step(case: LossCase) -> None:
    """The compiled training step's half: ``torch.compile(fullgraph=True)`` of the summed loss
    with the first floating argument requiring a gradient (dynamo traces autograd then, and
    refuses what it does not support, such as an ``autograd.Function`` with a ``jvp``), and
    the gradient from the compiled graph: eager's value and gradient."""
    torch = _torch()
    args, kwargs, first = _torch_case(torch, case)

    def summed(x: Any, rest: list[Any], options: dict[str, Any]) -> Any:
        full = list(rest)
        full[first] = x
        return case.func(*full, **options).sum()

    def value_and_grad(fn: Any) -> tuple[Any, Any]:
        x = args[first].detach().clone().requires_grad_(True)
        value = fn(x, args, kwargs)
        (grad,) = torch.autograd.grad(value, x, allow_unused=True)
        return value.detach(), torch.zeros_like(x) if grad is None else grad

    want = value_and_grad(summed)
    with _dynamo_graphs(torch, kwargs) as (compile_, graphs):
        got = value_and_grad(compile_(summed))
    for what, g, w in zip(("value", "gradient"), got, want):
        _close_to_eager(case, g, w, what)
    assert len(graphs) == 1, f"{case.id}: {len(graphs)} graphs"


@pytest.mark.parametrize("name", ["cross_entropy", "mse_loss", "kl_div", "nll_loss"])
def test_torch_compile_under_autocast(name: str) -> None:
    """An AMP training step compiled whole: under ``torch.autocast`` (CPU, bfloat16) the
    compiled loss (the generic path, traced by dynamo without a graph break) returns torch's
    float32, and its value and input gradient equal torch's own loss's under autocast."""
    torch = _torch()
    import agnostic_losses.functional as F

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(8, 5, generator=gen).to(torch.bfloat16).requires_grad_()
    if name in ("cross_entropy", "nll_loss"):
        target = torch.randint(0, 5, (8,), generator=gen)
    else:
        target = torch.rand(8, 5, generator=gen).to(torch.bfloat16)

    def forward(fn: Any, inp: Any) -> Any:
        arg = torch.log_softmax(inp.float(), -1).to(inp.dtype) if name == "nll_loss" else inp
        # (kl_div's default 'mean' warns: torch's own does; batchmean is what users pass)
        options = {"reduction": "batchmean"} if name == "kl_div" else {}
        return fn(arg, target, **options)

    def step(fn: Any) -> Any:
        loss = fn(x)
        (grad,) = torch.autograd.grad(loss, x)
        return loss, grad

    torch._dynamo.reset()
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            compiled = torch.compile(
                lambda inp: forward(getattr(F, name), inp), backend="eager", fullgraph=True
            )
            got, got_grad = step(compiled)
            want, want_grad = step(lambda inp: forward(getattr(torch.nn.functional, name), inp))
    finally:
        torch._dynamo.reset()
    assert got.dtype == want.dtype == torch.float32, (got.dtype, want.dtype)
    assert got_grad.dtype == want_grad.dtype == torch.bfloat16
    rtol, atol = default_tolerance("bfloat16")
    assert_close(B.to_numpy(got), B.to_numpy(want), rtol=rtol, atol=atol)
    assert_close(B.to_numpy(got_grad.float()), B.to_numpy(want_grad.float()), rtol=rtol, atol=atol)


_ORDER = """
import torch
from torch._dynamo.utils import counters
import agnostic_losses as al
import agnostic_losses.functional as F

x = torch.randn(8, 5, requires_grad=True)
y = torch.randint(0, 5, (8,))
losses = [
    lambda a: F.cross_entropy(a, y),
    lambda a: F.mse_loss(a, torch.zeros_like(a)),
    lambda a: al.softmax_cross_entropy_with_integer_labels(a, y).mean(),
    lambda a: al.CrossEntropyLoss(label_smoothing=0.1)(a, y),
]
for loss in losses:
    if {eager_first}:
        loss(x).backward()
    compiled = torch.compile(loss, fullgraph=True)
    compiled(x).backward()
    torch.testing.assert_close(compiled(x), loss(x))
print(sum(counters["graph_break"].values()))
"""


@pytest.mark.parametrize("eager_first", [False, True], ids=["compiled-first", "eager-first"])
def test_compile_in_a_fresh_process(eager_first: bool) -> None:
    """The first call of a process inside ``torch.compile`` (inductor) has no graph break."""
    _torch()
    code = textwrap.dedent(_ORDER.format(eager_first=eager_first))
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=False
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().splitlines()[-1] == "0", run.stdout


def test_compile_with_the_deprecated_reduction() -> None:
    """``reduction='elementwise_mean'`` warns in eager calls and traces under
    ``torch.compile(fullgraph=True)`` (the warning, which dynamo cannot trace, is silent
    there: the option's validator holds no array to ask, so it asks torch itself)."""
    torch = _torch()
    import agnostic_losses.functional as F

    x, y = torch.randn(4, 3), torch.randn(4, 3)

    def loss(a: Any, b: Any) -> Any:
        return F.mse_loss(a, b, reduction="elementwise_mean")

    with pytest.warns(UserWarning, match="elementwise_mean"):
        want = loss(x, y)
    torch._dynamo.reset()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = torch.compile(loss, fullgraph=True, backend="eager")(x, y)
    torch._dynamo.reset()
    torch.testing.assert_close(got, want)
