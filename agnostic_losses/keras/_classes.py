"""Keras 3's loss classes: each is its function, keras's constructor order and its name.

Constructor arguments, their order and defaults are keras 3.15's (the tests compare the
signatures with keras's own when it is installed).
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
    """:func:`~agnostic_losses.keras.mean_squared_error` reduced over the batch."""


class MeanAbsoluteError(LossFunctionWrapper, function=F.mean_absolute_error):
    """:func:`~agnostic_losses.keras.mean_absolute_error` reduced over the batch."""


class MeanAbsolutePercentageError(LossFunctionWrapper, function=F.mean_absolute_percentage_error):
    """:func:`~agnostic_losses.keras.mean_absolute_percentage_error` reduced over the batch."""


class MeanSquaredLogarithmicError(LossFunctionWrapper, function=F.mean_squared_logarithmic_error):
    """:func:`~agnostic_losses.keras.mean_squared_logarithmic_error` reduced over the batch."""


class CosineSimilarity(LossFunctionWrapper, function=F.cosine_similarity, order=("axis", *_R)):
    """:func:`~agnostic_losses.keras.cosine_similarity` reduced over the batch."""


class Huber(
    LossFunctionWrapper, function=F.huber, order=("delta", *_R), defaults={"name": "huber_loss"}
):
    """:func:`~agnostic_losses.keras.huber` reduced over the batch (``delta`` in the config)."""


class LogCosh(LossFunctionWrapper, function=F.log_cosh):
    """:func:`~agnostic_losses.keras.log_cosh` reduced over the batch."""


class Hinge(LossFunctionWrapper, function=F.hinge):
    """:func:`~agnostic_losses.keras.hinge` reduced over the batch."""


class SquaredHinge(LossFunctionWrapper, function=F.squared_hinge):
    """:func:`~agnostic_losses.keras.squared_hinge` reduced over the batch."""


class CategoricalHinge(LossFunctionWrapper, function=F.categorical_hinge):
    """:func:`~agnostic_losses.keras.categorical_hinge` reduced over the batch."""


class KLDivergence(LossFunctionWrapper, function=F.kl_divergence):
    """:func:`~agnostic_losses.keras.kl_divergence` reduced over the batch."""


class Poisson(LossFunctionWrapper, function=F.poisson):
    """:func:`~agnostic_losses.keras.poisson` reduced over the batch."""


class BinaryCrossentropy(LossFunctionWrapper, function=F.binary_crossentropy, order=_LOGITS):
    """:func:`~agnostic_losses.keras.binary_crossentropy` reduced over the batch."""


class BinaryFocalCrossentropy(
    LossFunctionWrapper,
    function=F.binary_focal_crossentropy,
    order=("apply_class_balancing", "alpha", "gamma", *_LOGITS),
):
    """:func:`~agnostic_losses.keras.binary_focal_crossentropy` reduced over the batch."""


class CategoricalCrossentropy(
    LossFunctionWrapper, function=F.categorical_crossentropy, order=_LOGITS
):
    """:func:`~agnostic_losses.keras.categorical_crossentropy` reduced over the batch."""


class CategoricalFocalCrossentropy(
    LossFunctionWrapper,
    function=F.categorical_focal_crossentropy,
    order=("alpha", "gamma", *_LOGITS),
):
    """:func:`~agnostic_losses.keras.categorical_focal_crossentropy` reduced over the batch."""


class SparseCategoricalCrossentropy(
    LossFunctionWrapper,
    function=F.sparse_categorical_crossentropy,
    order=("from_logits", "ignore_class", "reduction", "axis", "name", "dtype"),
):
    """:func:`~agnostic_losses.keras.sparse_categorical_crossentropy` reduced over the batch.

    With ``ignore_class``, the means average over the other labels only (keras's mask); the
    config keeps ``axis`` (keras 3.15 drops it).
    """


class CTC(LossFunctionWrapper, function=F.ctc):
    """:func:`~agnostic_losses.keras.ctc` reduced over the batch."""


class Dice(LossFunctionWrapper, function=F.dice, order=("reduction", "name", "axis", "dtype")):
    """:func:`~agnostic_losses.keras.dice` reduced over the batch."""


class Tversky(
    LossFunctionWrapper,
    function=F.tversky,
    order=("alpha", "beta", "reduction", "name", "axis", "dtype"),
):
    """:func:`~agnostic_losses.keras.tversky` reduced over the batch."""


class Circle(
    LossFunctionWrapper,
    function=F.circle,
    order=("gamma", "margin", "remove_diagonal", *_R),
):
    """:func:`~agnostic_losses.keras.circle` reduced over the batch: the means average over
    the rows with a positive loss only (keras's mask)."""


class CategoricalGeneralizedCrossEntropy(
    LossFunctionWrapper,
    function=F.categorical_generalized_cross_entropy,
    order=("q", *_R),
    defaults={"q": 0.5},
):
    """:func:`~agnostic_losses.keras.categorical_generalized_cross_entropy`, batch-reduced."""
