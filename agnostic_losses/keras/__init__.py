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
from ._losses import (  # noqa: F401 (Loss and LossFunctionWrapper are in __all__)
    _DECLARED,
    _KERAS_VARIANTS,
    Loss,
    LossFunctionWrapper,
    deserialize_values,
    register_with_keras,
    serialize_value,
)

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
        "deserialize",
        "get",
        "serialize",
        *(n for n in _function_names if n != "EPSILON"),
        *_class_names,
        *_ALIASES,
    ]
)

_OBJECTS: dict[str, Any] = {
    name: globals()[name] for name in __all__ if name not in ("deserialize", "get", "serialize")
}


def get(identifier: Any) -> Any:
    """A loss from its name, config or itself, as ``keras.losses.get``.

    Parameters
    ----------
    identifier : str, dict, callable or None
        A function name or alias (``'mse'``) gives the function; a class name gives an
        instance with default arguments; a config (``{'class_name': ..., 'config': {...}}``,
        as :func:`serialize` writes it) gives ``from_config(config)``; a loss class gives an
        instance with default arguments; any other callable is returned as is; None gives
        None.

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
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()  # a class gives an instance, as in keras
    if callable(identifier):
        return identifier
    msg = f"Could not interpret loss identifier: {identifier!r}."
    raise ValueError(msg)


def _declared(cls: type) -> type:
    # keras's variant of a class (a subclass that is also a keras Loss) serialises as the class
    return cls.__mro__[1] if cls in _KERAS_VARIANTS.values() else cls


def serialize(loss: Any) -> Any:
    """A loss as a JSON-ready config, the dictionary ``keras.losses.serialize`` writes.

    Parameters
    ----------
    loss : Loss, callable, str or None
        A loss object gives ``{'module', 'class_name', 'config', 'registered_name'}`` with
        ``config = loss.get_config()`` and the name our classes are registered under with
        keras's serialization (``'agnostic_losses>Huber'``); a function gives keras's form for
        a function (``config`` is its name); a string or None is returned as is.

    Returns
    -------
    dict, str or None
        What :func:`deserialize` (and, where keras is installed, ``keras.losses.deserialize``)
        rebuilds the loss from. Keras need not be installed.

    Examples
    --------
    >>> from agnostic_losses import keras as K
    >>> config = K.serialize(K.Huber(delta=2.0))
    >>> config["class_name"], config["registered_name"], config["config"]["delta"]
    ('Huber', 'agnostic_losses>Huber', 2.0)
    >>> K.deserialize(config)
    Huber(name='huber_loss', reduction='sum_over_batch_size', dtype=None, delta=2.0)
    >>> K.serialize(K.mean_squared_error)["config"]
    'mean_squared_error'
    """
    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, Loss):
        cls = _declared(type(loss))
        registered = f"agnostic_losses>{cls.__name__}" if cls in _DECLARED else cls.__name__
        return {
            # keras writes None for a class of __main__, which no module can import
            "module": None if cls.__module__ == "__main__" else cls.__module__,
            "class_name": cls.__name__,
            "config": {k: serialize_value(v) for k, v in loss.get_config().items()},
            "registered_name": registered,
        }
    name = getattr(loss, "__name__", None)
    if callable(loss) and isinstance(name, str) and not isinstance(loss, type):
        return {
            "module": "builtins",
            "class_name": "function",
            "config": name,
            "registered_name": "function",
        }
    msg = f"serialize: expected a loss object, a loss function, a name or None; got {loss!r}."
    raise ValueError(msg)


def deserialize(name: Any, custom_objects: dict[str, Any] | None = None) -> Any:
    """The loss that :func:`serialize` (or ``keras.losses.serialize``) described.

    Parameters
    ----------
    name : str, dict or None
        A function name or alias gives the function, a class name an instance with default
        arguments; a dictionary with ``class_name`` and ``config`` gives
        ``from_config(config)`` (``class_name='function'``: the function named by ``config``).
        Names are looked up in ``custom_objects`` first, then among this module's losses.
    custom_objects : dict, optional
        Name -> class or function, for your own losses.

    Returns
    -------
    Loss or callable or None

    Raises
    ------
    ValueError
        For a name that is neither in ``custom_objects`` nor one of this module's losses
        (``keras.losses.deserialize`` hands back such a string unchanged).

    Examples
    --------
    >>> from agnostic_losses import keras as K
    >>> K.deserialize("mse") is K.mean_squared_error
    True
    >>> K.deserialize({"class_name": "Huber", "config": {"delta": 2.0}}).delta
    2.0
    """
    config = name
    if config is None:
        return None
    objects = {**_OBJECTS, **(custom_objects or {})}
    if isinstance(config, str):
        obj = objects.get(config)
        if isinstance(obj, type):
            return obj()
        if obj is not None:
            return obj
    elif isinstance(config, dict):
        class_name, options = config.get("class_name"), config.get("config", {})
        if class_name == "function" and isinstance(options, str):
            return deserialize(options, custom_objects)
        registered = config.get("registered_name")
        cls = objects.get(class_name) if isinstance(class_name, str) else None
        if cls is None and isinstance(registered, str):
            cls = objects.get(registered.rpartition(">")[2])
        if isinstance(cls, type) and hasattr(cls, "from_config"):
            return cls.from_config(deserialize_values(options, custom_objects))
    msg = f"Could not interpret loss identifier: {config!r}."
    raise ValueError(msg)
