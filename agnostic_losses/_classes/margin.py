"""torch.nn-style margin loss classes."""

from __future__ import annotations

from .. import functional as F
from ._base import Loss

__all__ = [
    "HingeEmbeddingLoss",
    "MarginRankingLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "SoftMarginLoss",
]


class MarginRankingLoss(Loss, function=F.margin_ranking_loss, data=3, defaults={"margin": 0.0}):
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


class HingeEmbeddingLoss(Loss, function=F.hinge_embedding_loss):
    """Hinge embedding loss, as ``torch.nn.HingeEmbeddingLoss``.

    See :func:`agnostic_losses.functional.hinge_embedding_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import HingeEmbeddingLoss
    >>> float(HingeEmbeddingLoss(reduction="sum")(np.asarray([0.3]), np.asarray([-1.0])))
    0.7
    """


class SoftMarginLoss(Loss, function=F.soft_margin_loss):
    """Two-class logistic loss, as ``torch.nn.SoftMarginLoss``.

    See :func:`agnostic_losses.functional.soft_margin_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import SoftMarginLoss
    >>> round(float(SoftMarginLoss()(np.asarray([0.0]), np.asarray([1.0]))), 6)
    0.693147
    """


class MultiLabelSoftMarginLoss(Loss, function=F.multilabel_soft_margin_loss):
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


class MultiLabelMarginLoss(Loss, function=F.multilabel_margin_loss):
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


class MultiMarginLoss(Loss, function=F.multi_margin_loss):
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
