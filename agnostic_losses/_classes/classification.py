"""torch.nn-style classification loss classes."""

from __future__ import annotations

from .. import functional as F
from ._base import Loss

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss"]


class BCEWithLogitsLoss(Loss, function=F.binary_cross_entropy_with_logits):
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


class CrossEntropyLoss(Loss, function=F.cross_entropy, exclude=("z_loss", "return_lse")):
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
    >>> CrossEntropyLoss(label_smoothing=0.1)
    CrossEntropyLoss(weight=None, ignore_index=-100, reduction='mean', label_smoothing=0.1)
    """


class NLLLoss(Loss, function=F.nll_loss):
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


class BCELoss(Loss, function=F.binary_cross_entropy):
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
