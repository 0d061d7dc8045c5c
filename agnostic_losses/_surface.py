"""The surface layer: the vocabulary every public loss of every surface is written in.

A public loss is its signature, its docstring and one call into this module. :class:`Call`
resolves the namespace once from every argument (NumPy companions converted to the primary
library, see :func:`~agnostic_losses._dispatch.resolve`) and gives each argument its role:

=================  ==================================================================
role               what it checks and returns
=================  ==================================================================
``input``          the primary floating input: fixes the result dtype (promoted with
                   the arguments the peer's arithmetic promotes it with) and the compute
                   dtype (float32 for half precision)
``floating``       another floating array (cast to the compute dtype)
``target``         a target of ``input``'s shape (no silent broadcast)
``probabilities``  a floating array whose values must lie in [0, 1] (eager check)
``labels``         integer class indices in ``[0, C)`` (plus an ignore value)
``param``          a Python number (kept) or an array (cast) option such as ``alpha``
``classes``        the class axis (or axes), validated and moved last
``mask``           a boolean ``where`` of the input's shape or of its rows
``where``          a boolean array that broadcasts to the input (optax's ``where``)
=================  ==================================================================

:meth:`Call.reduce` applies a reduction with a named divisor (:mod:`._reductions`) and
:meth:`Call.finish` casts back to the result dtype. Option arguments (strings, numbers) are
validated declaratively by :func:`options`, at call time and when a loss class is constructed.
Kernels (``_kernels``) know nothing of this module; the surfaces know nothing of the backends.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import array_api_compat
import numpy as np

from ._dispatch import (
    as_index,
    at_least_float32,
    cast,
    check_floating,
    check_integer,
    check_labels_in_range,
    check_probabilities,
    check_same_shape,
    check_values,
    class_indices,
    compute_dtype,
    default_floating,
    has_jax_protocol,
    normalize_axes,
    promoted,
    resolve,
    warn_at_caller,
)
from ._numerics import expand_rank, move_axis_last
from ._reductions import legacy_reduction
from ._reductions import reduce as _reduce

__all__ = [
    "REDUCTION",
    "Call",
    "choice",
    "companions",
    "flag",
    "number",
    "options",
    "with_companions",
]

_NUMBERS = (int, float)


def _broadcasts_to(shape: tuple[int, ...], full: tuple[int, ...]) -> bool:
    """Whether an array of ``shape`` broadcasts to ``full`` (without growing it)."""
    return len(shape) <= len(full) and all(a in (1, b) for a, b in zip(shape[::-1], full[::-1]))


class Call:
    """The arguments of one public call, resolved once.

    Parameters
    ----------
    surface : {'top', 'torch', 'keras'}
        Which peer the loss mirrors; it decides whether Python lists are accepted (optax and
        keras convert them, torch refuses them).
    **values
        Every array-like argument by name (None and Python scalars allowed).
    """

    __slots__ = ("args", "dtype", "surface", "work", "xp")

    def __init__(self, surface: str, **values: Any) -> None:
        self.surface = surface
        self.xp, self.args = resolve(values, lists=surface != "torch")
        self.dtype: Any = None
        self.work: Any = None

    def __getitem__(self, name: str) -> Any:
        return self.args[name]

    # --- roles ---------------------------------------------------------------------------

    def input(
        self,
        name: str,
        *,
        probabilities: bool = False,
        hint: str = "",
        keep_dtype: bool = False,
        promote: tuple[str, ...] = (),
        values: tuple[str, ...] | None = None,
    ) -> Any:
        """The primary floating input, cast to the compute dtype; sets the result dtype.

        ``probabilities``: its values must lie in [0, 1] (checked on eager arrays; on the
        torch surface a NaN is refused too, as torch's ``binary_cross_entropy`` refuses it).
        ``keep_dtype``: returned in its own dtype (a kernel that upcasts chunk by chunk).
        ``promote``: the other arguments whose floating dtype joins the input's in the result
        dtype, by the library's own promotion (bfloat16 predictions with float32 targets give
        float32, as ``jnp``, torch and keras arithmetic do); the peer decides which: an
        argument it casts to the predictions' dtype instead is not named.
        ``values``: the other dtype kinds (``'integral'``, ``'bool'``) that the peer computes
        with as numbers (torch's ranking, triplet and Poisson losses): such an input takes the
        dtype of the floating arguments among ``promote``, else the library's default floating
        dtype (as torch promotes an integer tensor with a float one or a Python float).
        """
        x = self._array(name)
        others = [self.args.get(n) for n in promote]
        numeric = values is not None and self._numeric(name, x, values)
        if numeric:
            # torch promotes by category: a floating argument sets the dtype, integers alone
            # compute in the default floating dtype (torch.get_default_dtype()).
            dtypes = [getattr(a, "dtype", None) for a in others]
            floats = [d for d in dtypes if d is not None and self.xp.isdtype(d, "real floating")]
            start = floats[0] if floats else default_floating(self.xp, x)
        else:
            check_floating(self.xp, name, x, hint)
            if probabilities:
                self._check_probabilities(name, x)
            start = x.dtype
        self.dtype = promoted(self.xp, start, *others)
        self.work = compute_dtype(self.xp, self.dtype)
        return x if keep_dtype and not numeric else cast(self.xp, x, self.work)

    def _numeric(self, name: str, x: Any, values: tuple[str, ...]) -> bool:
        """Whether ``x`` holds numbers of a non-floating kind that ``values`` admits (integral,
        bool), to be computed in floating point; floating arrays are False; anything else
        raises a TypeError naming every accepted kind."""
        if self.xp.isdtype(x.dtype, "real floating"):
            return False
        if self.xp.isdtype(x.dtype, values):
            return True
        kinds = " or ".join(("real floating", *values))
        msg = f"`{name}` must have a {kinds} dtype, got {x.dtype}."
        raise TypeError(msg)

    def floating(
        self,
        name: str,
        *,
        like: str | None = None,
        hint: str = "",
        same_dtype: bool = False,
        shape: tuple[int, ...] | None = None,
        broadcasts: str | None = None,
        keep_dtype: bool = False,
        values: tuple[str, ...] | None = None,
    ) -> Any:
        """Another floating array (None passes through), cast to the compute dtype (unless
        ``keep_dtype``); ``values`` as in :meth:`input`.

        ``like``: must have that argument's shape; ``shape``: must have this shape;
        ``broadcasts``: must broadcast to that argument's shape (torch's ``weight`` and
        ``pos_weight``); ``same_dtype``: must have the input's dtype (torch raises for a class
        ``weight`` of another dtype rather than promoting).
        """
        x = self.args[name]
        if x is None:
            return None
        x = self._array(name)
        if values is None or not self._numeric(name, x, values):
            self._check_floating(name, x, like, hint)
        if same_dtype and x.dtype != self.dtype:
            msg = f"`{name}` must have the input's dtype {self.dtype}, got {x.dtype}."
            raise TypeError(msg)
        if like is not None:
            check_same_shape(like, self.args[like], name, x)
        if shape is not None and tuple(x.shape) != shape:
            msg = f"`{name}` must have shape {shape}, got {tuple(x.shape)}."
            raise ValueError(msg)
        if broadcasts is not None:
            full = tuple(self.args[broadcasts].shape)
            mine = tuple(x.shape)
            if not _broadcasts_to(mine, full):
                msg = (
                    f"`{name}` of shape {mine} does not broadcast to the shape of "
                    f"`{broadcasts}` {full}."
                )
                raise ValueError(msg)
            x = expand_rank(self.xp, x, len(full))
        return x if keep_dtype else cast(self.xp, x, self.work)

    def _check_floating(self, name: str, x: Any, like: str | None, hint: str) -> None:
        try:
            check_floating(self.xp, name, x, hint)
        except TypeError:
            # an integer array of the input's shape is an encoding (one-hot), not class indices
            if like is None or not self.xp.isdtype(x.dtype, "integral"):
                raise
            if tuple(x.shape) != tuple(self.args[like].shape):
                raise
            hint = (
                f"An integer array of `{like}`'s shape (a one-hot encoding) must be cast to a "
                "floating dtype first"
            )
            hint += " (optax computes with it as it is)." if self.surface == "top" else "."
            check_floating(self.xp, name, x, hint)

    def target(self, name: str, like: str, *, integers: bool = False, hint: str = "") -> Any:
        """A target of ``like``'s shape, cast to the compute dtype.

        Floating only, unless ``integers`` (optax casts integer and boolean 0/1 labels).
        """
        t = self._array(name)
        if not integers:
            self._check_floating(name, t, like, hint)
        check_same_shape(like, self.args[like], name, t)
        return cast(self.xp, t, self.work)

    def probabilities(
        self, name: str, *, like: str | None = None, integers: bool = False, hint: str = ""
    ) -> Any:
        """Values in [0, 1] (checked on eager arrays), cast to the compute dtype.

        Floating only, unless ``integers`` (optax casts integer and boolean 0/1 labels).
        """
        p = self._array(name)
        if not integers:
            self._check_floating(name, p, like, hint)
        if like is not None:
            check_same_shape(like, self.args[like], name, p)
        self._check_probabilities(name, p)
        return cast(self.xp, p, self.work)

    def _check_probabilities(self, name: str, p: Any) -> None:
        # torch's binary_cross_entropy refuses a NaN; optax's and keras's let it through
        check_probabilities(self.xp, name, p, allow_nan=self.surface != "torch")

    def labels(
        self,
        name: str,
        num_classes: int,
        *,
        ignore: int | None = None,
        ignore_name: str | None = None,
        hint: str = "",
        counts: Any = None,
    ) -> Any:
        """Integer class indices in ``[0, num_classes)`` (or ``ignore``), checked on eager arrays
        where ``counts`` (see ``check_labels_in_range``) holds.

        Elsewhere an out-of-range label gives NaN for its sample (the kernels' convention).
        """
        y = self._array(name)
        check_integer(self.xp, name, y, hint)
        y = class_indices(self.xp, y)
        check_labels_in_range(
            self.xp, name, y, num_classes, also=ignore, also_name=ignore_name, counts=counts
        )
        return y

    def index(self, name: str) -> Any:
        """An integer argument that may be a Python int: as an array of the namespace's
        indexing dtype on the input's device (braintools accepts ``target=1``)."""
        value = self.args[name]
        if isinstance(value, int) and not isinstance(value, bool):
            value = as_index(
                self.xp, value, next(v for v in self.args.values() if hasattr(v, "dtype"))
            )
            self.args[name] = value
        return self._array(name)

    def param(self, name: str, *, like: str | None = None) -> Any:
        """An option that may be None or a Python number (kept as is) or an array (cast).

        ``like``: an array must have that argument's shape (optax's ``targets=None`` or a
        scalar target beside ``predictions``).
        """
        value = self.args[name]
        if value is None or isinstance(value, _NUMBERS):
            return value
        x = self._array(name)
        if like is not None:
            check_same_shape(like, self.args[like], name, x)
        return cast(self.xp, x, self.work)

    def classes(
        self, name: str, axis: Any, *arrays: Any, tuples: bool = True, none: bool = False
    ) -> tuple[tuple[int, ...], int, list[Any]]:
        """The class axis of argument ``name``, moved last in each of ``arrays``.

        ``axis`` is an int or (with ``tuples``, optax's convention) a tuple of axes whose
        product is the number of classes: they are moved last in the order given and flattened
        into one (so class index ``c`` of ``axis=(3, 2)`` is ``(c // n2, c % n2)`` there, as in
        optax). ``none``: ``axis=None`` takes every axis (optax's soft-label losses). Arrays
        must have ``name``'s shape (None passes). Returns ``(axes, C, arrays)``, ``axes`` in
        that order.
        """
        x = self.args[name]
        if x.ndim == 0:
            msg = f"`{name}` must have at least one dimension (the classes), got a 0-d array."
            raise ValueError(msg)
        axes = normalize_axes("axis", axis, x.ndim, tuples=tuples, none=none, ordered=True)
        shape = tuple(x.shape)
        num_classes = math.prod([shape[a] for a in axes])
        if len(axes) == 1:
            moved = [None if a is None else move_axis_last(self.xp, a, axes[0]) for a in arrays]
            return axes, num_classes, moved
        batch = tuple(i for i in range(x.ndim) if i not in axes)
        flat = (*(shape[i] for i in batch), num_classes)
        moved = [
            None if a is None else self.xp.reshape(self.xp.permute_dims(a, batch + axes), flat)
            for a in arrays
        ]
        return axes, num_classes, moved

    def mask(self, name: str, like: str, axes: tuple[int, ...]) -> Any:
        """A boolean ``where`` of ``like``'s shape, or of that shape without ``axes`` (one value
        per row, broadcast along the classes); None passes."""
        w = self._bool_array(name)
        if w is None:
            return None
        full = tuple(self.args[like].shape)
        rows = tuple(n for i, n in enumerate(full) if i not in axes)
        if tuple(w.shape) == full:
            return w
        if tuple(w.shape) == rows:
            for axis in sorted(axes):  # ascending: each insertion leaves later positions right
                w = self.xp.expand_dims(w, axis=axis)
            return self.xp.broadcast_to(w, full)
        msg = (
            f"`{name}` must have the shape of `{like}` {full} or that shape without the class "
            f"axes {rows} (one value per row); got {tuple(w.shape)}."
        )
        raise ValueError(msg)

    def where(self, name: str, like: str) -> Any:
        """optax's ``where``: a boolean array that broadcasts to ``like``'s shape (None
        passes); only its metadata is read."""
        w = self._bool_array(name)
        if w is None:
            return None
        shape, mine = tuple(self.args[like].shape), tuple(w.shape)
        if not _broadcasts_to(mine, shape):
            msg = f"`{name}` of shape {mine} does not broadcast to the inputs' shape {shape}."
            raise ValueError(msg)
        return w

    def check(self, name: str, bad: Callable[[], Any], message: Callable[[], str]) -> None:
        """An eager-only value check on argument ``name`` (see ``_dispatch.check_values``)."""
        check_values(self.xp, self.args[name], bad, message)

    def _bool_array(self, name: str) -> Any:
        """A boolean array argument, or None when it is not given."""
        if self.args.get(name) is None:
            return None
        w = self._array(name)
        if not self.xp.isdtype(w.dtype, "bool"):
            msg = f"`{name}` must be a boolean array, got dtype {w.dtype}."
            raise TypeError(msg)
        return w

    def _array(self, name: str) -> Any:
        x = self.args[name]
        if x is None:
            msg = f"`{name}` must be an array, got None."
            raise TypeError(msg)
        if isinstance(x, (*_NUMBERS, bool, complex)):
            msg = (
                f"`{name}` must be an array, got a Python {type(x).__name__}; convert it with "
                "your array library's `asarray` first."
            )
            raise TypeError(msg)
        return x

    # --- epilogue ------------------------------------------------------------------------

    def widen_half(self) -> None:
        """A half-precision result dtype becomes float32: the peer meets its input with a
        float32 array of its own (:func:`~agnostic_losses._dispatch.at_least_float32`)."""
        self.dtype = at_least_float32(self.xp, self.dtype)

    def finish(self, out: Any) -> Any:
        """``out`` in the result dtype; a reduced NumPy result is a 0-d array, not a scalar."""
        out = cast(self.xp, out, self.dtype)
        return np.asarray(out) if isinstance(out, np.generic) else out

    def reduce(
        self,
        loss: Any,
        reduction: str,
        *,
        divisor: str = "count",
        weights: Any = None,
        fill: float = 0.0,
        axis: Any = None,
    ) -> Any:
        """:func:`~agnostic_losses._reductions.reduce`, then :meth:`finish`."""
        return self.finish(
            _reduce(
                self.xp, loss, reduction, divisor=divisor, weights=weights, fill=fill, axis=axis
            )
        )


# --- declarative option validation -----------------------------------------------------------

Validator = Callable[[str, Any], None]


def choice(*allowed: Any, deprecated: dict[str, str] | None = None) -> Validator:
    """The value must be one of ``allowed``; ``deprecated`` maps old spellings the peer still
    takes (with a warning) to their current value: :func:`options` substitutes them and warns
    at the call, as the peer does; a class constructor's validation accepts them silently."""
    aliases = dict(deprecated or {})

    def validate(name: str, value: Any) -> None:
        if value not in allowed and not (isinstance(value, str) and value in aliases):
            options_ = ", ".join(repr(a) for a in allowed)
            msg = f"`{name}` must be one of {options_}; got {value!r}."
            raise ValueError(msg)

    validate.deprecated = aliases  # type: ignore[attr-defined]
    return validate


REDUCTION = choice("none", "mean", "sum")
# torch's _Reduction.get_enum still maps 'elementwise_mean' to 'mean' with a warning (every
# torch loss but gaussian_nll_loss, poisson_nll_loss, multilabel_soft_margin_loss and
# triplet_margin_with_distance_loss, which check the string themselves and refuse it).
TORCH_REDUCTION = choice("none", "mean", "sum", deprecated={"elementwise_mean": "mean"})


def _warn_deprecated(name: str, old: str, new: str) -> None:
    # torch's words, so that a filter written for torch's warning catches ours (the call's
    # arrays are not at hand here: like=None, silent while torch compiles)
    warn_at_caller(f"{name}={old!r} is deprecated. Please use {name}={new!r} instead.", None)


def flag(name: str, value: Any) -> None:
    """The value must be a bool (or None, torch's "not given" for legacy flags)."""
    if value is not None and not isinstance(value, (bool, int)):
        msg = f"`{name}` must be a bool, got {value!r}."
        raise TypeError(msg)


def number(
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
    none: bool = False,
    arrays: bool = False,
) -> Validator:
    """A real number in the given interval (bounds closed unless ``*_open``).

    ``integer``: an int; ``none``: None allowed; ``arrays``: an array passes (its values are
    the kernel's business, e.g. ``alpha`` as a per-class array).
    """
    lo, hi = "(" if low_open else "[", ")" if high_open else "]"
    interval = f"{lo}{low:g}, {high:g}{hi}"
    kind = "an int" if integer else "a real number"

    def validate(name: str, value: Any) -> None:
        if value is None and none:
            return
        if arrays and (
            (hasattr(value, "shape") and not isinstance(value, numbers.Number))
            or has_jax_protocol(value)
        ):
            return
        ok_type = isinstance(value, numbers.Integral if integer else numbers.Real) and not (
            isinstance(value, bool)
        )
        if not ok_type:
            msg = f"`{name}` must be {kind} in {interval}, got {value!r}."
            if hasattr(value, "shape"):
                msg += " This option takes a Python number, not an array (nor a traced value)."
            raise TypeError(msg)
        below = value <= low if low_open else value < low
        above = value >= high if high_open else value > high
        if below or above or value != value:
            msg = f"`{name}` must be {kind} in {interval}, got {value!r}."
            raise ValueError(msg)

    return validate


def python_scalar(value: Any) -> Any:
    """An option's NumPy scalar (``np.int64`` from a config or an argmax, ``np.float32``,
    ``np.str_``) as the Python value it holds, as the peers read it: torch's ops refuse it
    beside a tensor, array-api-strict refuses it in arithmetic, and ``np.float32`` would
    promote a half-precision input. Anything else is returned as is."""
    return value.item() if isinstance(value, np.generic) else value


def options(**validators: Validator) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare how a public loss validates its option arguments.

    The decorated function validates the named arguments on every call, before its body runs
    (a positional lookup computed once, so the cost is a few hundred nanoseconds), and records
    the validators as ``fn.validators`` so a loss class validates the same options when it is
    constructed (``HuberLoss(delta=1+0j)`` fails there, naming ``delta``).
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        params = list(inspect.signature(fn).parameters.values())
        index = {p.name: i for i, p in enumerate(params)}
        defaults = {p.name: p.default for p in params}
        unknown = set(validators) - set(index)
        if unknown:
            msg = f"{fn.__name__} has no argument(s) {sorted(unknown)}"
            raise TypeError(msg)
        plan = tuple(
            (name, index[name], defaults[name], v, getattr(v, "deprecated", None))
            for name, v in validators.items()
        )

        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> Any:
            n = len(args)
            for name, i, default, validate, deprecated in plan:
                value = args[i] if i < n else kwargs.get(name, default)
                replace = isinstance(value, np.generic)
                if replace:
                    value = python_scalar(value)
                if deprecated and isinstance(value, str) and value in deprecated:
                    _warn_deprecated(name, value, deprecated[value])
                    value, replace = deprecated[value], True
                if replace:
                    if i < n:
                        args = (*args[:i], value, *args[i + 1 :])
                    else:
                        kwargs[name] = value
                validate(name, value)
            return fn(*args, **kwargs)

        checked.validators = dict(validators)  # type: ignore[attr-defined]
        return checked

    return decorate


def torch_reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    """The effective reduction of a torch signature with its legacy flags."""
    return legacy_reduction(size_average, reduce, reduction)


def companions(surface: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Convert the NumPy companions of a call before a loss that reads its arrays directly.

    For a public loss whose body resolves its namespace with the strict
    :func:`~agnostic_losses._dispatch.namespace` rather than through :class:`Call`: NumPy
    arrays and NumPy scalars beside the arrays of one other library are converted to that
    library (dtype and device as :func:`~agnostic_losses._dispatch.resolve` says) before the
    body runs, so every surface accepts what its peer accepts. Calls without a NumPy argument
    (the common case) pay one ``isinstance`` scan; an all-NumPy call is passed on untouched.
    On the optax-style surface (``"top"``) Python lists are converted too, as optax accepts
    them (tuples stay options such as ``axis``); the torch surface leaves them to the body,
    which refuses them with its own message. A reduced NumPy result is returned as a 0-d
    array, as :meth:`Call.finish` does.
    """
    lists = surface != "torch"
    trigger = (*_NUMPY, list) if lists else _NUMPY

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        names = tuple(inspect.signature(fn).parameters)
        # Options (validated by @options) hold Python values; a NumPy scalar there is one too.
        scalar_options = frozenset(getattr(fn, "validators", ()))

        def is_array(name: str, value: Any) -> bool:
            if name in scalar_options and isinstance(value, np.generic):
                return False
            return _is_array(value, lists=lists)

        @functools.wraps(fn)
        def converted(*args: Any, **kwargs: Any) -> Any:
            given = (*args, *kwargs.values())
            if any(isinstance(v, trigger) or has_jax_protocol(v) for v in given):
                values = {**dict(zip(names, args)), **kwargs}
                arrays = {k: v for k, v in values.items() if is_array(k, v)}
                mixed = not all(isinstance(v, _NUMPY) for v in arrays.values())
                if mixed or any(isinstance(v, list) for v in arrays.values()):
                    _, arrays = resolve(arrays, lists=lists)
                    args = (
                        *(arrays.get(name, a) for name, a in zip(names, args)),
                        *args[len(names) :],
                    )
                    kwargs = {k: arrays.get(k, v) for k, v in kwargs.items()}
            out = fn(*args, **kwargs)
            # As Call.finish: a reduced NumPy result is a 0-d array, not a NumPy scalar.
            return np.asarray(out) if isinstance(out, np.generic) else out

        return converted

    return decorate


_NUMPY = (np.ndarray, np.generic)


def _is_array(value: Any, *, lists: bool = False) -> bool:
    if has_jax_protocol(value):  # resolve unwraps it
        return True
    if lists and isinstance(value, list):
        # a list of numbers where the peer (optax) takes an array; tuples stay options (axis)
        return True
    if isinstance(value, _NUMPY):
        # NumPy scalars that are Python numbers (np.float64, np.bool_ is not) stay numbers.
        return not isinstance(value, _NUMBERS)
    return array_api_compat.is_array_api_obj(value)


def with_companions(namespace: dict[str, Any], names: Sequence[str], surface: str) -> None:
    """Apply :func:`companions` to the public functions ``names`` of a module namespace."""
    decorate = companions(surface)
    for name in names:
        fn = namespace[name]
        if inspect.isfunction(fn):
            namespace[name] = decorate(fn)
