"""The backends a loss can run on, and how to move data in and out of each.

Shared by the test suite (``conftest.py``), ``agnostic_losses.testing.compare_backends``, the
``agnostic-losses check`` command and the benchmarks, so all of them exercise the same matrix.
"""

from __future__ import annotations

import enum
import importlib
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "Backend",
    "call",
    "from_numpy",
    "hessian_vector_product",
    "jacobian_vector_product",
    "pattern_cotangent",
    "to_numpy",
    "value_and_grad",
    "value_and_grad_arrays",
]

FLOAT_DTYPES = ("float32", "float64")
HALF_DTYPES = ("float16", "bfloat16")


class Backend(enum.Enum):
    """A library, and for JAX a mode: eager or under ``jax.jit``, with x64 enabled or in JAX's
    default 32-bit mode (``jax32``: what JAX users run; float64 requests become float32)."""

    NUMPY = "numpy"
    ARRAY_API_STRICT = "array_api_strict"
    JAX = "jax"
    JAX_JIT = "jax-jit"
    JAX32 = "jax32"
    JAX32_JIT = "jax32-jit"
    TORCH = "torch"
    DASK = "dask"
    CUPY = "cupy"
    # Accelerator cells: skipped (with the reason) where no GPU is visible, failures where a
    # session requests them (``nox -s gpu``).
    TORCH_CUDA = "torch-cuda"
    JAX_GPU = "jax-gpu"

    @property
    def module_name(self) -> str:
        if self.is_jax:
            return "jax"
        if self.is_torch:
            return "torch"
        return {"dask": "dask.array"}.get(self.value, self.value)

    @property
    def is_jax(self) -> bool:
        return self in (
            Backend.JAX,
            Backend.JAX_JIT,
            Backend.JAX32,
            Backend.JAX32_JIT,
            Backend.JAX_GPU,
        )

    @property
    def is_torch(self) -> bool:
        return self in (Backend.TORCH, Backend.TORCH_CUDA)

    @property
    def jit(self) -> bool:
        """Whether calls run under ``jax.jit``."""
        return self in (Backend.JAX_JIT, Backend.JAX32_JIT)

    @property
    def x64(self) -> bool:
        """Whether float64 exists (False in JAX's default 32-bit mode, which GPU users run)."""
        return self not in (Backend.JAX32, Backend.JAX32_JIT, Backend.JAX_GPU)

    @property
    def library(self) -> str:
        """The library's name as :func:`agnostic_losses._dispatch.library_name` reports it."""
        return "jax" if self.is_jax else "torch" if self.is_torch else self.value

    @property
    def differentiable(self) -> bool:
        return self.is_jax or self.is_torch

    @property
    def lazy(self) -> bool:
        return self.jit or self is Backend.DASK

    @property
    def dtypes(self) -> tuple[str, ...]:
        """The floating dtypes the matrix runs on this backend."""
        if self.is_jax:
            return (FLOAT_DTYPES if self.x64 else ("float32",)) + HALF_DTYPES
        if self.is_torch:
            return FLOAT_DTYPES + HALF_DTYPES
        if self in (Backend.NUMPY, Backend.DASK, Backend.CUPY):
            return (*FLOAT_DTYPES, "float16")
        return FLOAT_DTYPES

    @property
    def float_dtype(self) -> str:
        """The most precise floating dtype of the backend (float32 in JAX's 32-bit mode)."""
        return "float64" if self.x64 else "float32"

    def unavailable_reason(self) -> str | None:
        """None if the backend can run here, else why not."""
        try:
            module = importlib.import_module(self.module_name)
        except ImportError as exc:
            return f"{self.module_name} is not installed ({exc})"
        if self is Backend.CUPY:
            try:
                if module.cuda.runtime.getDeviceCount() < 1:
                    return "cupy is installed but no CUDA device is visible"
            except Exception as exc:  # CUDARuntimeError when there is no driver
                return f"cupy is installed but CUDA is unusable ({type(exc).__name__})"
        if self is Backend.TORCH_CUDA and not module.cuda.is_available():
            return "torch is installed but no CUDA device is visible"
        if self is Backend.JAX_GPU:
            try:
                module.devices("gpu")
            except RuntimeError:
                return "jax is installed but has no GPU device (jax[cuda12] and a GPU needed)"
        return None

    def namespace(self) -> Any:
        """The namespace tests write against (array-api-compat's wrapper where needed)."""
        if self is Backend.ARRAY_API_STRICT:
            import array_api_strict

            array_api_strict.set_array_api_strict_flags(
                boolean_indexing=False, data_dependent_shapes=False
            )
            return array_api_strict
        if self.is_jax:
            import jax

            # One process runs both modes: the flag is part of jit's cache key, and every test
            # sets it through this call before it builds an array.
            if jax.config.jax_enable_x64 != self.x64:
                jax.config.update("jax_enable_x64", self.x64)
            import jax.numpy as jnp

            return jnp
        if self is Backend.NUMPY:
            import array_api_compat.numpy

            return array_api_compat.numpy
        if self.is_torch:
            import array_api_compat.torch

            return array_api_compat.torch
        if self is Backend.DASK:
            import array_api_compat.dask.array

            return array_api_compat.dask.array
        import array_api_compat.cupy

        return array_api_compat.cupy

    def device(self) -> Any:
        """Where this backend's test arrays live (None: the library's default)."""
        if self is Backend.TORCH_CUDA:
            import torch

            return torch.device("cuda")
        if self is Backend.TORCH:
            import torch

            return torch.device(os.environ.get("AGNOSTIC_LOSSES_TORCH_DEVICE", "cpu"))
        if self is Backend.JAX_GPU:
            import jax

            return jax.devices("gpu")[0]
        return None

    @classmethod
    def parse(cls, name: str) -> Backend:
        for backend in cls:
            if name in (backend.value, backend.name.lower()):
                return backend
        options = ", ".join(b.value for b in cls)
        msg = f"unknown backend {name!r}; expected one of {options}."
        raise ValueError(msg)


def dtype_of(xp: Any, name: str) -> Any:
    """The namespace's dtype object named ``name`` (``'float32'``, ``'bfloat16'``...); NumPy's
    for ``float16`` on namespaces that follow the standard's dtype list (Dask, CuPy)."""
    found = getattr(xp, name, None)
    return np.dtype(name) if found is None else found


def from_numpy(backend: Backend, value: Any, dtype: str | None = None) -> Any:
    """Convert a NumPy array (or pass through a Python scalar) to ``backend``.

    Floating arrays are cast to ``dtype``; integer and boolean arrays keep their dtype.
    """
    if not isinstance(value, np.ndarray):
        return value
    xp = backend.namespace()
    target = None
    if dtype is not None and np.issubdtype(value.dtype, np.floating):
        target = dtype_of(xp, dtype)
    if backend.is_torch:
        import torch

        out = torch.asarray(value, device=backend.device())
        return out if target is None else out.to(target)
    if backend is Backend.JAX_GPU:
        import jax

        out = xp.asarray(value, dtype=target)
        return jax.device_put(out, backend.device())
    if backend is Backend.DASK:
        import dask.array as da

        arr = da.from_array(value, chunks=value.shape or ())
        return arr if target is None else arr.astype(target)
    if backend.is_jax and dtype in HALF_DTYPES:
        return xp.asarray(value, dtype=target)
    if target is not None:
        value = value.astype(dtype)
    return xp.asarray(value)


def to_numpy(x: Any) -> Any:
    """Materialise any backend's array (or nested tuples of them) as NumPy."""
    if isinstance(x, (tuple, list)):
        return type(x)(to_numpy(v) for v in x)
    if x is None or isinstance(x, (bool, int, float)):
        return x
    module = type(x).__module__.split(".", 1)[0]
    if module == "torch":
        x = x.detach().cpu()
        if x.dtype in _torch_half():
            x = x.float()
        return x.numpy()
    if module == "dask":
        return np.asarray(x.compute())
    if module == "cupy":
        return x.get()
    if module == "array_api_strict":
        return np.from_dlpack(x)
    out = np.asarray(x)
    if out.dtype.kind == "V" or str(out.dtype) == "bfloat16":
        out = out.astype(np.float32)
    return out


class JaxProtocolHolder:
    """An array-like of the JAX ecosystem that is no JAX array (as brainpy's ``bm.Array``):
    JAX reads it through ``__jax_array__``, which returns ``value`` whatever it is."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __jax_array__(self) -> Any:
        return self.value


def _torch_half() -> tuple[Any, ...]:
    import torch

    return (torch.float16, torch.bfloat16)


def _forbid_compute(*_args: Any, **_kwargs: Any) -> Any:
    msg = "the loss materialised the Dask graph (compute/persist/bool/float) while being built."
    raise AssertionError(msg)


def call(backend: Backend, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``func`` the way ``backend`` runs it.

    ``JAX_JIT`` traces the array arguments under ``jax.jit`` (everything else is static, as in
    array-api-extra's ``lazy_xp_function``); ``DASK`` forbids materialising the graph while the
    loss is built. Other backends call ``func`` directly.
    """
    if backend.jit:
        return _jit_call(func, args, kwargs)
    if backend is Backend.DASK:
        import dask

        with dask.config.set(scheduler=_forbid_compute):
            return func(*args, **kwargs)
    return func(*args, **kwargs)


def _is_jax_array(x: Any) -> bool:
    import jax

    return isinstance(x, jax.Array)


def _jit_call(func: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    import jax

    positions = [i for i, a in enumerate(args) if _is_jax_array(a)]
    names = [k for k, v in kwargs.items() if _is_jax_array(v)]

    def traced(dynamic_args: list[Any], dynamic_kwargs: dict[str, Any]) -> Any:
        full = list(args)
        for i, a in zip(positions, dynamic_args):
            full[i] = a
        return func(*full, **{**kwargs, **dynamic_kwargs})

    return jax.jit(traced)([args[i] for i in positions], {k: kwargs[k] for k in names})


def _differentiable_call(
    func: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any] | None,
    argnums: Sequence[int],
    argnames: Sequence[str],
) -> tuple[Callable[[Sequence[Any]], Any], list[Any]]:
    """``(full_call, primals)``: ``full_call(diff)`` calls ``func`` with the positional
    ``argnums`` then the keyword ``argnames`` replaced by ``diff``; ``primals`` are their
    current values, in that order."""
    kwargs = dict(kwargs or {})
    n = len(argnums)

    def full_call(diff: Sequence[Any]) -> Any:
        full = list(args)
        for i, a in zip(argnums, diff[:n]):
            full[i] = a
        return func(*full, **{**kwargs, **dict(zip(argnames, diff[n:]))})

    return full_call, [args[i] for i in argnums] + [kwargs[k] for k in argnames]


def _weighted_sum(out: Any, cotangent: np.ndarray | None) -> Any:
    """``sum(cotangent * out)`` (ones by default) in ``out``'s library, dtype and device (a JAX
    tracer's too)."""
    import array_api_compat

    from .._dispatch import device_of

    xp = array_api_compat.array_namespace(out)
    if cotangent is None:
        return xp.sum(out)
    return xp.sum(out * xp.asarray(cotangent, dtype=out.dtype, device=device_of(out)))


def value_and_grad(
    backend: Backend,
    func: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any] | None = None,
    *,
    argnums: Sequence[int] = (0,),
    argnames: Sequence[str] = (),
    cotangent: np.ndarray | None = None,
) -> tuple[Any, list[Any]]:
    """The value of ``func(*args, **kwargs)`` and the gradients of ``sum(cotangent * value)``
    w.r.t. the positional ``argnums`` then the keyword ``argnames``.

    ``cotangent`` (NumPy, the output's shape) defaults to ones. Only JAX (eager and jit) and torch
    differentiate; the value and gradients come back as NumPy arrays.
    """
    out, grads = value_and_grad_arrays(
        backend, func, args, kwargs, argnums=argnums, argnames=argnames, cotangent=cotangent
    )
    return to_numpy(out), [to_numpy(g) for g in grads]


def value_and_grad_arrays(
    backend: Backend,
    func: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any] | None = None,
    *,
    argnums: Sequence[int] = (0,),
    argnames: Sequence[str] = (),
    cotangent: np.ndarray | None = None,
) -> tuple[Any, list[Any]]:
    """:func:`value_and_grad`, but the value and gradients stay arrays of ``backend``.

    The caller can then check their dtype and device. On the jit backends the value and the
    gradients come from a single ``jax.jit`` compilation.
    """
    full_call, primals = _differentiable_call(func, args, kwargs, argnums, argnames)
    if backend.is_torch:
        import torch

        leaves = [p.detach().clone().requires_grad_(True) for p in primals]
        out = full_call(leaves)
        total = _weighted_sum(out, cotangent)
        grads = torch.autograd.grad(total, leaves, allow_unused=True)
        grads = [torch.zeros_like(p) if g is None else g for p, g in zip(leaves, grads)]
        return out.detach(), list(grads)
    if backend.is_jax:
        import jax

        def scalar(*diff: Any) -> Any:
            out = full_call(diff)
            return _weighted_sum(out, cotangent), out

        grad_fn = jax.value_and_grad(scalar, argnums=tuple(range(len(primals))), has_aux=True)
        if backend.jit:
            grad_fn = jax.jit(grad_fn)
        (_, out), grads = grad_fn(*primals)
        return out, list(grads)
    msg = f"{backend.value} has no automatic differentiation."
    raise ValueError(msg)


def pattern_cotangent(shape: Sequence[int]) -> np.ndarray:
    """A fixed cotangent of ``shape`` with distinct weights: ``1 + (i mod 5) / 4`` over the flat
    index ``i`` (a reduction's transpose is then not a plain sum)."""
    return 1 + (np.arange(math.prod(shape)).reshape(tuple(shape)) % 5) / 4


def jacobian_vector_product(
    backend: Backend,
    func: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any] | None = None,
    *,
    argnums: Sequence[int] = (0,),
    argnames: Sequence[str] = (),
    tangents: Sequence[np.ndarray],
    reverse: bool = False,
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Forward mode: the value of ``func(...)`` and its derivative along ``tangents`` (one
    NumPy array per differentiated argument, positional ``argnums`` then keyword
    ``argnames``), as NumPy; with ``reverse``, also the reverse-mode gradients of
    ``sum(pattern_cotangent(shape) * value)`` (from the same compilation on the jit
    backends), else ``[]``.

    What forward-mode users run: ``torch.func.jvp`` (under ``jacfwd`` and ``hessian`` too) and
    ``jax.jvp`` (jitted on the jit backends).
    """
    full_call, primals = _differentiable_call(func, args, kwargs, argnums, argnames)
    if backend.is_torch:
        import torch

        cast = tuple(
            torch.asarray(t, dtype=p.dtype, device=p.device) for t, p in zip(tangents, primals)
        )
        out, tangent = torch.func.jvp(lambda *p: full_call(p), tuple(primals), cast)
        grads: list[Any] = []
        if reverse:
            _, grads = value_and_grad_arrays(
                backend,
                func,
                args,
                kwargs,
                argnums=argnums,
                argnames=argnames,
                cotangent=pattern_cotangent(out.shape),
            )
        return to_numpy(out), to_numpy(tangent), [to_numpy(g) for g in grads]
    if backend.is_jax:
        import jax
        import jax.numpy as jnp

        def forward(*p: Any) -> Any:
            cast = tuple(jnp.asarray(t, dtype=x.dtype) for t, x in zip(tangents, p))
            out, tangent = jax.jvp(lambda *q: full_call(q), p, cast)
            if not reverse:
                return out, tangent, ()
            # (shapes are static under jit: the NumPy cotangent is a constant of the trace)
            value, pullback = jax.vjp(lambda *q: full_call(q), *p)
            return out, tangent, pullback(jnp.asarray(pattern_cotangent(value.shape), value.dtype))

        if backend.jit:
            forward = jax.jit(forward)
        out, tangent, grads = forward(*primals)
        return to_numpy(out), to_numpy(tangent), [to_numpy(g) for g in grads]
    msg = f"{backend.value} has no automatic differentiation."
    raise ValueError(msg)


def hessian_vector_product(
    backend: Backend,
    func: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any] | None = None,
    *,
    argnums: Sequence[int] = (0,),
    argnames: Sequence[str] = (),
    cotangent: np.ndarray | None = None,
    tangents: Sequence[np.ndarray],
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The gradients of ``s = sum(cotangent * func(...))`` w.r.t. the positional ``argnums``
    then the keyword ``argnames``, and the Hessian of ``s`` times ``tangents`` (one NumPy array
    per differentiated argument), as NumPy.

    What second-order users run: torch's double backward (``create_graph=True``), JAX's forward
    over reverse (``jax.jvp`` of ``jax.grad``, as ``jax.hessian`` does; jitted on the jit
    backends).
    """
    full_call, primals = _differentiable_call(func, args, kwargs, argnums, argnames)
    if backend.is_torch:
        import torch

        leaves = [p.detach().clone().requires_grad_(True) for p in primals]
        total = _weighted_sum(full_call(leaves), cotangent)
        grads = torch.autograd.grad(total, leaves, create_graph=True, allow_unused=True)
        grads = [torch.zeros_like(p) if g is None else g for p, g in zip(leaves, grads)]
        dot = sum(
            (g * torch.asarray(t, dtype=g.dtype, device=g.device)).sum()
            for g, t in zip(grads, tangents)
        )
        hvp: Sequence[Any] = [None] * len(leaves)
        if dot.requires_grad:  # a gradient that does not depend on the inputs: Hessian 0
            hvp = torch.autograd.grad(dot, leaves, allow_unused=True)
        # (+ 0: torch hands back a ZeroTensor for some zero second derivatives)
        hvp = [torch.zeros_like(p) if h is None else h + 0 for p, h in zip(leaves, hvp)]
        return [to_numpy(g.detach()) for g in grads], [to_numpy(h) for h in hvp]
    if backend.is_jax:
        import jax
        import jax.numpy as jnp

        def scalar(*diff: Any) -> Any:
            return _weighted_sum(full_call(diff), cotangent)

        gradient = jax.grad(scalar, argnums=tuple(range(len(primals))))

        def forward_over_reverse(*p: Any) -> Any:
            cast = tuple(jnp.asarray(t, dtype=x.dtype) for t, x in zip(tangents, p))
            return jax.jvp(gradient, p, cast)

        if backend.jit:
            forward_over_reverse = jax.jit(forward_over_reverse)
        grads, hvp = forward_over_reverse(*primals)
        return [to_numpy(g) for g in grads], [to_numpy(h) for h in hvp]
    msg = f"{backend.value} has no automatic differentiation."
    raise ValueError(msg)
