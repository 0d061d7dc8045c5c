"""torch.nn-style divergence loss classes."""

from __future__ import annotations

from .. import functional as F
from ._base import Loss

__all__ = ["KLDivLoss"]


class KLDivLoss(Loss, function=F.kl_div):
    """Kullback-Leibler divergence loss, as ``torch.nn.KLDivLoss``.

    See :func:`agnostic_losses.functional.kl_div`; ``reduction`` also accepts ``'batchmean'``.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import KLDivLoss
    >>> loss = KLDivLoss(reduction="batchmean")
    >>> x = np.log(np.asarray([[0.5, 0.5]]))
    >>> round(float(loss(x, np.asarray([[0.5, 0.5]]))), 6)
    0.0
    """
