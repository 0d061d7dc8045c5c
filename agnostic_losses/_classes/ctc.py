"""torch.nn-style CTC loss class."""

from __future__ import annotations

from .. import functional as F
from ._base import Loss

__all__ = ["CTCLoss"]


class CTCLoss(Loss, function=F.ctc_loss, data=4):
    """Connectionist temporal classification loss, as ``torch.nn.CTCLoss``.

    See :func:`agnostic_losses.functional.ctc_loss`.

    Parameters
    ----------
    blank : int, default 0
        Class index of the blank.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        ``'mean'`` averages the losses divided by their target lengths.
    zero_infinity : bool, default False
        Replace infinite losses (impossible alignments) and their gradients by 0.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import CTCLoss
    >>> log_probs = np.log(np.full((2, 1, 2), 0.5))
    >>> loss = CTCLoss(reduction="sum")
    >>> round(float(loss(log_probs, np.asarray([[1]]), np.asarray([2]), np.asarray([1]))), 6)
    0.287682
    """
