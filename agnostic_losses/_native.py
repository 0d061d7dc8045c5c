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
``tests/test_native.py`` checks values and gradients of both paths on every registry case of these
losses and on the adversarial inputs.

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

from ._dispatch import is_lazy, on_host

__all__ = [
    "cross_entropy_guard",
    "disabled",
    "native_torch",
    "same_shape",
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
    """Guard of ``cross_entropy``: when a gradient is recorded, no row that does not count (an
    ignored label, a class of weight 0). Such a row may be all ``-inf`` (a padded position):
    torch's value stays finite but its gradient there is NaN, where ours is 0. (Host tensors
    only, see the module docstring: these reads cost nothing there.)"""
    import torch

    if not (input.requires_grad and torch.is_grad_enabled()):
        return True
    if not target.is_floating_point() and bool((target == kwargs.get("ignore_index", -100)).any()):
        return False
    weight = kwargs.get("weight")
    return weight is None or not bool((weight == 0).any())


def native_torch(
    name: str, guard: Callable[..., bool] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate the public ``functional`` loss ``name`` with torch's native kernel of that name."""

    def decorate(generic: Callable[..., Any]) -> Callable[..., Any]:
        # Our keyword-only extensions (z_loss, return_lse): torch has no such arguments, so a
        # call that sets one is not eligible, and their defaults are not passed on.
        extras = {
            p.name: p.default
            for p in inspect.signature(generic).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        }

        @functools.wraps(generic)
        def loss(*args: Any, **kwargs: Any) -> Any:
            if _STATE["enabled"] and len(args) == 2:
                native_kwargs = kwargs
                if extras and any(k in kwargs for k in extras):
                    if any(kwargs.get(k, d) != d for k, d in extras.items()):
                        return generic(*args, **kwargs)
                    native_kwargs = {k: v for k, v in kwargs.items() if k not in extras}
                out = _try_native(name, guard, args, native_kwargs)
                if out is not None:
                    return out
            return generic(*args, **kwargs)

        loss.native_name = name  # type: ignore[attr-defined]
        return loss

    return decorate


def _try_native(
    name: str,
    guard: Callable[..., bool] | None,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    input = args[0]
    if type(input) is not torch.Tensor or not input.is_floating_point():
        return None
    if not on_host(input) or is_lazy(input) or any(kwargs.get(k) is not None for k in _LEGACY):
        return None
    native = getattr(torch.nn.functional, name)
    try:
        if guard is not None and not guard(*args, **kwargs):
            return None
        out = native(*args, **kwargs)
    except Exception:
        return None
    # A finite sum implies finite elements (inf or nan anywhere makes it inf or nan); a sum that
    # merely overflows only costs the generic path. ``isfinite().all()`` costs 7.6 us, this 0.3 us
    # for a 0-d output and 2.4 us otherwise (8 elements, CPU).
    total = out if out.ndim == 0 else out.sum()
    return out if math.isfinite(total.item()) else None
