"""torch.nn-style divergence loss classes."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from .._reductions import check_reduction, legacy_reduction
from ..functional._divergence import KL_REDUCTIONS
from ._base import Loss

__all__ = ["KLDivLoss"]


class KLDivLoss(Loss, checked_by=F.kl_div):
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

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        log_target: bool = False,
    ) -> None:
        super().__init__()  # the torch Module; 'batchmean' is validated below, not there
        self.reduction = check_reduction(
            legacy_reduction(size_average, reduce, reduction), KL_REDUCTIONS
        )
        self.log_target = log_target
        self._options = ("reduction", "log_target")

    def forward(self, input: Any, target: Any) -> Any:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, log_target={self.log_target}"
