"""torch.nn-style similarity and metric-learning loss classes."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ._base import Loss

__all__ = [
    "CosineEmbeddingLoss",
    "CosineSimilarity",
    "PairwiseDistance",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
]


class CosineEmbeddingLoss(Loss, function=F.cosine_embedding_loss, data=3, defaults={"margin": 0.0}):
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


class PairwiseDistance(Loss, function=F.pairwise_distance):
    """p-norm distance between rows, as ``torch.nn.PairwiseDistance``.

    Not a loss: the default ``distance_function`` of :class:`TripletMarginWithDistanceLoss`,
    as torch's is there.

    See :func:`agnostic_losses.functional.pairwise_distance`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import PairwiseDistance
    >>> distance = PairwiseDistance(p=1.0, eps=0.0)
    >>> distance(np.asarray([[0.0, 0.0]]), np.asarray([[1.0, -2.0]]))
    array([3.])
    """


class CosineSimilarity(Loss, function=F.cosine_similarity):
    """Cosine similarity along ``dim``, as ``torch.nn.CosineSimilarity``.

    Not a loss: ``1 - s`` is a common ``distance_function`` of
    :class:`TripletMarginWithDistanceLoss`.

    See :func:`agnostic_losses.functional.cosine_similarity`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import CosineSimilarity
    >>> similarity = CosineSimilarity(dim=-1)
    >>> similarity(np.asarray([[1.0, 0.0]]), np.asarray([[3.0, 0.0]]))
    array([1.])
    """


class TripletMarginLoss(Loss, function=F.triplet_margin_loss, data=3, defaults={"p": 2.0}):
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


class TripletMarginWithDistanceLoss(Loss, function=F.triplet_margin_with_distance_loss, data=3):
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

    def _set_option(self, name: str, value: Any) -> None:
        # torch stores its default distance, so that ``loss.distance_function(a, b)`` works
        if name == "distance_function" and value is None:
            value = PairwiseDistance()
        super()._set_option(name, value)
