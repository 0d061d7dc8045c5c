"""torch.nn-style similarity and metric-learning loss classes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import functional as F
from .._reductions import legacy_reduction
from ._base import Loss

__all__ = [
    "CosineEmbeddingLoss",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
]


class CosineEmbeddingLoss(Loss, checked_by=F.cosine_embedding_loss):
    """Cosine embedding loss, as ``torch.nn.CosineEmbeddingLoss``.

    See :func:`agnostic_losses.functional.cosine_embedding_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import CosineEmbeddingLoss
    >>> loss = CosineEmbeddingLoss(margin=0.5)
    >>> x = np.asarray([[1.0, 0.0]])
    >>> float(loss(x, x, np.asarray([-1])))
    0.5
    """

    def __init__(
        self,
        margin: float = 0.0,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(legacy_reduction(size_average, reduce, reduction))
        self.margin = margin

    def forward(self, input1: Any, input2: Any, target: Any) -> Any:
        return F.cosine_embedding_loss(
            input1, input2, target, margin=self.margin, reduction=self.reduction
        )


class TripletMarginLoss(Loss, checked_by=F.triplet_margin_loss):
    """Triplet margin loss, as ``torch.nn.TripletMarginLoss``.

    See :func:`agnostic_losses.functional.triplet_margin_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import TripletMarginLoss
    >>> loss = TripletMarginLoss(margin=1.0, eps=0.0)
    >>> a, n = np.asarray([[0.0, 0.0]]), np.asarray([[0.0, 3.0]])
    >>> float(loss(a, a, n))
    0.0
    """

    def __init__(
        self,
        margin: float = 1.0,
        p: float = 2.0,
        eps: float = 1e-6,
        swap: bool = False,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(legacy_reduction(size_average, reduce, reduction))
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Any, positive: Any, negative: Any) -> Any:
        return F.triplet_margin_loss(
            anchor,
            positive,
            negative,
            margin=self.margin,
            p=self.p,
            eps=self.eps,
            swap=self.swap,
            reduction=self.reduction,
        )


class TripletMarginWithDistanceLoss(Loss, checked_by=F.triplet_margin_with_distance_loss):
    """Triplet margin loss with a custom distance, as ``torch.nn.TripletMarginWithDistanceLoss``.

    See :func:`agnostic_losses.functional.triplet_margin_with_distance_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import TripletMarginWithDistanceLoss
    >>> sq = lambda x, y: np.sum((x - y) ** 2, axis=-1)
    >>> loss = TripletMarginWithDistanceLoss(distance_function=sq, margin=2.0)
    >>> a, p, n = np.asarray([[0.0]]), np.asarray([[1.0]]), np.asarray([[1.0]])
    >>> float(loss(a, p, n))
    2.0
    """

    def __init__(
        self,
        *,
        distance_function: Callable[[Any, Any], Any] | None = None,
        margin: float = 1.0,
        swap: bool = False,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction)
        self.distance_function, self.margin, self.swap = distance_function, margin, swap

    def forward(self, anchor: Any, positive: Any, negative: Any) -> Any:
        return F.triplet_margin_with_distance_loss(
            anchor,
            positive,
            negative,
            distance_function=self.distance_function,
            margin=self.margin,
            swap=self.swap,
            reduction=self.reduction,
        )
