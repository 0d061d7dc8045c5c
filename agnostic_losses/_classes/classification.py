"""torch.nn-style classification loss classes."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ._base import WeightedLoss

__all__ = ["BCEWithLogitsLoss"]


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
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )
