"""Keras 3's loss classes: a loss function plus stored options, and keras's weighted reduction.

A class is declared by naming its function and keras's constructor order::

    class Huber(LossFunctionWrapper, function=F.huber, order=("delta", "reduction", "name",
                "dtype"), name="huber_loss"):
        '''docstring'''

The constructor signature is derived (checked against keras's own by the tests), options are
validated at construction by the function's validators, ``get_config`` returns every
constructor argument (keras 3.15 drops ``delta`` and ``axis`` from three classes; these keep
them) and ``from_config`` rebuilds the object. Calling an object runs keras's ``Loss.__call__``
protocol: cast to ``dtype``, compute, merge the mask (``mask=``, or a ``_keras_mask`` carried
by ``y_pred``, and the mask the function returns), weight by ``sample_weight`` and reduce
(:func:`agnostic_losses._reductions.keras_reduce`).
"""

from __future__ import annotations

import inspect
import numbers
import re
import sys
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from .._dispatch import cast, compute_dtype, device_of, library_name, resolve
from .._docs import with_parameters
from .._reductions import KERAS_REDUCTIONS, keras_reduce, rank_aligned
from .._surface import python_scalar

FLOATX = "float32"
"""``keras.config.floatx()``'s default: keras converts integer and boolean predictions to it."""

__all__ = ["Loss", "LossFunctionWrapper"]


def _dtype_name(dtype: Any) -> str | None:
    """``dtype`` as a dtype name: a string, anything with ``.compute_dtype`` (a keras
    ``DTypePolicy``), or a dtype object of any library."""
    if dtype is None:
        return None
    dtype = getattr(dtype, "compute_dtype", dtype)
    name = dtype if isinstance(dtype, str) else getattr(dtype, "name", None) or str(dtype)
    name = name.rsplit(".", 1)[-1]
    if not re.fullmatch(r"(b?float|u?int|bool|complex)\d*", name):
        msg = (
            f"`dtype` must name a dtype (e.g. 'float32') or carry `.compute_dtype`, got {dtype!r}."
        )
        raise ValueError(msg)
    return name


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _keras_loss_base() -> type | None:
    """``keras.losses.Loss`` when the user has imported keras (never imported here: that
    would fix keras's backend before the user's ``KERAS_BACKEND`` is set)."""
    keras = sys.modules.get("keras")
    losses = getattr(keras, "losses", None)
    base = getattr(losses, "Loss", None)
    return base if isinstance(base, type) else None


def _keras_mask(x: Any) -> Any:
    """The mask keras attached to ``x`` (its ``Embedding(mask_zero=True)`` and friends): an
    attribute where the array takes one (torch), else keras's table by ``id`` (JAX arrays
    take no attributes), read through keras's own accessor when keras is imported."""
    mask = getattr(x, "_keras_mask", None)
    # keras files a mask in its table only for an array that refuses the attribute; a torch
    # tensor takes it, and reading the table inside torch.compile would make dynamo guard on
    # it (a recompile whenever keras's JAX or NumPy masks come and go).
    if mask is None and library_name(x) != "torch":
        # a module lookup, not an import statement: this runs twice per call
        get_keras_mask = getattr(sys.modules.get("keras.src.backend"), "get_keras_mask", None)
        mask = None if get_keras_mask is None else get_keras_mask(x)
    return mask


# (our class, keras.losses.Loss) -> the class deriving from both
_KERAS_VARIANTS: dict[tuple[type, type], type] = {}


def _restore(cls: type[Any], state: dict[str, Any]) -> Any:
    """Unpickle an object of a keras variant: rebuilt from its own class (``__new__`` picks
    the variant again when keras is imported)."""
    obj = cls.__new__(cls)  # type: ignore[call-overload]
    obj.__dict__.update(state)
    return obj


def _keras_variant(cls: type, base: type) -> type:
    """``cls`` that is also a ``keras.losses.Loss``: ``model.compile`` then calls it with the
    sample weights (``loss(y_true, y_pred, sample_weight)``) instead of wrapping it in keras's
    ``LossFunctionWrapper``, which would weight the already-reduced loss. Our methods come
    first in the MRO; keras's base adds nothing but the type."""
    key = (cls, base)
    variant = _KERAS_VARIANTS.get(key)
    if variant is None:

        def __reduce__(self: Any) -> tuple[Any, ...]:
            return _restore, (cls, dict(self.__dict__))

        namespace = {
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
            "__reduce__": __reduce__,
        }
        variant = _KERAS_VARIANTS[key] = type(cls.__name__, (cls, base), namespace)
    return variant


# the classes declared with a function (keras's own loss classes), for keras's registry
_DECLARED: list[type] = []
_REGISTERED: set[type] = set()


def register_with_keras() -> None:
    """Register the keras variant of every declared class as ``'agnostic_losses>Name'`` with
    keras's serialization, so ``keras.models.load_model`` rebuilds a model compiled with one
    of our losses without ``custom_objects`` (as for keras's own). Runs when
    ``agnostic_losses.keras`` is imported after keras, and when the first variant is made."""
    base = _keras_loss_base()
    if base is None or base in _REGISTERED:
        return
    _REGISTERED.add(base)
    register = sys.modules["keras"].saving.register_keras_serializable
    for cls in _DECLARED:
        register(package="agnostic_losses", name=cls.__name__)(_keras_variant(cls, base))


class Loss:
    """Base class of the keras-style losses: subclass it and implement :meth:`call`.

    Where keras is imported when an object is created, the object is also a
    ``keras.losses.Loss`` (of a subclass of its class that derives from both), so
    ``model.compile(loss=...)`` hands it the sample weights as keras's own classes get them.

    Parameters
    ----------
    name : str, optional
        Defaults to the class name in snake case.
    reduction : {'sum_over_batch_size', 'sum', 'mean', 'mean_with_sample_weight', 'none', None}
        How :meth:`__call__` reduces the per-sample losses: ``'sum_over_batch_size'`` (the
        default) and ``'mean'`` divide the weighted sum by the number of losses (by the number
        of valid ones under a mask), ``'mean_with_sample_weight'`` by the sum of the sample
        weights, ``'sum'`` sums, ``'none'``/``None`` returns them weighted.
    dtype : str or object with ``.compute_dtype``, optional
        The dtype of the computation (``y_pred`` and floating ``y_true`` are cast to it).
        None (the default): float32 for half-precision ``y_pred``, as keras (whose None means
        ``floatx()``, float32, so that mixed-precision models are scored in float32), and
        float32 for integer and boolean ``y_pred``, and ``y_pred``'s own dtype otherwise
        (keras would cast float64 to float32).

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import Loss
    >>> class MeanCubicError(Loss):
    ...     def call(self, y_true, y_pred):
    ...         return abs(y_pred - y_true).mean(axis=-1) ** 3
    >>> loss = MeanCubicError(reduction="sum")
    >>> float(loss(np.asarray([[0.0], [1.0]]), np.asarray([[2.0], [1.0]])))
    8.0
    >>> loss
    MeanCubicError(name='mean_cubic_error', reduction='sum', dtype=None)
    """

    _options: ClassVar[tuple[str, ...]] = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> Loss:
        base = _keras_loss_base()
        if base is not None and not issubclass(cls, base):
            register_with_keras()
            cls = _keras_variant(cls, base)
        return super().__new__(cls)

    def __init__(
        self,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
        dtype: Any = None,
    ) -> None:
        if reduction not in KERAS_REDUCTIONS:
            # keras's own wording (keras's tests match "Invalid value for argument")
            msg = (
                f"Invalid value for argument `reduction`. Expected one of {KERAS_REDUCTIONS}. "
                f"Received: reduction={reduction!r}"
            )
            raise ValueError(msg)
        _dtype_name(dtype)
        self.name = name or _snake(type(self).__name__)
        self.reduction = reduction
        self._dtype = dtype

    @property
    def dtype(self) -> str | None:
        """The compute dtype's name (None: ``y_pred``'s own, at least float32)."""
        return _dtype_name(self._dtype)

    def _user_call(self) -> bool:
        # call() written by a user (subclass of Loss), not one of this package's losses
        return not type(self).call.__module__.startswith("agnostic_losses.")

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """The per-sample losses (subclasses implement this)."""
        msg = f"{type(self).__name__} must implement call(y_true, y_pred)."
        raise NotImplementedError(msg)

    def _call_masked(self, y_true: Any, y_pred: Any) -> tuple[Any, Any]:
        losses = self.call(y_true, y_pred)
        return losses, _keras_mask(losses)

    def __call__(
        self, y_true: Any, y_pred: Any, sample_weight: Any = None, mask: Any = None
    ) -> Any:
        """The reduced loss: keras's ``Loss.__call__``.

        Parameters
        ----------
        y_true, y_pred : array
        sample_weight : array or float, optional
            Weights of the per-sample losses, broadcast with keras's +-1 rank rule.
        mask : array of bool, optional
            Valid entries of the per-sample losses (default: the mask keras attached to
            ``y_pred``, when it has one); combined with the mask the loss itself reports.
        """
        if mask is None:
            mask = _keras_mask(y_pred)
        xp, args = resolve(
            {"y_true": y_true, "y_pred": y_pred, "sample_weight": sample_weight, "mask": mask},
            lists=True,
        )
        y_true, y_pred = args["y_true"], args["y_pred"]
        name = self.dtype
        dtype = None
        if name is not None:
            dtype = getattr(xp, name, None)
            if dtype is None:  # bfloat16 on NumPy, Dask or array-api-strict
                msg = (
                    f"`dtype={name!r}`: {library_name(y_pred)} has no {name} dtype; pass "
                    "arrays of a library that has it (JAX, torch) or another `dtype`."
                )
                raise TypeError(msg)
        elif xp.isdtype(y_pred.dtype, "real floating"):
            # keras's None is floatx(), float32: under a mixed-precision policy the model's
            # half-precision output is scored in float32 (a float16 squared error overflows
            # past 256). float64 stays float64.
            dtype = compute_dtype(xp, y_pred.dtype)
        elif xp.isdtype(y_pred.dtype, ("integral", "bool")):
            dtype = getattr(xp, FLOATX)  # keras converts integer predictions to floatx()
        if dtype is not None:
            y_pred = cast(xp, y_pred, dtype)
            if hasattr(y_true, "dtype") and (
                xp.isdtype(y_true.dtype, "real floating")
                # keras casts y_true to the dtype too; our own losses read integer labels as
                # they are, a subclass's call() gets them as keras's would (NumPy would
                # otherwise promote int32 - float32 to float64)
                or (xp.isdtype(y_true.dtype, ("integral", "bool")) and self._user_call())
            ):
                y_true = cast(xp, y_true, dtype)
        losses, out_mask = self._call_masked(y_true, y_pred)
        if name is not None:
            # keras reduces in the class's dtype (its sparse cross entropy and CTC compute in
            # float32 and come back in a half `dtype` so)
            losses = cast(xp, losses, dtype)
        mask = args["mask"]
        if mask is not None and not xp.isdtype(mask.dtype, "bool"):
            mask = mask != 0
        if mask is not None and out_mask is not None:
            mask, out_mask = rank_aligned(xp, mask, out_mask)
            mask = mask & out_mask
        elif out_mask is not None:
            mask = out_mask
        weight = args["sample_weight"]
        if isinstance(weight, numbers.Real):
            weight = xp.asarray(float(weight), dtype=losses.dtype, device=device_of(losses))
        elif weight is not None:
            weight = cast(xp, weight, losses.dtype)
        out = keras_reduce(xp, losses, self.reduction, sample_weight=weight, mask=mask)
        return np.asarray(out) if isinstance(out, np.generic) else out

    def get_config(self) -> dict[str, Any]:
        """Every constructor argument (``from_config(get_config())`` rebuilds the object)."""
        config = {"name": self.name, "reduction": self.reduction, "dtype": self._dtype}
        config.update({k: getattr(self, k) for k in self._options})
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**deserialize_values(config))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class LossFunctionWrapper(Loss):
    """A keras-style loss class around a loss function ``fn(y_true, y_pred, **kwargs)``.

    Parameters
    ----------
    fn : callable
        Returns the per-sample losses.
    reduction, name, dtype
        As :class:`Loss`.
    **kwargs
        Options passed to ``fn`` on every call.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import LossFunctionWrapper, huber
    >>> loss = LossFunctionWrapper(huber, delta=0.5)
    >>> float(loss(np.asarray([[0.0, 0.0]]), np.asarray([[1.0, 0.25]])))
    0.203125
    """

    function: ClassVar[Callable[..., Any] | None] = None

    def __init_subclass__(
        cls,
        *,
        function: Callable[..., Any] | None = None,
        order: tuple[str, ...] = ("reduction", "name", "dtype"),
        defaults: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Derive the constructor: the parameters in keras's ``order``; an option's default is
        ``defaults``' or the function's; ``name`` defaults to ``function``'s name."""
        super().__init_subclass__(**kwargs)
        if function is None:
            return
        _DECLARED.append(cls)
        cls.function = staticmethod(function)
        fn_params = inspect.signature(function).parameters
        base = {"reduction": "sum_over_batch_size", "name": function.__name__, "dtype": None}
        base.update(defaults or {})
        P = inspect.Parameter
        params = [
            P(
                n,
                P.POSITIONAL_OR_KEYWORD,
                default=base.get(n, fn_params[n].default if n in fn_params else None),
            )
            for n in order
        ]
        cls._options = tuple(n for n in order if n not in ("reduction", "name", "dtype"))
        signature = inspect.Signature(params)
        defaults = {p.name: p.default for p in params}
        validators = getattr(function, "validators", {})
        qualname = cls.__qualname__

        # Bound by hand, not by inspect.Signature.bind: torch.compile traces a constructor
        # called inside a compiled function, and dynamo cannot trace Signature objects.
        def __init__(self: LossFunctionWrapper, *args: Any, **kw: Any) -> None:
            if len(args) > len(order):
                msg = f"{qualname}() takes {len(order)} positional arguments, got {len(args)}."
                raise TypeError(msg)
            values = dict(defaults)
            values.update(zip(order, args))
            for k, v in kw.items():
                if k not in defaults or order.index(k) < len(args):
                    how = "multiple values for" if k in defaults else "an unexpected keyword"
                    msg = f"{qualname}() got {how} argument {k!r}."
                    raise TypeError(msg)
                values[k] = v
            options = {k: python_scalar(values.pop(k)) for k in cls._options}
            for k, v in options.items():
                if k in validators:
                    validators[k](k, v)
            Loss.__init__(self, **values)
            self.fn = function
            self._fn_kwargs = options
            for k, v in options.items():
                setattr(self, k, v)

        __init__.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[P("self", P.POSITIONAL_OR_KEYWORD), *params]
        )
        __init__.__qualname__ = f"{cls.__qualname__}.__init__"
        cls.__init__ = __init__  # type: ignore[method-assign]
        cls.__signature__ = signature  # type: ignore[attr-defined]
        tail = [
            "reduction, name, dtype",
            f"    As :class:`Loss`; ``name`` defaults to ``{defaults['name']!r}``.",
        ]
        cls.__doc__ = with_parameters(cls.__doc__, function, cls._options, defaults, tail)

    def __init__(
        self,
        fn: Callable[..., Any],
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true: Any, y_pred: Any) -> Any:
        return self._call_masked(y_true, y_pred)[0]

    def _call_masked(self, y_true: Any, y_pred: Any) -> tuple[Any, Any]:
        # a keras function whose output carries a mask names its masked form (``fn.masked``)
        masked = getattr(self.fn, "masked", None)
        if masked is not None:
            return masked(y_true, y_pred, **self._fn_kwargs)
        losses = self.fn(y_true, y_pred, **self._fn_kwargs)
        return losses, _keras_mask(losses)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        if type(self).function is None:
            config = {"fn": self.fn, **config, **self._fn_kwargs}
        return config


def serialize_value(value: Any) -> Any:
    """A config's value as ``keras.losses.serialize`` writes it: a nested loss or function (a
    wrapper's ``fn``) as its config, a NumPy array in keras's ``'__numpy__'`` form, a NumPy
    scalar as a Python number."""
    if isinstance(value, Loss) or (callable(value) and not isinstance(value, type)):
        from . import serialize  # the package's (it imports this module)

        return serialize(value)
    if isinstance(value, (list, tuple)):
        return type(value)(serialize_value(v) for v in value)
    if isinstance(value, np.ndarray) and value.ndim > 0:
        config = {"value": value.tolist(), "dtype": str(value.dtype)}
        return {"class_name": "__numpy__", "config": config}
    if isinstance(value, np.generic):
        return value.item()
    return value


def deserialize_values(config: dict[str, Any], custom_objects: Any = None) -> dict[str, Any]:
    """A config's values back from :func:`serialize_value`'s forms (``from_config`` runs it:
    ``keras.losses.deserialize`` hands the config over as it was written)."""
    from . import deserialize  # the package's registry of names (it imports this module)

    def value_of(value: Any) -> Any:
        if isinstance(value, dict) and value.get("class_name") == "__numpy__":
            return np.asarray(value["config"]["value"], dtype=value["config"]["dtype"])
        if isinstance(value, dict) and "class_name" in value and "config" in value:
            return deserialize(value, custom_objects)
        if isinstance(value, (list, tuple)):
            return type(value)(value_of(v) for v in value)
        return value

    return {k: value_of(v) for k, v in config.items()}
