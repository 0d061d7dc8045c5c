"""torch.nn-style regression loss classes."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from .._reductions import legacy_reduction
from ._base import Loss

__all__ = [
    "GaussianNLLLoss",
    "HuberLoss",
    "L1Loss",
    "MSELoss",
    "PoissonNLLLoss",
    "SmoothL1Loss",
]


class MSELoss(Loss, checked_by=F.mse_loss):
    """Mean squared error, as ``torch.nn.MSELoss``.

    See :func:`agnostic_losses.functional.mse_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import MSELoss
    >>> float(MSELoss(reduction="sum")(np.asarray([1.0, 2.0]), np.asarray([0.0, 0.0])))
    5.0
    """

    def __init__(
        self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__(legacy_reduction(size_average, reduce, reduction))

    def forward(self, input: Any, target: Any) -> Any:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(Loss, checked_by=F.l1_loss):
    """Mean absolute error, as ``torch.nn.L1Loss``.

    See :func:`agnostic_losses.functional.l1_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import L1Loss
    >>> float(L1Loss()(np.asarray([1.0, 2.0, 3.0]), np.asarray([1.5, 2.5, 3.5])))
    0.5
    """

    def __init__(
        self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__(legacy_reduction(size_average, reduce, reduction))

    def forward(self, input: Any, target: Any) -> Any:
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(Loss, checked_by=F.huber_loss):
    """Huber loss, as ``torch.nn.HuberLoss``.

    See :func:`agnostic_losses.functional.huber_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import HuberLoss
    >>> HuberLoss(reduction="none", delta=2.0)(np.asarray([0.5, 3.0]), np.asarray([0.0, 0.0]))
    array([0.125, 4.   ])
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Any, target: Any) -> Any:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, delta={self.delta!r}"


class SmoothL1Loss(Loss, checked_by=F.smooth_l1_loss):
    """Smooth L1 loss, as ``torch.nn.SmoothL1Loss``.

    See :func:`agnostic_losses.functional.smooth_l1_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import SmoothL1Loss
    >>> SmoothL1Loss(reduction="none")(np.asarray([0.5, 3.0]), np.asarray([0.0, 0.0]))
    array([0.125, 2.5  ])
    """

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        beta: float = 1.0,
    ) -> None:
        super().__init__(legacy_reduction(size_average, reduce, reduction))
        self.beta = beta

    def forward(self, input: Any, target: Any) -> Any:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, beta={self.beta!r}"


class PoissonNLLLoss(Loss, checked_by=F.poisson_nll_loss):
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

    def __init__(
        self,
        log_input: bool = True,
        full: bool = False,
        size_average: bool | None = None,
        eps: float = 1e-8,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(legacy_reduction(size_average, reduce, reduction))
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input: Any, target: Any) -> Any:
        return F.poisson_nll_loss(
            log_input,
            target,
            log_input=self.log_input,
            full=self.full,
            eps=self.eps,
            reduction=self.reduction,
        )


class GaussianNLLLoss(Loss, checked_by=F.gaussian_nll_loss):
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

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.full = full
        self.eps = eps

    def forward(self, input: Any, target: Any, var: Any) -> Any:
        return F.gaussian_nll_loss(
            input, target, var, full=self.full, eps=self.eps, reduction=self.reduction
        )
