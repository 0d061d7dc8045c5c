"""torch.nn-style regression loss classes."""

from __future__ import annotations

from .. import functional as F
from ._base import Loss

__all__ = [
    "GaussianNLLLoss",
    "HuberLoss",
    "L1Loss",
    "MSELoss",
    "PoissonNLLLoss",
    "SmoothL1Loss",
]


class MSELoss(Loss, function=F.mse_loss, exclude=("weight",)):
    """Mean squared error, as ``torch.nn.MSELoss``.

    See :func:`agnostic_losses.functional.mse_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import MSELoss
    >>> float(MSELoss(reduction="sum")(np.asarray([1.0, 2.0]), np.asarray([0.0, 0.0])))
    5.0
    """


class L1Loss(Loss, function=F.l1_loss, exclude=("weight",)):
    """Mean absolute error, as ``torch.nn.L1Loss``.

    See :func:`agnostic_losses.functional.l1_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import L1Loss
    >>> float(L1Loss()(np.asarray([1.0, 2.0, 3.0]), np.asarray([1.5, 2.5, 3.5])))
    0.5
    """


class HuberLoss(Loss, function=F.huber_loss, exclude=("weight",)):
    """Huber loss, as ``torch.nn.HuberLoss``.

    See :func:`agnostic_losses.functional.huber_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import HuberLoss
    >>> HuberLoss(reduction="none", delta=2.0)(np.asarray([0.5, 3.0]), np.asarray([0.0, 0.0]))
    array([0.125, 4.   ])
    """


class SmoothL1Loss(Loss, function=F.smooth_l1_loss):
    """Smooth L1 loss, as ``torch.nn.SmoothL1Loss``.

    See :func:`agnostic_losses.functional.smooth_l1_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import SmoothL1Loss
    >>> SmoothL1Loss(reduction="none")(np.asarray([0.5, 3.0]), np.asarray([0.0, 0.0]))
    array([0.125, 2.5  ])
    """


class PoissonNLLLoss(Loss, function=F.poisson_nll_loss, inputs=("log_input", "target")):
    """Poisson negative log-likelihood, as ``torch.nn.PoissonNLLLoss``.

    See :func:`agnostic_losses.functional.poisson_nll_loss`. ``forward``'s first argument is
    named ``log_input``, as in torch.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import PoissonNLLLoss
    >>> float(PoissonNLLLoss(reduction="sum")(np.asarray([0.0]), np.asarray([1.0])))
    1.0
    """


class GaussianNLLLoss(Loss, function=F.gaussian_nll_loss, data=3, keyword_only=True):
    """Gaussian negative log-likelihood, as ``torch.nn.GaussianNLLLoss``.

    See :func:`agnostic_losses.functional.gaussian_nll_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import GaussianNLLLoss
    >>> loss = GaussianNLLLoss(reduction="sum")
    >>> float(loss(np.asarray([1.0]), np.asarray([0.0]), np.asarray([1.0])))
    0.5
    """
