"""torch.nn-style margin loss classes."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from .._reductions import legacy_reduction
from ._base import Loss, WeightedLoss

__all__ = [
    "HingeEmbeddingLoss",
    "MarginRankingLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "SoftMarginLoss",
]


class _LegacyLoss(Loss):
    """A :class:`Loss` accepting torch's deprecated ``size_average``/``reduce`` flags."""

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(legacy_reduction(size_average, reduce, reduction))


class MarginRankingLoss(_LegacyLoss, checked_by=F.margin_ranking_loss):
    """Margin ranking loss, as ``torch.nn.MarginRankingLoss``.

    See :func:`agnostic_losses.functional.margin_ranking_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import MarginRankingLoss
    >>> loss = MarginRankingLoss(margin=0.5)
    >>> float(loss(np.asarray([1.0, 0.0]), np.asarray([0.0, 0.0]), np.asarray([1.0, -1.0])))
    0.25
    """

    def __init__(
        self,
        margin: float = 0.0,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Any, input2: Any, target: Any) -> Any:
        return F.margin_ranking_loss(
            input1, input2, target, margin=self.margin, reduction=self.reduction
        )


class HingeEmbeddingLoss(_LegacyLoss, checked_by=F.hinge_embedding_loss):
    """Hinge embedding loss, as ``torch.nn.HingeEmbeddingLoss``.

    See :func:`agnostic_losses.functional.hinge_embedding_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import HingeEmbeddingLoss
    >>> float(HingeEmbeddingLoss(reduction="sum")(np.asarray([0.3]), np.asarray([-1.0])))
    0.7
    """

    def __init__(
        self,
        margin: float = 1.0,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input: Any, target: Any) -> Any:
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class SoftMarginLoss(_LegacyLoss):
    """Two-class logistic loss, as ``torch.nn.SoftMarginLoss``.

    See :func:`agnostic_losses.functional.soft_margin_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import SoftMarginLoss
    >>> round(float(SoftMarginLoss()(np.asarray([0.0]), np.asarray([1.0]))), 6)
    0.693147
    """

    def forward(self, input: Any, target: Any) -> Any:
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(WeightedLoss):
    """Multi-label one-versus-all logistic loss, as ``torch.nn.MultiLabelSoftMarginLoss``.

    See :func:`agnostic_losses.functional.multilabel_soft_margin_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import MultiLabelSoftMarginLoss
    >>> loss = MultiLabelSoftMarginLoss()
    >>> round(float(loss(np.asarray([[0.0, 0.0]]), np.asarray([[1.0, 0.0]]))), 6)
    0.693147
    """

    def forward(self, input: Any, target: Any) -> Any:
        return F.multilabel_soft_margin_loss(input, target, self.weight, reduction=self.reduction)


class MultiLabelMarginLoss(_LegacyLoss):
    """Multi-label hinge loss over -1-padded class indices, as ``torch.nn.MultiLabelMarginLoss``.

    See :func:`agnostic_losses.functional.multilabel_margin_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import MultiLabelMarginLoss
    >>> x = np.asarray([[0.1, 0.2, 0.4, 0.8]])
    >>> round(float(MultiLabelMarginLoss()(x, np.asarray([[3, 0, -1, 1]]))), 6)
    0.85
    """

    def forward(self, input: Any, target: Any) -> Any:
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class MultiMarginLoss(WeightedLoss, checked_by=F.multi_margin_loss):
    """Multiclass (Weston-Watkins) hinge loss, as ``torch.nn.MultiMarginLoss``.

    See :func:`agnostic_losses.functional.multi_margin_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import MultiMarginLoss
    >>> x = np.asarray([[0.1, 0.2, 0.4, 0.8]])
    >>> round(float(MultiMarginLoss()(x, np.asarray([3]))), 6)
    0.325
    """

    def __init__(
        self,
        p: int = 1,
        margin: float = 1.0,
        weight: Any = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        if p not in (1, 2) or isinstance(p, bool):
            msg = f"`p` must be 1 or 2; got {p!r}."
            raise ValueError(msg)
        super().__init__(weight, size_average, reduce, reduction)
        self.p = p
        self.margin = margin

    def forward(self, input: Any, target: Any) -> Any:
        return F.multi_margin_loss(
            input,
            target,
            p=self.p,
            margin=self.margin,
            weight=self.weight,
            reduction=self.reduction,
        )
