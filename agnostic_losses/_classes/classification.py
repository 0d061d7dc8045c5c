"""torch.nn-style classification loss classes."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ._base import WeightedLoss

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss"]


class BCEWithLogitsLoss(WeightedLoss):
    """Sigmoid + binary cross-entropy from logits, as ``torch.nn.BCEWithLogitsLoss``.

    See :func:`agnostic_losses.functional.binary_cross_entropy_with_logits`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import BCEWithLogitsLoss
    >>> loss = BCEWithLogitsLoss(reduction="sum")
    >>> round(float(loss(np.asarray([0.0, 0.0]), np.asarray([1.0, 0.0]))), 6)
    1.386294
    """

    def __init__(
        self,
        weight: Any = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        pos_weight: Any = None,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.pos_weight = pos_weight

    def forward(self, input: Any, target: Any) -> Any:
        return F.binary_cross_entropy_with_logits(
            input, target, weight=self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class CrossEntropyLoss(WeightedLoss):
    """Softmax cross-entropy from logits, as ``torch.nn.CrossEntropyLoss``.

    See :func:`agnostic_losses.functional.cross_entropy` (class-index and probability targets,
    ``ignore_index``, ``label_smoothing``, weighted mean).

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import CrossEntropyLoss
    >>> loss = CrossEntropyLoss(ignore_index=-100)
    >>> round(float(loss(np.asarray([[2.0, 1.0, 0.1]]), np.asarray([0]))), 6)
    0.41703
    """

    def __init__(
        self,
        weight: Any = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Any, target: Any) -> Any:
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(WeightedLoss):
    """Negative log-likelihood of class indices, as ``torch.nn.NLLLoss``.

    See :func:`agnostic_losses.functional.nll_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import NLLLoss
    >>> logp = np.log(np.asarray([[0.1, 0.7, 0.2]]))
    >>> round(float(NLLLoss()(logp, np.asarray([1]))), 6)
    0.356675
    """

    def __init__(
        self,
        weight: Any = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Any, target: Any) -> Any:
        return F.nll_loss(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )


class BCELoss(WeightedLoss):
    """Binary cross-entropy of probabilities, as ``torch.nn.BCELoss`` (logs clamped at -100).

    See :func:`agnostic_losses.functional.binary_cross_entropy`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import BCELoss
    >>> p, y = np.asarray([0.9, 0.2, 0.8, 0.1]), np.asarray([1.0, 0.0, 1.0, 0.0])
    >>> round(float(BCELoss()(p, y)), 4)
    0.1643
    """

    def forward(self, input: Any, target: Any) -> Any:
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)
