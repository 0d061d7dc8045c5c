"""torch.nn-style classification loss classes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional as F
from .._dispatch import namespace
from .._toplevel.adaptive import adaptive_log_softmax, adaptive_log_softmax_with_loss
from ._base import Loss, _Base

__all__ = [
    "AdaptiveLogSoftmaxWithLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "LinearCrossEntropyLoss",
    "NLLLoss",
]


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
        self._shape, self._has_bias = (out_features, in_features), bias
        self._dtype = np.float32 if dtype is None else dtype
        self.reset_parameters()

    def reset_parameters(self) -> None:
        rng = np.random.default_rng()
        out_features, in_features = self._shape
        bound = 1.0 / math.sqrt(in_features) if in_features else 0.0
        self.weight = rng.uniform(-bound, bound, self._shape).astype(self._dtype)
        self.bias = None
        if self._has_bias:
            self.bias = rng.uniform(-bound, bound, (out_features,)).astype(self._dtype)

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


def _asm_weights(layer: Any) -> tuple[Any, list[tuple[Any, Any]], Any]:
    """The head's weight, the tails' (projection, output) weights and the head's bias."""
    tails = [(tail[0].weight, tail[1].weight) for tail in layer.tail]
    return layer.head.weight, tails, layer.head.bias


class AdaptiveLogSoftmaxWithLoss(_Base):
    """Adaptive softmax (Grave et al., 2017), as ``torch.nn.AdaptiveLogSoftmaxWithLoss``.

    A layer, not a loss of given arrays: it owns a head ``self.head`` (``Linear(in_features,
    S + K, bias=head_bias)``, ``S = cutoffs[0]`` shortlist classes and one token per cluster)
    and per cluster ``k`` a tail ``self.tail[k]`` (``Linear(in_features, h_k)`` then
    ``Linear(h_k, o_k)``, no bias, ``h_k = in_features // div_value**(k + 1)``). Where torch is
    installed these are torch's own modules, so ``state_dict`` keys (``head.weight``,
    ``tail.0.0.weight``, ...) and initialisation are torch's and a torch checkpoint loads;
    without torch they are NumPy arrays initialised the same way (assign arrays of any
    library to use them there). The computation is the backend-free
    :func:`agnostic_losses.adaptive_log_softmax_with_loss` and
    :func:`agnostic_losses.adaptive_log_softmax`.

    Parameters
    ----------
    in_features : int
        ``D``, the size of each input sample.
    n_classes : int
        ``C``, the number of classes.
    cutoffs : sequence of int
        The first class of each cluster: unique, increasing, in ``[1, C - 1]``.
    div_value : float, default 4.0
        Each cluster's projection is this many times smaller than the previous one's.
    head_bias : bool, default False
        Whether the head has a bias.
    device, dtype : optional
        Of the weights (torch's, where torch is installed; a NumPy dtype otherwise).

    Examples
    --------
    >>> import numpy as np
    >>> from agnostic_losses import AdaptiveLogSoftmaxWithLoss
    >>> asm = AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[4], div_value=2.0)
    >>> asm.cutoffs, tuple(asm.head.weight.shape), tuple(asm.tail[0][0].weight.shape)
    ([4, 10], (5, 8), (4, 8))
    >>> out = asm(np.ones((3, 8), dtype=np.float32), np.asarray([0, 5, 9]))
    >>> tuple(out.output.shape), bool(out.loss > 0)
    ((3,), True)
    """

    def __init__(
        self,
        in_features: int,
        n_classes: int,
        cutoffs: Any,
        div_value: float = 4.0,
        head_bias: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if _Base is not object:
            super().__init__()
        cutoffs = list(cutoffs)
        if not cutoffs:
            raise ValueError("`cutoffs` must be a sequence of at least one class index; got [].")
        if (
            cutoffs != sorted(cutoffs)
            or min(cutoffs) <= 0
            or max(cutoffs) > n_classes - 1
            or len(set(cutoffs)) != len(cutoffs)
            or any(int(c) != c for c in cutoffs)
        ):
            msg = (
                "`cutoffs` must be unique, increasing integers in [1, n_classes - 1] = "
                f"[1, {n_classes - 1}]; got {cutoffs}."
            )
            raise ValueError(msg)
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = [*cutoffs, n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        sizes = [
            (int(in_features // div_value ** (k + 1)), self.cutoffs[k + 1] - self.cutoffs[k])
            for k in range(self.n_clusters)
        ]
        if _torch_module():
            import torch

            nn, factory = torch.nn, {"device": device, "dtype": dtype}
            self.head = nn.Linear(in_features, self.head_size, bias=head_bias, **factory)
            self.tail = nn.ModuleList(
                nn.Sequential(
                    nn.Linear(in_features, h, bias=False, **factory),
                    nn.Linear(h, o, bias=False, **factory),
                )
                for h, o in sizes
            )
        else:  # pragma: no cover - exercised only where torch is not installed
            self.head = _Linear(in_features, self.head_size, head_bias, dtype)
            self.tail = [
                [_Linear(in_features, h, False, dtype), _Linear(h, o, False, dtype)]
                for h, o in sizes
            ]

    def reset_parameters(self) -> None:
        """Draw the weights again, as at construction (torch's ``reset_parameters``)."""
        for layer in (self.head, *(layer for tail in self.tail for layer in tail)):
            layer.reset_parameters()

    def forward(self, input_: Any, target_: Any) -> Any:
        """``(output, loss)`` for ``input_`` (N, D) and ``target_`` (N,), or (D,) and ():
        each target's log-probability and their negated mean (torch's argument names)."""
        head, tails, bias = _asm_weights(self)
        return adaptive_log_softmax_with_loss(input_, target_, head, tails, bias)

    def log_prob(self, input: Any) -> Any:
        """Every class's log-probability, ``(N, C)``."""
        head, tails, bias = _asm_weights(self)
        return adaptive_log_softmax(input, head, tails, bias)

    def predict(self, input: Any) -> Any:
        """The most probable class of each row, ``(N,)``."""
        return namespace(input=input).argmax(self.log_prob(input), axis=-1)

    if _Base is object:  # pragma: no cover - torch's Module provides __call__ (with hooks)

        def __call__(self, input_: Any, target_: Any) -> Any:
            return self.forward(input_, target_)

        def __repr__(self) -> str:
            return (
                f"{type(self).__name__}(in_features={self.in_features}, "
                f"n_classes={self.n_classes}, cutoffs={self.cutoffs[:-1]}, "
                f"div_value={self.div_value}, head_bias={self.head_bias})"
            )
