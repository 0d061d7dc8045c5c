"""Base classes of the torch-style class surface."""

from __future__ import annotations

from typing import Any

from .._dispatch import namespace
from .._reductions import apply_reduction, check_reduction, legacy_reduction

__all__ = ["Loss", "WeightedLoss"]


class Loss:
    """Base class of every loss object, torch.nn style.

    A subclass implements :meth:`forward`; calling the object calls ``forward``. The
    ``reduction`` string is validated once, here. Custom losses subclass it directly and may use
    :meth:`reduce` to apply the configured reduction on any array library.

    Parameters
    ----------
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How the per-element losses are combined.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import Loss
    >>> class CubeLoss(Loss):
    ...     def forward(self, input, target):
    ...         return self.reduce(abs(input - target) ** 3)
    >>> float(CubeLoss()(np.asarray([1.0, 2.0]), np.asarray([0.0, 0.0])))
    4.5
    """

    def __init__(self, reduction: str = "mean") -> None:
        self.reduction = check_reduction(reduction)

    def forward(self, input: Any, target: Any) -> Any:
        """Compute the loss; subclasses implement this."""
        msg = f"{type(self).__name__} must implement forward(input, target)."
        raise NotImplementedError(msg)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def reduce(self, loss: Any) -> Any:
        """Apply ``self.reduction`` to an unreduced ``loss`` array of any library."""
        return apply_reduction(namespace(loss=loss), loss, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class WeightedLoss(Loss):
    """A :class:`Loss` with torch's ``weight`` argument and legacy reduction flags."""

    def __init__(
        self,
        weight: Any = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(legacy_reduction(size_average, reduce, reduction))
        self.weight = weight
