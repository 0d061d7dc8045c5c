"""Registry cases of linear cross-entropy (the projection fused with the loss, issue 11) and of
the adaptive softmax (torch's ``AdaptiveLogSoftmaxWithLoss`` and its two functions)."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from .. import functional as F
from .._dispatch import resolve
from .._surface import python_scalar
from .._toplevel import adaptive as A
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


def _named(name: str):
    def decorate(func):
        func.__name__ = func.__qualname__ = name
        return func

    return decorate


@_named("LinearCrossEntropyLoss")
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
    key: tuple[Any, ...] = (
        int(linear_weight.shape[-1]),
        int(linear_weight.shape[0]),
        linear_bias is not None,
    )
    # Python values in the key (test_numpy_scalar_options passes np.float32 options): dynamo
    # models a NumPy scalar as an array, and could not hash the cache's keys when it traces.
    options = {k: python_scalar(v) for k, v in options.items()}
    key += tuple(sorted(options.items()))
    loss = _MODULES.get(key)
    if loss is None:
        loss = _MODULES[key] = LinearCrossEntropyLoss(*key[:2], bias=key[2], **options)
    view = _View(loss, _View(None, weight=linear_weight, bias=linear_bias))
    return type(loss).forward(cast(Any, view), input, target)


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


# --- adaptive softmax: S = 3 shortlist classes, clusters of 4 and 5 (C = 12), D = 8 ----------
# Flat arguments (input, target, head_weight, projection_0, output_0, projection_1, output_1,
# head_bias): the tests convert each array argument to the backend under test.

_CLUSTERS = ((4, 4), (2, 5))  # (h_k, o_k), as torch's div_value=2.0 for in_features=8


def _asm_weights(arrays: tuple[Any, ...]) -> list[tuple[Any, Any]]:
    return [(arrays[2 * k], arrays[2 * k + 1]) for k in range(len(arrays) // 2)]


def _ref_asm_log_prob(input, head_weight, tails, head_bias=None):
    def log_softmax(z):
        z = z - z.max(axis=-1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))

    head = input @ head_weight.T + (0.0 if head_bias is None else head_bias)
    head = log_softmax(head)
    shortlist = head_weight.shape[0] - len(tails)
    parts = [head[..., :shortlist]]
    for k, (p, o) in enumerate(tails):
        parts.append(log_softmax(input @ p.T @ o.T) + head[..., shortlist + k, None])
    return np.concatenate(parts, axis=-1)


def _ref_asm_nll(input, target, head_weight, *tails, head_bias=None):
    logp = _ref_asm_log_prob(input, head_weight, _asm_weights(tails), head_bias)
    return -np.take_along_axis(logp, target[..., None], axis=-1)[..., 0]


def _ref_asm_loss(input, target, head_weight, *tails, head_bias=None):
    return np.mean(_ref_asm_nll(input, target, head_weight, *tails, head_bias=head_bias))


def _ref_asm_log_softmax(input, head_weight, *tails, head_bias=None):
    return _ref_asm_log_prob(input, head_weight, _asm_weights(tails), head_bias)


def _asm_arrays(rng: np.random.Generator, n: int, bias: bool) -> tuple[Any, ...]:
    x = rng.normal(size=(n, 8))
    target = rng.permutation(np.asarray([0, 2, 3, 6, 7, 11] * (n // 6 + 1))[:n])
    head = rng.normal(size=(3 + len(_CLUSTERS), 8))
    tails = [w for h, o in _CLUSTERS for w in (rng.normal(size=(h, 8)), rng.normal(size=(o, h)))]
    kwargs = {"head_bias": rng.normal(size=(head.shape[0],))} if bias else {}
    return (x, target, head, *tails), kwargs


def _asm_inputs_bias(rng: np.random.Generator) -> Inputs:
    return Inputs(*_asm_arrays(rng, 6, bias=True))


def _asm_inputs(rng: np.random.Generator) -> Inputs:
    return Inputs(*_asm_arrays(rng, 7, bias=False))


def _asm_inputs_one_sample(rng: np.random.Generator) -> Inputs:
    (x, target, *weights), kwargs = _asm_arrays(rng, 6, bias=True)
    return Inputs((x[3], np.asarray(target[3]), *weights), kwargs)


def _asm_log_softmax_inputs(rng: np.random.Generator) -> Inputs:
    (x, _, *weights), kwargs = _asm_arrays(rng, 6, bias=True)
    return Inputs((x, *weights), kwargs)


@_named("adaptive_log_softmax_with_loss")
def _asm_nll(input, target, head_weight, *tails, head_bias=None):
    """Each sample's negated log-probability: ``-output``."""
    out = A.adaptive_log_softmax_with_loss(
        input, target, head_weight, _asm_weights(tails), head_bias
    )
    return -out.output


@_named("adaptive_log_softmax_with_loss")
def _asm_loss(input, target, head_weight, *tails, head_bias=None):
    return A.adaptive_log_softmax_with_loss(
        input, target, head_weight, _asm_weights(tails), head_bias
    ).loss


@_named("adaptive_log_softmax")
def _asm_log_softmax(input, head_weight, *tails, head_bias=None):
    return A.adaptive_log_softmax(input, head_weight, _asm_weights(tails), head_bias)


@_named("AdaptiveLogSoftmaxWithLoss")
def _asm_class_loss(input, target, head_weight, *tails, head_bias=None):
    """The class's ``forward(input, target).loss`` with its layers' weights set to the case's
    arrays (``forward`` reads ``self.head`` and ``self.tail``)."""
    from .._classes.classification import AdaptiveLogSoftmaxWithLoss

    layers = _View(
        None,
        head=_View(None, weight=head_weight, bias=head_bias),
        tail=[[_View(None, weight=p), _View(None, weight=o)] for p, o in _asm_weights(tails)],
    )
    return AdaptiveLogSoftmaxWithLoss.forward(cast(Any, layers), input, target).loss


def _torch_asm(select: str) -> Any:
    """torch's ``nn.AdaptiveLogSoftmaxWithLoss`` with the case's arrays as its weights
    (``torch.func.functional_call``: gradients reach them)."""
    import torch

    def call(input, target, head_weight, *tails, head_bias=None):
        pairs = _asm_weights(tails)
        cutoffs = np.cumsum([head_weight.shape[0] - len(pairs)] + [o.shape[0] for _, o in pairs])
        layer = torch.nn.AdaptiveLogSoftmaxWithLoss(
            input.shape[-1],
            int(cutoffs[-1]),
            [int(c) for c in cutoffs[:-1]],
            div_value=1.0,  # any sizes: the case's weights replace the layer's
            head_bias=head_bias is not None,
            device="meta",
        )
        params = {"head.weight": head_weight}
        if head_bias is not None:
            params["head.bias"] = head_bias
        for k, (p, o) in enumerate(pairs):
            params[f"tail.{k}.0.weight"], params[f"tail.{k}.1.weight"] = p, o
        out = torch.func.functional_call(layer, params, (input, target))
        return -out.output if select == "nll" else out.loss

    return call


def _torch_asm_peer(select: str) -> Peer:
    return Peer("torch", "torch.nn.AdaptiveLogSoftmaxWithLoss", lambda: _torch_asm(select))


CASES += [
    _case(
        "adaptive_log_softmax_with_loss",
        "top",
        _asm_nll,
        _asm_inputs_bias,
        _ref_asm_nll,
        _torch_asm_peer("nll"),
        variant="output-head_bias",
        properties=frozenset({"nonnegative"}),
    ),
    _case(
        "adaptive_log_softmax_with_loss",
        "top",
        _asm_loss,
        _asm_inputs,
        _ref_asm_loss,
        _torch_asm_peer("loss"),
        variant="loss",
    ),
    _case(
        "adaptive_log_softmax",
        "top",
        _asm_log_softmax,
        _asm_log_softmax_inputs,
        _ref_asm_log_softmax,
        Peer.label_only("torch.nn.AdaptiveLogSoftmaxWithLoss.log_prob"),
    ),
    _case(
        "AdaptiveLogSoftmaxWithLoss",
        "class",
        _asm_class_loss,
        _asm_inputs_bias,
        _ref_asm_loss,
        _torch_asm_peer("loss"),
        variant="head_bias",
    ),
    _case(
        "AdaptiveLogSoftmaxWithLoss",
        "class",
        _asm_class_loss,
        _asm_inputs_one_sample,
        _ref_asm_loss,
        # not run as an oracle: torch evaluates only the target's cluster, so it takes a tail
        # of another dtype that ours refuses (tests/test_adaptive.py compares one sample)
        Peer.label_only("torch.nn.AdaptiveLogSoftmaxWithLoss"),
        variant="unbatched",
    ),
]
