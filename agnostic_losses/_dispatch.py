"""Dispatch layer: namespace resolution, dtype and device helpers, argument validation.

Everything that knows about a concrete array library lives here (and in ``_loops``). Loss
kernels receive the resolved namespace ``xp`` explicitly and never look at array types.
"""

from __future__ import annotations

import contextlib
import contextvars
import numbers
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import array_api_compat
import numpy as np

from ._fastpath import lean

__all__ = [
    "CHECK_MODES",
    "AxisError",
    "as_index",
    "at_least_float32",
    "cast",
    "check_axis",
    "check_choice",
    "check_floating",
    "check_integer",
    "check_labels_in_range",
    "check_probabilities",
    "check_same_shape",
    "check_values",
    "checks",
    "compute_dtype",
    "default_floating",
    "device_of",
    "get_checks",
    "index_dtype",
    "is_lazy",
    "library_name",
    "match_varying",
    "namespace",
    "normalize_axes",
    "on_host",
    "promoted",
    "resolve",
    "scalar_like",
    "set_checks",
    "stop_gradient",
    "values_readable",
    "varying_axes",
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
            # torch.compile (import statements, unlike them, are executed by dynamo).
            import array_api_compat.torch as generic
        else:
            generic = array_api_compat.array_namespace(x)
        # `lean` swaps in a namespace with no-op compat wrappers bypassed (torch; see _fastpath)
        xp = lean(generic)
        _NAMESPACE_CACHE[cls] = xp
    return xp


def namespace(**arrays: Any) -> Any:
    """The namespace shared by every array argument, strictly: no conversion (internal use;
    public functions go through :func:`resolve`, which also converts NumPy companions).

    ``None`` and Python scalars are skipped. TypeError for a Python list or tuple, for arrays
    of two libraries, or when no argument is an array.
    """
    xp: Any = None
    first: Any = None
    first_name = ""
    for name, value in arrays.items():
        value_xp = _NAMESPACE_CACHE.get(type(value))
        if value_xp is None:
            if value is None or isinstance(value, _SCALARS):
                continue
            if isinstance(value, (list, tuple)):
                raise _list_error(name, value)
            value_xp = resolve({name: value})[0]
        elif _SIZES_MAY_BE_UNKNOWN.get(type(value), True):
            _check_known_shape(name, value)
        if xp is None:
            _check_api_version(value_xp, name, value)
            xp, first_name, first = value_xp, name, value
        elif value_xp is not xp:
            raise _mixed(first_name, first, name, value)
    if xp is None:
        names = ", ".join(f"`{n}`" for n in arrays)
        msg = f"at least one of {names} must be an array, got only Python scalars or None."
        raise TypeError(msg)
    return xp


def _mixed(first_name: str, first: Any, name: str, value: Any) -> TypeError:
    msg = (
        f"`{first_name}` is a {library_name(first)} array but `{name}` is a "
        f"{library_name(value)} array; pass arrays from a single library (NumPy arrays, NumPy "
        "scalars and Python scalars may accompany them)."
    )
    return TypeError(msg)


#: The oldest revision of the standard the losses are written against: Python scalars beside
#: arrays in ``where``/``clip``/arithmetic and ``take_along_axis`` arrived in 2024.12.
MIN_API_VERSION = "2024.12"


def _check_api_version(xp: Any, name: str, value: Any) -> None:
    """Raise for a namespace set to an older revision (array-api-strict's ``api_version`` flag,
    which projects pin in their test suites); without this it fails deep inside a loss."""
    version = getattr(xp, "__array_api_version__", MIN_API_VERSION)
    if version >= MIN_API_VERSION:
        return
    hint = ""
    if library_name(value) == "array_api_strict":
        hint = (
            f" (array_api_strict.set_array_api_strict_flags(api_version={MIN_API_VERSION!r}),"
            " or its ArrayAPIStrictFlags context manager)"
        )
    msg = (
        f"`{name}` is an array of {library_name(value)} at Array API version {version!r}; "
        f"agnostic_losses needs version {MIN_API_VERSION!r} or later{hint}."
    )
    raise TypeError(msg)


def _list_error(name: str, value: Any) -> TypeError:
    msg = (
        f"`{name}` must be an array, got a Python {type(value).__name__}; "
        "convert it with your array library's `asarray` first."
    )
    return TypeError(msg)


def resolve(values: dict[str, Any], *, lists: bool = False) -> tuple[Any, dict[str, Any]]:
    """The namespace of a public call, and its arguments as arrays of that namespace.

    The arrays of ONE library (the primary: torch, JAX, CuPy, Dask, array-api-strict) may be
    accompanied by NumPy arrays and NumPy scalars -- a data loader's labels beside JAX logits --
    and, with ``lists=True`` (the optax-style surface, whose peer accepts them), by Python lists
    and tuples of numbers. Those are converted to the primary library: floating values to the
    dtype of the primary's first floating argument (the namespace's default float if it has
    none), integers to the namespace's default integer dtype (int32 under JAX's default 32-bit
    mode, so no truncation warning), booleans stay booleans; on the primary's device. Primary
    arrays are returned as they are (no copy: torch gradients stay attached). Without a primary,
    everything is NumPy. Python scalars and None pass through unchanged. An object that is no
    array but implements JAX's ``__jax_array__`` protocol (brainpy's ``bm.Array`` and
    ``bm.Variable``) is the JAX array it returns, as ``jnp`` (and so optax) takes it.

    Raises
    ------
    TypeError
        Arrays of two libraries other than NumPy (naming both arguments and libraries); a list
        or tuple where ``lists`` is False; an object that is no array; no array at all.
    """
    xp: Any = None
    primary: Any = None
    primary_name = ""
    foreign: dict[str, Any] = {}
    unwrapped: dict[str, Any] = {}
    for name, value in values.items():
        # A NumPy scalar is a 0-d array, except that np.float64 (also a Python float) stays a
        # scalar where lists are refused (torch's surface); on the optax-style surface it is an
        # array, as jnp.asarray makes it there (optax: huber_loss(ys[0], ts[0])).
        if isinstance(value, np.generic) and (lists or not isinstance(value, _SCALARS)):
            foreign[name] = np.asarray(value)
            continue
        if value is None or isinstance(value, _SCALARS):
            continue
        if isinstance(value, (list, tuple)):
            if not lists:
                raise _list_error(name, value)
            array = np.asarray(value)
            if array.dtype.kind not in "biuf":
                kind = type(value).__name__
                msg = f"`{name}` must hold numbers, got a Python {kind} of {array.dtype}."
                raise TypeError(msg)
            foreign[name] = array
            continue
        if type(value) is np.ndarray:
            foreign[name] = value
            continue
        value_xp = _NAMESPACE_CACHE.get(type(value))
        if value_xp is None:
            try:
                value_xp = _namespace_of_type(value)
            except TypeError:
                inner = from_jax_protocol(value)
                if inner is None:
                    msg = (
                        f"`{name}` must be an array of a library that supports the Array API "
                        f"(numpy, cupy, jax, torch, dask, array_api_strict), got "
                        f"{type(value).__name__}."
                    )
                    if type(value).__module__.split(".")[0] == "tensorflow":
                        # keras 3's default backend: the likeliest way to get here
                        msg += (
                            " TensorFlow has no Array API namespace: with keras, set "
                            "KERAS_BACKEND to 'jax', 'torch' or 'numpy'."
                        )
                    raise TypeError(msg) from None
                value = unwrapped[name] = inner
                value_xp = _namespace_of_type(value)
        if _SIZES_MAY_BE_UNKNOWN.get(type(value), True):
            _check_known_shape(name, value)
        if xp is None:
            _check_api_version(value_xp, name, value)
            xp, primary, primary_name = value_xp, value, name
        elif value_xp is not xp:
            raise _mixed(primary_name, primary, name, value)
    if xp is None:
        if not foreign:
            names = ", ".join(f"`{n}`" for n in values)
            msg = f"at least one of {names} must be an array, got only Python scalars or None."
            raise TypeError(msg)
        xp = _namespace_of_type(next(iter(foreign.values())))
        return xp, {**values, **foreign}
    if unwrapped:
        values = {**values, **unwrapped}
    if not foreign:
        return xp, values
    reference = next(
        (
            v
            for v in values.values()
            if _NAMESPACE_CACHE.get(type(v), False) is xp and xp.isdtype(v.dtype, "real floating")
        ),
        None,
    )
    converted = {name: _to_primary(xp, a, primary, reference) for name, a in foreign.items()}
    return xp, {**values, **converted}


# Array type -> whether its shapes may hold unknown sizes (False for the eager libraries and
# JAX tracers: their calls skip the shape scan).
_SIZES_MAY_BE_UNKNOWN: dict[type, bool] = {}


def _check_known_shape(name: str, value: Any) -> None:
    """Raise ValueError for a shape with unknown sizes (None in the standard, NaN in Dask after
    a boolean selection): the losses check and broadcast shapes before computing."""
    may = _SIZES_MAY_BE_UNKNOWN.get(type(value))
    if may is None:
        may = library_name(value) not in ("numpy", "torch", "jax", "cupy")
        _SIZES_MAY_BE_UNKNOWN[type(value)] = may
    if not may:
        return
    shape = tuple(value.shape)
    if any(n is None or n != n for n in shape):
        hint = " (Dask: `.compute_chunk_sizes()`)" if library_name(value) == "dask" else ""
        msg = (
            f"`{name}` has unknown sizes in its shape {shape}, as after a boolean selection; "
            f"the loss checks and broadcasts shapes, so make them known first{hint}."
        )
        raise ValueError(msg)


def has_jax_protocol(value: Any) -> bool:
    """Whether ``value``'s type implements JAX's ``__jax_array__`` protocol (how ``jnp``
    functions read brainpy's ``bm.Array`` and ``bm.Variable``; ``jax.Array`` has none)."""
    return hasattr(type(value), "__jax_array__")


def from_jax_protocol(value: Any) -> Any:
    """The JAX array behind ``value`` if it is no Array API array but implements JAX's
    ``__jax_array__`` protocol (:func:`has_jax_protocol`); None otherwise. Inside a JAX
    transform the result is the tracer, so the caller's gradients flow through it."""
    if not has_jax_protocol(value) or array_api_compat.is_array_api_obj(value):
        return None
    inner = value.__jax_array__()
    return inner if array_api_compat.is_jax_array(inner) else None


def _to_primary(xp: Any, array: Any, primary: Any, reference: Any) -> Any:
    """A NumPy array as an array of ``xp`` (see :func:`resolve` for the dtype rule)."""
    defaults = xp.__array_namespace_info__().default_dtypes()
    kind = array.dtype.kind
    if kind == "f":
        dtype = reference.dtype if reference is not None else defaults["real floating"]
    elif kind in "iu":
        dtype = defaults["integral"]
    elif kind == "b":
        dtype = xp.bool
    elif kind == "c":
        dtype = defaults["complex floating"]
    else:
        msg = f"cannot use a NumPy array of dtype {array.dtype} as an argument of a loss."
        raise TypeError(msg)
    # JAX places an uncommitted constant wherever its consumer runs (and a tracer has no
    # device); every other library is told the primary array's device.
    device = None if library_name(primary) == "jax" else device_of(primary)
    return xp.asarray(array, dtype=dtype, device=device)


# --- laziness, host reads and the value-check policy -----------------------------------------


def is_lazy(x: Any) -> bool:
    """Whether ``x`` has no values that Python may read now.

    True for a JAX tracer, a Dask array, a torch tensor while ``torch.compile`` traces, a torch
    tensor inside a ``torch.func`` transform (``vmap``'s batched tensors cannot be read; ``grad``'s
    wrappers are treated alike) and a torch ``meta`` tensor (no values at all). Value checks
    (labels in range, probabilities in [0, 1]) never run on these.
    """
    library = library_name(x)
    if library == "dask":
        return True
    if library == "torch":
        torch = sys.modules["torch"]
        return bool(
            torch.compiler.is_compiling()
            or x.is_meta
            or torch._C._functorch.is_functorch_wrapped_tensor(x)
        )
    jax_core = sys.modules.get("jax.core")
    return jax_core is not None and isinstance(x, jax_core.Tracer)


def exporting() -> bool:
    """Whether ``torch.export`` is tracing (strict or not). There a Python comparison of a
    dynamic size becomes a guard of the exported program, which then fails for every size the
    comparison would have decided otherwise; under ``torch.compile`` the same guard only
    recompiles. (JAX's symbolic sizes refuse undecidable comparisons instead.)"""
    torch = sys.modules.get("torch")
    # torch 2.4 has no torch.compiler.is_exporting; an old torch imported beside a JAX or NumPy
    # call must not break it.
    is_exporting = getattr(getattr(torch, "compiler", None), "is_exporting", None)
    return is_exporting is not None and bool(is_exporting())


def on_host(x: Any) -> bool:
    """Whether ``x``'s values live in host memory, where reading them costs no device sync.

    NumPy, array-api-strict (every device of it is host memory), torch tensors on the CPU and
    JAX arrays on CPU devices; not CuPy, not torch/JAX accelerator arrays.
    """
    library = library_name(x)
    if library in ("numpy", "array_api_strict"):
        return True
    if library == "torch":
        return x.device.type == "cpu"
    if library == "jax":
        return all(d.platform == "cpu" for d in x.devices())
    return False


CHECK_MODES = ("auto", "always", "never")


def _initial_mode() -> str:
    mode = os.environ.get("AGNOSTIC_LOSSES_CHECKS", "auto")
    if mode not in CHECK_MODES:
        options = ", ".join(repr(m) for m in CHECK_MODES)
        msg = f"AGNOSTIC_LOSSES_CHECKS must be one of {options}; got {mode!r}."
        raise ValueError(msg)
    return mode


# The process-wide policy (set_checks), and the override of a `checks(...)` block (per thread /
# asyncio task, so a block in one thread does not change another's).
_POLICY = {"mode": _initial_mode()}
_OVERRIDE: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "agnostic_losses_checks", default=None
)


def get_checks() -> str:
    """The value-check policy in force here: ``'auto'``, ``'always'`` or ``'never'``.

    Returns
    -------
    str
        The mode of the innermost :func:`checks` block of this thread, else the process-wide
        one (:func:`set_checks`).

    Examples
    --------
    >>> import agnostic_losses as al
    >>> with al.checks("always"):
    ...     al.get_checks()
    'always'
    """
    return _OVERRIDE.get() or _POLICY["mode"]


def set_checks(mode: str) -> str:
    """Set the process-wide value-check policy; returns the previous one.

    ``'auto'`` (the default; or the environment variable ``AGNOSTIC_LOSSES_CHECKS`` at import):
    value checks (labels in range, probabilities in [0, 1], non-negative variances...) run on
    eager arrays in host memory -- NumPy, CPU tensors, CPU JAX arrays, array-api-strict -- where
    reading a value costs nothing; never on accelerator arrays, where a read would stall the
    device queue. ``'always'``: on accelerator arrays too (one host synchronisation per check).
    ``'never'``: no value check. Under ``jax.jit``, on Dask, inside ``torch.compile`` and
    ``torch.func`` transforms and on ``meta`` tensors nothing can be read, whatever the policy.
    Wherever a check does not run, an invalid value gives NaN for its sample instead.

    Parameters
    ----------
    mode : {'auto', 'always', 'never'}

    Returns
    -------
    str
        The previous process-wide mode (pass it back to restore it).

    Examples
    --------
    >>> import numpy as np
    >>> import agnostic_losses as al
    >>> log_p = np.log(np.asarray([[0.5, 0.5]]))
    >>> previous = al.set_checks("never")
    >>> float(al.functional.nll_loss(log_p, np.asarray([2])))  # class 2 of 2: not checked
    nan
    >>> al.set_checks(previous)
    'never'
    """
    check_choice("mode", mode, CHECK_MODES)
    previous = _POLICY["mode"]
    _POLICY["mode"] = mode
    return previous


@contextlib.contextmanager
def checks(mode: str) -> Iterator[None]:
    """:func:`set_checks` for a block only (and only in this thread).

    Parameters
    ----------
    mode : {'auto', 'always', 'never'}

    Examples
    --------
    >>> import numpy as np
    >>> import agnostic_losses as al
    >>> log_p = np.log(np.asarray([[0.5, 0.5]]))
    >>> with al.checks("never"):
    ...     float(al.functional.nll_loss(log_p, np.asarray([2])))
    nan
    >>> al.functional.nll_loss(log_p, np.asarray([2]))
    Traceback (most recent call last):
    ...
    ValueError: `target` must hold class indices in [0, 2) or `ignore_index`=-100; got 2.
    """
    check_choice("mode", mode, CHECK_MODES)
    token = _OVERRIDE.set(mode)
    try:
        yield
    finally:
        _OVERRIDE.reset(token)


def values_readable(x: Any) -> bool:
    """Whether the policy lets a value check read ``x`` now (see :func:`set_checks`)."""
    if is_lazy(x):  # first: dynamo cannot trace the ContextVar read of get_checks
        return False
    mode = get_checks()
    return mode == "always" or (mode == "auto" and on_host(x))


def check_values(xp: Any, x: Any, bad: Callable[[], Any], message: Callable[[], str]) -> None:
    """The one eager value check: ValueError(``message()``) if any element of ``bad()`` is True.

    ``x`` is the argument whose values are checked; ``bad`` builds the boolean array lazily (not
    at all where the policy forbids reading ``x``), ``message`` formats the error only when one
    is raised (it may read the offending values). The reduced flag is tested for laziness too:
    a concrete array closed over by a ``jax.jit`` function still yields a traced reduction.
    """
    if not values_readable(x) or 0 in tuple(x.shape):
        return
    flag = xp.any(bad())
    if is_lazy(flag) or not bool(flag):
        return
    raise ValueError(message())


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_at_caller(message: str, like: Any, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)`` attributed to the first frame outside this package
    (the user's call, whatever decorators and fallbacks lie between).

    Silent while ``torch.compile`` traces a call on ``like`` (``like=None``: a call of no
    known library, silent while torch, if imported, compiles): dynamo cannot trace
    ``warnings.warn`` (a graph break, an error under ``fullgraph=True``); eager calls and
    JAX's trace (which runs once per compilation) still warn.
    """
    if like is None or library_name(like) == "torch":
        torch = sys.modules.get("torch")
        if torch is not None and torch.compiler.is_compiling():
            return
    frame, level = sys._getframe(1), 2
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


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


# --- JAX's shard_map: values typed by the mesh axes they vary over ---------------------------


def varying_axes(x: Any) -> frozenset[str]:
    """The ``shard_map`` mesh axes over which the JAX value ``x`` varies (empty outside one).

    Inside ``shard_map`` JAX types a value by the manual mesh axes it may differ across: a
    caller's sharded input varies over its axis, a constant built in the loss varies over none.
    ``lax.scan`` carries and ``custom_vjp`` cotangents must keep their counterpart's type.
    """
    aval = sys.modules["jax"].typeof(x)
    manual = getattr(aval, "manual_axis_type", None)  # jax 0.10; ``vma`` in the releases before
    return frozenset(manual.varying if manual is not None else getattr(aval, "vma", ()))


def match_varying(x: Any, like: Any) -> Any:
    """The JAX value ``x`` typed as varying over exactly ``like``'s ``shard_map`` axes.

    Axes only ``x`` varies over are summed (``psum``): that is the transpose of the implicit
    broadcast of an invariant ``like`` (a replicated weight) into varying per-shard work, what
    JAX's own autodiff gives an invariant input's gradient. Axes only ``like`` varies over are
    a type cast (``pcast``), which moves no data. Outside ``shard_map``: ``x`` itself.
    """
    if x is None or like is None or not marks_varying():
        return x
    mine, theirs = varying_axes(x), varying_axes(like)
    if extra := mine - theirs:
        x = sys.modules["jax"].lax.psum(x, tuple(sorted(extra)))
    if missing := theirs - mine:
        x = as_varying(x, missing)
    return x


def marks_varying() -> bool:
    """Whether this JAX types values by the ``shard_map`` axes they vary over (and has the
    cast to a varying type: ``lax.pcast``, or ``lax.pvary`` before it)."""
    lax = sys.modules["jax"].lax
    return hasattr(lax, "pcast") or hasattr(lax, "pvary")


def as_varying(x: Any, axes: Iterable[str]) -> Any:
    """The JAX value ``x`` typed as varying over ``axes`` too: a type cast, no data moves."""
    lax, names = sys.modules["jax"].lax, tuple(sorted(axes))
    if hasattr(lax, "pcast"):
        return lax.pcast(x, names, to="varying")
    return lax.pvary(x, names)  # jax 0.7, before pcast


def message_value(x: Any) -> float:
    """A 0-d array's value as a Python float, for an error message. Detached first: ``float``
    of a tensor that records a gradient warns ("Converting a tensor with requires_grad=True to
    a scalar") before the error it is formatting."""
    return float(stop_gradient(x))


def device_of(x: Any) -> Any:
    """Device of ``x``; works on JAX tracers too. A torch tensor's own ``device`` is read
    directly: compat's helper goes through ``lru_cache``-d type probes that dynamo warns about."""
    if library_name(x) == "torch":
        return x.device
    return array_api_compat.device(x)


def default_floating(xp: Any, like: Any) -> Any:
    """The namespace's default real floating dtype on ``like``'s device: torch's
    ``get_default_dtype()``, float32 under JAX's default 32-bit mode, float64 for NumPy."""
    info = xp.__array_namespace_info__()
    device = None if library_name(like) == "jax" else device_of(like)
    return info.default_dtypes(device=device)["real floating"]


def index_dtype(xp: Any, like: Any) -> Any:
    """The namespace's indexing dtype: int32 under JAX's default 32-bit mode (where asking for
    int64 warns and truncates), int64 elsewhere. ``like`` is an array of the namespace."""
    if library_name(like) == "torch":
        return sys.modules["torch"].int64  # torch's gather and one-hot want int64
    return xp.__array_namespace_info__().default_dtypes()["indexing"]


def class_indices(xp: Any, labels: Any) -> Any:
    """Integer ``labels`` widened to the indexing dtype when theirs is unsigned or under 32 bits.

    Every label is compared with Python ints (the class count, an ignore value) and with an
    ``arange`` of the classes, and those wrap in a narrow dtype: in uint8, JAX and torch read
    ``300`` as 44 and ``-100`` as 156, and an ``arange`` of 300 classes repeats 0..43. The
    peers index with such labels directly and are right for every class count.
    """
    dtype = labels.dtype
    if xp.isdtype(dtype, "unsigned integer") or xp.iinfo(dtype).bits < 32:
        return cast(xp, labels, index_dtype(xp, labels))
    return labels


def as_index(xp: Any, value: int, like: Any) -> Any:
    """A Python int as a 0-d array of the indexing dtype on ``like``'s device."""
    device = None if library_name(like) == "jax" else device_of(like)
    return xp.asarray(value, dtype=index_dtype(xp, like), device=device)


def compute_dtype(xp: Any, dtype: Any) -> Any:
    """Dtype to accumulate in: float32 for half-precision inputs, the input dtype otherwise."""
    if xp.isdtype(dtype, "real floating") and xp.finfo(dtype).bits < 32:
        return xp.float32
    return dtype


def at_least_float32(xp: Any, dtype: Any) -> Any:
    """``dtype``, or float32 for a half-precision one: the result dtype of a loss whose peer
    meets its input with a float32 array of its own (optax's, keras's and brainpy's
    ``one_hot`` of integer labels defaults to float32, optax's CTC builds float32 constants),
    so that bfloat16 or float16 scores give a float32 loss there."""
    if xp.isdtype(dtype, "real floating") and xp.finfo(dtype).bits < 32:
        return xp.float32
    return dtype


def promoted(xp: Any, dtype: Any, *others: Any) -> Any:
    """``dtype`` promoted with the floating dtypes of ``others`` (arrays; anything else, or a
    non-floating array, leaves it), by the library's own ``result_type``: the result dtype of a
    loss whose peer's arithmetic promotes (bfloat16 scores with float32 targets give float32)."""
    for other in others:
        d = getattr(other, "dtype", None)
        if d is not None and d != dtype and xp.isdtype(d, "real floating"):
            dtype = xp.result_type(dtype, d)
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


def check_labelled_embeddings(*groups: tuple[str, Any, str, Any]) -> None:
    """Raise ValueError unless each ``(embeddings_name, embeddings, labels_name, labels)`` group
    holds 2-d ``(n, dim)`` embeddings with labels of shape ``(n,)``, every group with the first
    group's ``dim`` (queries and references of a metric-learning loss)."""
    dim = None
    for e_name, e, l_name, labels in groups:
        if e.ndim != 2:
            msg = f"`{e_name}` must be 2-d (batch, dim), got shape {tuple(e.shape)}."
            raise ValueError(msg)
        if dim is None:
            dim, first = e.shape[1], e_name
        elif e.shape[1] != dim:
            msg = f"`{e_name}` must have {dim} features like `{first}`, got shape {tuple(e.shape)}."
            raise ValueError(msg)
        if tuple(labels.shape) != (e.shape[0],):
            msg = f"`{l_name}` must have shape ({e.shape[0]},), got {tuple(labels.shape)}."
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


def python_int(value: Any) -> int | None:
    """``value`` as a Python int when it is an integer scalar, Python's or NumPy's (an axis or
    a blank index read from a config or computed with NumPy arrives as ``np.int64``; the peers
    take it); None for anything else (bool, float, an array)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    return None


def check_axis(name: str, axis: Any, ndim: int) -> int:
    """Normalise ``axis`` to a non-negative int; raise AxisError if it is out of range."""
    index = python_int(axis)
    if index is None:
        msg = f"`{name}` must be an int, got {axis!r}."
        raise TypeError(msg)
    axis = index
    if not -ndim <= axis < ndim:
        msg = f"`{name}`={axis} is out of range for an input with {ndim} dimensions."
        raise AxisError(msg)
    return axis % ndim


def normalize_axes(
    name: str,
    axis: Any,
    ndim: int,
    *,
    tuples: bool = True,
    none: bool = True,
    ordered: bool = False,
) -> tuple[int, ...]:
    """``axis`` (an int, a tuple of ints, or None for every axis) as sorted non-negative axes
    (in the given order with ``ordered``: a tuple of class axes flattens in that order).

    The one axis normaliser: TypeError for a non-int, :class:`AxisError` for an axis outside
    ``[-ndim, ndim)``, ValueError for a repeated axis; ``tuples``/``none`` say whether the
    argument may be a tuple / None.
    """
    if axis is None and none:
        return tuple(range(ndim))
    if isinstance(axis, tuple) and tuples:
        out = tuple(check_axis(name, a, ndim) for a in axis)
        if len(set(out)) != len(out):
            msg = f"`{name}` must not repeat an axis, got {axis!r}."
            raise ValueError(msg)
        return out if ordered else tuple(sorted(out))
    if python_int(axis) is None:
        kinds = " or ".join(["an int", *(["a tuple of ints"] if tuples else [])])
        msg = f"`{name}` must be {kinds}{' or None' if none else ''}, got {axis!r}."
        raise TypeError(msg)
    return (check_axis(name, axis, ndim),)


# --- value checks (through check_values: eager host arrays only, see set_checks) --------------


def check_labels_in_range(
    xp: Any,
    name: str,
    labels: Any,
    num_classes: int,
    *,
    also: int | None = None,
    also_name: str | None = None,
    counts: Any = None,
) -> None:
    """ValueError naming a label outside ``[0, num_classes)`` (through :func:`check_values`).

    ``also`` is one more allowed value (``ignore_index``, or the ``-1`` padding of
    ``multilabel_margin_loss``); ``also_name`` is the argument that set it, for the message.
    ``counts`` (boolean, ``labels``' shape, or a function making it only when the check runs):
    only these positions are checked (a position a ``where`` mask excludes may hold a padding
    label).
    """

    def bad() -> Any:
        out = (labels < 0) | (labels >= num_classes)
        out = out if also is None else out & (labels != also)
        if counts is None:
            return out
        return out & (counts() if callable(counts) else counts)

    def message() -> str:
        flags = bad()
        # the largest bad value: good entries are replaced by the overall minimum
        value = int(xp.max(xp.where(flags, labels, xp.min(labels))))
        allowed = f"[0, {num_classes})"
        if also is not None:
            allowed += f" or `{also_name}`={also}" if also_name else f" or {also}"
        return f"`{name}` must hold class indices in {allowed}; got {value}."

    check_values(xp, labels, bad, message)


def check_probabilities(xp: Any, name: str, x: Any, *, allow_nan: bool = True) -> None:
    """ValueError unless every value of ``x`` lies in [0, 1] (through :func:`check_values`).

    ``allow_nan=False``: a NaN is out of range too (torch's ``binary_cross_entropy`` refuses
    one).
    """

    def bad() -> Any:
        out = (x < 0) | (x > 1)
        return out if allow_nan else out | xp.isnan(x)

    def message() -> str:
        if not allow_nan and bool(xp.any(xp.isnan(x))):
            return f"`{name}` must hold probabilities in [0, 1]; got NaN."
        lo, hi = message_value(xp.min(x)), message_value(xp.max(x))
        # repr, not :g, whose six digits show 1 + 1e-6 as 1: "[0, 1]; got values in [0, 1]"
        return f"`{name}` must hold probabilities in [0, 1]; got values in [{lo!r}, {hi!r}]."

    check_values(xp, x, bad, message)
