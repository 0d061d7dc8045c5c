"""Registry cases of linear cross-entropy (the projection fused with the loss, issue 11)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from .._dispatch import resolve
from .._surface import python_scalar
from .._toplevel import linear_ce as T
from ._case import Inputs, LossCase, Peer
from .classification import ref_torch_ce

__all__ = ["CASES"]

FAMILY = "classification"


# --- NumPy float64 reference: the materialised logits, then torch's cross entropy -------------


def _ref(
    hidden,
    weight,
    targets,
    bias=None,
    class_weight=None,
    ignore_index=-100,
    label_smoothing=0.0,
    z_loss=0.0,
    reduction="mean",
    logit_softcap=None,
):
    logits = hidden @ weight.T
    if bias is not None:
        logits = logits + bias
    if logit_softcap is not None:
        logits = logit_softcap * np.tanh(logits / logit_softcap)
    flat = logits.reshape(-1, weight.shape[0])
    out = ref_torch_ce(
        flat,
        targets.reshape(-1),
        class_weight,
        ignore_index,
        reduction,
        label_smoothing,
        z_loss=z_loss,
    )
    return out.reshape(targets.shape) if reduction == "none" else out


def ref_top(hidden, weight, targets, bias=None, *, chunk_size=None, **kwargs):
    return _ref(hidden, weight, targets, bias, **kwargs)


def ref_functional(
    input, linear_weight, target, *, linear_bias=None, weight=None, chunk_size=None, **kwargs
):
    return _ref(input, linear_weight, target, linear_bias, weight, **kwargs)


# --- inputs: V = 7 classes in chunks of 3 (two full chunks and a tail of 1) ------------------


def _tokens(rng: np.random.Generator, shape: tuple[int, ...], d: int = 3, v: int = 7):
    hidden = rng.normal(size=(*shape, d))
    weight = rng.normal(size=(v, d))
    targets = rng.integers(0, v, size=shape)
    return hidden, weight, targets


def _top_default(rng: np.random.Generator) -> Inputs:
    h, w, y = _tokens(rng, (5,))
    return Inputs((h, w, y), {"chunk_size": 3})


def _top_full(rng: np.random.Generator) -> Inputs:
    h, w, y = _tokens(rng, (6,))
    y[1] = y[4] = -100
    y[2] = y[3] = y[5]  # a repeated target row in the weight gradient
    kwargs = {"label_smoothing": 0.2, "z_loss": 1e-2, "chunk_size": 3}
    return Inputs((h, w, y, rng.normal(size=(7,))), kwargs)


def _top_softcap(rng: np.random.Generator) -> Inputs:
    h, w, y = _tokens(rng, (2, 3))
    h = 3.0 * h
    return Inputs((h, w, y), {"logit_softcap": 2.5, "reduction": "none", "chunk_size": 2})


def _top_sum_one_chunk(rng: np.random.Generator) -> Inputs:
    h, w, y = _tokens(rng, (4,))
    return Inputs((h, w, y, rng.normal(size=(7,))), {"reduction": "sum"})


def _functional_weighted(rng: np.random.Generator) -> Inputs:
    h, w, y = _tokens(rng, (6,))
    y[0] = -100
    kwargs = {
        "linear_bias": rng.normal(size=(7,)),
        "weight": rng.uniform(0.5, 2.0, size=(7,)),
        "label_smoothing": 0.1,
    }
    return Inputs((h, w, y), kwargs)


def _functional_chunked(rng: np.random.Generator) -> Inputs:
    h, w, y = _tokens(rng, (5,))
    y[2] = 4
    kwargs = {"weight": rng.uniform(0.5, 2.0, size=(7,)), "ignore_index": 4, "chunk_size": 3}
    return Inputs((h, w, y), kwargs)


def _torch_linear_ce() -> Any:
    """torch's own ``F.linear_cross_entropy`` (2.10+), called as ours (``chunk_size`` is our
    extension: dropped)."""
    import torch.nn.functional as tf

    if not hasattr(tf, "linear_cross_entropy"):
        raise ImportError("torch.nn.functional.linear_cross_entropy needs torch >= 2.10")

    def call(*args: Any, chunk_size: Any = None, **kwargs: Any) -> Any:
        return tf.linear_cross_entropy(*args, **kwargs)

    return call


_TORCH = Peer("torch", "torch.nn.functional.linear_cross_entropy", _torch_linear_ce)


def _case(name, surface, func, make, ref, peer, variant="default", **kw) -> LossCase:
    return LossCase(name, surface, FAMILY, func, make, ref, peer, variant=variant, **kw)


CASES = [
    _case(
        "linear_cross_entropy",
        "top",
        T.linear_cross_entropy,
        _top_default,
        ref_top,
        Peer.label_only("torch.nn.functional.linear_cross_entropy (optax has none)"),
        properties=frozenset({"nonnegative"}),
    ),
    _case(
        "linear_cross_entropy",
        "top",
        T.linear_cross_entropy,
        _top_full,
        ref_top,
        None,
        variant="bias-ignore-smoothing-z_loss-repeated",
    ),
    _case(
        "linear_cross_entropy",
        "top",
        T.linear_cross_entropy,
        _top_softcap,
        ref_top,
        None,
        variant="softcap-tokens2d-none",
    ),
    _case(
        "linear_cross_entropy",
        "top",
        T.linear_cross_entropy,
        _top_sum_one_chunk,
        ref_top,
        None,
        variant="bias-sum-one-chunk",
    ),
    _case(
        "linear_cross_entropy",
        "functional",
        F.linear_cross_entropy,
        _functional_weighted,
        ref_functional,
        _TORCH,
        variant="bias-weight-ignore-smoothing",
    ),
    _case(
        "linear_cross_entropy",
        "functional",
        F.linear_cross_entropy,
        _functional_chunked,
        ref_functional,
        _TORCH,
        variant="weight-ignore_index-chunked",
    ),
]


_MODULES: dict[tuple[Any, ...], Any] = {}


class _View:
    """A loss module's stored options with another projection ``linear`` (a plain class:
    dynamo traces its construction, not a ``SimpleNamespace``'s)."""

    def __init__(self, loss: Any, linear: Any = None, **attributes: Any) -> None:
        if loss is not None:
            for name in (*loss._options, "weight"):
                setattr(self, name, getattr(loss, name))
            self.linear = linear
        for name, value in attributes.items():
            setattr(self, name, value)


def _class_call(
    input: Any, linear_weight: Any, target: Any, linear_bias: Any = None, **options: Any
) -> Any:
    """``LinearCrossEntropyLoss(D, C, **options)`` with its projection set to the case's
    arrays (its ``forward`` reads ``self.linear.weight`` / ``.bias`` and the stored options)."""
    from .._classes.classification import LinearCrossEntropyLoss

    # the projection as the module holds it (a __jax_array__ wrapper read as jnp reads it)
    _, arrays = resolve({"weight": linear_weight, "bias": linear_bias})
    linear_weight, linear_bias = arrays["weight"], arrays["bias"]
    # One module per configuration, built on the first (eager) call: the transform tests then
    # trace only its forward (building torch Parameters under vmap/compile is not a loss call).
    key = (linear_weight.shape[-1], linear_weight.shape[0], linear_bias is not None)
    # Python values in the key (test_numpy_scalar_options passes np.float32 options): dynamo
    # models a NumPy scalar as an array, and could not hash the cache's keys when it traces.
    options = {k: python_scalar(v) for k, v in options.items()}
    key += tuple(sorted(options.items()))
    loss = _MODULES.get(key)
    if loss is None:
        loss = _MODULES[key] = LinearCrossEntropyLoss(*key[:2], bias=key[2], **options)
    view = _View(loss, _View(None, weight=linear_weight, bias=linear_bias))
    return type(loss).forward(view, input, target)


_class_call.__name__ = _class_call.__qualname__ = "LinearCrossEntropyLoss"


def _class_inputs(rng: np.random.Generator) -> Inputs:
    h, w, y = _tokens(rng, (5,))
    y[3] = -100
    kwargs = {"linear_bias": rng.normal(size=(7,)), "label_smoothing": 0.1, "chunk_size": 3}
    return Inputs((h, w, y), kwargs)


def _class_ref(input, linear_weight, target, linear_bias=None, chunk_size=None, **kwargs):
    return _ref(input, linear_weight, target, linear_bias, **kwargs)


CASES.append(
    _case(
        "LinearCrossEntropyLoss",
        "class",
        _class_call,
        _class_inputs,
        _class_ref,
        Peer.label_only("torch.nn.LinearCrossEntropyLoss"),
        variant="bias-ignore-smoothing",
    )
)
