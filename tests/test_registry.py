"""Generic tests over every registry case: reference values, gradients, peers, half precision,
invariants. Family test modules add the hand literals, pitfalls and errors."""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agnostic_losses._registry import CASES, Inputs, LossCase, losses
from agnostic_losses._testing import backends as B
from agnostic_losses._testing.assertions import assert_close, default_tolerance, dtype_name
from agnostic_losses._testing.backends import Backend
from agnostic_losses._testing.compare import GRAD_TOLERANCES

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
    # The standard's convention on NumPy: a reduced loss is a 0-d array, not a NumPy scalar.
    assert not isinstance(out, np.generic), f"{case.id} returned {type(out).__name__}"
    assert dtype_name(out) == dtype
    if backend.is_torch:
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


def _mask_name(case: LossCase) -> str | None:
    kwargs = case.inputs(SEED).kwargs
    return next(
        (k for k, v in kwargs.items() if isinstance(v, np.ndarray) and v.dtype == bool), None
    )


_MASKED = [c for c in CASES if _mask_name(c) is not None]


def _pad_excluded(value: Any, mask: np.ndarray) -> Any:
    """``value`` with a padding value (-1) wherever ``mask`` excludes it: entries of an array
    of the mask's shape (or of a shape the mask's extends), whole rows of an array of the mask's
    leading shape (integer labels, one per row) where the mask excludes the entire row."""
    if not isinstance(value, np.ndarray) or value.dtype == bool or value.ndim == 0:
        return value
    if value.shape[: mask.ndim] == mask.shape:
        m = np.reshape(mask, mask.shape + (1,) * (value.ndim - mask.ndim))
        return np.where(m, value, np.asarray(-1, dtype=value.dtype))
    if mask.shape[: value.ndim] == value.shape:
        rows = np.any(mask, axis=tuple(range(value.ndim, mask.ndim)))
        return np.where(rows, value, np.asarray(-1, dtype=value.dtype))
    return value


@pytest.mark.parametrize("masked_case", _MASKED, ids=[c.id for c in _MASKED])
def test_where_excluded_entries_are_not_read(
    masked_case: LossCase, backend: Backend, xp: Any
) -> None:
    """What a ``where`` mask excludes is never read: padding there (-1 in every array, also in
    integer labels and probabilities, where a counted -1 would be an error) gives the value, and
    the gradient w.r.t. every differentiable argument, of the same call with clean entries
    there; finite, and 0 at the excluded entries. (optax also pads; its label gradient is NaN
    there.) The first row is excluded entirely, so a label of that row is padding too."""
    case, name = masked_case, _mask_name(masked_case)
    inputs = case.inputs(SEED)
    mask = inputs.kwargs[name].copy()
    mask[0] = False
    clean = Inputs(inputs.args, {**inputs.kwargs, name: mask})
    padded = Inputs(
        tuple(_pad_excluded(a, mask) for a in inputs.args),
        {k: v if k == name else _pad_excluded(v, mask) for k, v in clean.kwargs.items()},
    )
    dtype = backend.float_dtype
    rtol, atol = default_tolerance(dtype)
    argnums, argnames = case.differentiable(inputs)
    results = []
    for version in (clean, padded):
        args, kwargs = _convert(backend, version, dtype)
        if backend.differentiable and (argnums or argnames):
            value, grads = B.value_and_grad(
                backend, case.func, args, kwargs, argnums=argnums, argnames=argnames
            )
        else:
            value, grads = B.to_numpy(B.call(backend, case.func, *args, **kwargs)), []
        results.append((value, grads))
    (want, want_grads), (got, got_grads) = results
    assert np.all(np.isfinite(got)), case.id
    assert_close(got, want, rtol=rtol * case.rtol, atol=atol * case.rtol, err_msg=case.id)
    for where, g, w in zip((*argnums, *argnames), got_grads, want_grads):
        err = f"{case.id} gradient w.r.t. {where}"
        assert np.all(np.isfinite(g)), err
        assert_close(g, w, rtol=rtol * case.rtol, atol=atol * case.rtol, err_msg=err)


def _finite_differences(case: LossCase, inputs: Inputs, cotangent: np.ndarray) -> list[np.ndarray]:
    """Central differences of ``sum(cotangent * reference)`` w.r.t. every differentiable
    argument (positions, then keyword names)."""
    argnums, argnames = case.differentiable(inputs)

    def evaluate(where: int | str, point: np.ndarray) -> float:
        args, kwargs = list(inputs.args), dict(inputs.kwargs)
        if isinstance(where, int):
            args[where] = point
        else:
            kwargs[where] = point
        return float(np.sum(cotangent * _reference(case, Inputs(tuple(args), kwargs))))

    grads = []
    for where in (*argnums, *argnames):
        x = inputs.args[where] if isinstance(where, int) else inputs.kwargs[where]
        g = np.zeros_like(x)
        for j in np.ndindex(x.shape):
            h = 1e-6 * max(1.0, abs(x[j]))
            plus, minus = x.copy(), x.copy()
            plus[j] += h
            minus[j] -= h
            g[j] = (evaluate(where, plus) - evaluate(where, minus)) / (2 * h)
        grads.append(g)
    return grads


@pytest.mark.autodiff
def test_gradient_matches_finite_differences(case: LossCase, backend: Backend, xp: Any) -> None:
    """Gradients w.r.t. every differentiable argument, in the backend's widest float dtype
    (float32 in JAX's default mode), against central differences of the float64 reference."""
    dtype = backend.float_dtype
    inputs = _rounded(case.inputs(SEED), backend, dtype)
    argnums, argnames = case.differentiable(inputs)
    if not (argnums or argnames) or case.reference is None:
        pytest.skip(f"{case.id} declares no differentiable argument or no reference")
    args, kwargs = _convert(backend, inputs, dtype)
    value = _reference(case, inputs)
    cotangent = np.random.default_rng(1).uniform(0.5, 1.5, size=value.shape)
    _, grads = B.value_and_grad(
        backend,
        case.func,
        args,
        kwargs,
        argnums=argnums,
        argnames=argnames,
        cotangent=cotangent,
    )
    expected = _finite_differences(case, inputs, cotangent)
    rtol, atol = GRAD_TOLERANCES[dtype]
    for i, got, want in zip((*argnums, *argnames), grads, expected):
        assert_close(
            np.asarray(got),
            want,
            rtol=rtol * case.rtol,
            atol=atol * case.rtol * max(1.0, float(np.max(np.abs(want), initial=0.0))),
            err_msg=f"{case.id} d/d(arg {i})",
            check_dtype=False,
        )


PEER_CASES = [c for c in CASES if c.peer is not None and c.peer.runnable]

_NOT_DIFFERENTIABLE = re.compile(r"not differentiable with respect to argument '(\w+)'")


def _positional(case: LossCase) -> tuple[str, ...]:
    """The names of ``case.func``'s positional parameters; a class case calls
    ``forward(input, target, ...)``, as torch's modules name them."""
    params = inspect.signature(case.func).parameters.values()
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return tuple(p.name for p in params if p.kind in kinds) or ("input", "target")


def _peer_gradients(
    backend: Backend,
    peer_fn: Any,
    args: list[Any],
    kwargs: dict[str, Any],
    argnums: tuple[int, ...],
    argnames: tuple[str, ...],
    positional: tuple[str, ...],
) -> tuple[tuple[int, ...], tuple[str, ...], Any, list[Any]]:
    """The peer's value and gradients; arguments torch refuses to differentiate (``weight`` of
    most of its losses, ``target`` of a few) are dropped from the comparison. ``positional``
    names the positional parameters (ours mirror torch's names)."""
    while True:
        try:
            value, grads = B.value_and_grad(
                backend, peer_fn, args, kwargs, argnums=argnums, argnames=argnames
            )
        except RuntimeError as exc:
            found = _NOT_DIFFERENTIABLE.search(str(exc))
            name = None if found is None else found.group(1)
            if name in argnames:
                argnames = tuple(a for a in argnames if a != name)
            elif name in positional and positional.index(name) in argnums:
                argnums = tuple(i for i in argnums if i != positional.index(name))
            else:
                raise
            if not argnums and not argnames:
                return argnums, argnames, B.to_numpy(peer_fn(*args, **kwargs)), []
            continue
        return argnums, argnames, value, grads


@pytest.mark.parametrize("case", PEER_CASES, ids=[c.id for c in PEER_CASES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_peer(case: LossCase, dtype: str) -> None:
    """Values and gradients equal to the peer's own, on the peer's library."""
    peer = case.peer
    assert peer is not None
    # JAX users run float32 in JAX's default 32-bit mode; float64 needs x64.
    jax_mode = Backend.JAX if dtype == "float64" else Backend.JAX32
    backend = Backend.TORCH if peer.library == "torch" else jax_mode
    if backend.unavailable_reason() or not peer.available():
        pytest.skip(f"peer {peer.label} is not installed")
    backend.namespace()  # enables x64 on jax
    inputs = case.inputs(SEED)
    args, kwargs = _convert(backend, inputs, dtype)
    peer_fn = peer.load()
    argnums, argnames = case.differentiable(inputs, peer=True)
    grads_compared = bool(argnums or argnames)
    if grads_compared:
        argnums, argnames, peer_value, peer_grads = _peer_gradients(
            backend, peer_fn, args, kwargs, argnums, argnames, _positional(case)
        )
    if argnums or argnames:
        wrt = {"argnums": argnums, "argnames": argnames}
        value, grads = B.value_and_grad(backend, case.func, args, kwargs, **wrt)
    else:
        value, grads = B.to_numpy(case.func(*args, **kwargs)), []
        if not grads_compared:
            peer_value, peer_grads = B.to_numpy(peer_fn(*args, **kwargs)), []
    rtol, atol = default_tolerance(
        peer.precision if dtype == "float64" and peer.precision else dtype
    )
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


def _peer_and_ours(case: LossCase, backend: Backend, inputs: Inputs, dtype: str) -> Any:
    """``(ours, peer)``, each ``[value, *gradients]`` as float64 NumPy, w.r.t. the arguments
    both differentiate."""
    args, kwargs = _convert(backend, inputs, dtype)
    argnums, argnames = case.differentiable(inputs, peer=True)
    argnums, argnames, peer_value, peer_grads = _peer_gradients(
        backend, case.peer.load(), args, kwargs, argnums, argnames, _positional(case)
    )
    value, grads = B.value_and_grad(
        backend, case.func, args, kwargs, argnums=argnums, argnames=argnames
    )
    as64 = [np.asarray(a, dtype=np.float64) for a in (value, *grads, peer_value, *peer_grads)]
    half = len(as64) // 2
    return as64[:half], as64[half:]


# The cases whose float32 values or gradients were up to 10x less accurate than the peer's at
# logits of +-20 (probed over every peer case at 20x, 100x, 5x and 1e-3x the registry's
# logits): the log-softmax rounded to half an ulp of the max logit.
LARGE_LOGIT_CASES = [
    c
    for c in PEER_CASES
    if c.id.startswith(("top.dice_loss[", "top.multiclass_generalized_dice_loss["))
    or c.id == "top.generalized_cross_entropy[from_logits]"
]


@pytest.mark.parametrize("case", LARGE_LOGIT_CASES, ids=[c.id for c in LARGE_LOGIT_CASES])
def test_float32_as_accurate_as_peer_at_large_logits(case: LossCase) -> None:
    """ "Gradients as good or better": with the logits scaled 20x, our float32 value and
    gradients are within 4x (+ 3e-7 of the largest) of the float64 truth's distance from the
    peer's float32 ones."""
    backend = Backend.JAX32
    if backend.unavailable_reason() or not case.peer.available():
        pytest.skip(f"peer {case.peer.label} is not installed")
    inputs = case.inputs(SEED)
    scaled = Inputs((inputs.args[0] * 20.0, *inputs.args[1:]), inputs.kwargs)
    ours, peer = _peer_and_ours(case, backend, scaled, "float32")
    Backend.JAX.namespace()  # x64 for the truth
    truth, _ = _peer_and_ours(case, Backend.JAX, _rounded(scaled, backend, "float32"), "float64")
    for i, (mine, theirs, want) in enumerate(zip(ours, peer, truth)):
        scale = max(float(np.max(np.abs(want))), 1e-30)
        err, peer_err = (float(np.max(np.abs(a - want))) / scale for a in (mine, theirs))
        what = "value" if i == 0 else f"gradient {i}"
        # a peer's NaN (keras's generalized CE gradient at p_y = 0) bounds nothing: ours is finite
        bound = 4 * peer_err + 3e-7 if np.isfinite(peer_err) else np.inf
        assert err <= bound, f"{case.id} {what}: {err:.1e} vs peer {peer_err:.1e}"


TORCH_PEER_CASES = [c for c in PEER_CASES if c.peer.library == "torch"]


@pytest.mark.parametrize("path", ["native", "generic"])
@pytest.mark.parametrize("half", ["bfloat16", "float16"])
@pytest.mark.parametrize("case", TORCH_PEER_CASES, ids=[c.id for c in TORCH_PEER_CASES])
def test_torch_autocast_dtype_matches_torch(case: LossCase, half: str, path: str) -> None:
    """Under ``torch.autocast("cpu", dtype=half)``, inputs of that dtype (what an autocast matmul
    hands the loss): the result's dtype is torch's own (float32 for the losses of autocast's
    float32 policy), and so is its value. Both paths: on eager CPU tensors torch's own kernel
    (autocast by torch) answers most calls, but the generic path is what runs under
    ``torch.compile``, ``torch.func`` and on accelerators."""
    if Backend.TORCH.unavailable_reason() or not case.peer.available():
        pytest.skip("torch is not installed")
    import torch

    from agnostic_losses import _native

    args, kwargs = _convert(Backend.TORCH, case.inputs(SEED), half)
    peer_fn = case.peer.load()
    with torch.autocast("cpu", dtype=getattr(torch, half)):
        try:
            want = peer_fn(*args, **kwargs)
        except (RuntimeError, NotImplementedError):
            pytest.skip(f"torch has no {half} CPU kernel for this case")
        if path == "generic":
            with _native.disabled():
                got = case.func(*args, **kwargs)
        else:
            got = case.func(*args, **kwargs)
    if isinstance(want, tuple):  # AdaptiveLogSoftmaxWithLoss: (output, loss)
        got, want = got[1], want[1]
    assert got.dtype == want.dtype, (case.id, got.dtype, want.dtype)
    rtol, atol = default_tolerance(half)
    assert_close(
        B.to_numpy(got.float()), B.to_numpy(want.float()), rtol=rtol, atol=atol, err_msg=case.id
    )


# keras_class peers are built with the inputs' dtype (``dtype=y_pred.dtype``: the registry
# compares values in that dtype), where ours is called as users call it (dtype None).
HALF_PEER_CASES = [c for c in PEER_CASES if c.surface != "keras_class"]


@pytest.mark.parametrize("half", ["bfloat16", "float16"])
@pytest.mark.parametrize("case", HALF_PEER_CASES, ids=[c.id for c in HALF_PEER_CASES])
def test_half_precision_dtype_matches_peer(case: LossCase, half: str) -> None:
    """Every floating argument in one half dtype: the result has the peer's dtype (on the peer's
    library, without autocast), which ``_half_result`` (what ``test_half_precision`` asserts
    on every backend) must state. Calls the peer refuses in that dtype are not compared."""
    peer = case.peer
    assert peer is not None
    backend = Backend.TORCH if peer.library == "torch" else Backend.JAX32
    if backend.unavailable_reason() or not peer.available():
        pytest.skip(f"peer {peer.label} is not installed")
    backend.namespace()
    inputs = case.inputs(SEED)
    args, kwargs = _convert(backend, inputs, half)
    try:
        want = peer.load()(*args, **kwargs)
    except (RuntimeError, NotImplementedError, TypeError, ValueError):
        pytest.skip(f"{peer.label} refuses {half} inputs here")
    want = want[0] if isinstance(want, tuple) else want
    got = case.func(*args, **kwargs)
    got = got[0] if isinstance(got, tuple) else got
    assert dtype_name(got) == dtype_name(want), (case.id, dtype_name(got), dtype_name(want))
    assert dtype_name(want) == _half_result(case, inputs, half), case.id


@pytest.mark.parametrize("library", [Backend.NUMPY, Backend.TORCH], ids=lambda b: b.value)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_arguments_are_not_modified(case: LossCase, library: Backend) -> None:
    """No argument is written to: a call leaves every array it was given as it was (values,
    also of a weight already in the loss's dtype; keras 3.15 on torch rescales such a
    ``sample_weight`` in place). On the two libraries whose arrays can be written."""
    if library.unavailable_reason():
        pytest.skip(library.unavailable_reason())
    args, kwargs = _convert(library, case.inputs(SEED), library.float_dtype)
    given = [*args, *kwargs.values()]
    before = [np.array(B.to_numpy(a), copy=True) if _is_array(a) else None for a in given]
    case.func(*args, **kwargs)
    for i, (a, b) in enumerate(zip(given, before)):
        if b is not None:
            np.testing.assert_array_equal(B.to_numpy(a), b, err_msg=f"{case.id} argument {i}")


def _is_array(a: Any) -> bool:
    return hasattr(a, "shape") and hasattr(a, "dtype")


# keras's loss classes cast both arrays to their own dtype before any arithmetic (float32 for
# half inputs: test_keras's mixed-precision tests), so they have no mixed-dtype rule to mirror.
_FLOATS = ("float16", "bfloat16", "float32", "float64")
MIXED_CASES = [
    c
    for c in PEER_CASES
    if c.surface != "keras_class" and sum(map(len, c.inputs(SEED).floating())) > 1
]
_MIXED_PAIRS = {
    # what a mixed-precision model gives a loss: half predictions beside float32 targets and
    # weights (and the reverse, and the two half types together)
    "half": [
        ("bfloat16", "float32"),
        ("float32", "bfloat16"),
        ("float16", "float32"),
        ("float16", "bfloat16"),
    ],
    # torch's users also mix float32 and float64 (JAX's 32-bit default has no float64)
    "double": [("float32", "float64"), ("float64", "float32")],
}


@pytest.mark.parametrize("library", [Backend.JAX32, Backend.TORCH], ids=lambda b: b.value)
@pytest.mark.parametrize("case", MIXED_CASES, ids=[c.id for c in MIXED_CASES])
def test_mixed_float_dtypes_match_peer(case: LossCase, library: Backend) -> None:
    """One floating argument in another dtype than the rest: the result has the peer's dtype
    and value. The peers differ per loss (optax's and torch's arithmetic promote, keras and a
    few optax losses cast the targets to the predictions' dtype, torch's in-place kernels keep
    one argument's dtype), and ours must not depend on the backend: each case runs on JAX and
    on torch against the peer on its own library. Pairs the peer refuses are not compared."""
    peer = case.peer
    assert peer is not None
    peer_backend = Backend.TORCH if peer.library == "torch" else Backend.JAX32
    for backend in {library, peer_backend}:
        if backend.unavailable_reason():
            pytest.skip(f"{backend.value} is not installed")
    if not peer.available():
        pytest.skip(f"peer {peer.label} is not installed")
    peer_fn = peer.load()
    inputs = case.inputs(SEED)
    names = [name for group in inputs.floating() for name in group]
    pairs = _MIXED_PAIRS["half"]
    if library is Backend.TORCH and peer_backend is Backend.TORCH:
        pairs = pairs + _MIXED_PAIRS["double"]

    def convert(backend: Backend, odd: int | str, base: str, other: str) -> tuple:
        def one(key: int | str, a: Any) -> Any:
            return B.from_numpy(backend, a, other if key == odd else base)

        args = [one(i, a) for i, a in enumerate(inputs.args)]
        return args, {k: one(k, a) for k, a in inputs.kwargs.items()}

    def widened(args: list[Any], kwargs: dict[str, Any], wide: str) -> tuple:
        # the rounded inputs in the wide dtype: the peer's exact answer for them (keras and
        # torch compute a half input in half precision; ours accumulates in float32)
        def one(a: Any) -> Any:
            if getattr(a, "dtype", None) is None or dtype_name(a) not in _FLOATS:
                return a
            return B.from_numpy(peer_backend, np.asarray(B.to_numpy(a), np.float64), wide)

        return [one(a) for a in args], {k: one(a) for k, a in kwargs.items()}

    compared = 0
    for odd in names[1:]:
        for base, other in pairs:
            args, kwargs = convert(peer_backend, odd, base, other)
            try:
                want = peer_fn(*args, **kwargs)
            except (TypeError, ValueError, RuntimeError, NotImplementedError):
                continue  # torch refuses mixed dtypes in a few kernels; ours may accept them
            wide = "float64" if "float64" in (base, other) else "float32"
            wide_args, wide_kwargs = widened(args, kwargs, wide)
            exact = peer_fn(*wide_args, **wide_kwargs)
            args, kwargs = convert(library, odd, base, other)
            got = case.func(*args, **kwargs)
            where = f"{case.id} with `{odd}` in {other}, the rest in {base}"
            assert dtype_name(got) == dtype_name(want), (
                f"{where}: ours {dtype_name(got)}, {peer.label} {dtype_name(want)}"
            )
            # the half dtype's tolerance: torch rounds some intermediates to it (a bfloat16
            # weight's sum in mse_loss), and on torch tensors ours is torch's own kernel
            rtol, atol = max(default_tolerance(base), default_tolerance(other))
            assert_close(
                np.asarray(B.to_numpy(got), dtype=np.float64),
                np.asarray(B.to_numpy(exact), dtype=np.float64),
                rtol=rtol * case.rtol,
                atol=atol * case.rtol,
                err_msg=where,
            )
            compared += 1
    if not compared:
        pytest.skip(f"{peer.label} refuses every mixed pair (ours accepts them or raises)")


def _second_order_tangents(primals: list[np.ndarray]) -> list[np.ndarray]:
    """A fixed random direction per differentiated argument. An argument whose values lie in
    [0, 1] (probabilities, soft labels) moves by ``4 x (1 - x)`` times that: not at all at a
    hard label, so the finite differences stay inside the domain the loss checks."""
    rng = np.random.default_rng(2)
    out = []
    for x in primals:
        t = rng.standard_normal(x.shape)
        if x.size and np.all((x >= 0) & (x <= 1)):
            t = t * 4 * x * (1 - x)
        out.append(t)
    return out


def _hvp_by_differences(
    case: LossCase,
    args: list[Any],
    kwargs: dict[str, Any],
    where: tuple[int | str, ...],
    tangents: list[np.ndarray],
    cotangent: np.ndarray,
) -> list[np.ndarray]:
    """Central differences of our own torch gradient along ``tangents`` (float64)."""
    import torch

    argnums = tuple(w for w in where if isinstance(w, int))
    argnames = tuple(w for w in where if isinstance(w, str))
    eps = 1e-6

    def gradient_at(step: float) -> list[np.ndarray]:
        moved_args, moved_kwargs = list(args), dict(kwargs)
        for w, t in zip(where, tangents):
            if isinstance(w, int):
                moved_args[w] = moved_args[w] + step * torch.asarray(t)
            else:
                moved_kwargs[w] = moved_kwargs[w] + step * torch.asarray(t)
        _, grads = B.value_and_grad(
            Backend.TORCH,
            case.func,
            moved_args,
            moved_kwargs,
            argnums=argnums,
            argnames=argnames,
            cotangent=cotangent,
        )
        return grads

    plus, minus = gradient_at(eps), gradient_at(-eps)
    return [(p - m) / (2 * eps) for p, m in zip(plus, minus)]


_NO_DOUBLE_BACKWARD = re.compile(r"derivative for aten::\w+_backward is not implemented")
# Inputs that sit exactly on a kink of the loss, where differences straddle two pieces.
_AT_A_KINK = {
    "keras.circle[keep-diagonal]": "keras's circle takes max(1 - x.x, 0), and unit embeddings "
    "put every diagonal entry on that kink",
}


@pytest.mark.autodiff
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hessian_vector_product(case: LossCase) -> None:
    """Second order, as Newton-type optimisers, influence functions and MAML's inner step use
    it: torch's double backward of every case (float64), against central differences of our
    own gradient and, where torch's own loss has a double backward, against torch's."""
    if Backend.TORCH.unavailable_reason():
        pytest.skip("torch is not installed")
    inputs = case.inputs(SEED)
    argnums, argnames = case.differentiable(inputs)
    if not (argnums or argnames):
        pytest.skip(f"{case.id} declares no differentiable argument")
    args, kwargs = _convert(Backend.TORCH, inputs, "float64")
    where = (*argnums, *argnames)
    primals = [B.to_numpy(args[w]) if isinstance(w, int) else B.to_numpy(kwargs[w]) for w in where]
    tangents = _second_order_tangents(primals)
    cotangent = np.random.default_rng(1).uniform(
        0.5, 1.5, size=np.shape(B.to_numpy(case.func(*args, **kwargs)))
    )
    wrt = {"argnums": argnums, "argnames": argnames, "cotangent": cotangent, "tangents": tangents}
    try:
        _, hvp = B.hessian_vector_product(Backend.TORCH, case.func, args, kwargs, **wrt)
    except RuntimeError as exc:
        # Ours runs torch's own kernel here (measured faster), which has no double backward:
        # the same error as torch's loss, not a worse one.
        if not _NO_DOUBLE_BACKWARD.search(str(exc)) or case.peer is None:
            raise
        with pytest.raises(RuntimeError, match=_NO_DOUBLE_BACKWARD.pattern):
            B.hessian_vector_product(Backend.TORCH, case.peer.load(), args, kwargs, **wrt)
        return
    if case.id in _AT_A_KINK:
        pytest.skip(_AT_A_KINK[case.id])
    expected = _hvp_by_differences(case, args, kwargs, where, tangents, cotangent)
    for w, got, want in zip(where, hvp, expected):
        scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
        assert_close(got, want, rtol=1e-5, atol=1e-5 * scale, err_msg=f"{case.id} d2/d(arg {w})")
    peer = case.peer
    if peer is None or not peer.runnable or peer.library != "torch" or not peer.available():
        return
    if case.differentiable(inputs, peer=True) != (argnums, argnames):
        return
    try:
        _, peer_hvp = B.hessian_vector_product(Backend.TORCH, peer.load(), args, kwargs, **wrt)
    except (RuntimeError, NotImplementedError):
        return  # torch has no double backward here (ctc, multi-margin) or refuses an argument
    for w, got, want in zip(where, hvp, peer_hvp):
        assert_close(got, want, rtol=1e-9, atol=1e-9, err_msg=f"{case.id} d2/d(arg {w}) vs torch")


# Forward mode through a jax.custom_vjp is what JAX cannot do (README, "linear_cross_entropy").
_NO_JAX_FORWARD_MODE = re.compile(r"can't apply forward-mode autodiff \(jvp\) to a custom_vjp")


@pytest.mark.autodiff
@pytest.mark.parametrize("library", [Backend.TORCH, Backend.JAX_JIT], ids=lambda b: b.value)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_forward_mode(case: LossCase, library: Backend) -> None:
    """Forward mode, as ``torch.func.jvp``/``jacfwd``/``hessian`` and ``jax.jvp``/``jacfwd``
    run it (float64): the derivative along a direction, contracted with a cotangent, equals the
    reverse-mode gradient's inner product with that direction, and torch's own loss's
    forward mode where torch has the loss."""
    if reason := library.unavailable_reason():
        pytest.skip(reason)
    inputs = case.inputs(SEED)
    argnums, argnames = case.differentiable(inputs)
    if not (argnums or argnames):
        pytest.skip(f"{case.id} declares no differentiable argument")
    args, kwargs = _convert(library, inputs, "float64")
    where = (*argnums, *argnames)
    primals = [B.to_numpy(args[w]) if isinstance(w, int) else B.to_numpy(kwargs[w]) for w in where]
    tangents = _second_order_tangents(primals)
    wrt = {"argnums": argnums, "argnames": argnames}
    try:
        _, jvp, grads = B.jacobian_vector_product(
            library, case.func, args, kwargs, **wrt, tangents=tangents, reverse=True
        )
    except TypeError as exc:
        if library.is_jax and _NO_JAX_FORWARD_MODE.search(str(exc)):
            assert "linear" in case.name.lower(), case.id  # the one custom_vjp
            pytest.xfail("jax.jvp of a jax.custom_vjp (documented)")
        raise
    cotangent = B.pattern_cotangent(jvp.shape)  # the one the gradients were taken with
    want = sum(float(np.sum(g * t)) for g, t in zip(grads, tangents))
    got = float(np.sum(cotangent * jvp))
    scale = max(1.0, *(float(np.sum(np.abs(g * t))) for g, t in zip(grads, tangents)))
    assert abs(got - want) <= 1e-9 * scale, f"{case.id}: jvp {got} vs <grad, tangent> {want}"
    peer = case.peer
    if not library.is_torch or peer is None or not peer.runnable or peer.library != "torch":
        return
    if not peer.available() or case.differentiable(inputs, peer=True) != (argnums, argnames):
        return
    # torch's forward mode drops the tangent of an argument its reverse mode refuses (the class
    # weight of nll_loss: "not differentiable with respect to argument 'weight'") and returns
    # a derivative without it. Compare along directions torch differentiates; ours is checked
    # along every direction above.
    func = peer.load()
    kept = [
        t if _torch_differentiates(func, args, kwargs, w) else 0 * t
        for w, t in zip(where, tangents)
    ]
    try:
        _, ours, _ = B.jacobian_vector_product(
            library, case.func, args, kwargs, **wrt, tangents=kept
        )
        _, peer_jvp, _ = B.jacobian_vector_product(
            library, func, args, kwargs, **wrt, tangents=kept
        )
    except (RuntimeError, NotImplementedError):
        return  # torch's loss has no forward-mode formula here
    assert_close(ours, peer_jvp, rtol=1e-9, atol=1e-9, err_msg=f"{case.id} jvp vs torch")


def _torch_differentiates(func: Any, args: list[Any], kwargs: dict[str, Any], w: Any) -> bool:
    positional = isinstance(w, int)
    wrt = {"argnums": (w,) if positional else (), "argnames": () if positional else (w,)}
    try:
        B.value_and_grad(Backend.TORCH, func, args, kwargs, **wrt)
    except RuntimeError as exc:
        if "not differentiable with respect to argument" in str(exc):
            return False
    return True


# Peers that meet a half-precision input with a float32 array of their own return float32:
# optax's, keras's and brainpy's one_hot of integer labels (float32 by default), optax's CTC
# (its float32 log_epsilon fill), keras's CTC (result_type(y_pred, float32)).
_WIDENS_HALF = {
    "top.multiclass_hinge_loss",
    "top.multiclass_perceptron_loss",
    "top.multiclass_sparsemax_loss",
    "top.ctc_loss",
    "top.ctc_loss_with_forward_probs",
    "keras.sparse_categorical_crossentropy",
    "keras.ctc",
}


def _half_result(case: LossCase, inputs: Inputs, half: str) -> str:
    """The result dtype of a call whose floating arguments are all ``half``."""
    name = f"{case.surface}.{case.name}"
    if case.surface == "keras_class" or name in _WIDENS_HALF:
        # keras's loss classes score half-precision predictions in float32 (floatx())
        return "float32"
    if name == "top.cross_entropy_loss" and np.issubdtype(inputs.args[1].dtype, np.integer):
        return "float32"  # brainpy's class-index path one-hot encodes
    return half


def test_half_precision(case: LossCase, backend: Backend, xp: Any, half_dtype: str) -> None:
    """float16/bfloat16 in, the peer's dtype out (the same half dtype, or float32 where the peer
    widens: ``_WIDENS_HALF``), finite where the reference is, loosely close."""
    if case.reference is None:
        pytest.skip(f"{case.id} has no NumPy reference")
    inputs = case.inputs(SEED)
    args, kwargs = _convert(backend, inputs, half_dtype)
    out = B.call(backend, case.func, *args, **kwargs)
    assert dtype_name(out) == _half_result(case, inputs, half_dtype)
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


# Cases whose first floating argument may hold integers: torch computes its ranking, triplet,
# cosine and Poisson losses, pairwise_distance and cosine_similarity (beside a floating
# argument) in floating point; the top-level tversky_loss takes (targets,
# predictions), keras's order, and casts its targets. (keras's own surface converts integer
# predictions, its second argument: tests/test_keras.py.)
_INTEGER_VALUES_TAKEN = {
    "margin_ranking_loss",
    "cosine_embedding_loss",
    "cosine_similarity",
    "pairwise_distance",
    "poisson_nll_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    "tversky_loss",
}


def test_integer_predictions_raise_where_the_peer_has_no_integer_contract() -> None:
    """Integers (rounded values) in the place of a case's first floating argument -- its
    logits, scores or predictions -- raise a TypeError naming that argument, on the optax-style
    top level (where optax, braintools and brainpy compute with them by JAX's promotion: an
    integer array there is most often labels in the logits' place) and on the torch surfaces;
    they compute where the peer defines them as numbers (:data:`_INTEGER_VALUES_TAKEN`). NumPy;
    a case whose ``func`` wraps the public loss (a class built from its options, CTC's
    log-softmax) is left out."""
    accepted, wrong = set(), []
    for case in CASES:
        if case.surface.startswith("keras") or case.func.__module__.startswith(
            "agnostic_losses._registry"
        ):
            continue
        inputs = case.inputs(SEED)
        args = list(inputs.args)
        first = next((i for i, a in enumerate(args) if _floating_array(a)), None)
        if first is None:
            continue
        args[first] = np.round(3 * args[first]).astype(np.int64)
        try:
            case.func(*args, **inputs.kwargs)
        except TypeError as exc:
            if not re.search(r"`\w+` must", str(exc)):
                wrong.append(f"{case.id}: {exc}")
            continue
        accepted.add(case.name)
    assert not wrong, wrong
    assert accepted == _INTEGER_VALUES_TAKEN


def _floating_array(a: Any) -> bool:
    return isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.floating)


# --- the ways JAX users call a loss: constants captured by jit, vmap, default 32-bit mode -------


@pytest.fixture
def jax32(require: Callable[[Backend], Backend]) -> Backend:
    """JAX in its default 32-bit mode (x64 off for the test), for tests outside the matrix."""
    backend = require(Backend.JAX32)
    backend.namespace()
    return backend


def _numpy_answer(case: LossCase, inputs: Inputs, dtype: str) -> Any:
    """The case's value on NumPy in ``dtype`` (the answer other settings must reproduce)."""
    args, kwargs = _convert(Backend.NUMPY, inputs, dtype)
    return case.func(*args, **kwargs)


def _split(args: list[Any], kwargs: dict[str, Any]) -> tuple[int, Any]:
    """The position of the first floating array argument (the one a user differentiates)."""
    for i, a in enumerate(args):
        if getattr(a, "dtype", None) is not None and "float" in str(a.dtype):
            return i, a
    pytest.skip("the case has no floating positional array")
    raise AssertionError  # unreachable


# Options of the optax-style names that stay Python numbers: ours-only extensions that decide
# the computation's structure (``if z_loss``, the smoothing and soft-cap branches) and CTC's
# ``log_epsilon``, a static argument of the compiled recursion. They raise a TypeError that
# names the option; every other float option may be a traced scalar, as in optax.
_STATIC_OPTIONS = {"z_loss", "label_smoothing", "logit_softcap", "log_epsilon"}
TOP_CASES = [c for c in CASES if c.surface == "top"]


def _float_options(case: LossCase, inputs: Inputs) -> dict[str, float]:
    import agnostic_losses

    options = {k: v for k, v in inputs.kwargs.items() if type(v) is float}
    public = getattr(agnostic_losses, case.name, None)
    if public is not None:
        for p in inspect.signature(public).parameters.values():
            if type(p.default) is float and p.name not in options:
                options[p.name] = p.default
    return options


@pytest.mark.autodiff
@pytest.mark.parametrize("case", TOP_CASES, ids=[c.id for c in TOP_CASES])
def test_traced_scalar_options(case: LossCase, require: Callable[[Backend], Backend]) -> None:
    """A float option (``gamma``, ``q``, ``delta``, ``temperature``, ``margin``...) passed as a
    traced JAX scalar, as a schedule or a learned parameter is (CLIP's learned temperature):
    under ``jax.jit(jax.value_and_grad)`` w.r.t. the option, the Python-number call's value and
    the central differences' derivative (float64)."""
    require(Backend.JAX).namespace()  # float64
    import jax
    import jax.numpy as jnp

    inputs = case.inputs(SEED)
    options = _float_options(case, inputs)
    if not options:
        pytest.skip(f"{case.id} has no float option")
    args, kwargs = _convert(Backend.JAX, inputs, "float64")
    for name, value in options.items():

        def total(t: Any, name: str = name) -> Any:
            return jnp.sum(case.func(*args, **{**kwargs, name: t}))

        if name in _STATIC_OPTIONS:
            with pytest.raises(TypeError, match=f"`{name}` must be"):
                jax.jit(total)(jnp.asarray(value))
            continue
        got, grad = jax.jit(jax.value_and_grad(total))(jnp.asarray(value))
        eps = 1e-6 * max(1.0, abs(value))
        want_grad = (float(total(value + eps)) - float(total(value - eps))) / (2 * eps)
        err = f"{case.id} {name}"
        np.testing.assert_allclose(float(got), float(total(value)), rtol=1e-12, err_msg=err)
        np.testing.assert_allclose(float(grad), want_grad, rtol=1e-5, atol=1e-7, err_msg=err)


def test_jax_export_with_a_symbolic_batch(case: LossCase, jax32: Backend) -> None:
    """``jax.export`` of the jitted loss with a symbolic batch size (shape polymorphism, as a
    serialised training step is exported), called on the case's arrays: the eager value. The
    batch axes are those of the sharding checks; CTC's concatenated targets get a symbol of
    their own."""
    import jax
    from jax import export

    from agnostic_losses._testing.sharding import batch_layout, place_arrays

    backend = jax32
    inputs = case.inputs(SEED)
    layout = batch_layout(case, inputs)
    if isinstance(layout, str):
        pytest.skip(layout)
    args, kwargs = _convert(backend, inputs, "float32")
    keys = [i for i, a in enumerate(args) if isinstance(a, jax.Array)]
    keys += [k for k, v in kwargs.items() if isinstance(v, jax.Array)]
    values = [args[k] if isinstance(k, int) else kwargs[k] for k in keys]
    batch, ragged = export.symbolic_shape("b, s")

    def spec(key: int | str, value: Any) -> Any:
        shape: list[Any] = list(value.shape)
        if key in layout.axes:
            shape[layout.axes[key]] = batch
        elif key in layout.concatenated:
            shape[0] = ragged
        return jax.ShapeDtypeStruct(tuple(shape), value.dtype)

    def call(*arrays: Any) -> Any:
        a, k = place_arrays(Inputs(tuple(args), kwargs), keys, arrays)
        return case.func(*a, **k)

    exported = export.export(jax.jit(call))(*[spec(k, v) for k, v in zip(keys, values)])
    got = B.to_numpy(exported.call(*values))
    rtol, atol = default_tolerance("float32")
    expected = B.to_numpy(call(*values))
    assert_close(got, expected, rtol=rtol * case.rtol, atol=atol * case.rtol, err_msg=case.id)


def test_jit_with_captured_arguments(case: LossCase, jax32: Backend) -> None:
    """``jax.jit(lambda x: loss(x, t))``: every argument but the first floating one is a
    concrete array closed over by the trace (value checks must not read it, issue 8.2)."""
    import jax

    backend = jax32
    args, kwargs = _convert(backend, case.inputs(SEED), "float32")
    i, first = _split(args, kwargs)

    def loss(x: Any) -> Any:
        full = list(args)
        full[i] = x
        return case.func(*full, **kwargs)

    expected = B.to_numpy(case.func(*args, **kwargs))
    got = B.to_numpy(jax.jit(loss)(first))
    rtol, atol = default_tolerance("float32")
    assert_close(got, expected, rtol=rtol * case.rtol, atol=atol * case.rtol, err_msg=case.id)


def test_vmap_over_a_leading_axis(case: LossCase, jax32: Backend) -> None:
    """``jax.vmap`` over a new leading axis of every array argument equals the stacked calls."""
    import jax
    import jax.numpy as jnp

    backend = jax32
    first, second = case.inputs(SEED), case.inputs(SEED + 1)
    shapes = [np.shape(a) for a in first.args], [np.shape(a) for a in second.args]
    if shapes[0] != shapes[1] or first.kwargs.keys() != second.kwargs.keys():
        second = first  # a case whose shapes depend on the seed: stack one input twice
    a1, k1 = _convert(backend, first, "float32")
    a2, k2 = _convert(backend, second, "float32")
    arrays = [i for i, a in enumerate(a1) if isinstance(a, jax.Array)]
    names = [k for k, v in k1.items() if isinstance(v, jax.Array)]
    stacked = [jnp.stack([a1[i], a2[i]]) for i in arrays]
    stacked_kw = {k: jnp.stack([k1[k], k2[k]]) for k in names}

    def loss(batched: list[Any], batched_kw: dict[str, Any]) -> Any:
        full = list(a1)
        for i, a in zip(arrays, batched):
            full[i] = a
        return case.func(*full, **{**k1, **batched_kw})

    got = B.to_numpy(jax.vmap(loss)(stacked, stacked_kw))
    expected = np.stack([B.to_numpy(case.func(*a, **k)) for a, k in ((a1, k1), (a2, k2))])
    rtol, atol = default_tolerance("float32")
    assert_close(got, expected, rtol=rtol * case.rtol, atol=atol * case.rtol, err_msg=case.id)


def test_jax_array_wrappers(case: LossCase, jax32: Backend) -> None:
    """Every JAX array argument wrapped in an object that only implements ``__jax_array__``
    (optax's losses accept those, through ``jnp``): the unwrapped call's value, and its
    gradient with respect to the first floating argument, wrapped inside ``jax.grad``."""
    import jax

    backend = jax32
    args, kwargs = _convert(backend, case.inputs(SEED), "float32")
    i, first = _split(args, kwargs)

    def wrap(a: Any) -> Any:
        return B.JaxProtocolHolder(a) if isinstance(a, jax.Array) else a

    def loss(x: Any, wrapped: bool) -> tuple[Any, Any]:
        full = list(args)
        full[i] = x
        if wrapped:
            out = case.func(*map(wrap, full), **{k: wrap(v) for k, v in kwargs.items()})
        else:
            out = case.func(*full, **kwargs)
        return out.sum(), out

    if case.grad_argnums:
        (_, got), grad = jax.value_and_grad(loss, has_aux=True)(first, True)
        (_, expected), expected_grad = jax.value_and_grad(loss, has_aux=True)(first, False)
    else:
        got, expected = loss(first, True)[1], loss(first, False)[1]
    assert isinstance(got, jax.Array), (case.id, type(got))
    rtol, atol = default_tolerance("float32")
    tol = {"rtol": rtol * case.rtol, "atol": atol * case.rtol, "err_msg": case.id}
    assert_close(B.to_numpy(got), B.to_numpy(expected), **tol)
    if case.grad_argnums:
        assert_close(B.to_numpy(grad), B.to_numpy(expected_grad), **tol)


def test_jax_strict_promotion_settings(case: LossCase, jax32: Backend) -> None:
    """Under JAX's ``jax_numpy_rank_promotion="raise"`` (which refuses an implicit broadcast
    between arrays of different ranks) and ``jax_numpy_dtype_promotion="strict"``, settings
    users turn on to catch those in their own code, the value and the gradient w.r.t. the first
    floating argument trace without error (every broadcast in ours is explicit); the value is
    NumPy's. The settings change no arithmetic, so the gradient's numbers are the default run's
    (checked by the gradient tests); here its shape and dtype are checked."""
    import jax

    backend = jax32
    inputs = case.inputs(SEED)
    args, kwargs = _convert(backend, inputs, "float32")
    i, first = _split(args, kwargs)

    def loss(x: Any) -> tuple[Any, Any]:
        full = list(args)
        full[i] = x
        out = case.func(*full, **kwargs)
        return out.sum(), out

    with jax.numpy_rank_promotion("raise"), jax.numpy_dtype_promotion("strict"):
        if case.grad_argnums:
            (_, got), grad = jax.value_and_grad(loss, has_aux=True)(first)
            assert (grad.shape, grad.dtype) == (first.shape, first.dtype), case.id
        else:
            got = loss(first)[1]
    expected = _numpy_answer(case, inputs, "float32")
    rtol, atol = default_tolerance("float32")
    tol = {"rtol": rtol * case.rtol, "atol": atol * case.rtol, "err_msg": case.id}
    assert_close(B.to_numpy(got), B.to_numpy(expected), **tol)


@pytest.mark.parametrize("version", ["2023.12", "2024.12"])
def test_array_api_strict_standard_versions(case: LossCase, version: str) -> None:
    """array-api-strict pinned to an older revision of the standard (its ``api_version`` flag,
    which projects set in their test suites): at 2024.12, the oldest the losses are written
    against, NumPy's answer; before it, one TypeError naming the argument, the version and the
    fix (it failed deep inside most losses: Python scalars in ``where`` came with 2024.12)."""
    reason = Backend.ARRAY_API_STRICT.unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    import array_api_strict

    Backend.ARRAY_API_STRICT.namespace()
    inputs = case.inputs(SEED)
    with array_api_strict.ArrayAPIStrictFlags(api_version=version):
        args, kwargs = _convert(Backend.ARRAY_API_STRICT, inputs, "float64")
        if version < "2024.12":
            with pytest.raises(
                TypeError, match=rf"version '{version}'; .* needs version '2024.12'"
            ):
                case.func(*args, **kwargs)
            return
        got = case.func(*args, **kwargs)
    expected = _numpy_answer(case, inputs, "float64")
    tol = {"rtol": 1e-12 * case.rtol, "atol": 1e-12, "err_msg": case.id}
    assert_close(B.to_numpy(got), B.to_numpy(expected), **tol)


def test_dask_unknown_sizes_raise_a_clear_error(case: LossCase) -> None:
    """Dask arrays after a boolean selection of rows (``x[mask]``: shape ``(nan, ...)``) raise
    one ValueError naming the argument and ``compute_chunk_sizes``, before any shape check or
    broadcast could fail obscurely or divide by an unknown size (a NaN ``batchmean``)."""
    reason = Backend.DASK.unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    import dask.array as da

    args, kwargs = _convert(Backend.DASK, case.inputs(SEED), "float64")
    _, first = _split(args, kwargs)
    rows = first.shape[0]
    keep = da.ones(rows, dtype=bool, chunks=first.chunks[0])

    def select(a: Any) -> Any:
        is_batch = isinstance(a, da.Array) and a.ndim >= 1 and a.shape[0] == rows
        return a[keep] if is_batch else a

    with pytest.raises(ValueError, match=r"has unknown sizes in its shape \(nan.*compute_chunk"):
        case.func(*map(select, args), **{k: select(v) for k, v in kwargs.items()})


def test_dask_chunked_along_every_axis(case: LossCase) -> None:
    """Dask arrays chunked as an out-of-core loader may chunk them: every axis split, the class
    and sequence axes too, the first floating argument in chunks of 2 and every other array in
    chunks of 3 (their chunks do not line up). NumPy's answer, and nothing computed while the
    loss is built (the registry's Dask cell has one chunk per array)."""
    reason = Backend.DASK.unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    import dask.array as da

    inputs = case.inputs(SEED)
    args, kwargs = _convert(Backend.DASK, inputs, "float64")
    first, _ = _split(args, kwargs)

    def chunked(a: Any, size: int) -> Any:
        return a.rechunk(size) if isinstance(a, da.Array) and a.ndim else a

    args = [chunked(a, 2 if j == first else 3) for j, a in enumerate(args)]
    kwargs = {k: chunked(v, 3) for k, v in kwargs.items()}
    arrays = [a for a in (*args, *kwargs.values()) if isinstance(a, da.Array)]
    assert any(a.npartitions > 1 for a in arrays), case.id
    got = B.call(Backend.DASK, case.func, *args, **kwargs)
    expected = _numpy_answer(case, inputs, "float64")
    tol = {"rtol": 1e-12 * case.rtol, "atol": 1e-12, "err_msg": case.id}
    assert_close(B.to_numpy(got), B.to_numpy(expected), **tol)


# --- NumPy companions: labels from a data loader beside another library's arrays -------------

COMPANION_BACKENDS = [b for b in Backend if b.library not in ("numpy",)]


@pytest.mark.parametrize("backend", COMPANION_BACKENDS, ids=[b.value for b in COMPANION_BACKENDS])
def test_numpy_companions(case: LossCase, backend: Backend) -> None:
    """Every array argument but the first floating one given as NumPy: converted to the
    backend's library, dtype and device, the same answer as the all-backend call."""
    reason = backend.unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    backend.namespace()
    dtype = "float32"
    inputs = case.inputs(SEED)
    args, kwargs = _convert(backend, inputs, dtype)
    i, _ = _split(args, kwargs)
    mixed = [a if j == i else inputs.args[j] for j, a in enumerate(args)]
    expected = B.call(backend, case.func, *args, **kwargs)
    got = B.call(backend, case.func, *mixed, **inputs.kwargs)
    assert type(got).__module__.split(".")[0] in (backend.library, "jaxlib"), case.id
    assert dtype_name(got) == dtype_name(expected), case.id
    rtol, atol = default_tolerance(dtype)
    assert_close(
        B.to_numpy(got),
        B.to_numpy(expected),
        rtol=rtol * case.rtol,
        atol=atol * case.rtol,
        err_msg=case.id,
    )


# --- options as NumPy scalars: read from a config, or computed with NumPy ----------------------

SCALAR_OPTION_BACKENDS = [
    Backend.NUMPY,
    Backend.ARRAY_API_STRICT,
    Backend.JAX32,
    Backend.TORCH,
    Backend.DASK,
]


def _numpy_scalar(value: Any) -> Any:
    if isinstance(value, str):
        return np.str_(value)
    if isinstance(value, int):
        return np.int64(value)
    return np.float32(value)


@pytest.mark.parametrize(
    "backend", SCALAR_OPTION_BACKENDS, ids=[b.value for b in SCALAR_OPTION_BACKENDS]
)
def test_numpy_scalar_options(case: LossCase, backend: Backend) -> None:
    """Every option given as a NumPy scalar (``np.int64`` axis or blank index, ``np.float32``
    temperature or epsilon, ``np.str_`` reduction) is the Python value it holds, as for the
    peers: the same value and dtype (np.float32 must not promote a half input, nor become an
    array beside the backend's)."""
    reason = backend.unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    backend.namespace()
    inputs = case.inputs(SEED)
    names = [
        k
        for k, v in inputs.kwargs.items()
        if isinstance(v, (int, float, str)) and not isinstance(v, bool)
    ]
    if not names:
        pytest.skip(f"{case.id} passes no number or string option")
    args, kwargs = _convert(backend, inputs, "float32")
    expected = B.call(backend, case.func, *args, **kwargs)
    expected = expected[0] if isinstance(expected, tuple) else expected
    rtol, atol = default_tolerance("float32")
    for name in names:
        got = B.call(backend, case.func, *args, **{**kwargs, name: _numpy_scalar(kwargs[name])})
        got = got[0] if isinstance(got, tuple) else got
        err = f"{case.id} {name}={kwargs[name]!r} as a NumPy scalar"
        assert dtype_name(got) == dtype_name(expected), err
        assert_close(
            B.to_numpy(got),
            B.to_numpy(expected),
            rtol=rtol * case.rtol,
            atol=atol * case.rtol,
            err_msg=err,
        )


def _public(case: LossCase) -> Any:
    """The public function or class a case calls, found by its qualified name."""
    module, _, name = case.qualified_name.rpartition(".")
    return getattr(importlib.import_module(module), name)


_SECTIONS = ("Parameters", "Returns", "References", "Examples")


_PUBLIC = list(losses().values())


@pytest.mark.parametrize("case", _PUBLIC, ids=[c.qualified_name for c in _PUBLIC])
def test_docstring_sections(case: LossCase) -> None:
    """numpydoc as the style asks: a one-line summary; for a function the formula
    (``.. math::``), Parameters, Returns, References and a doctest; a class names the function
    that computes it (or gives the formula) and has Parameters and a doctest."""
    obj, name = _public(case), case.qualified_name
    doc = inspect.getdoc(obj) or ""
    summary, _, rest = doc.partition("\n")
    assert summary.strip(), f"{name}: no summary"
    assert not rest or rest.startswith("\n"), f"{name}: a summary of more than one line"
    sections = [s for s in _SECTIONS if f"\n{s}\n{'-' * len(s)}\n" in doc]
    if inspect.isclass(obj):
        assert ":func:" in doc or ".. math::" in doc, f"{name}: no function or formula"
        assert sections == ["Parameters", "Examples"], f"{name}: sections {sections}"
    else:
        assert ".. math::" in doc, f"{name}: no formula"
        assert sections == list(_SECTIONS), f"{name}: sections {sections}"
    assert "\nExamples\n--------\n>>> " in doc
