"""Keras 3's loss classes: each is its function, keras's constructor order and its name.

Constructor arguments, their order and defaults are keras 3.15's (the tests compare the
signatures with keras's own when it is installed). Each example's value is the one keras 3.15
gives for the same call (JAX backend, float32), rounded; the ``Parameters`` sections are
generated from the functions' documentation.
"""

from __future__ import annotations

from . import _functions as F
from ._losses import LossFunctionWrapper

__all__ = [
    "CTC",
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy",
    "CategoricalGeneralizedCrossEntropy",
    "CategoricalHinge",
    "Circle",
    "CosineSimilarity",
    "Dice",
    "Hinge",
    "Huber",
    "KLDivergence",
    "LogCosh",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Poisson",
    "SparseCategoricalCrossentropy",
    "SquaredHinge",
    "Tversky",
]

_R = ("reduction", "name", "dtype")
_LOGITS = ("from_logits", "label_smoothing", "axis", *_R)


class MeanSquaredError(LossFunctionWrapper, function=F.mean_squared_error):
    """:func:`~agnostic_losses.keras.mean_squared_error` reduced over the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import MeanSquaredError
    >>> y_true = np.asarray([[0.0, 1.0], [0.0, 0.0]])
    >>> y_pred = np.asarray([[1.0, 1.0], [1.0, 0.0]])
    >>> loss = MeanSquaredError()
    >>> round(float(loss(y_true, y_pred)), 6)
    0.5
    """


class MeanAbsoluteError(LossFunctionWrapper, function=F.mean_absolute_error):
    """:func:`~agnostic_losses.keras.mean_absolute_error` reduced over the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import MeanAbsoluteError
    >>> y_true = np.asarray([[0.0, 1.0], [0.0, 0.0]])
    >>> y_pred = np.asarray([[1.0, 3.0], [1.0, 0.0]])
    >>> loss = MeanAbsoluteError()
    >>> round(float(loss(y_true, y_pred, sample_weight=[1.0, 0.5])), 6)
    0.875
    """


class MeanAbsolutePercentageError(LossFunctionWrapper, function=F.mean_absolute_percentage_error):
    """:func:`~agnostic_losses.keras.mean_absolute_percentage_error` reduced over the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import MeanAbsolutePercentageError
    >>> y_true = np.asarray([[2.0, 4.0], [1.0, 1.0]])
    >>> y_pred = np.asarray([[1.0, 5.0], [1.0, 2.0]])
    >>> loss = MeanAbsolutePercentageError()
    >>> round(float(loss(y_true, y_pred)), 6)
    43.75
    """


class MeanSquaredLogarithmicError(LossFunctionWrapper, function=F.mean_squared_logarithmic_error):
    """:func:`~agnostic_losses.keras.mean_squared_logarithmic_error` reduced over the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import MeanSquaredLogarithmicError
    >>> y_true = np.asarray([[0.0, 1.0], [0.0, 0.0]])
    >>> y_pred = np.asarray([[1.0, 1.0], [1.0, 0.0]])
    >>> loss = MeanSquaredLogarithmicError(reduction="sum")
    >>> round(float(loss(y_true, y_pred)), 6)
    0.480453
    """


class CosineSimilarity(LossFunctionWrapper, function=F.cosine_similarity, order=("axis", *_R)):
    """:func:`~agnostic_losses.keras.cosine_similarity` reduced over the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import CosineSimilarity
    >>> y_true = np.asarray([[0.0, 1.0], [1.0, 1.0]])
    >>> y_pred = np.asarray([[1.0, 0.0], [1.0, 1.0]])
    >>> loss = CosineSimilarity(axis=1)
    >>> round(float(loss(y_true, y_pred)), 6)
    -0.5
    """


class Huber(
    LossFunctionWrapper, function=F.huber, order=("delta", *_R), defaults={"name": "huber_loss"}
):
    """:func:`~agnostic_losses.keras.huber` reduced over the batch (``delta`` in the config).

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import Huber
    >>> y_true = np.asarray([[0.0, 0.0], [1.0, 1.0]])
    >>> y_pred = np.asarray([[0.5, 3.0], [1.0, 1.5]])
    >>> loss = Huber(delta=1.0)
    >>> round(float(loss(y_true, y_pred)), 6)
    0.6875
    """


class LogCosh(LossFunctionWrapper, function=F.log_cosh):
    """:func:`~agnostic_losses.keras.log_cosh` reduced over the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import LogCosh
    >>> y_true = np.asarray([[0.0, 0.0], [1.0, 1.0]])
    >>> y_pred = np.asarray([[1.0, -1.0], [1.0, 2.0]])
    >>> loss = LogCosh()
    >>> round(float(loss(y_true, y_pred)), 6)
    0.325336
    """


class Hinge(LossFunctionWrapper, function=F.hinge):
    """:func:`~agnostic_losses.keras.hinge` reduced over the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import Hinge
    >>> y_true = np.asarray([[0.0, 1.0], [1.0, 1.0]])
    >>> y_pred = np.asarray([[0.5, 0.5], [0.5, 2.0]])
    >>> loss = Hinge()
    >>> round(float(loss(y_true, y_pred)), 6)
    0.625
    """


class SquaredHinge(LossFunctionWrapper, function=F.squared_hinge):
    """:func:`~agnostic_losses.keras.squared_hinge` reduced over the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import SquaredHinge
    >>> y_true = np.asarray([[0.0, 1.0], [1.0, 1.0]])
    >>> y_pred = np.asarray([[0.5, 0.5], [0.5, 2.0]])
    >>> loss = SquaredHinge()
    >>> round(float(loss(y_true, y_pred)), 6)
    0.6875
    """


class CategoricalHinge(LossFunctionWrapper, function=F.categorical_hinge):
    """:func:`~agnostic_losses.keras.categorical_hinge` reduced over the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import CategoricalHinge
    >>> y_true = np.asarray([[0.0, 1.0], [1.0, 0.0]])
    >>> y_pred = np.asarray([[0.6, 0.4], [0.6, 0.4]])
    >>> loss = CategoricalHinge()
    >>> round(float(loss(y_true, y_pred)), 6)
    1.0
    """


class KLDivergence(LossFunctionWrapper, function=F.kl_divergence):
    """:func:`~agnostic_losses.keras.kl_divergence` reduced over the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import KLDivergence
    >>> y_true = np.asarray([[0.5, 0.5], [1.0, 0.0]])
    >>> y_pred = np.asarray([[0.25, 0.75], [0.5, 0.5]])
    >>> loss = KLDivergence()
    >>> round(float(loss(y_true, y_pred)), 6)
    0.418493
    """


class Poisson(LossFunctionWrapper, function=F.poisson):
    """:func:`~agnostic_losses.keras.poisson` reduced over the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import Poisson
    >>> y_true = np.asarray([[1.0, 0.0], [2.0, 1.0]])
    >>> y_pred = np.asarray([[1.0, 2.0], [1.0, 1.0]])
    >>> loss = Poisson()
    >>> round(float(loss(y_true, y_pred)), 6)
    1.25
    """


class BinaryCrossentropy(LossFunctionWrapper, function=F.binary_crossentropy, order=_LOGITS):
    """:func:`~agnostic_losses.keras.binary_crossentropy` reduced over the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import BinaryCrossentropy
    >>> y_true = np.asarray([[0.0, 1.0], [0.0, 0.0]])
    >>> y_pred = np.asarray([[-2.0, 1.0], [0.5, -1.0]])
    >>> loss = BinaryCrossentropy(from_logits=True)
    >>> round(float(loss(y_true, y_pred)), 6)
    0.431882
    """


class BinaryFocalCrossentropy(
    LossFunctionWrapper,
    function=F.binary_focal_crossentropy,
    order=("apply_class_balancing", "alpha", "gamma", *_LOGITS),
):
    """:func:`~agnostic_losses.keras.binary_focal_crossentropy` reduced over the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import BinaryFocalCrossentropy
    >>> y_true = np.asarray([[0.0, 1.0], [0.0, 0.0]])
    >>> y_pred = np.asarray([[0.6, 0.4], [0.4, 0.6]])
    >>> loss = BinaryFocalCrossentropy(gamma=2.0)
    >>> round(float(loss(y_true, y_pred)), 6)
    0.267832
    """


class CategoricalCrossentropy(
    LossFunctionWrapper, function=F.categorical_crossentropy, order=_LOGITS
):
    """:func:`~agnostic_losses.keras.categorical_crossentropy` reduced over the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import CategoricalCrossentropy
    >>> y_true = np.asarray([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> y_pred = np.asarray([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    >>> loss = CategoricalCrossentropy()
    >>> round(float(loss(y_true, y_pred)), 6)
    1.176939
    """


class CategoricalFocalCrossentropy(
    LossFunctionWrapper,
    function=F.categorical_focal_crossentropy,
    order=("alpha", "gamma", *_LOGITS),
):
    """:func:`~agnostic_losses.keras.categorical_focal_crossentropy` reduced over the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import CategoricalFocalCrossentropy
    >>> y_true = np.asarray([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> y_pred = np.asarray([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    >>> loss = CategoricalFocalCrossentropy()
    >>> round(float(loss(y_true, y_pred)), 6)
    0.233153
    """


class SparseCategoricalCrossentropy(
    LossFunctionWrapper,
    function=F.sparse_categorical_crossentropy,
    order=("from_logits", "ignore_class", "reduction", "axis", "name", "dtype"),
):
    """:func:`~agnostic_losses.keras.sparse_categorical_crossentropy` reduced over the batch.

    With ``ignore_class``, the means average over the other labels only (keras's mask); the
    config keeps ``axis`` (keras 3.15 drops it).

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import SparseCategoricalCrossentropy
    >>> y_pred = np.asarray([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    >>> loss = SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    >>> round(float(loss(np.asarray([1, 0]), y_pred)), 6)
    1.41703
    """


class CTC(LossFunctionWrapper, function=F.ctc):
    """:func:`~agnostic_losses.keras.ctc` reduced over the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import CTC
    >>> y_pred = np.full((2, 3, 3), 1 / 3)
    >>> loss = CTC()
    >>> round(float(loss(np.asarray([[1, 2], [2, 0]]), y_pred)), 6)
    1.595238
    """


class Dice(LossFunctionWrapper, function=F.dice, order=("reduction", "name", "axis", "dtype")):
    """:func:`~agnostic_losses.keras.dice` reduced over the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import Dice
    >>> y_true = np.asarray([[1.0, 1.0], [0.0, 1.0]])
    >>> y_pred = np.asarray([[0.0, 1.0], [0.5, 1.0]])
    >>> loss = Dice()
    >>> round(float(loss(y_true, y_pred)), 6)
    0.272727
    """


class Tversky(
    LossFunctionWrapper,
    function=F.tversky,
    order=("alpha", "beta", "reduction", "name", "axis", "dtype"),
):
    """:func:`~agnostic_losses.keras.tversky` reduced over the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import Tversky
    >>> y_true = np.asarray([[1.0, 1.0], [0.0, 1.0]])
    >>> y_pred = np.asarray([[0.0, 1.0], [0.5, 1.0]])
    >>> loss = Tversky(alpha=0.3, beta=0.7)
    >>> round(float(loss(y_true, y_pred)), 6)
    0.245283
    """


class Circle(
    LossFunctionWrapper,
    function=F.circle,
    order=("gamma", "margin", "remove_diagonal", *_R),
):
    """:func:`~agnostic_losses.keras.circle` reduced over the batch, as ``keras.losses.Circle``.

    The means average over the rows with a positive loss only (keras's mask).

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import Circle
    >>> e = np.asarray([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    >>> loss = Circle(gamma=1.0)
    >>> round(float(loss(np.asarray([0, 1, 0]), e)), 6)
    0.545893
    """


class CategoricalGeneralizedCrossEntropy(
    LossFunctionWrapper,
    function=F.categorical_generalized_cross_entropy,
    order=("q", *_R),
    defaults={"q": 0.5},
):
    """:func:`~agnostic_losses.keras.categorical_generalized_cross_entropy`, batch-reduced.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses.keras import CategoricalGeneralizedCrossEntropy
    >>> y_pred = np.asarray([[0.7, 0.3], [0.2, 0.8]])
    >>> loss = CategoricalGeneralizedCrossEntropy(q=0.5)
    >>> round(float(loss(np.asarray([0, 0]), y_pred)), 6)
    0.716126
    """
