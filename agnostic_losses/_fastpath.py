"""Lean namespaces: array-api-compat's namespace minus wrapper layers that cost time per call.

Dispatch layer only; kernels never import this. :func:`lean` maps a namespace returned by
``array_api_compat.array_namespace`` to the namespace the losses run with. For every library but
torch that is the same object. For torch it is :mod:`agnostic_losses._fastpath_torch`, a copy of
``array_api_compat.torch`` in which a few hot functions skip the compat wrapper when the
wrapper would do nothing, and call it otherwise, so results (values, dtypes, gradients) are
those of the compat path by construction; ``tests/test_dispatch_fastpath.py`` checks that on
the whole registry.

Measured reason (torch 2.13 CPU, ``binary_cross_entropy_with_logits`` on (8, 10), cProfile):
the compat wrappers of ``maximum``/``where`` took ~30% of the call. ``maximum(x, 0.0)`` turns
the Python scalar into a new 0-d tensor every call (``torch.asarray`` + two ``result_type``
look-ups, ~8 us); ``where`` runs ``_fix_promotion`` even for two tensors of one dtype;
``squeeze`` normalises a one-axis tuple in Python on every call (``cross_entropy``, 2 calls).
``cumulative_sum`` looks its namespace up through an ``lru_cache`` that ``torch.compile`` warns
about (a warning per compiled loss: sparsemax, multilabel margin).
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["lean"]

_LEAN: dict[Any, Any] = {}


def lean(xp: Any) -> Any:
    """The namespace losses should use for arrays whose compat namespace is ``xp``."""
    # Keyed by the module's name, a constant to torch.compile: the dynamo of torch 2.10 and
    # 2.11 (measured; 2.13 does not) breaks the graph at id() of a module.
    key = getattr(xp, "__name__", None) or id(xp)
    out = _LEAN.get(key)
    if out is None:
        out = _build(xp)
        _LEAN[key] = out
    return out


def _build(xp: Any) -> Any:
    if getattr(xp, "__name__", "") == "array_api_compat.torch":
        from . import _fastpath_torch

        return _fastpath_torch
    from . import _dask

    if _dask.is_namespace(xp):
        # the one exception besides torch: compat's Dask namespace plus a blockwise
        # take_along_axis (measured reason in _dask.py)
        return _dask.namespace(xp)
    return xp


def torch_overrides() -> dict[str, Any]:
    """The functions :mod:`agnostic_losses._fastpath_torch` puts over compat's.

    Defined here, not in that module: its globals are compat's namespace, where ``float`` and
    ``int`` are torch dtypes (``torch.float``), so ``type(v) is float`` would be False there.
    """
    import array_api_compat.torch as _compat
    import torch

    _tensor = torch.Tensor
    _floating = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
    _compiling = torch.compiler.is_compiling
    _constants: dict[tuple[Any, ...], Any] = {}

    def _scalar(value: float, like: Any) -> Any:
        """0-d tensor of ``value`` in ``like``'s floating dtype and device, cached.

        What compat's ``_scalar_to_tensor`` builds for a float tensor and a Python int/float;
        cached because building it is most of the wrapper's cost. Not cached while dynamo traces
        (it folds constants itself), for NaN (never equal to itself) or a full cache. The sign of
        zero is part of the key: ``maximum(x, -0.0)`` differs from ``0.0``.
        """
        if value != value or _compiling():
            return torch.asarray(value, dtype=like.dtype, device=like.device)
        key = (value, math.copysign(1.0, value), like.dtype, like.device)
        out = _constants.get(key)
        if out is None:
            # A constant made under inference_mode could not be saved for a later backward.
            with torch.inference_mode(False):
                out = torch.asarray(value, dtype=like.dtype, device=like.device)
            if len(_constants) < 256:
                _constants[key] = out
        return out

    def _is_number(v: Any) -> bool:
        # ints only where float() is exact in every float dtype's conversion (|v| <= 2**24)
        return type(v) is float or (type(v) is int and -(2**24) <= v <= 2**24)

    def _binary(native: Any, wrapped: Any) -> Any:
        def fast(x1: Any, x2: Any, /) -> Any:
            if isinstance(x1, _tensor):
                if isinstance(x2, _tensor):
                    if x1.dtype == x2.dtype:
                        return native(x1, x2)
                elif _is_number(x2) and x1.dtype in _floating:
                    return native(x1, _scalar(float(x2), x1))
            elif _is_number(x1) and isinstance(x2, _tensor) and x2.dtype in _floating:
                return native(_scalar(float(x1), x2), x2)
            return wrapped(x1, x2)

        fast.__name__ = fast.__qualname__ = native.__name__
        fast.__doc__ = f"``{native.__name__}``: torch's own where compat's wrapper is a no-op."
        return fast

    maximum = _binary(torch.maximum, _compat.maximum)
    minimum = _binary(torch.minimum, _compat.minimum)

    def where(condition: Any, x1: Any, x2: Any, /) -> Any:
        """``where``: compat only promotes two tensors of different dtypes; skip it otherwise."""
        if isinstance(x1, _tensor) and isinstance(x2, _tensor) and x1.dtype != x2.dtype:
            return _compat.where(condition, x1, x2)
        return torch.where(condition, x1, x2)

    def squeeze(x: Any, /, axis: Any) -> Any:
        """``squeeze``: one int axis of length 1 is torch's own; compat loops over a tuple."""
        if type(axis) is int and -x.ndim <= axis < x.ndim and x.shape[axis] == 1:
            return torch.squeeze(x, axis)
        return _compat.squeeze(x, axis)

    def cumulative_sum(
        x: Any, /, *, axis: int | None = None, dtype: Any = None, include_initial: bool = False
    ) -> Any:
        """``cumulative_sum``: compat's is ``torch.cumsum`` after an ``array_namespace`` look-up
        that torch.compile traces only with a warning (an ``lru_cache`` it ignores); skip it
        where that look-up is unused (no ``include_initial``)."""
        if include_initial or axis is None:
            return _compat.cumulative_sum(
                x, axis=axis, dtype=dtype, include_initial=include_initial
            )
        return torch.cumsum(x, dim=axis, dtype=dtype)

    return {
        "maximum": maximum,
        "minimum": minimum,
        "where": where,
        "squeeze": squeeze,
        "cumulative_sum": cumulative_sum,
    }
