"""Base classes of the torch-style class surface: a loss function plus stored options.

A loss class is declared by naming the function it calls::

    class CrossEntropyLoss(Loss, function=F.cross_entropy):
        '''docstring'''

Its constructor signature is the function's signature without the data arguments (checked
against torch's own classes by the tests), its options are validated at construction by the
function's own validators (:func:`agnostic_losses._surface.options`), and ``forward`` calls the
function with them. When torch is installed the classes are real ``torch.nn.Module`` s, the way
torch's own losses are: tensor options (``weight``, ``pos_weight``) are registered as buffers,
so ``.to(device)``, ``.double()``, ``state_dict()`` and ``nn.ModuleList`` work; without torch
they are plain objects with the same API. This module imports torch when it is installed (the
package imports it lazily, on first use of a class).
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
from collections.abc import Callable
from typing import Any, ClassVar, NoReturn

from .._dispatch import namespace
from .._docs import with_parameters
from .._reductions import legacy_reduction
from .._reductions import reduce as _reduce
from .._surface import REDUCTION, python_scalar

__all__ = ["Loss", "WeightedLoss"]

if importlib.util.find_spec("torch") is not None:
    import torch

    _Base: type = torch.nn.Module
    _Tensor: type | None = torch.Tensor
else:  # pragma: no cover - exercised only where torch is not installed
    _Base, _Tensor = object, None

_LEGACY = ("size_average", "reduce")


class Loss(_Base):
    """Base class of every torch-style loss object.

    A subclass either names the function it wraps (``class XLoss(Loss, function=F.x)``) or,
    for a custom loss, implements :meth:`forward`; calling the object calls ``forward``.
    Custom losses get a validated ``reduction`` and :meth:`reduce`, which applies it on any
    array library.

    Parameters
    ----------
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How the per-element losses are combined (custom losses).

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import Loss
    >>> class CubeLoss(Loss):
    ...     def forward(self, input, target):
    ...         return self.reduce(abs(input - target) ** 3)
    >>> float(CubeLoss()(np.asarray([1.0, 2.0]), np.asarray([0.0, 0.0])))
    4.5
    >>> CubeLoss(reduction="sum")
    CubeLoss(reduction='sum')
    """

    function: ClassVar[Callable[..., Any] | None] = None
    _signature: ClassVar[inspect.Signature]
    _options: tuple[str, ...]
    _inputs: ClassVar[tuple[str, ...]] = ("input", "target")

    def __init_subclass__(
        cls,
        *,
        function: Callable[..., Any] | None = None,
        data: int = 2,
        exclude: tuple[str, ...] = (),
        defaults: dict[str, Any] | None = None,
        keyword_only: bool = False,
        inputs: tuple[str, ...] | None = None,
        checked_by: Callable[..., Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Derive the constructor from ``function``: its parameters after the first ``data``
        (the arrays of ``forward``), without ``exclude``, with ``defaults`` overriding
        (``keyword_only``: all of them keyword-only, as ``torch.nn.GaussianNLLLoss``'s).
        ``forward`` takes the ``data`` arrays by position or by the function's names for them
        (``inputs`` renames them where torch's ``forward`` does: ``PoissonNLLLoss``'s
        ``log_input``).

        A class that writes its constructor out names the function whose validators check
        its stored options at construction instead (``checked_by``).
        """
        super().__init_subclass__(**kwargs)
        if checked_by is not None:
            _validate_after_init(cls, getattr(checked_by, "validators", {}))
        if function is None:
            return
        cls.function = staticmethod(function)
        every = list(inspect.signature(function).parameters.values())
        cls._inputs = inputs or tuple(p.name for p in every[:data])
        params = every[data:]
        params = [
            p.replace(
                default=(defaults or {}).get(p.name, p.default),
                kind=inspect.Parameter.KEYWORD_ONLY if keyword_only else p.kind,
            )
            for p in params
            if p.name not in exclude
        ]
        cls._signature = inspect.Signature(params)
        cls.__signature__ = cls._signature

        def __init__(self: Loss, *args: Any, **kwargs: Any) -> None:
            Loss.__init__(self, *args, **kwargs)

        # The constructor shows the options it takes (help(), IDEs, inspect.signature).
        self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        __init__.__signature__ = cls._signature.replace(  # type: ignore[attr-defined]
            parameters=[self_param, *params]
        )
        __init__.__qualname__ = f"{cls.__qualname__}.__init__"
        cls.__init__ = __init__  # type: ignore[method-assign]
        options = {p.name: p.default for p in params}
        cls.__doc__ = with_parameters(cls.__doc__, function, list(options), options)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if _Base is not object:
            super().__init__()
        if self.function is None:
            self._custom(*args, **kwargs)
            return
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = {name: python_scalar(value) for name, value in bound.arguments.items()}
        if any(name in values for name in _LEGACY):
            # torch folds the deprecated flags into `reduction` at construction, too.
            size_average, reduce = (values.pop(name, None) for name in _LEGACY)
            values["reduction"] = legacy_reduction(size_average, reduce, values["reduction"])
        validators = getattr(self.function, "validators", {})
        for name, value in values.items():
            if name in validators:
                validators[name](name, value)
        for name, value in values.items():
            self._set_option(name, value)
        self._options = tuple(values)

    def _custom(self, reduction: str = "mean") -> None:
        """A custom loss (no wrapped function): its one option is ``reduction``."""
        REDUCTION("reduction", reduction)
        self.reduction = reduction
        self._options = ("reduction",)

    def _set_option(self, name: str, value: Any) -> None:
        if _Tensor is not None and isinstance(value, _Tensor):
            # As torch's own losses: a tensor option follows .to()/.double() and is saved.
            self.register_buffer(name, value)
        else:
            setattr(self, name, value)

    def forward(self, *args: Any, **inputs: Any) -> Any:
        """Compute the loss: the wrapped function with the stored options. The arrays come by
        position or by torch's names for them (``loss(input=x, target=y)``)."""
        if self.function is None:
            msg = f"{type(self).__name__} must implement forward(input, target)."
            raise NotImplementedError(msg)
        for name in self._inputs[len(args) :]:
            if name not in inputs:
                break
            args = (*args, inputs.pop(name))
        if inputs:
            msg = (
                f"{type(self).__name__}.forward() takes {', '.join(self._inputs)}; got "
                f"{', '.join(sorted(inputs))} out of place."
            )
            raise TypeError(msg)
        return self.function(*args, **{name: getattr(self, name) for name in self._options})

    if _Base is object:  # pragma: no cover - torch's Module provides __call__ (with hooks)

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return self.forward(*args, **kwargs)

    def reduce(self, loss: Any) -> Any:
        """Apply ``self.reduction`` to an unreduced ``loss`` array of any library."""
        return _reduce(namespace(loss=loss), loss, self.reduction)

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in self._options)

    def __prepare_scriptable__(self) -> NoReturn:
        # torch.jit.script calls this on every submodule before it compiles: say why it cannot
        # (its own message is "Unknown type annotation" at some line of ours)
        name = type(self).__name__
        twin = f" or torch.nn.{name} in scripted code" if hasattr(torch.nn, name) else ""
        msg = (
            f"{name} cannot be compiled by TorchScript (torch.jit.script): it runs Python "
            f"written against the Array API. Use torch.compile or torch.export{twin}."
        )
        raise TypeError(msg)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


def _validate_after_init(cls: type, validators: dict[str, Any]) -> None:
    """Run ``validators`` on the options a written-out constructor of ``cls`` stored."""
    init = cls.__init__  # type: ignore[misc]

    @functools.wraps(init)
    def __init__(self: Loss, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        for name, validate in validators.items():
            if name in self.__dict__ or name in getattr(self, "_buffers", {}):
                validate(name, getattr(self, name))

    cls.__init__ = __init__  # type: ignore[misc]


class WeightedLoss(Loss):
    """A custom :class:`Loss` with torch's ``weight`` argument and legacy reduction flags.

    Parameters
    ----------
    weight : array, optional
        Stored as ``self.weight`` (a buffer when it is a torch tensor).
    size_average, reduce : bool, optional
        Deprecated torch flags, folded into ``reduction``.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
    """

    def __init__(
        self,
        weight: Any = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(legacy_reduction(size_average, reduce, reduction))
        self._set_option("weight", weight)
        self._options = ("weight", "reduction")
