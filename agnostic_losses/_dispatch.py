"""Dispatch layer: namespace resolution, dtype and device helpers, argument validation.

Everything that knows about a concrete array library lives here (and in ``_loops``). Loss
kernels receive the resolved namespace ``xp`` explicitly and never look at array types.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import array_api_compat

from ._fastpath import lean

__all__ = [
    "AxisError",
    "cast",
    "check_axis",
    "check_choice",
    "check_floating",
    "check_integer",
    "check_labels_in_range",
    "check_probabilities",
    "check_same_shape",
    "compute_dtype",
    "device_of",
    "is_lazy",
    "library_name",
    "namespace",
    "scalar_like",
    "stop_gradient",
]

_SCALARS = (bool, int, float, complex)

# type(array) -> namespace. array_api_compat.array_namespace costs ~10 us per call; the namespace
# depends only on the array type, so one dictionary lookup per argument is enough after the first.
_NAMESPACE_CACHE: dict[type, Any] = {}


class AxisError(ValueError, IndexError):
    """An axis outside ``[-ndim, ndim)``: a ValueError and an IndexError, as NumPy's."""


def library_name(x: Any) -> str:
    """Top-level package name of the library that owns array ``x`` (``'torch'``, ``'numpy'``...)."""
    module = type(x).__module__.split(".", 1)[0]
    return "jax" if module == "jaxlib" else module


def _namespace_of_type(x: Any) -> Any:
    cls = type(x)
    xp = _NAMESPACE_CACHE.get(cls)
    if xp is None:
        if library_name(x) == "torch":
            # What array_namespace returns for any torch.Tensor; asked directly because its
            # lru_cached type probes make dynamo warn when the first call runs under
            # torch.compile.
            import array_api_compat.torch as generic
        else:
            generic = array_api_compat.array_namespace(x)
        # `lean` swaps in a namespace with no-op compat wrappers bypassed (torch; see _fastpath)
        xp = lean(generic)
        _NAMESPACE_CACHE[cls] = xp
    return xp


def namespace(**arrays: Any) -> Any:
    """Resolve the array namespace shared by every array argument.

    Parameters
    ----------
    **arrays
        The public function's arguments by name. ``None`` and Python scalars are skipped.

    Returns
    -------
    namespace
        The array-API-compatible namespace (array-api-compat's wrapper where one is needed).

    Raises
    ------
    TypeError
        If an argument is a Python list or tuple, if the arguments come from different array
        libraries, or if no argument is an array.
    """
    xp = None
    first_name = first = None
    for name, value in arrays.items():
        # Cache hit first: only array types are ever cached (None, scalars, lists never reach
        # the cache), and the hit skips three isinstance checks per argument.
        value_xp = _NAMESPACE_CACHE.get(type(value))
        if value_xp is not None:
            if xp is None:
                xp, first_name, first = value_xp, name, value
            elif value_xp is not xp:
                msg = (
                    f"`{first_name}` is a {library_name(first)} array but `{name}` is a "
                    f"{library_name(value)} array; pass arrays from a single library."
                )
                raise TypeError(msg)
            continue
        if value is None or isinstance(value, _SCALARS):
            continue
        if isinstance(value, (list, tuple)):
            msg = (
                f"`{name}` must be an array, got a Python {type(value).__name__}; "
                "convert it with your array library's `asarray` first."
            )
            raise TypeError(msg)
        try:
            value_xp = _namespace_of_type(value)
        except TypeError:
            msg = (
                f"`{name}` must be an array of a library that supports the Array API "
                f"(numpy, cupy, jax, torch, dask, array_api_strict), got {type(value).__name__}."
            )
            raise TypeError(msg) from None
        if xp is None:
            xp, first_name, first = value_xp, name, value
        elif value_xp is not xp:
            msg = (
                f"`{first_name}` is a {library_name(first)} array but `{name}` is a "
                f"{library_name(value)} array; pass arrays from a single library."
            )
            raise TypeError(msg)
    if xp is None:
        names = ", ".join(f"`{n}`" for n in arrays)
        msg = f"at least one of {names} must be an array, got only Python scalars or None."
        raise TypeError(msg)
    return xp


def is_lazy(x: Any) -> bool:
    """Whether ``x`` has no concrete values now (a JAX tracer, a Dask array, or a torch tensor
    while ``torch.compile`` traces).

    Value checks (labels in range, probabilities in [0, 1]) run only where this is False.
    Under torch.compile a value check is a ``Tensor.item()``: a graph break per check (measured:
    2 breaks in ``functional.cross_entropy``), so traced torch code is treated as lazy too.
    """
    library = library_name(x)
    if library == "dask":
        return True
    if library == "torch":
        return bool(sys.modules["torch"].compiler.is_compiling())
    jax_core = sys.modules.get("jax.core")
    return jax_core is not None and isinstance(x, jax_core.Tracer)


def stop_gradient(x: Any) -> Any:
    """``x`` with the same value and no derivative (identity for libraries without autodiff).

    The standard has no autodiff, so this is the one place that names torch's ``detach`` and
    JAX's ``stop_gradient``; losses use it for straight-through gradients.
    """
    library = library_name(x)
    if library == "torch":
        return x.detach()
    if library == "jax":
        return sys.modules["jax"].lax.stop_gradient(x)
    return x


def device_of(x: Any) -> Any:
    """Device of ``x``; works on JAX tracers too."""
    return array_api_compat.device(x)


def compute_dtype(xp: Any, dtype: Any) -> Any:
    """Dtype to accumulate in: float32 for half-precision inputs, the input dtype otherwise."""
    if xp.isdtype(dtype, "real floating") and xp.finfo(dtype).bits < 32:
        return xp.float32
    return dtype


def cast(xp: Any, x: Any, dtype: Any) -> Any:
    """``x`` as ``dtype``; returned unchanged (same object) when it already has that dtype.

    Skipping the no-op cast matters: a new array per call is waste, and ``asarray`` on an
    existing torch tensor would detach it from the autograd graph.
    """
    if x.dtype == dtype:
        return x
    return xp.astype(x, dtype)


def scalar_like(xp: Any, value: Any, like: Any) -> Any:
    """A Python scalar (or array) as an array with ``like``'s dtype and device."""
    if isinstance(value, _SCALARS):
        return xp.asarray(value, dtype=like.dtype, device=device_of(like))
    return cast(xp, value, like.dtype)


# --- validation -----------------------------------------------------------------------------


def check_choice(name: str, value: Any, allowed: Sequence[Any]) -> None:
    """Raise ValueError unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        msg = f"`{name}` must be one of {options}; got {value!r}."
        raise ValueError(msg)


def check_same_shape(name_a: str, a: Any, name_b: str, b: Any) -> None:
    """Raise ValueError unless ``a`` and ``b`` have the same shape (no silent broadcasting)."""
    if tuple(a.shape) != tuple(b.shape):
        msg = (
            f"`{name_a}` and `{name_b}` must have the same shape; got {tuple(a.shape)} and "
            f"{tuple(b.shape)}."
        )
        raise ValueError(msg)


def check_floating(xp: Any, name: str, x: Any, hint: str = "") -> None:
    """Raise TypeError unless ``x`` has a real floating dtype."""
    if not xp.isdtype(x.dtype, "real floating"):
        msg = f"`{name}` must have a real floating dtype, got {x.dtype}."
        if hint:
            msg = f"{msg} {hint}"
        raise TypeError(msg)


def check_integer(xp: Any, name: str, x: Any, hint: str = "") -> None:
    """Raise TypeError unless ``x`` has an integer dtype."""
    if not xp.isdtype(x.dtype, "integral"):
        msg = f"`{name}` must have an integer dtype (class indices), got {x.dtype}."
        if hint:
            msg = f"{msg} {hint}"
        raise TypeError(msg)


def check_axis(name: str, axis: int, ndim: int) -> int:
    """Normalise ``axis`` to a non-negative int; raise AxisError if it is out of range."""
    if not isinstance(axis, int) or isinstance(axis, bool):
        msg = f"`{name}` must be an int, got {axis!r}."
        raise TypeError(msg)
    if not -ndim <= axis < ndim:
        msg = f"`{name}`={axis} is out of range for an input with {ndim} dimensions."
        raise AxisError(msg)
    return axis % ndim


# --- value checks: eager arrays only ------------------------------------------------------------
# Under jax.jit, on Dask and while torch.compile traces nothing is read (the kernels give NaN for an
# invalid sample instead). A concrete array closed over by a jitted function still yields traced
# reductions, so the reduced flag is tested for laziness too.


def check_labels_in_range(
    xp: Any,
    name: str,
    labels: Any,
    num_classes: int,
    *,
    also: int | None = None,
    also_name: str | None = None,
) -> None:
    """ValueError naming a label outside ``[0, num_classes)``.

    ``also`` is one more allowed value (``ignore_index``, or the ``-1`` padding of
    ``multilabel_margin_loss``); ``also_name`` is the argument that set it, for the message.
    """
    if is_lazy(labels) or 0 in tuple(labels.shape):
        return
    bad = (labels < 0) | (labels >= num_classes)
    if also is not None:
        bad = bad & (labels != also)
    any_bad = xp.any(bad)
    if is_lazy(any_bad) or not bool(any_bad):
        return
    # the largest bad value: good entries are replaced by the overall minimum
    value = int(xp.max(xp.where(bad, labels, xp.min(labels))))
    allowed = f"[0, {num_classes})"
    if also is not None:
        allowed += f" or `{also_name}`={also}" if also_name else f" or {also}"
    msg = f"`{name}` must hold class indices in {allowed}; got {value}."
    raise ValueError(msg)


def check_probabilities(xp: Any, name: str, x: Any) -> None:
    """ValueError unless every value of ``x`` lies in [0, 1]."""
    if is_lazy(x):
        return
    any_outside = xp.any((x < 0) | (x > 1))
    if not is_lazy(any_outside) and bool(any_outside):
        lo, hi = float(xp.min(x)), float(xp.max(x))
        msg = f"`{name}` must hold probabilities in [0, 1]; got values in [{lo:g}, {hi:g}]."
        raise ValueError(msg)
