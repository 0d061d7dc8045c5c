"""torch.nn-style classification loss classes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional as F
from .._dispatch import namespace
from ._base import Loss, _Base

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "LinearCrossEntropyLoss", "NLLLoss"]


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


def _torch_module() -> bool:
    return _Base is not object


class _Linear:
    """The projection of :class:`LinearCrossEntropyLoss` where torch is not installed: NumPy
    ``weight`` (C, D) and ``bias`` (C,), initialised as ``torch.nn.Linear`` (uniform in
    ``+-1/sqrt(D)``). Assign arrays of any library to train it there."""

    def __init__(self, in_features: int, out_features: int, bias: bool, dtype: Any) -> None:
        rng = np.random.default_rng()
        bound = 1.0 / math.sqrt(in_features) if in_features else 0.0
        dtype = np.float32 if dtype is None else dtype
        self.weight = rng.uniform(-bound, bound, (out_features, in_features)).astype(dtype)
        self.bias = rng.uniform(-bound, bound, (out_features,)).astype(dtype) if bias else None

    def __repr__(self) -> str:
        c, d = self.weight.shape
        return f"Linear(in_features={d}, out_features={c}, bias={self.bias is not None})"


class LinearCrossEntropyLoss(Loss, checked_by=F.linear_cross_entropy):
    """A linear projection fused with the cross entropy, as ``torch.nn.LinearCrossEntropyLoss``.

    Owns its projection ``self.linear`` (``weight`` (C, D), ``bias`` (C,) or None): a
    ``torch.nn.Linear`` where torch is installed (the same ``state_dict`` keys as torch's
    class, ``linear.weight`` / ``linear.bias`` / ``weight``), NumPy arrays initialised the same
    way otherwise. ``forward(input, target)`` is
    :func:`agnostic_losses.functional.linear_cross_entropy` with the stored options: the
    logits are computed in vocabulary chunks, never all at once.

    Parameters
    ----------
    in_features : int
        ``D``, the size of each input sample.
    num_classes : int
        ``C``.
    out_features : tuple of int, default ()
        ``(d1, ..., dK)`` for a K-dimensional loss (torch's flat storage: ``linear.weight`` is
        ``(C * d1 * ... * dK, D)``; such losses take the functional's reference path).
    bias : bool, default False
        Whether the projection has a bias.
    device, dtype : optional
        Of the projection (torch's, where torch is installed; a NumPy dtype otherwise).
    weight, reduction, ignore_index, label_smoothing, options
        As :func:`agnostic_losses.functional.linear_cross_entropy`.
    z_loss, chunk_size, logit_softcap : keyword extensions over torch
        As :func:`agnostic_losses.functional.linear_cross_entropy`.

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import LinearCrossEntropyLoss
    >>> loss = LinearCrossEntropyLoss(2, 3, label_smoothing=0.1)
    >>> tuple(loss.linear.weight.shape)
    (3, 2)
    >>> loss  # doctest: +NORMALIZE_WHITESPACE
    LinearCrossEntropyLoss(in_features=2, num_classes=3, out_features=(), bias=False,
        reduction='mean', ignore_index=None, label_smoothing=0.1, options=None, z_loss=0.0,
        chunk_size=None, logit_softcap=None)
    >>> bool(loss(np.ones((4, 2), dtype=np.float32), np.asarray([0, 1, 2, 0])) > 0)
    True
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        *,
        out_features: tuple[int, ...] = (),
        bias: bool = False,
        device: Any = None,
        dtype: Any = None,
        reduction: str = "mean",
        weight: Any = None,
        ignore_index: int | None = None,
        label_smoothing: float = 0.0,
        options: Any = None,
        z_loss: float = 0.0,
        chunk_size: int | None = None,
        logit_softcap: float | None = None,
    ) -> None:
        super().__init__(reduction)
        self.in_features, self.num_classes = in_features, num_classes
        self.out_features = tuple(out_features)
        self._set_option("weight", weight)
        self.ignore_index, self.label_smoothing, self.options = (
            ignore_index,
            label_smoothing,
            options,
        )
        self.z_loss, self.chunk_size, self.logit_softcap = z_loss, chunk_size, logit_softcap
        # torch's storage: one flat (C * prod(out_features), D) projection, reshaped in forward
        outputs = num_classes * math.prod(self.out_features)
        if _torch_module():
            import torch

            self.linear = torch.nn.Linear(
                in_features, outputs, bias=bias, device=device, dtype=dtype
            )
        else:  # pragma: no cover - exercised only where torch is not installed
            self.linear = _Linear(in_features, outputs, bias, dtype)
        self._options = (
            "in_features",
            "num_classes",
            "out_features",
            "reduction",
            "ignore_index",
            "label_smoothing",
            "options",
            "z_loss",
            "chunk_size",
            "logit_softcap",
        )

    def forward(self, input: Any, target: Any) -> Any:
        """The loss of ``input`` (N, D) or (D,) against ``target``."""
        weight, bias = self.linear.weight, self.linear.bias
        if self.out_features:
            classes = (self.num_classes, *self.out_features)
            xp = namespace(weight=weight)
            weight = xp.reshape(weight, (*classes, weight.shape[-1]))
            bias = None if bias is None else xp.reshape(bias, classes)
        return F.linear_cross_entropy(
            input,
            weight,
            target,
            linear_bias=bias,
            weight=self.weight,
            reduction=self.reduction,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
            options=self.options,
            z_loss=self.z_loss,
            chunk_size=self.chunk_size,
            logit_softcap=self.logit_softcap,
        )

    def extra_repr(self) -> str:
        names = self._options[:3]
        head = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        rest = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._options[3:])
        return f"{head}, bias={self.linear.bias is not None}, {rest}"
