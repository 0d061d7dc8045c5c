"""Registry cases of the CTC family (optax top level, torch functional and class)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import functional as F
from .._classes import ctc as C
from .._dispatch import resolve
from .._numerics import log_softmax
from .._toplevel import ctc as T
from ._case import Inputs, LossCase, Peer, construct_and_call

__all__ = ["CASES"]

FAMILY = "ctc"

# optax's paddings are 0/1 indicators: a derivative in them is an artifact of its
# log_epsilon masking (about 1e5), not a quantity to match.
_LOGITS_ONLY = (0,)


# --- NumPy float64 reference: the textbook recursion over the blank-extended label sequence ---


def ref_ctc_sequence(logprobs: np.ndarray, labels: list[int], blank: int) -> float:
    """``-log p(labels)`` for one sequence of frames ``logprobs`` (T, C)."""
    ext = [blank]
    for label in labels:
        ext += [int(label), blank]
    if logprobs.shape[0] == 0:
        return 0.0 if not labels else np.inf
    alpha = np.full(len(ext), -np.inf)
    alpha[0] = logprobs[0, blank]
    if len(ext) > 1:
        alpha[1] = logprobs[0, ext[1]]
    for t in range(1, logprobs.shape[0]):
        new = np.full(len(ext), -np.inf)
        for s in range(len(ext)):
            terms = [alpha[s]]
            if s >= 1:
                terms.append(alpha[s - 1])
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                terms.append(alpha[s - 2])
            new[s] = np.logaddexp.reduce(terms) + logprobs[t, ext[s]]
        alpha = new
    total = np.logaddexp.reduce(alpha[-2:]) if len(ext) > 1 else alpha[-1]
    return -total


def _log_softmax_np(x: np.ndarray) -> np.ndarray:
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def ref_optax_ctc(logits, logit_paddings, labels, label_paddings, *, blank_id=0, log_epsilon=-1e5):
    logprobs = _log_softmax_np(logits)
    out = []
    for b in range(logits.shape[0]):
        frames = logprobs[b][logit_paddings[b] == 0]
        length = labels.shape[1] - int(label_paddings[b].sum())
        out.append(ref_ctc_sequence(frames, list(labels[b, :length]), blank_id))
    return np.asarray(out)


def ref_torch_ctc(
    log_probs,
    targets,
    input_lengths,
    target_lengths,
    blank=0,
    reduction="mean",
    zero_infinity=False,
):
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs, targets = log_probs[:, None, :], targets[None, :]
        input_lengths = np.reshape(input_lengths, (1,))
        target_lengths = np.reshape(target_lengths, (1,))
    if targets.ndim == 1:
        starts = np.cumsum(target_lengths) - target_lengths
        rows = [targets[s : s + n] for s, n in zip(starts, target_lengths)]
    else:
        rows = [targets[i, :n] for i, n in enumerate(target_lengths)]
    loss = np.asarray(
        [
            ref_ctc_sequence(log_probs[: input_lengths[i], i], list(rows[i]), blank)
            for i in range(log_probs.shape[1])
        ]
    )
    if zero_infinity:
        loss = np.where(np.isinf(loss), 0.0, loss)
    if reduction == "mean":
        return np.mean(loss / np.maximum(target_lengths, 1))
    if reduction == "sum":
        return np.sum(loss)
    return loss[0] if unbatched else loss


def _through_log_softmax(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn(log_softmax(logits), ...)``: torch's CTC gradient is only right through log-softmax.

    torch returns ``d loss / d log_probs + exp(log_probs)``, which equals the true gradient
    once propagated through a log-softmax (the extra term is annihilated by its Jacobian);
    comparing gradients with torch therefore differentiates with respect to the logits.
    """

    def call(logits: Any, *args: Any, **kwargs: Any) -> Any:
        # (resolve: the user's own log-softmax reads a __jax_array__ wrapper as jnp does)
        xp, arrays = resolve({"logits": logits})
        return fn(log_softmax(xp, arrays["logits"], axis=-1), *args, **kwargs)

    call.__name__ = call.__qualname__ = getattr(fn, "__name__", "ctc")
    return call


def _ref_through_log_softmax(ref: Callable[..., Any]) -> Callable[..., Any]:
    def call(logits: Any, *args: Any, **kwargs: Any) -> Any:
        return ref(_log_softmax_np(logits), *args, **kwargs)

    return call


def _torch_peer(label: str, make: Callable[[], Callable[..., Any]]) -> Peer:
    def load() -> Callable[..., Any]:
        import torch

        inner = make()

        def call(logits: Any, *args: Any, **kwargs: Any) -> Any:
            return inner(torch.log_softmax(logits, dim=-1), *args, **kwargs)

        return call

    return Peer("torch", label, load)


def _torch_functional() -> Callable[..., Any]:
    import torch

    return torch.nn.functional.ctc_loss


def _torch_class() -> Callable[..., Any]:
    import torch

    return construct_and_call(torch.nn.CTCLoss)


# --- inputs: T <= 8, feasible alignments unless the case says otherwise ----------------------


def _optax(rng: np.random.Generator) -> Inputs:
    batch, frames, classes, max_labels = 3, 7, 4, 3
    logits = 2.0 * rng.normal(size=(batch, frames, classes))
    logit_paddings = np.zeros((batch, frames))
    logit_paddings[1, 6:] = 1.0
    logit_paddings[2, 5:] = 1.0
    labels = rng.integers(1, classes, size=(batch, max_labels))
    labels[0, 1] = labels[0, 0]  # a repeat needs a blank in between
    label_paddings = np.zeros((batch, max_labels))
    label_paddings[1, 2:] = 1.0
    label_paddings[2, 1:] = 1.0
    return Inputs((logits, logit_paddings, labels, label_paddings))


def _optax_blank_last(rng: np.random.Generator) -> Inputs:
    logits, logit_paddings, labels, label_paddings = _optax(rng).args
    return Inputs(
        (logits, logit_paddings, labels - 1, label_paddings), {"blank_id": logits.shape[-1] - 1}
    )


def _torch_padded(rng: np.random.Generator) -> Inputs:
    frames, batch, classes = 8, 3, 5
    logits = 2.0 * rng.normal(size=(frames, batch, classes))
    targets = rng.integers(1, classes, size=(batch, 4))
    targets[1, 2] = targets[1, 1]
    input_lengths = np.asarray([8, 7, 5])
    target_lengths = np.asarray([4, 3, 0])
    return Inputs((logits, targets, input_lengths, target_lengths))


def _torch_concatenated_sum(rng: np.random.Generator) -> Inputs:
    logits, targets, input_lengths, target_lengths = _torch_padded(rng).args
    flat = np.concatenate([targets[i, :n] for i, n in enumerate(target_lengths)])
    return Inputs((logits, flat, input_lengths, target_lengths), {"reduction": "sum"})


def _torch_none_blank(rng: np.random.Generator) -> Inputs:
    logits, targets, input_lengths, target_lengths = _torch_padded(rng).args
    return Inputs(
        (logits, targets - 1, input_lengths, target_lengths), {"reduction": "none", "blank": 4}
    )


def _torch_zero_infinity(rng: np.random.Generator) -> Inputs:
    logits, targets, input_lengths, target_lengths = _torch_padded(rng).args
    targets[2, :3] = 2  # three repeats need five frames: impossible in 4
    input_lengths = np.asarray([8, 7, 4])
    target_lengths = np.asarray([4, 3, 3])
    return Inputs((logits, targets, input_lengths, target_lengths), {"zero_infinity": True})


def _torch_unbatched(rng: np.random.Generator) -> Inputs:
    logits = 2.0 * rng.normal(size=(6, 4))
    return Inputs((logits, np.asarray([1, 3, 3]), np.asarray(6), np.asarray(3)))


def _torch_class_none(rng: np.random.Generator) -> Inputs:
    logits, targets, input_lengths, target_lengths = _torch_padded(rng).args
    return Inputs((logits, targets, input_lengths, target_lengths), {"reduction": "none"})


def _first(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)[0]

    call.__name__ = call.__qualname__ = fn.__name__
    return call


_OPTAX_CTC = Peer.path("jax", "optax.losses.ctc_loss")
_TORCH_CTC = _torch_peer("torch.nn.functional.ctc_loss", _torch_functional)

CASES = [
    LossCase(
        "ctc_loss",
        "top",
        FAMILY,
        T.ctc_loss,
        _optax,
        ref_optax_ctc,
        _OPTAX_CTC,
        properties=frozenset({"nonnegative"}),
        wrt=_LOGITS_ONLY,
    ),
    LossCase(
        "ctc_loss",
        "top",
        FAMILY,
        T.ctc_loss,
        _optax_blank_last,
        ref_optax_ctc,
        _OPTAX_CTC,
        variant="blank_id",
        wrt=_LOGITS_ONLY,
    ),
    LossCase(
        "ctc_loss_with_forward_probs",
        "top",
        FAMILY,
        _first(T.ctc_loss_with_forward_probs),
        _optax,
        ref_optax_ctc,
        Peer("jax", "optax.losses.ctc_loss_with_forward_probs", lambda: _first_peer()),
        variant="loss",
        wrt=_LOGITS_ONLY,
    ),
    LossCase(
        "ctc_loss",
        "functional",
        FAMILY,
        _through_log_softmax(F.ctc_loss),
        _torch_padded,
        _ref_through_log_softmax(ref_torch_ctc),
        _TORCH_CTC,
        variant="padded-mean",
        properties=frozenset({"nonnegative"}),
    ),
    LossCase(
        "ctc_loss",
        "functional",
        FAMILY,
        _through_log_softmax(F.ctc_loss),
        _torch_concatenated_sum,
        _ref_through_log_softmax(ref_torch_ctc),
        _TORCH_CTC,
        variant="concatenated-sum",
    ),
    LossCase(
        "ctc_loss",
        "functional",
        FAMILY,
        _through_log_softmax(F.ctc_loss),
        _torch_none_blank,
        _ref_through_log_softmax(ref_torch_ctc),
        _TORCH_CTC,
        variant="none-blank",
    ),
    LossCase(
        "ctc_loss",
        "functional",
        FAMILY,
        _through_log_softmax(F.ctc_loss),
        _torch_zero_infinity,
        _ref_through_log_softmax(ref_torch_ctc),
        _TORCH_CTC,
        variant="zero_infinity-impossible",
    ),
    LossCase(
        "ctc_loss",
        "functional",
        FAMILY,
        _through_log_softmax(F.ctc_loss),
        _torch_unbatched,
        _ref_through_log_softmax(ref_torch_ctc),
        _TORCH_CTC,
        variant="unbatched",
    ),
    LossCase(
        "ctc_loss",
        "functional",
        FAMILY,
        F.ctc_loss,
        _torch_padded,
        ref_torch_ctc,
        Peer.label_only(
            "torch.nn.functional.ctc_loss (raw log_probs: torch's gradient adds exp(log_probs))"
        ),
        variant="raw-log_probs",
    ),
    LossCase(
        "CTCLoss",
        "class",
        FAMILY,
        _through_log_softmax(construct_and_call(C.CTCLoss)),
        _torch_class_none,
        _ref_through_log_softmax(ref_torch_ctc),
        _torch_peer("torch.nn.CTCLoss", _torch_class),
        variant="none",
    ),
]


def _first_peer() -> Callable[..., Any]:
    import optax

    return _first(optax.losses.ctc_loss_with_forward_probs)
