"""Native fused kernels for eager torch: a measured fast path of the dispatch layer.

Measured reason (torch 2.13 CPU, one thread, float32, ``benchmarks``; ours / torch): the generic
Array API composition of ``functional.cross_entropy`` took 8.3x the time of the fused
``torch.nn.functional.cross_entropy`` on (4096, 1000) forward and 4.1x forward+backward, 35x
(+150 us) on (8, 10); ``binary_cross_entropy_with_logits`` 4.8x / 15.7x; ``nll_loss`` 14x forward.
Every elementwise step of the composition is a full pass over the logits with a new temporary;
torch's kernels make one or two passes. No Array API rewrite closes that gap, so:

For a :mod:`torch.nn.functional` loss that has a native kernel of the same signature, the public
function (``@native_torch``) first calls the native one, when

* the first argument is a floating ``torch.Tensor`` (float16/bfloat16 included: torch's kernels
  accumulate their reductions in float32 internally, as the generic path does; an upcast copy
  would cost 2-6x the peer's memory) in host memory (CPU), and it is not lazy
  (``_dispatch.is_lazy``: not while ``torch.compile`` traces, where inductor fuses the generic
  composition itself; not inside ``torch.func`` transforms; not on ``meta`` tensors),
* only ``input`` and ``target`` are positional and the legacy ``size_average`` / ``reduce`` are
  not used (torch would warn about them), and the loss's own guard accepts the call;

and keeps torch's result only when it is finite everywhere. Otherwise -- torch raised, returned
``nan``/``inf``, or the call was not eligible -- the generic path runs and its answer or error is
returned. This is sound because every place where our documented semantics differ from torch's
on an eligible call is one where torch's output is not finite (a row of ``-inf`` logits, an
all-ignored or all-zero-weight mean, ``0 * log 0`` with soft targets) or where torch raises
(out-of-range labels on CPU, shape errors); both fall through to the generic path. The one
place where a finite torch value hides a non-finite torch gradient (a cross-entropy row that
does not count) is excluded by ``cross_entropy``'s guard.
The same holds, with the guards named in their decorators, for ``binary_cross_entropy`` (1.26x
forward, 1.67x forward+backward -> 1.02x; its guard reads the target's range),
``triplet_margin_loss`` and ``triplet_margin_with_distance_loss`` (forward 1.25-1.37x, with a
custom distance 1.8x forward+backward), ``kl_div``, ``soft_margin_loss``,
``multilabel_soft_margin_loss``, ``multi_margin_loss``, ``multilabel_margin_loss``,
``poisson_nll_loss`` and ``gaussian_nll_loss`` (measured, (4096, 1000) float32 forward, generic /
torch: 1.4x, 1.35x, 1.7x, 1.1-1.4x, 2.0x (``KLDivLoss``), 1.2x, 1.4x; ``multilabel_margin_loss``
146x at (4096, 100), whose generic form builds (N, C, C) pairs where torch loops), and
``pairwise_distance`` (torch's distance, not a loss: 1.4x forward, (4096, 1000) float32;
torch's ``vector_norm`` fuses the square and the sum). Where torch's
derivative for a target or a weight is missing or differs from ours (``xlogy(t, t)`` at
``t = 0``), ``only_input_grad`` keeps those calls generic; the two margin kernels take torch's
subgradient at the hinge so that both paths agree there too.
``tests/test_native.py`` checks values and gradients of both paths on every registry case of these
losses and on the adversarial inputs.

The optax-named top level has no torch twin of the same signature; ``@native_route`` gives
eleven of its names (the two sigmoid ones below) a route to the torch kernels that compute
exactly the same thing (measured, same benchmark, (4096, 1000) float32, generic composition /
torch kernel: 3.3x
``softmax_cross_entropy`` vs ``cross_entropy`` with probability targets, 1.14x
``softmax_cross_entropy_with_integer_labels`` fwd+bwd vs ``cross_entropy``, 9x ``huber_loss``
vs ``huber_loss(reduction='none')``, 1.5x ``squared_error`` vs ``mse_loss``), and five more
(2.0x ``kl_divergence`` and 2.6x ``kl_divergence_with_log_targets`` vs ``kl_div(...).sum(-1)``,
3.1x brainpy's ``cross_entropy_loss`` with ``weight`` vs ``cross_entropy``, 2.4-2.8x
``poly_loss_cross_entropy`` vs ``cross_entropy`` plus its softmax term, 1.6-1.8x
``multiclass_perceptron_loss`` vs ``amax`` and ``gather``). A route is eligible
under the conditions above, when the call uses no option torch lacks (``where``, ``z_loss``,
another class axis) and the labels are tensors torch takes as they are. Out-of-range class
indices make torch raise, and the generic path then answers (our error, or NaN with the checks
switched off).

``sigmoid_binary_cross_entropy`` is not routed to torch's ``binary_cross_entropy_with_logits``
although the generic composition takes 5-8x its time: that kernel writes the loss as
``(1 - y) x - log sigmoid(x)``, which cancels to 0 where the loss is below ``eps |x|``
(``x = -100, y = 0``: torch 0, optax and ours ``log1p(e^-100) = 3.7e-44``). Its route (and
``sigmoid_focal_loss``'s) is ``y softplus(-x) + (1 - y) softplus(x)`` on torch's fused softplus,
two nonnegative terms that keep optax's accuracy: 2.1-2.3x torch's kernel (it makes one
transcendental pass where this makes two), the focal loss 1.2-1.3x torchvision's formula
(generic: 3.3-3.8x).

Eligibility is static -- the input's type, dtype, device and laziness, the call's arguments --
because keeping torch's result needs one host read of it (``isfinite`` of a scalar). On the CPU
that read costs about 0.3 us; on an accelerator it would stall the device queue on every call,
so accelerator arrays always take the generic path (no host synchronisation at all), and so do
arrays inside ``torch.func`` transforms, where a read is impossible.
"""

from __future__ import annotations

import functools
import inspect
import math
import os
import sys
from collections.abc import Callable
from typing import Any

from . import _delegation
from ._dispatch import is_lazy, on_host, values_readable

__all__ = [
    "adaptive_softmax",
    "all_of",
    "cross_entropy_guard",
    "disabled",
    "huber_residual",
    "integer_label_cross_entropy",
    "log_prob_kl",
    "log_target_kl",
    "native_route",
    "native_torch",
    "only_input_grad",
    "perceptron_margin",
    "poly_cross_entropy",
    "probability_target",
    "same_shape",
    "same_shape_input_grad",
    "sigmoid_cross_entropy",
    "sigmoid_focal",
    "soft_label_cross_entropy",
    "squared_residual",
    "triplet",
    "try_route",
    "weighted_cross_entropy",
]

_LEGACY = ("size_average", "reduce")
_STATE = {"enabled": os.environ.get("AGNOSTIC_LOSSES_NATIVE", "1") != "0"}


class disabled:
    """Context manager: run the generic path only (tests and benchmarks compare the two)."""

    def __enter__(self) -> None:
        self._previous = _STATE["enabled"]
        _STATE["enabled"] = False

    def __exit__(self, *exc: object) -> None:
        _STATE["enabled"] = self._previous


def same_shape(input: Any, target: Any, **_: Any) -> bool:
    """Guard of the elementwise losses: torch would broadcast (with a warning) where we raise."""
    return getattr(target, "shape", None) == input.shape


def cross_entropy_guard(input: Any, target: Any, **kwargs: Any) -> bool:
    """Guard of ``cross_entropy``: probability targets, or int64 class indices such that, when
    a gradient is recorded, every row that does not count (an ignored label, a class of weight
    0) has finite logits. Such a row may be all ``-inf`` (a padded position): torch's value
    stays finite but its gradient there is NaN, where ours is 0. Rows that count need no check
    (a non-finite one makes torch's value non-finite). Reads only the rows left out. (Host
    tensors only, see the module docstring: these reads cost nothing there.)"""
    import torch

    if target.is_floating_point():
        return True
    if target.dtype != torch.int64:
        # torch takes uint8 class indices too, but its label smoothing compares them with
        # ignore_index in uint8, where -100 is 156: that class would count as ignored.
        return False
    if not (input.requires_grad and torch.is_grad_enabled()):
        return True
    dead = target == kwargs.get("ignore_index", -100)
    weight = kwargs.get("weight")
    if weight is not None:
        dead = dead | (weight[target.clamp(0, weight.shape[0] - 1)] == 0)
    if not bool(dead.any()):
        return True
    # (N, C, d1..dk) -> (N, d1..dk, C): the mask of target's shape picks whole rows
    rows = input.movedim(1, -1) if input.ndim > 1 else input[None]
    return bool(torch.isfinite(rows[dead if input.ndim > 1 else dead[None]]).all())


def probability_target(input: Any, target: Any, *args: Any, **kwargs: Any) -> bool:
    """Guard of ``binary_cross_entropy``: a target of the input's shape and dtype in [0, 1]
    (one ``aminmax`` read where the check policy allows it: torch 2.13 raises for such a target
    too, but we do not rely on what a torch version checks), and only ``input`` records a
    gradient (torch's target derivative is unclamped where ours follows the clamped logs)."""
    import torch

    if not _same_tensor(torch, input, target):
        return False
    return only_input_grad(input, target, *args, **kwargs) and _in_unit_interval(torch, target)


def triplet(anchor: Any, positive: Any, negative: Any, *args: Any, **kwargs: Any) -> bool:
    """Guard of the triplet losses: ``positive`` and ``negative`` tensors of the anchor's shape
    and dtype (torch broadcasts them, we raise). A ``distance_function`` of the caller's is
    called by torch as by us (the same three pairs, the same tensors) except in half
    precision, where ours receives float32 copies: those calls stay generic. (Options torch
    takes and ours rejects, ``p = 0`` or a truthy ``swap``, never get here: ``@options``
    validates before the native path.)"""
    import torch

    if not (_same_tensor(torch, anchor, positive) and _same_tensor(torch, anchor, negative)):
        return False
    if kwargs.get("distance_function") is None:
        return True
    return _full_precision(torch, anchor)


def only_input_grad(*arrays: Any, **kwargs: Any) -> bool:
    """Guard of the losses where torch's derivative for an argument other than ``input`` is
    missing or differs from ours (``kl_div``'s ``xlogy(t, t)`` is ``-inf`` at ``t = 0``; the
    margin kernels' weights have none): eligible while only ``input`` records a gradient."""
    rest = list(arrays[1:]) + list(kwargs.values())
    return not any(getattr(a, "requires_grad", False) for a in rest)


def all_of(*guards: Callable[..., bool]) -> Callable[..., bool]:
    """A guard that holds when every one of ``guards`` holds."""

    def guard(*args: Any, **kwargs: Any) -> bool:
        return all(g(*args, **kwargs) for g in guards)

    guard.__doc__ = " and ".join(g.__name__ for g in guards)
    return guard


# torch broadcasts a target of another shape (with a warning) where we raise, and has no or
# another derivative for it: the guard of kl_div and the soft-margin / multilabel-margin losses.
same_shape_input_grad = all_of(same_shape, only_input_grad)


def native_torch(
    name: str,
    guard: Callable[..., bool] | None = None,
    *,
    arity: int = 2,
    extensions: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate the public ``functional`` loss ``name`` with torch's native kernel of that name;
    ``arity``: how many arrays torch's function takes by position (``gaussian_nll_loss``: 3);
    ``extensions``: our keyword arguments that torch's function lacks (``z_loss``)."""

    def decorate(generic: Callable[..., Any]) -> Callable[..., Any]:
        # A call that sets an extension is not eligible, and their defaults are not passed on.
        # (Named, not inferred from keyword-only parameters: all of torch's own
        # triplet_margin_with_distance_loss options are keyword-only.)
        parameters = inspect.signature(generic).parameters
        extras = {k: parameters[k].default for k in extensions}
        # Options passed by position (torch's order, which ours mirrors: weight, p, margin...)
        # are passed on by name, so the call's form does not decide the path.
        by_position = [
            k for k, p in parameters.items() if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        ][arity:]

        @functools.wraps(generic)
        def loss(*args: Any, **kwargs: Any) -> Any:
            n = len(args)
            if _STATE["enabled"] and arity <= n <= arity + len(by_position):
                native_kwargs = kwargs
                if n > arity:
                    named = dict(zip(by_position, args[arity:]))
                    if any(k in kwargs for k in named):
                        return generic(*args, **kwargs)  # its TypeError: a value given twice
                    native_kwargs = {**named, **kwargs}
                if extras and any(k in native_kwargs for k in extras):
                    if any(native_kwargs.get(k, d) != d for k, d in extras.items()):
                        return generic(*args, **kwargs)
                    native_kwargs = {k: v for k, v in native_kwargs.items() if k not in extras}
                out = _try_native(name, guard, args[:arity], native_kwargs)
                if out is not None:
                    return out
            return generic(*args, **kwargs)

        loss.native_name = name  # type: ignore[attr-defined]
        # Outermost: the native kernel and the generic path both see autocast's float32 copies.
        return autocast_float32(loss)

    return decorate


def _eligible(torch: Any, input: Any) -> bool:
    """A non-empty floating CPU tensor outside every trace and transform (see the module
    docstring). Empty: torch's ``multi_margin_loss`` and ``multilabel_margin_loss`` return
    uninitialised memory (a finite denormal, so the finiteness read keeps it) for an empty
    batch's mean, where the generic path gives NaN as torch's other losses do."""
    return (
        type(input) is torch.Tensor
        and input.is_floating_point()
        and input.numel() > 0
        and on_host(input)
        and not is_lazy(input)
        and not _forward_ad(torch)
    )


def _forward_ad(torch: Any) -> bool:
    """Whether a ``torch.autograd.forward_ad`` dual level is open. torch's kernels keep the
    tangents only of the arguments they differentiate: a class ``weight``'s is dropped (no
    tangent, or part of one with label smoothing), where the generic path carries every one.
    (``torch.func.jvp`` is a transform, already left to the generic path by ``is_lazy``.)"""
    return torch.autograd.forward_ad._current_level >= 0


def _finite(out: Any) -> Any:
    # A finite sum implies finite elements (inf or nan anywhere makes it inf or nan); a sum that
    # merely overflows only costs the generic path. ``isfinite().all()`` costs 7.6 us, this 0.3 us
    # for a 0-d output and 2.4 us otherwise (8 elements, CPU).
    total = out if out.ndim == 0 else out.sum()
    return out if math.isfinite(total.item()) else None


def _try_native(
    name: str,
    guard: Callable[..., bool] | None,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    torch = sys.modules.get("torch")
    if torch is None or not _eligible(torch, args[0]):
        return None
    if any(kwargs.get(k) is not None for k in _LEGACY):
        return None
    native = getattr(torch.nn.functional, name)
    try:
        if guard is not None and not guard(*args, **kwargs):
            return None
        out = native(*args, **kwargs)
    except Exception:
        return None
    return _finite(out)


# --- routes of the optax-named top level -----------------------------------------------------

Route = Callable[..., "Callable[[], Any] | None"]


def native_route(
    route: Route, *, everywhere: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a top-level loss with ``route(torch, *args, **kwargs)``: the torch kernel call
    computing the same thing (a thunk), or None where the call is not eligible.

    ``everywhere``: torch's answer equals ours for every input, non-finite ones included (an
    elementwise formula with the same pieces), so its result is kept without the finiteness read,
    which on an unreduced output is a whole extra pass.
    """

    def decorate(generic: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(generic)
        def loss(*args: Any, **kwargs: Any) -> Any:
            if _STATE["enabled"] and args:
                out = _try_route(route, args, kwargs, everywhere)
                if out is not None:
                    return out
            return generic(*args, **kwargs)

        loss.native_route = route.__name__  # type: ignore[attr-defined]
        return loss

    return decorate


def _try_route(
    route: Route, args: tuple[Any, ...], kwargs: dict[str, Any], everywhere: bool
) -> Any:
    torch = sys.modules.get("torch")
    if torch is None or not _eligible(torch, args[0]):
        return None
    try:
        thunk = route(torch, *args, **kwargs)
        out = None if thunk is None else thunk()
    except Exception:  # a wrong call or a failed check: the generic path says it its way
        return None
    return out if out is None or everywhere else _finite(out)


def try_route(route: Route, *args: Any, everywhere: bool = False, **kwargs: Any) -> Any:
    """``route``'s answer, or None, for a call that the public function has already validated:
    :func:`native_route` without the decorator, for a loss whose torch twin checks less than
    ours does, so that the route runs after our validation, not before it."""
    if not _STATE["enabled"] or not args:
        return None
    return _try_route(route, args, kwargs, everywhere)


def _full_precision(torch: Any, x: Any) -> bool:
    """float32 or float64: the routes that leave half precision to the generic path (its
    result dtype or its precision is not torch's kernel's there)."""
    return x.dtype in (torch.float32, torch.float64)


def _same_tensor(torch: Any, like: Any, other: Any) -> bool:
    return type(other) is torch.Tensor and other.dtype == like.dtype and other.shape == like.shape


def _in_unit_interval(torch: Any, t: Any) -> bool:
    """False where the check policy lets ``t`` be read and one ``aminmax`` finds a value outside
    [0, 1] (or a NaN): the generic path then raises its error (or, checks off, answers)."""
    if not t.numel() or not values_readable(t):
        return True
    low, high = torch.aminmax(t)
    return bool(low.item() >= 0 and high.item() <= 1)


def _last_axis(logits: Any, axis: Any, where: Any) -> bool:
    return where is None and type(axis) is int and logits.ndim > 0 and axis in (-1, logits.ndim - 1)


def _class_indices(torch: Any, scores: Any, labels: Any) -> bool:
    """``labels`` is a host tensor of integer class indices, one per row of ``scores``."""
    if type(labels) is not torch.Tensor or labels.is_floating_point() or labels.is_complex():
        return False
    if labels.dtype is torch.bool or scores.ndim < 1 or not on_host(labels):
        return False
    return tuple(labels.shape) == tuple(scores.shape[:-1])


# torch skips targets equal to ``ignore_index``; the optax names ignore nothing. No label may
# equal this (checked with one read of the minimum); any other out-of-range label makes torch
# raise, and the generic path then gives its own error (or NaN with the checks switched off).
_NO_IGNORE = -(2**63)


def integer_label_cross_entropy(
    torch: Any,
    logits: Any,
    labels: Any,
    axis: Any = -1,
    where: Any = None,
    *,
    z_loss: float = 0.0,
    return_lse: bool = False,
) -> Callable[[], Any] | None:
    """``softmax_cross_entropy_with_integer_labels`` as ``cross_entropy(reduction='none')``."""
    if not _last_axis(logits, axis, where) or z_loss != 0 or return_lse:
        return None
    if not _class_indices(torch, logits, labels):
        return None
    if labels.numel() and int(labels.min()) == _NO_IGNORE:
        return None
    num_classes = logits.shape[-1]
    # torch takes int64 (and uint8) class indices; an int32 copy is N elements, not N x C.
    y = labels if labels.dtype in (torch.int64, torch.uint8) else labels.long()

    def call() -> Any:
        flat = logits.reshape(-1, num_classes)
        out = torch.nn.functional.cross_entropy(
            flat, y.reshape(-1), reduction="none", ignore_index=_NO_IGNORE
        )
        return out.reshape(labels.shape)

    return call


def soft_label_cross_entropy(
    torch: Any, logits: Any, labels: Any, axis: Any = -1, where: Any = None
) -> Callable[[], Any] | None:
    """``softmax_cross_entropy`` as ``cross_entropy`` with probability targets (``'none'``)."""
    if not _last_axis(logits, axis, where) or not _same_tensor(torch, logits, labels):
        return None
    num_classes = logits.shape[-1]

    def call() -> Any:
        flat = (-1, num_classes)
        out = torch.nn.functional.cross_entropy(
            logits.reshape(flat), labels.reshape(flat), reduction="none"
        )
        return out.reshape(logits.shape[:-1])

    return call


def perceptron_margin(torch: Any, scores: Any, labels: Any) -> Callable[[], Any] | None:
    """``multiclass_perceptron_loss`` as ``amax(x) - x.gather(y)``: the same two reductions, one
    kernel each (out-of-range labels make ``gather`` raise; the generic path answers)."""
    if not _full_precision(torch, scores):
        return None  # half precision: optax's result is float32, the generic path's too
    if not _class_indices(torch, scores, labels):
        return None
    index = (labels if labels.dtype is torch.int64 else labels.long()).unsqueeze(-1)
    return lambda: scores.amax(-1) - scores.gather(-1, index).squeeze(-1)


def poly_cross_entropy(
    torch: Any, logits: Any, labels: Any, epsilon: Any = 2.0, axis: Any = -1, where: Any = None
) -> Callable[[], Any] | None:
    """``poly_loss_cross_entropy`` as ``cross_entropy`` with probability targets plus
    ``epsilon * sum(y * (1 - softmax(x)))``: the same two terms, for a finite Python
    ``epsilon``."""
    if type(epsilon) not in (int, float) or not math.isfinite(epsilon):
        return None
    cross_entropy = soft_label_cross_entropy(torch, logits, labels, axis, where)
    if cross_entropy is None:
        return None
    return lambda: cross_entropy() + epsilon * (labels * (1.0 - logits.softmax(-1))).sum(-1)


def sigmoid_cross_entropy(torch: Any, logits: Any, labels: Any) -> Callable[[], Any] | None:
    """``sigmoid_binary_cross_entropy`` as ``y softplus(-x) + (1 - y) softplus(x)`` on torch's
    fused ``softplus`` (the delegated primitive). Both terms are nonnegative, so nothing cancels
    (torch's BCE kernel does, see the module docstring) and the value is the generic one to
    rounding, with the same derivatives in ``x`` and ``y``. At an infinite logit a ``0 * inf``
    makes it NaN and the finiteness read hands the call to the generic path. Where the check
    policy lets the labels be read, one ``aminmax`` does it: outside [0, 1] (or NaN) the
    generic path answers with its error."""
    if not _delegation.ENABLED or not _same_tensor(torch, logits, labels):
        return None
    if not _in_unit_interval(torch, labels):
        return None
    softplus = _delegation.softplus

    def call() -> Any:
        positive, negative = softplus(-logits), softplus(logits)
        if labels.requires_grad:
            return labels * positive + (1.0 - labels) * negative
        # In place on the two fresh softplus outputs (softplus saves its input, not its
        # output): each new (4096, 1000) buffer costs more in page faults than the pass that
        # fills it (forward 18.8 -> 9.9 ms).
        return positive.mul_(labels).add_(negative.mul_(1.0 - labels))

    return call


def sigmoid_focal(
    torch: Any, logits: Any, labels: Any, *, alpha: Any = None, gamma: Any = 2.0
) -> Callable[[], Any] | None:
    """``sigmoid_focal_loss`` as :func:`sigmoid_cross_entropy` times ``(1 - p_t) ** gamma``,
    ``1 - p_t = y sigmoid(-x) + (1 - y) sigmoid(x)`` (two nonnegative terms again), for Python
    numbers ``alpha`` and ``gamma``. Only ``gamma = 0`` (no factor) or ``gamma >= 1``: below 1
    the derivative of ``q ** gamma`` is infinite where ``q`` underflows to 0 (``|x| > 104`` in
    float32), which the generic path's log-space factor avoids and a finiteness read of the
    value would not see. (Their ranges are validated before the route, by ``@options``.)"""
    numbers = (int, float)
    if type(gamma) not in numbers or 0 < gamma < 1 or gamma == math.inf:
        return None
    if alpha is not None and type(alpha) not in numbers:
        return None
    cross_entropy = sigmoid_cross_entropy(torch, logits, labels)
    if cross_entropy is None:
        return None

    def call() -> Any:
        loss = cross_entropy()
        negatives = 1.0 - labels
        if gamma != 0:
            q = labels * torch.sigmoid(-logits) + negatives * torch.sigmoid(logits)
            loss = loss * (q if gamma == 1 else q.pow(gamma))
        if alpha is not None and alpha >= 0:  # a negative alpha: no weighting
            loss = (alpha * labels + (1.0 - alpha) * negatives) * loss
        return loss

    return call


def squared_residual(
    torch: Any, predictions: Any, targets: Any = None, axis: Any = None, reduction: str = "none"
) -> Callable[[], Any] | None:
    """``squared_error`` (unreduced, with targets) as ``mse_loss(reduction='none')``."""
    if reduction != "none" or not _same_tensor(torch, predictions, targets):
        return None
    return lambda: torch.nn.functional.mse_loss(predictions, targets, reduction="none")


def huber_residual(
    torch: Any,
    predictions: Any,
    targets: Any = None,
    delta: Any = 1.0,
    axis: Any = None,
    reduction: str = "none",
) -> Callable[[], Any] | None:
    """``huber_loss`` (unreduced, with targets, a positive Python ``delta``) as torch's
    ``huber_loss(reduction='none')``: the same pieces, the same gradient ``clip(r, -d, d)``."""
    if reduction != "none" or not _same_tensor(torch, predictions, targets):
        return None
    if type(delta) not in (int, float) or not delta > 0:
        return None
    return lambda: torch.nn.functional.huber_loss(
        predictions, targets, reduction="none", delta=float(delta)
    )


def _kl_div_rows(
    torch: Any, log_predictions: Any, targets: Any, axis: Any, where: Any, log_target: bool
) -> Callable[[], Any] | None:
    """``kl_div(reduction='none', log_target=log_target).sum(-1)`` where the call is the last
    axis without ``where`` and the targets are a tensor like the predictions."""
    if not _last_axis(log_predictions, axis, where):
        return None
    if not _same_tensor(torch, log_predictions, targets):
        return None
    return lambda: torch.nn.functional.kl_div(
        log_predictions, targets, reduction="none", log_target=log_target
    ).sum(-1)


def log_prob_kl(
    torch: Any, log_predictions: Any, targets: Any, axis: Any = -1, where: Any = None
) -> Callable[[], Any] | None:
    """``kl_divergence`` as ``kl_div(reduction='none').sum(-1)``: ``xlogy(t, t) - t log q``.
    torch's target derivative at ``t = 0`` is ``-inf`` (``log t``), ours finite, so a call
    whose targets record a gradient stays generic."""
    if getattr(targets, "requires_grad", False):
        return None
    return _kl_div_rows(torch, log_predictions, targets, axis, where, log_target=False)


def log_target_kl(
    torch: Any, log_predictions: Any, log_targets: Any, axis: Any = -1, where: Any = None
) -> Callable[[], Any] | None:
    """``kl_divergence_with_log_targets`` as ``kl_div(reduction='none', log_target=True)
    .sum(-1)``: ``exp(l) (l - log q)``, the same pieces and derivatives; a ``-inf`` target
    (torch NaN, ours 0) is caught by the finiteness read."""
    return _kl_div_rows(torch, log_predictions, log_targets, axis, where, log_target=True)


def weighted_cross_entropy(
    torch: Any,
    predicts: Any,
    targets: Any,
    weight: Any = None,
    reduction: str = "mean",
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
) -> Callable[[], Any] | None:
    """brainpy's ``cross_entropy_loss`` (classes last) on class indices as torch's
    ``cross_entropy`` on the rows: the same loss and weighted mean, except where brainpy's
    weight also scales the smoothing term (weight and smoothing together stay generic) and for
    a mean of no counted label (torch NaN, brainpy 0: the finiteness read sends it back).
    Probability targets stay generic (brainpy's ``lse - <t, x>`` is not torch's
    ``-<t, log p>`` for rows that do not sum to 1, nor in its target derivative). torch has no
    derivative for ``weight``, so a weight that records one stays generic; rows that do not
    count pass ``cross_entropy_guard``."""
    if reduction not in ("mean", "sum", "none") or predicts.ndim < 2:
        return None
    if not _full_precision(torch, predicts):
        return None  # half precision: brainpy's float32 one-hot makes its result float32
    if weight is not None and (
        label_smoothing
        or type(weight) is not torch.Tensor
        or weight.dtype != predicts.dtype
        or tuple(weight.shape) != (predicts.shape[-1],)
        or weight.requires_grad
    ):
        return None
    if (
        type(targets) is not torch.Tensor
        or not on_host(targets)
        or targets.dtype is not torch.int64
        or tuple(targets.shape) != tuple(predicts.shape[:-1])
    ):
        return None
    flat = predicts.reshape(-1, predicts.shape[-1])
    target = targets.reshape(-1)
    options = {"weight": weight, "ignore_index": ignore_index}
    if not cross_entropy_guard(flat, target, **options):
        return None

    def call() -> Any:
        out = torch.nn.functional.cross_entropy(
            flat, target, reduction=reduction, label_smoothing=label_smoothing, **options
        )
        return out.reshape(predicts.shape[:-1]) if reduction == "none" else out

    return call


class _AdaptiveLayer:
    """What ``torch.nn.AdaptiveLogSoftmaxWithLoss.forward`` reads of its module, made of given
    weights (a plain class, not a Module: nothing is registered or initialised)."""

    def __init__(self, torch: Any, head: Any, bias: Any, tails: Any, cutoffs: list[int]) -> None:
        linear = torch.nn.functional.linear
        self.head = functools.partial(linear, weight=head, bias=bias)
        self.tail = [
            functools.partial(lambda x, p, o: linear(linear(x, p), o), p=p, o=o) for p, o in tails
        ]
        self.cutoffs, self.shortlist_size, self.n_classes = cutoffs, cutoffs[0], cutoffs[-1]


def adaptive_softmax(
    torch: Any, input: Any, target: Any, head_weight: Any, tails: Any, head_bias: Any, cutoffs: Any
) -> Callable[[], Any] | None:
    """``adaptive_log_softmax_with_loss`` as torch's own ``AdaptiveLogSoftmaxWithLoss.forward``
    on the given weights, which evaluates each tail only on the rows whose targets fall in its
    cluster (measured: the generic path, every tail on every row, took 10x torch's layer,
    forward + backward, N=4096, D=256, V=20000, cutoffs [1000, 5000], Zipf targets).

    Called through :func:`try_route` on arguments the public function has validated (torch's
    ``forward`` checks less): ``input`` (N, D), ``target`` (N,), ``tails`` the (projection,
    output) pairs, ``cutoffs`` torch's. Eligible: float32 / float64 host tensors, int64
    targets, a shortlist of at least one class (torch's own constraint); torch's ``(output,
    loss)`` where finite."""
    if not _full_precision(torch, input) or cutoffs[0] < 1:
        return None
    if type(target) is not torch.Tensor or target.dtype != torch.int64 or not on_host(target):
        return None
    weights = [head_weight, *(w for pair in tails for w in pair)]
    if head_bias is not None:
        weights.append(head_bias)
    if not all(type(w) in (torch.Tensor, torch.nn.Parameter) and on_host(w) for w in weights):
        return None
    layer = _AdaptiveLayer(torch, head_weight, head_bias, tails, cutoffs)

    def call() -> Any:
        out = torch.nn.AdaptiveLogSoftmaxWithLoss.forward(layer, input, target)
        return (out.output, out.loss) if math.isfinite(out.loss.item()) else None

    return call


# torch.autocast's float32 policy, as it applies to our torch-named losses: under autocast torch
# computes these in float32 and returns float32 for bfloat16/float16 inputs, where our
# composition would keep the half dtype (no op of it is on the policy).
# - "cpu": measured with torch 2.13 (`test_torch_autocast_dtype_matches_torch`, which runs the
#   generic path as well as the native kernels: on eager CPU the native kernel is autocast by
#   torch itself, but the generic path runs under torch.compile, transforms, on a declined call).
#   Not listed: the Python compositions that CPU autocast leaves in the half dtype
#   (gaussian_nll_loss, multilabel_soft_margin_loss, triplet_margin_with_distance_loss).
# - "cuda": the loss kernels of the CUDA float32 list in aten/src/ATen/autocast_mode.cpp;
#   cross_entropy (log_softmax and nll_loss, both on it); gaussian_nll_loss (its log(var) and
#   square are on it) and multilabel_soft_margin_loss (its sum is) return float32 there; so does
#   linear_cross_entropy (its cross entropy). Not measured (no GPU here). Not listed:
#   binary_cross_entropy (CUDA autocast refuses it), ctc_loss (not on the list),
#   triplet_margin_with_distance_loss (a user's distance decides).
_AUTOCAST_FLOAT32_BOTH = frozenset(
    {
        "binary_cross_entropy_with_logits",
        "cosine_embedding_loss",
        "cross_entropy",
        "hinge_embedding_loss",
        "huber_loss",
        "kl_div",
        "l1_loss",
        "linear_cross_entropy",
        "margin_ranking_loss",
        "mse_loss",
        "multi_margin_loss",
        "multilabel_margin_loss",
        "nll_loss",
        "poisson_nll_loss",
        "smooth_l1_loss",
        "soft_margin_loss",
        "triplet_margin_loss",
    }
)
_AUTOCAST_FLOAT32 = {
    "cpu": _AUTOCAST_FLOAT32_BOTH | {"binary_cross_entropy", "ctc_loss"},
    # (pairwise_distance: torch's CUDA policy casts the norm it ends with)
    "cuda": _AUTOCAST_FLOAT32_BOTH
    | {
        "cosine_similarity",
        "gaussian_nll_loss",
        "multilabel_soft_margin_loss",
        "pairwise_distance",
    },
}


def _weighted_elementwise(device: str, kwargs: dict[str, Any]) -> bool:
    """Whether torch's ``mse_loss`` / ``l1_loss`` with a ``weight`` still autocasts: with one,
    torch 2.13 computes them in Python (``pow`` or ``abs``, then ``sum``), not with its kernel.
    CPU autocast casts none of those ops (measured: the half dtype comes back); CUDA autocast
    casts ``pow`` and ``sum`` (its float32 list), not ``abs``: an unreduced weighted ``l1_loss``
    stays in the half dtype there."""
    if kwargs.get("weight") is None:
        return True
    return device == "cuda" and kwargs.get("reduction", "mean") != "none"


def autocast_float32(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The torch-named loss ``fn`` with its half-precision tensor arguments cast to float32
    while ``torch.autocast`` is enabled for their device type, where torch's autocast policy
    runs its namesake in float32 (``_AUTOCAST_FLOAT32``); otherwise the call is untouched."""
    devices = tuple(d for d, names in _AUTOCAST_FLOAT32.items() if fn.__name__ in names)
    if not devices:
        return fn
    weighted = fn.__name__ in ("mse_loss", "l1_loss")

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        torch = sys.modules.get("torch")
        if torch is not None:
            on = tuple(
                d
                for d in devices
                if torch.is_autocast_enabled(d)
                and (not weighted or _weighted_elementwise(d, kwargs))
            )
            if on:
                half = (torch.float16, torch.bfloat16)

                def up(a: Any) -> Any:
                    if isinstance(a, torch.Tensor) and a.dtype in half and a.device.type in on:
                        return a.float()  # differentiable: the gradient comes back in a's dtype
                    return a

                args = tuple(up(a) for a in args)
                kwargs = {k: up(v) for k, v in kwargs.items()}
        return fn(*args, **kwargs)

    return call
