"""Keras 3's losses on any array library: ``(y_true, y_pred)``, keras's names and semantics.

Functions return keras's per-sample losses; classes take keras's constructor arguments and
reduce with ``sample_weight``, masks and keras's reductions. Keras itself need not be
installed, and one process can use every backend at once (keras picks one per process).

>>> import numpy as np
>>> from agnostic_losses import keras as K
>>> y_true = np.asarray([[0.0, 1.0], [0.0, 0.0]])
>>> y_pred = np.asarray([[0.6, 0.4], [0.4, 0.6]])
>>> np.round(K.binary_crossentropy(y_true, y_pred), 3)
array([0.916, 0.714])
>>> float(np.round(K.BinaryCrossentropy()(y_true, y_pred, sample_weight=[1.0, 0.0]), 3))
0.458
"""

# ruff: noqa: F403, F405
from __future__ import annotations

from typing import Any

from ._classes import *
from ._classes import __all__ as _class_names
from ._functions import *
from ._functions import __all__ as _function_names
from ._losses import Loss, LossFunctionWrapper, register_with_keras  # noqa: F401 (in __all__)

register_with_keras()

# keras's aliases (keras.losses.get accepts the upper-case spellings too)
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
bce = BCE = binary_crossentropy

_ALIASES = ["BCE", "KLD", "MAE", "MAPE", "MSE", "MSLE", "bce", "kld", "mae", "mape", "mse", "msle"]

__all__ = sorted(
    [
        "Loss",
        "LossFunctionWrapper",
        "get",
        *(n for n in _function_names if n != "EPSILON"),
        *_class_names,
        *_ALIASES,
    ]
)

_OBJECTS: dict[str, Any] = {name: globals()[name] for name in __all__ if name != "get"}


def get(identifier: Any) -> Any:
    """A loss from its name, config or itself, as ``keras.losses.get``.

    Parameters
    ----------
    identifier : str, dict, callable or None
        A function name or alias (``'mse'``) gives the function; a class name gives an
        instance with default arguments; ``{'class_name': ..., 'config': {...}}`` gives
        ``from_config(config)``; a callable is returned as is; None gives None.

    Examples
    --------
    >>> from agnostic_losses import keras as K
    >>> K.get("mse") is K.mean_squared_error
    True
    >>> K.get({"class_name": "Huber", "config": {"delta": 2.0}})
    Huber(name='huber_loss', reduction='sum_over_batch_size', dtype=None, delta=2.0)
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        name, config = identifier.get("class_name"), identifier.get("config", {})
        cls = _OBJECTS.get(name)
        if isinstance(cls, type) and issubclass(cls, Loss):
            return cls.from_config(config)
    elif isinstance(identifier, str):
        obj = _OBJECTS.get(identifier)
        if isinstance(obj, type):
            return obj()
        if obj is not None:
            return obj
    elif callable(identifier):
        return identifier
    msg = f"Could not interpret loss identifier: {identifier!r}."
    raise ValueError(msg)
