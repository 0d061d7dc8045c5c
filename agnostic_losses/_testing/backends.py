"""The backends a loss can run on, and how to move data in and out of each.

Shared by the test suite (``conftest.py``), ``agnostic_losses.testing.compare_backends``, the
``agnostic-losses check`` command and the benchmarks, so all of them exercise the same matrix.
"""

from __future__ import annotations

import enum
import importlib
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "Backend",
    "call",
    "from_numpy",
    "to_numpy",
    "value_and_grad",
    "value_and_grad_arrays",
]

FLOAT_DTYPES = ("float32", "float64")
HALF_DTYPES = ("float16", "bfloat16")


class Backend(enum.Enum):
    """A library, and for JAX a mode (eager or under ``jax.jit``)."""

    NUMPY = "numpy"
    ARRAY_API_STRICT = "array_api_strict"
    JAX = "jax"
    JAX_JIT = "jax-jit"
    TORCH = "torch"
    DASK = "dask"
    CUPY = "cupy"

    @property
    def module_name(self) -> str:
        return {"jax-jit": "jax", "dask": "dask.array"}.get(self.value, self.value)

    @property
    def library(self) -> str:
        """The library's name as :func:`agnostic_losses._dispatch.library_name` reports it."""
        return "jax" if self is Backend.JAX_JIT else self.value

    @property
    def differentiable(self) -> bool:
        return self in (Backend.JAX, Backend.JAX_JIT, Backend.TORCH)

    @property
    def lazy(self) -> bool:
        return self in (Backend.JAX_JIT, Backend.DASK)

    @property
    def dtypes(self) -> tuple[str, ...]:
        if self in (Backend.JAX, Backend.JAX_JIT, Backend.TORCH):
            return FLOAT_DTYPES + HALF_DTYPES
        return FLOAT_DTYPES

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
        return None

    def namespace(self) -> Any:
        """The namespace tests write against (array-api-compat's wrapper where needed)."""
        if self is Backend.ARRAY_API_STRICT:
            import array_api_strict

            array_api_strict.set_array_api_strict_flags(
                boolean_indexing=False, data_dependent_shapes=False
            )
            return array_api_strict
        if self in (Backend.JAX, Backend.JAX_JIT):
            import jax

            jax.config.update("jax_enable_x64", True)
            import jax.numpy as jnp

            return jnp
        if self is Backend.NUMPY:
            import array_api_compat.numpy

            return array_api_compat.numpy
        if self is Backend.TORCH:
            import array_api_compat.torch

            return array_api_compat.torch
        if self is Backend.DASK:
            import array_api_compat.dask.array

            return array_api_compat.dask.array
        import array_api_compat.cupy

        return array_api_compat.cupy

    def device(self) -> Any:
        if self is Backend.TORCH:
            import torch

            wanted = os.environ.get("AGNOSTIC_LOSSES_TORCH_DEVICE")
            return torch.device(wanted or ("cuda" if torch.cuda.is_available() else "cpu"))
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
    """The namespace's dtype object named ``name`` (``'float32'``, ``'bfloat16'``...)."""
    return getattr(xp, name)


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
    if backend is Backend.TORCH:
        import torch

        out = torch.asarray(value, device=backend.device())
        return out if target is None else out.to(target)
    if backend is Backend.DASK:
        import dask.array as da

        arr = da.from_array(value, chunks=value.shape or ())
        return arr if target is None else arr.astype(target)
    if backend in (Backend.JAX, Backend.JAX_JIT) and dtype in HALF_DTYPES:
        return xp.asarray(value, dtype=target)
    if target is not None:
        value = value.astype(np.float32 if dtype == "float32" else np.float64)
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
    if backend is Backend.JAX_JIT:
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


def value_and_grad(
    backend: Backend,
    func: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any] | None = None,
    *,
    argnums: Sequence[int] = (0,),
    cotangent: np.ndarray | None = None,
) -> tuple[Any, list[Any]]:
    """The value of ``func(*args, **kwargs)`` and the gradients of ``sum(cotangent * value)``.

    ``cotangent`` (NumPy, the output's shape) defaults to ones. Only JAX (eager and jit) and torch
    differentiate; the value and gradients come back as NumPy arrays.
    """
    out, grads = value_and_grad_arrays(
        backend, func, args, kwargs, argnums=argnums, cotangent=cotangent
    )
    return to_numpy(out), [to_numpy(g) for g in grads]


def value_and_grad_arrays(
    backend: Backend,
    func: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any] | None = None,
    *,
    argnums: Sequence[int] = (0,),
    cotangent: np.ndarray | None = None,
) -> tuple[Any, list[Any]]:
    """:func:`value_and_grad`, but the value and gradients stay arrays of ``backend``.

    The caller can then check their dtype and device. On ``JAX_JIT`` the value and the gradients
    come from a single ``jax.jit`` compilation.
    """
    kwargs = dict(kwargs or {})
    if backend is Backend.TORCH:
        import torch

        leaves = list(args)
        for i in argnums:
            leaves[i] = args[i].detach().clone().requires_grad_(True)
        out = func(*leaves, **kwargs)
        weights = (
            torch.ones_like(out)
            if cotangent is None
            else torch.asarray(cotangent, dtype=out.dtype, device=out.device)
        )
        grads = torch.autograd.grad(
            (out * weights).sum(), [leaves[i] for i in argnums], allow_unused=True
        )
        grads = [torch.zeros_like(leaves[i]) if g is None else g for i, g in zip(argnums, grads)]
        return out.detach(), list(grads)
    if backend in (Backend.JAX, Backend.JAX_JIT):
        import jax
        import jax.numpy as jnp

        def scalar(*diff: Any) -> Any:
            full = list(args)
            for i, a in zip(argnums, diff):
                full[i] = a
            out = func(*full, **kwargs)
            weights = jnp.ones_like(out) if cotangent is None else jnp.asarray(cotangent, out.dtype)
            return jnp.sum(out * weights), out

        grad_fn = jax.value_and_grad(scalar, argnums=tuple(range(len(argnums))), has_aux=True)
        if backend is Backend.JAX_JIT:
            grad_fn = jax.jit(grad_fn)
        (_, out), grads = grad_fn(*[args[i] for i in argnums])
        return out, list(grads)
    msg = f"{backend.value} has no automatic differentiation."
    raise ValueError(msg)
