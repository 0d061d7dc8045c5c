"""keras 3 as a registry oracle: run on its JAX backend, in the inputs' float type."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ._case import Peer

__all__ = ["in_dtype_of", "keras_module", "keras_top"]


def keras_module() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    if keras.backend.backend() != "jax":
        msg = f"keras runs on {keras.backend.backend()!r}; the registry's keras peer needs 'jax'"
        raise ImportError(msg)
    return keras


def in_dtype_of(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` run with keras's float type set to float64 for float64 ``y_pred`` (keras converts
    inputs that are not yet arrays to its ``floatx``, float32 by default). Its reductions still
    accumulate float64 in float32 (keras 3.15's ``result_type(float64, 'float32')`` is
    float32), hence the peer's float32 ``precision``. Half precision runs under the default
    ``floatx``, as a mixed-precision user's keras does (keras's promotion of a bfloat16
    ``y_pred`` with a float32 ``y_true`` depends on it)."""

    def call(y_true: Any, y_pred: Any, *args: Any, **kwargs: Any) -> Any:
        if str(y_pred.dtype) != "float64":
            return fn(y_true, y_pred, *args, **kwargs)
        keras = keras_module()
        before = keras.config.floatx()
        keras.config.set_floatx("float64")
        try:
            return fn(y_true, y_pred, *args, **kwargs)
        finally:
            keras.config.set_floatx(before)

    return call


def keras_top(name: str, call: Callable[..., Any]) -> Peer:
    """keras's ``keras.losses.<name>`` as the peer of a top-level (optax-style) name:
    ``call(fn, *args, **kwargs)`` receives our arguments and calls ``fn`` in keras's order
    ``(y_true, y_pred, ...)`` with keras's argument names."""

    def load() -> Callable[..., Any]:
        fn = in_dtype_of(getattr(keras_module().losses, name))
        return lambda *args, **kwargs: call(fn, *args, **kwargs)

    return Peer("jax", f"keras.losses.{name}", load, precision="float32")
