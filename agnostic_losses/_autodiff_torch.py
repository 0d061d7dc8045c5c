"""torch's side of :mod:`._autodiff`: one ``torch.autograd.Function`` for every registered
forward/backward pair (imported only when a torch tensor reaches a custom gradient)."""

from __future__ import annotations

from typing import Any

import torch

from ._autodiff import VJPS
from ._dispatch import namespace

__all__ = ["SLOTS", "Function", "TracedFunction", "apply"]


def _xp(arrays: tuple[Any, ...]) -> Any:
    return namespace(**{f"a{i}": a for i, a in enumerate(arrays) if a is not None})


SLOTS = 6


class Function(torch.autograd.Function):
    """``apply(index, key, layout, a0, ..., a5)``: ``VJPS[index]`` with static options
    ``dict(key)`` on the arrays ``layout`` describes: entry ``i`` is the slot ``a<j>`` that
    holds array ``i``, or -1 for None.

    Slots, not the arrays themselves: a kernel may pass one tensor as two arguments
    (``linear_cross_entropy``'s class weight is also its smoothing weights), which dynamo
    refuses to trace ("autograd.Function.apply: duplicate tensor input"); each tensor takes
    one slot and its gradient is the sum over the arguments that hold it. A fixed arity, not
    ``*arrays``: dynamo's no-grad path counts the parameters of ``forward`` to decide whether
    it takes a ``ctx`` (torch 2.13), and a star-argument miscounts.

    setup_context (not ``ctx`` in forward) and a generated vmap rule, so that
    ``torch.func.grad``, ``torch.func.vmap`` and ``torch.compile`` take it like a torch op;
    ``jvp`` gives forward mode (``torch.func.jvp``, ``jacfwd``, ``hessian``). Only the inputs
    and outputs are saved; the backward and the jvp recompute the rest.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(
        index: int,
        key: tuple[Any, ...],
        layout: tuple[int, ...],
        a0: Any,
        a1: Any,
        a2: Any,
        a3: Any,
        a4: Any,
        a5: Any,
    ) -> tuple[Any, ...]:
        arrays = _arrays(layout, (a0, a1, a2, a3, a4, a5))
        return tuple(VJPS[index].forward(_xp(arrays), *arrays, **dict(key)))

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: tuple[Any, ...]) -> None:
        index, key, layout, *slots = inputs
        ctx.index, ctx.key, ctx.layout, ctx.count = index, key, layout, _used(layout)
        ctx.save_for_backward(*slots[: ctx.count], *output)
        ctx.save_for_forward(*slots[: ctx.count], *output)

    @staticmethod
    def backward(ctx: Any, *cotangents: Any) -> tuple[Any, ...]:
        saved = ctx.saved_tensors
        arrays, outputs = _arrays(ctx.layout, saved[: ctx.count]), tuple(saved[ctx.count :])
        vjp = VJPS[ctx.index]
        grads = vjp.backward(_xp(arrays), arrays, outputs, cotangents, **dict(ctx.key))
        summed: list[Any] = [None] * SLOTS
        for j, g in zip(ctx.layout, grads):
            if j >= 0 and g is not None:
                summed[j] = g if summed[j] is None else summed[j] + g
        return (None, None, None, *summed)

    @staticmethod
    def jvp(ctx: Any, *tangents: Any) -> tuple[Any, ...]:
        saved = ctx.saved_tensors
        arrays, outputs = _arrays(ctx.layout, saved[: ctx.count]), tuple(saved[ctx.count :])
        vjp = VJPS[ctx.index]
        if vjp.jvp is None:
            msg = "this custom gradient has no forward-mode rule (jvp)"
            raise NotImplementedError(msg)
        # Tangents of the non-tensor arguments (index, key, layout) come first.
        per_array = _arrays(ctx.layout, tangents[3 : 3 + ctx.count])
        return tuple(vjp.jvp(_xp(arrays), arrays, outputs, per_array, **dict(ctx.key)))


def _used(layout: tuple[int, ...]) -> int:
    return max(layout, default=-1) + 1


def _arrays(layout: tuple[int, ...], slots: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(None if j < 0 else slots[j] for j in layout)


class TracedFunction(Function):
    """:class:`Function` without its forward-mode rule, for ``torch.compile``: dynamo (torch
    2.13) refuses to trace an ``autograd.Function`` that defines ``jvp`` once an input requires
    a gradient ("Unsupported custom jvp"), a graph break in every compiled training step, an
    error under ``fullgraph=True``. Forward mode is not traced by dynamo anyway."""

    jvp = torch.autograd.Function.jvp


def apply(index: int, key: tuple[Any, ...], arrays: tuple[Any, ...]) -> tuple[Any, ...]:
    """``Function.apply`` (``TracedFunction.apply`` while dynamo traces) with each distinct
    tensor of ``arrays`` in one slot, padded to the fixed arity."""
    slots: list[Any] = []
    layout = []
    for a in arrays:
        if a is None:
            layout.append(-1)
            continue
        # a loop, not next(genexpr, default): torch 2.8's dynamo cannot trace the default
        j = len(slots)
        for i, s in enumerate(slots):
            if s is a:
                j = i
                break
        if j == len(slots):
            slots.append(a)
        layout.append(j)
    if len(slots) > SLOTS:
        msg = f"a custom gradient takes at most {SLOTS} arrays, got {len(slots)}"
        raise ValueError(msg)
    padded = (*slots, *(None,) * (SLOTS - len(slots)))
    function = TracedFunction if torch.compiler.is_compiling() else Function
    return function.apply(index, key, tuple(layout), *padded)
